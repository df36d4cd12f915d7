"""The PyTorch twin of ResNet-V1 is the same network: equal parameter counts and FLOPs, equal outputs with equal weights."""

import numpy as np
import pytest

import tfzoo
from tests.helpers import assert_twin_logits, count_params, random_images

torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch); the twin needs it")
from bench import flops, torch_resnet, torch_wrn  # noqa: E402

SCHEMES = [
    dict(normalization="batch_norm", init="standard"),
    dict(normalization="ghost_batch_norm", init="standard", ghost_batch_size=4),
    dict(normalization="none", init="zeroinit"),
    dict(normalization="none", init="zeroinit", scalar_bias=True),  # the paper's Table 5 fix for V1
    dict(normalization="none", init="fixup"),
    dict(normalization="none", init="skipinit"),
]
SHAPE = (32, 32, 3)


@pytest.mark.parametrize("options", SCHEMES)
def test_parameter_counts_and_flops_equal(options):
    keras_model = tfzoo.create_model("resnet18_v1", input_shape=SHAPE, num_classes=10, **options)
    twin = torch_resnet.create_torch_resnet("resnet18_v1", input_shape=SHAPE, num_classes=10, **options)
    trainable, statistics = torch_wrn.parameter_counts(twin)
    assert trainable == count_params(keras_model.trainable_weights)
    assert statistics == count_params(keras_model.non_trainable_weights)  # BN moving mean/variance
    assert torch_wrn.forward_flops(twin, SHAPE) == flops.forward_flops(keras_model)


def test_resnet50_v1_has_the_published_parameter_count():
    # He et al. 2016a's ResNet-50 at 224 x 224 with 1000 classes: 25,557,032 trainable parameters (as Keras's and
    # torchvision's), the same forward FLOPs as tfzoo's model.
    twin = torch_resnet.create_torch_resnet("resnet50_v1", num_classes=1000)
    assert torch_wrn.parameter_counts(twin)[0] == 25_557_032
    keras_model = tfzoo.create_model("resnet50_v1", num_classes=1000)
    assert torch_wrn.forward_flops(twin, (224, 224, 3)) == flops.forward_flops(keras_model)


@pytest.mark.parametrize("options", [SCHEMES[0], SCHEMES[3], SCHEMES[4]])
def test_same_weights_give_same_logits(options):
    options = dict(options, classifier_dropout=0.0)
    keras_model = tfzoo.create_model("resnet18_v1", input_shape=SHAPE, num_classes=10, **options)

    def twin(weights_from):
        model = torch_resnet.create_torch_resnet("resnet18_v1", input_shape=SHAPE, num_classes=10, **options)
        torch_resnet.load_keras_weights(model, weights_from)
        return model

    # smaller shifts than the WRN's: 18 layers of them would grow the logits past float32's resolution at 1e-4
    assert_twin_logits(twin, keras_model, random_images(4, 32, 32), shift=(0.01, 0.05))


def test_max_pool_pads_like_keras():
    x = torch.arange(25.0).view(1, 1, 5, 5)
    # Keras "same", 3x3 stride 2 on 5x5: one row/column of padding on each side (total 2), windows centred on 0, 2, 4.
    expected = [[6, 8, 9], [16, 18, 19], [21, 23, 24]]
    np.testing.assert_array_equal(torch_resnet._same_max_pool(x)[0, 0].numpy(), expected)
    y = torch.arange(16.0).view(1, 1, 4, 4) - 100  # 4x4: nothing before, one after; all negative, and the -inf
    # padding is never the maximum
    np.testing.assert_array_equal(torch_resnet._same_max_pool(y)[0, 0].numpy(), [[-90, -89], [-86, -85]])


def test_bf16_train_step_reduces_the_loss():
    torch.manual_seed(0)
    model = torch_resnet.create_torch_resnet("resnet18_v1", input_shape=SHAPE, num_classes=10,
                                             normalization="none", init="zeroinit")
    step = torch_wrn.make_train_step(model, lr=0.05, channels_last=True, bf16=True)
    x = torch.from_numpy(random_images(8, 32, 32)).permute(0, 3, 1, 2).contiguous()
    y = torch.arange(8) % 10
    losses = [step(x, y) for _ in range(8)]
    assert np.isfinite(losses).all() and losses[-1] < 0.7 * losses[0]


def test_rejects_other_families():
    with pytest.raises(ValueError, match="ResNet-V1 only"):
        torch_resnet.create_torch_resnet("resnet50_v2")
    with pytest.raises(ValueError, match="ResNet-V1 only"):
        torch_resnet.create_torch_resnet("wrn-16-4")

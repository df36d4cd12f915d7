"""The PyTorch twin is the same network: equal parameter counts, equal outputs with equal weights."""

import numpy as np
import pytest

import tfzoo
from tests.helpers import assert_twin_logits, count_params, random_images

torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch); the twin needs it")
from bench import torch_wrn  # noqa: E402

SCHEMES = [
    ("batch_norm", "standard"),
    ("ghost_batch_norm", "skipinit"),
    ("none", "zeroinit"),
    ("none", "fixup"),
    ("batch_norm", "zeroinit"),
]


@pytest.mark.parametrize("normalization, init", SCHEMES)
@pytest.mark.parametrize("name", ["wrn-10-1", "wrn-16-4"])
def test_parameter_counts_equal(name, normalization, init):
    keras_model = tfzoo.create_model(name, normalization=normalization, init=init)
    twin = torch_wrn.create_torch_model(name, normalization=normalization, init=init)
    trainable, statistics = torch_wrn.parameter_counts(twin)
    assert trainable == count_params(keras_model.trainable_weights)
    assert statistics == count_params(keras_model.non_trainable_weights)  # BN moving mean/variance


def test_wrn_16_4_has_2_75m_parameters():
    # Wide Residual Networks, Table 4, lists WRN-16-4 at 2.7M; with BN gamma/beta: 2,748,890.
    assert torch_wrn.parameter_counts(torch_wrn.create_torch_model("wrn-16-4"))[0] == 2_748_890


@pytest.mark.parametrize("normalization, init", SCHEMES[:4])
def test_same_weights_give_same_logits(normalization, init):
    options = dict(normalization=normalization, init=init, ghost_batch_size=4, classifier_dropout=0.0)
    keras_model = tfzoo.create_model("wrn-10-2", **options)

    def twin(weights_from):
        model = torch_wrn.create_torch_model("wrn-10-2", **options)
        torch_wrn.load_keras_weights(model, weights_from)
        return model

    assert_twin_logits(twin, keras_model, random_images(8))


def test_strided_convolution_pads_like_keras():
    conv = torch_wrn.Conv2dSame(1, 1, 3, 2, bias=False)
    torch.nn.init.ones_(conv.weight)
    x = torch.arange(16.0).view(1, 1, 4, 4)
    # Keras "same", stride 2 on 4x4: no padding before, one row/column after.
    expected = [[0 + 1 + 2 + 4 + 5 + 6 + 8 + 9 + 10, 2 + 3 + 6 + 7 + 10 + 11],
                [8 + 9 + 10 + 12 + 13 + 14, 10 + 11 + 14 + 15]]
    np.testing.assert_array_equal(conv(x)[0, 0].detach().numpy(), expected)


def test_train_step_reduces_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = torch_wrn.create_torch_model("wrn-10-1", input_shape=(16, 16, 3))
    step = torch_wrn.make_train_step(model, lr=0.1, accumulation=2, channels_last=True)
    x = torch.from_numpy(random_images(16, 16, 16)).permute(0, 3, 1, 2).contiguous()
    y = torch.arange(16) % 10
    losses = [step(x, y) for _ in range(10)]
    assert losses[-1] < 0.7 * losses[0]


def test_bf16_step_runs_the_convolutions_in_bf16_under_autocast():
    """``bf16=True``: torch.autocast in bfloat16, the peer of Keras's mixed_bfloat16: bf16 convolution
    outputs, float32 parameters and gradients, a float32 loss that still falls."""
    torch.manual_seed(0)
    model = torch_wrn.create_torch_model("wrn-10-1", input_shape=(16, 16, 3))
    seen = []
    model.stem.register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
    step = torch_wrn.make_train_step(model, lr=0.1, channels_last=True, bf16=True)
    x = torch.from_numpy(random_images(16, 16, 16)).permute(0, 3, 1, 2).contiguous()
    y = torch.arange(16) % 10
    losses = [step(x, y) for _ in range(10)]
    assert set(seen) == {torch.bfloat16}
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert {p.grad.dtype for p in model.parameters() if p.grad is not None} == {torch.float32}
    assert np.isfinite(losses).all() and losses[-1] < 0.7 * losses[0]


def test_rejects_other_families():
    with pytest.raises(ValueError, match="Wide-ResNets only"):
        torch_wrn.create_torch_model("resnet18_v1")

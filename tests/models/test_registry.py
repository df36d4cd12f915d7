import pytest

import tfzoo
from tests.helpers import count_params

# Trainable parameters, to 0.1M: Wide Residual Networks, Table 4 (CIFAR-10, 10 classes) and ImageNet ResNets
# (1000 classes).
PAPER_PARAMS = {
    "wrn-40-1": 0.6, "wrn-40-2": 2.2, "wrn-40-4": 8.9, "wrn-16-8": 11.0, "wrn-16-10": 17.1,
    "wrn-22-8": 17.2, "wrn-22-10": 26.8, "wrn-28-10": 36.5,
    "resnet18_v1": 11.7, "resnet34_v1": 21.8, "resnet50_v1": 25.6, "resnet101_v1": 44.5, "resnet152_v1": 60.2,
}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.large) if PAPER_PARAMS[name] >= 10 else name
                                  for name in sorted(PAPER_PARAMS)])
def test_parameter_counts_match_the_papers(name):
    num_classes = 1000 if name.startswith("resnet") else 10
    model = tfzoo.create_model(name, num_classes=num_classes)
    assert round(count_params(model.trainable_weights) / 1e6, 1) == PAPER_PARAMS[name]


@pytest.mark.parametrize("depth", [50, 101, 152])
def test_v2_differs_from_v1_by_the_shortcut_batch_norms(depth):
    """Pre-activation (He et al. 2016b) has no BN on the four projection shortcuts:
    2 x (256 + 512 + 1024 + 2048) = 7,680 fewer parameters than V1's paper count."""
    v1 = count_params(tfzoo.create_model(f"resnet{depth}_v1", num_classes=1000).trainable_weights)
    v2 = count_params(tfzoo.create_model(f"resnet{depth}_v2", num_classes=1000).trainable_weights)
    assert v1 - v2 == 7_680


def test_exact_counts_are_pinned():
    """Exact values, so that an architecture change shows up even within 0.1M."""
    assert count_params(tfzoo.create_model("wrn-16-4").trainable_weights) == 2_748_890
    assert count_params(tfzoo.create_model("wrn-28-10").trainable_weights) == 36_479_194
    assert count_params(tfzoo.create_model("resnet50_v1", num_classes=1000).trainable_weights) == 25_557_032
    zeroinit = tfzoo.create_model("wrn-16-4", normalization="none", init="zeroinit")
    # No BN (gamma and beta on 1,808 channels: -3,616) but a bias per conv channel (+2,256)
    # and one multiplier per block (+6).
    assert count_params(zeroinit.trainable_weights) == 2_748_890 - 3_616 + 2_256 + 6


def test_list_models_covers_the_families():
    names = tfzoo.list_models()
    assert {"wrn-16-4", "wrn-28-10", "wrn-1000-2", "resnet50_v1", "resnet152_v2"} <= set(names)
    assert names.index("wrn-16-4") < names.index("wrn-100-2")


def test_unregistered_wrn_names_are_parsed():
    model = tfzoo.create_model("wrn-10-3", normalization="none")
    assert model.name == "wrn-10-3"
    assert model.get_layer("stage3_block1_branch_conv2").filters == 64 * 3


@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("vgg16", {}, "Unknown model 'vgg16'"),
        ("wrn-17-4", {}, "depth=17"),
        ("wrn-16-0", {}, "width=0"),
        ("resnet50_v3", {}, "Unknown model"),
        ("wrn-16-4", {"normalization": "layer_norm"}, "Unknown normalization 'layer_norm'"),
        ("wrn-16-4", {"init": "zero"}, "Unknown init 'zero'"),
        ("wrn-16-4", {"init": "fixup"}, "needs normalization='none'"),
        ("wrn-16-4", {"scalar_bias": True}, "ResNet-V1 only"),
        ("wrn-16-4", {"dropout": 1.0}, "dropout"),
        ("wrn-16-4", {"classifier_dropout": -0.1}, "classifier_dropout"),
        ("wrn-16-4", {"num_classes": 1}, "num_classes"),
        ("wrn-16-4", {"input_shape": (32, 32)}, "input_shape"),
        ("wrn-16-4", {"ghost_batch_size": 0}, "ghost_batch_size"),
        ("resnet18_v2", {"dropout": 0.3}, "Wide-ResNets only"),
    ],
)
def test_bad_arguments_name_the_value(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        tfzoo.create_model(name, **kwargs)

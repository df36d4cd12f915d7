"""Every registered model, parametrized over ``tfzoo.list_models()`` (so a new variant is tested by
being registered): it builds, its parameter count is pinned, and the small ones survive a save/load
round trip with identical outputs. Default scheme (batch norm, standard init); the counts do not
depend on the input size (global average pooling), so the models are built small."""

import pytest

import tfzoo
from tests.helpers import assert_model_round_trip, count_params, random_images

# (all weights, trainable weights) of create_model(name) with its family's default classes: 10 for
# the WRNs (CIFAR-10), 1000 for the ResNets (ImageNet). Non-trainable: the BN moving statistics.
PARAMS = {
    "resnet18_v1": (11_699_112, 11_689_512),
    "resnet18_v2": (11_695_528, 11_687_720),
    "resnet34_v1": (21_814_696, 21_797_672),
    "resnet34_v2": (21_811_112, 21_795_880),
    "resnet50_v1": (25_610_152, 25_557_032),
    "resnet50_v2": (25_594_792, 25_549_352),
    "resnet101_v1": (44_654_504, 44_549_160),
    "resnet101_v2": (44_639_144, 44_541_480),
    "resnet152_v1": (60_344_232, 60_192_808),
    "resnet152_v2": (60_328_872, 60_185_128),
    "wrn-16-1": (175_994, 175_066),
    "wrn-16-2": (693_498, 691_674),
    "wrn-16-4": (2_752_506, 2_748_890),
    "wrn-16-8": (10_968_570, 10_961_370),
    "wrn-16-10": (17_125_626, 17_116_634),
    "wrn-22-8": (17_168_890, 17_158_106),
    "wrn-22-10": (26_811_386, 26_797_914),
    "wrn-28-10": (36_497_146, 36_479_194),
    "wrn-28-12": (52_539_386, 52_517_850),
    "wrn-40-1": (566_650, 563_930),
    "wrn-40-2": (2_248_954, 2_243_546),
    "wrn-40-4": (8_959_994, 8_949_210),
    "wrn-40-8": (35_769_850, 35_748_314),
    "wrn-100-2": (6_137_594, 6_123_226),
    "wrn-1000-2": (64_467_194, 64_318_426),
}

# Trainable parameters in millions as the papers print them: "Wide Residual Networks" (Zagoruyko
# and Komodakis), Tables 1 and 4 / section 3 (WRN-d-k on CIFAR-10), and "Deep Residual Learning for
# Image Recognition" (He et al.), the ImageNet models (ResNet-V1, 1000 classes; the torchvision
# counts of its Table 1 architectures).
PAPERS = {
    "wrn-16-4": 2.7, "wrn-16-8": 11.0, "wrn-16-10": 17.1, "wrn-22-8": 17.2, "wrn-22-10": 26.8,
    "wrn-28-10": 36.5, "wrn-40-1": 0.6, "wrn-40-2": 2.2, "wrn-40-4": 8.9,
    "resnet18_v1": 11.7, "resnet34_v1": 21.8, "resnet50_v1": 25.6, "resnet101_v1": 44.5, "resnet152_v1": 60.2,
}
SMALL = 3_000_000  # round-trip models below this many parameters


def _build(name):
    if name.startswith("resnet"):  # 64 x 64: the smallest size that keeps every stage's map >= 2 x 2
        return tfzoo.create_model(name, input_shape=(64, 64, 3), num_classes=1000), random_images(2, 64, 64)
    return tfzoo.create_model(name, input_shape=(16, 16, 3)), random_images(2, 16, 16)


def test_every_registered_model_is_pinned():
    assert sorted(PARAMS) == sorted(tfzoo.list_models())


def test_pinned_counts_agree_with_the_papers():
    for name, millions in PAPERS.items():
        assert round(PARAMS[name][1] / 1e6, 1) == millions, name


LARGE = 10_000_000  # models from this many parameters are built in the TensorFlow pass only (setup.cfg: large)


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.large) if PARAMS[name][0] >= LARGE else name
                                  for name in tfzoo.list_models()])
def test_builds_with_its_pinned_parameter_count(name, tmp_path):
    model, images = _build(name)
    assert (model.count_params(), count_params(model.trainable_weights)) == PARAMS[name]
    logits = model(images, training=False)
    assert tuple(logits.shape) == (2, 1000 if name.startswith("resnet") else 10)
    if PARAMS[name][0] < SMALL:
        assert_model_round_trip(model, images, tmp_path)

"""Dataset specs: names, classes, statistics against the real data, defaults."""

import dataclasses

import numpy as np
import pytest

from tfzoo.data import DataError, get_spec, list_datasets, load_arrays
from tfzoo.data.specs import check_arrays


def test_list_datasets():
    assert list_datasets() == ["cifar10", "cifar100", "fashion_mnist", "imagenet2012", "mnist", "svhn"]
    assert [name for name in list_datasets() if get_spec(name).streaming] == ["imagenet2012"]


@pytest.mark.parametrize("name", list_datasets())
def test_spec_is_consistent(name):
    spec = get_spec(name)
    assert spec.name == name
    assert len(spec.class_names) == len(set(spec.class_names)) == spec.num_classes
    assert len(spec.mean) == len(spec.std) == spec.image_shape[2]
    assert all(0 < m < 255 for m in spec.mean) and all(0 < s < 128 for s in spec.std)


def test_known_values():
    assert get_spec("cifar10").class_names[:4] == ("airplane", "automobile", "bird", "cat")
    cifar100 = get_spec("cifar100").class_names
    assert cifar100 == tuple(sorted(cifar100))  # the release lists fine labels alphabetically
    assert (cifar100[0], cifar100[30], cifar100[99]) == ("apple", "dolphin", "worm")
    assert get_spec("svhn").tfds_name == "svhn_cropped"
    assert get_spec("mnist").image_shape == (28, 28, 1)
    imagenet = get_spec("imagenet2012")
    assert (imagenet.num_classes, imagenet.image_shape, imagenet.tfds_name) == (1000, (224, 224, 3), "imagenet2012")
    # TFDS's label order: sorted WordNet ids, tench first, toilet tissue last.
    assert imagenet.class_names[0] == "n01440764" and imagenet.class_names[-1] == "n15075141"
    assert imagenet.class_names == tuple(sorted(imagenet.class_names))
    np.testing.assert_allclose(np.array(imagenet.mean) / 255, (0.485, 0.456, 0.406))
    np.testing.assert_allclose(np.array(imagenet.std) / 255, (0.229, 0.224, 0.225))


def test_flip_defaults():
    assert {name: get_spec(name).flip for name in list_datasets()} == {
        "cifar10": True, "cifar100": True, "fashion_mnist": True, "imagenet2012": True, "mnist": False,
        "svhn": False,
    }


def test_spec_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_spec("cifar10").num_classes = 5


def test_unknown_dataset_names_value_and_choices():
    with pytest.raises(DataError) as info:
        get_spec("imagenet")
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "'imagenet'" in message and "\n" not in message
    assert all(name in message for name in list_datasets())
    with pytest.raises(DataError, match="unknown dataset 'cifar-10'"):
        load_arrays("cifar-10", "train")


def test_fashion_statistics_match_the_data(fashion_dir):
    images, _ = load_arrays("fashion_mnist", "train")
    pixels = images.reshape(-1).astype(np.float64)
    spec = get_spec("fashion_mnist")
    assert pixels.mean() == pytest.approx(spec.mean[0], abs=0.01)
    assert pixels.std() == pytest.approx(spec.std[0], abs=0.01)


def test_cifar10_statistics_close_on_subset(cifar_train):
    images, _ = cifar_train
    pixels = images.reshape(-1, 3).astype(np.float64)
    spec = get_spec("cifar10")
    # The fixture's 320 images: per-image channel means vary by 32-39 across CIFAR-10, so a mean
    # of 320 has a standard error of 1.8-2.2; the fixture lies 0.9, 1.7, 3.5 from the full set's
    # means and 1.1, 1.5, 2.2 from its spreads. Swapping red and blue (11.4 apart) still fails.
    np.testing.assert_allclose(pixels.mean(0), spec.mean, atol=6.5)
    np.testing.assert_allclose(pixels.std(0), spec.std, atol=3.0)


def test_check_arrays_errors():
    spec = get_spec("cifar10")
    images = np.zeros((4, 32, 32, 3), np.uint8)
    check_arrays(images, np.array([0, 1, 2, 9]), spec, "ok")
    with pytest.raises(DataError, match=r"here: expected uint8 images of shape \[N, 32, 32, 3\]"):
        check_arrays(images.astype(np.float32), np.zeros(4, np.int64), spec, "here")
    with pytest.raises(DataError, match="here: 4 images but labels of shape"):
        check_arrays(images, np.zeros(3, np.int64), spec, "here")
    with pytest.raises(DataError, match=r"labels must lie in \[0, 10\) for cifar10, found 0..10"):
        check_arrays(images, np.array([0, 1, 2, 10]), spec, "here")

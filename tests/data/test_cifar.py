"""CIFAR python-release readers on the committed CIFAR-10 fixture (real images), and their errors."""

import pickle

import numpy as np
import pytest

from tfzoo.data import DataError, load_arrays, load_class_names

# Per-class counts of the fixture's 320 training images (tests/fixtures/cifar10/README.md: every class present).
TRAIN_COUNTS = [27, 38, 37, 34, 30, 27, 42, 32, 21, 32]


@pytest.fixture
def release_copy(tmp_path, cifar_batches_dir, copy_tree):
    """A writable copy of the fixture's ``cifar-10-batches-py/`` under tmp_path."""
    return copy_tree(cifar_batches_dir, tmp_path / "cifar-10-batches-py")


def _write_batch(path, data, labels, label_key=b"labels"):
    with open(path, "wb") as f:
        pickle.dump({b"batch_label": b"test", label_key: labels, b"data": data}, f, protocol=2)


def test_train_split(cifar_train):
    images, labels = cifar_train
    assert images.shape == (320, 32, 32, 3) and images.dtype == np.uint8
    assert labels.shape == (320,) and labels.dtype == np.int64
    assert np.bincount(labels, minlength=10).tolist() == TRAIN_COUNTS


def test_test_split(cifar_test):
    images, labels = cifar_test
    assert images.shape == (100, 32, 32, 3) and images.dtype == np.uint8
    assert labels[:5].tolist() == [3, 8, 8, 0, 6]  # cat, ship, ship, airplane, frog
    assert labels.min() == 0 and labels.max() == 9 and len(np.unique(labels)) == 10


def test_channel_major_rows_become_hwc(cifar_test, cifar_batches_dir):
    with open(cifar_batches_dir / "test_batch", "rb") as f:  # trusted file: plain pickle as reference
        raw = pickle.load(f, encoding="bytes")[b"data"]
    images, _ = cifar_test
    # Row layout: 1024 red values, then 1024 green, then 1024 blue, each row-major 32 x 32.
    assert images[0, 0, 0].tolist() == [raw[0, 0], raw[0, 1024], raw[0, 2048]]
    assert images[7, 2, 5].tolist() == [raw[7, 2 * 32 + 5], raw[7, 1024 + 69], raw[7, 2048 + 69]]
    np.testing.assert_array_equal(images, raw.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def test_parent_and_batches_folder_agree(cifar_test, cifar_batches_dir):
    images, labels = load_arrays("cifar10", "test", data_dir=cifar_batches_dir)
    np.testing.assert_array_equal(images, cifar_test[0])
    np.testing.assert_array_equal(labels, cifar_test[1])


def test_max_examples_spans_batches(cifar_train, cifar_dir):
    images, labels = load_arrays("cifar10", "train", data_dir=cifar_dir, max_examples=100)
    assert images.shape == (100, 32, 32, 3)  # data_batch_1 holds 80: the rest from batch 2
    np.testing.assert_array_equal(images, cifar_train[0][:100])
    np.testing.assert_array_equal(labels, cifar_train[1][:100])


def test_class_names_from_batches_meta(tmp_path, release_copy, cifar_dir):
    assert load_class_names("cifar10", cifar_dir)[:3] == ("airplane", "automobile", "bird")
    folder = release_copy
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [f"class{i}".encode() for i in range(10)]}, f, protocol=2)
    assert load_class_names("cifar10", tmp_path)[9] == "class9"
    (folder / "batches.meta").unlink()
    assert load_class_names("cifar10", tmp_path)[9] == "truck"  # from the spec


def test_missing_batch_is_named(tmp_path, release_copy):
    folder = release_copy
    (folder / "data_batch_3").unlink()
    with pytest.raises(DataError, match="holds part of the release but not data_batch_3"):
        load_arrays("cifar10", "train", data_dir=tmp_path)
    assert load_arrays("cifar10", "test", data_dir=tmp_path)[0].shape == (100, 32, 32, 3)


def test_truncated_batch(release_copy):
    folder = release_copy
    content = (folder / "test_batch").read_bytes()
    (folder / "test_batch").write_bytes(content[: len(content) // 2])
    with pytest.raises(DataError) as info:
        load_arrays("cifar10", "test", data_dir=folder)
    assert str(info.value).startswith(f"{folder / 'test_batch'}: truncated or corrupt pickle")
    (folder / "test_batch").write_bytes(b"not a pickle at all")
    with pytest.raises(DataError, match="truncated or corrupt pickle"):
        load_arrays("cifar10", "test", data_dir=folder)


def test_inconsistent_batches(tmp_path):
    path = tmp_path / "test_batch"
    data = np.zeros((3, 3072), np.uint8)
    _write_batch(path, data, [0, 1])
    with pytest.raises(DataError, match=f"{path}: 3 images but 2 labels"):
        load_arrays("cifar10", "test", data_dir=tmp_path)
    _write_batch(path, data, [0, 1, 10])
    with pytest.raises(DataError, match=rf"{path}: labels must lie in \[0, 10\) for cifar10, found 0..10"):
        load_arrays("cifar10", "test", data_dir=tmp_path)
    _write_batch(path, np.zeros((3, 1024), np.uint8), [0, 1, 2])
    with pytest.raises(DataError, match=rf"{path}: 'data' must be uint8 \[N, 3072\], got uint8 \[3, 1024\]"):
        load_arrays("cifar10", "test", data_dir=tmp_path)
    with open(path, "wb") as f:
        pickle.dump({b"data": data}, f, protocol=2)
    with pytest.raises(DataError, match=f"{path}: no 'labels' entry"):
        load_arrays("cifar10", "test", data_dir=tmp_path)


def test_cifar100_layout(tmp_path, cifar_train):
    """The CIFAR-100 release: one ``train`` and one ``test`` file, ``fine_labels``, names in ``meta``."""
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    images = cifar_train[0][:300]
    data = images.transpose(0, 3, 1, 2).reshape(300, 3072)
    fine = [i % 100 for i in range(300)]
    for split in ("train", "test"):
        _write_batch(folder / split, data, fine, label_key=b"fine_labels")
    with open(folder / "meta", "wb") as f:
        pickle.dump({b"fine_label_names": [f"c{i}".encode() for i in range(100)]}, f, protocol=2)
    loaded, labels = load_arrays("cifar100", "train", data_dir=tmp_path)
    np.testing.assert_array_equal(loaded, images)
    assert labels.tolist() == fine
    assert load_class_names("cifar100", folder)[42] == "c42"

"""IDX reader on the real Fashion-MNIST files of Debian's dataset-fashion-mnist package."""

import gzip
import shutil

import numpy as np
import pytest

from tfzoo.data import DataError, load_arrays

TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture(scope="module")
def fashion_test(fashion_dir):
    return load_arrays("fashion_mnist", "test")  # found in the system folder, no data_dir


def _copy_test_files(fashion_dir, folder, compressed=True):
    folder.mkdir(parents=True, exist_ok=True)
    for name in TEST_FILES:
        if compressed:
            shutil.copyfile(fashion_dir / f"{name}.gz", folder / f"{name}.gz")
        else:
            with gzip.open(fashion_dir / f"{name}.gz", "rb") as f:
                (folder / name).write_bytes(f.read())
    return folder


def test_system_folder_train(fashion_dir):
    images, labels = load_arrays("fashion_mnist", "train")
    assert images.shape == (60000, 28, 28, 1) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and np.bincount(labels).tolist() == [6000] * 10
    assert images.max() == 255 and images.min() == 0


def test_system_folder_test(fashion_test):
    images, labels = fashion_test
    assert images.shape == (10000, 28, 28, 1)
    assert labels[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]  # ankle boot, pullover, trouser, ...
    assert np.bincount(labels).tolist() == [1000] * 10


def test_uncompressed_files_and_subfolder(tmp_path, fashion_dir, fashion_test):
    _copy_test_files(fashion_dir, tmp_path / "fashion_mnist", compressed=False)
    images, labels = load_arrays("fashion_mnist", "test", data_dir=tmp_path, max_examples=500)
    np.testing.assert_array_equal(images, fashion_test[0][:500])
    np.testing.assert_array_equal(labels, fashion_test[1][:500])


def test_mnist_reads_the_same_format(tmp_path, fashion_dir, fashion_test):
    _copy_test_files(fashion_dir, tmp_path)
    images, _ = load_arrays("mnist", "test", data_dir=tmp_path)
    np.testing.assert_array_equal(images, fashion_test[0])
    with pytest.raises(DataError, match="holds part of the release but not train-images-idx3-ubyte"):
        load_arrays("mnist", "train", data_dir=tmp_path)


def test_truncated_gzip(tmp_path, fashion_dir):
    folder = _copy_test_files(fashion_dir, tmp_path)
    path = folder / "t10k-images-idx3-ubyte.gz"
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(DataError, match=f"{path}: truncated or corrupt file"):
        load_arrays("fashion_mnist", "test", data_dir=tmp_path)


def test_truncated_payload(tmp_path, fashion_dir):
    folder = _copy_test_files(fashion_dir, tmp_path, compressed=False)
    path = folder / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(DataError, match=f"{path}: header says 10000 = 10000 bytes of data, found 9999"):
        load_arrays("fashion_mnist", "test", data_dir=tmp_path)


def test_wrong_magic_and_count_mismatch(tmp_path, fashion_dir):
    folder = _copy_test_files(fashion_dir, tmp_path, compressed=False)
    images_path, labels_path = (folder / name for name in TEST_FILES)
    labels = labels_path.read_bytes()
    images_path.write_bytes(labels)
    with pytest.raises(DataError, match=f"{images_path}: IDX magic 2049, expected 2051"):
        load_arrays("fashion_mnist", "test", data_dir=tmp_path)
    _copy_test_files(fashion_dir, folder, compressed=False)
    labels_path.write_bytes(labels[:4] + (9999).to_bytes(4, "big") + labels[8:-1])
    with pytest.raises(DataError, match="holds 10000 images but .* holds 9999 labels"):
        load_arrays("fashion_mnist", "test", data_dir=tmp_path)


def test_environment_variable(tmp_path, monkeypatch, fashion_dir):
    _copy_test_files(fashion_dir, tmp_path / "fashion-mnist", compressed=False)
    (tmp_path / "fashion-mnist" / "t10k-labels-idx1-ubyte").write_bytes(b"")
    monkeypatch.setenv("TFZOO_DATA_DIR", str(tmp_path))
    # The damaged copy in $TFZOO_DATA_DIR is found before the system folder, and reported.
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte: 0 bytes, too short for an IDX header"):
        load_arrays("fashion_mnist", "test")

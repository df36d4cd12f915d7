"""Source resolution in ``load_arrays``: data_dir, $TFZOO_DATA_DIR, system folders, TFDS."""

import sys
import types

import numpy as np
import pytest

from tfzoo.data import DataError, load_arrays, sources

real_offline_reason = sources._offline_reason  # the autouse fixture replaces it in every test


class _FakeTfds(types.ModuleType):
    """Stands in for tensorflow_datasets: records each ``load`` call and answers from a script."""

    def __init__(self, answers):
        super().__init__("tensorflow_datasets")
        self.answers, self.calls = list(answers), []

    def load(self, name, **kwargs):
        self.calls.append(dict(kwargs, name=name))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @staticmethod
    def as_numpy(arrays):
        return arrays


def test_not_found_names_every_place(tmp_path):
    with pytest.raises(DataError) as info:
        load_arrays("cifar10", "train", data_dir=tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("no cifar10 'train' data found: looked in ")
    assert f"{tmp_path}/cifar-10-batches-py, {tmp_path} and TFDS (data_dir={tmp_path})" in message
    assert "network disabled in tests" in message and "--data_dir=" in message


def test_not_found_includes_environment_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(sources.ENV_VAR, str(tmp_path / "env"))
    with pytest.raises(DataError, match=f"looked in {tmp_path}/env/svhn, {tmp_path}/env and TFDS"):
        load_arrays("svhn", "test")


def test_environment_folder_and_order(tmp_path, monkeypatch, cifar_batches_dir, cifar_test, copy_tree):
    copy_tree(cifar_batches_dir, tmp_path / "env" / "cifar-10-batches-py")
    monkeypatch.setenv(sources.ENV_VAR, str(tmp_path / "env"))
    images, labels = load_arrays("cifar10", "test")
    np.testing.assert_array_equal(labels, cifar_test[1])
    # data_dir comes first: a damaged release there is reported, not skipped for the good one.
    (tmp_path / "given").mkdir()
    (tmp_path / "given" / "test_batch").write_bytes(b"\x80\x02}q")
    with pytest.raises(DataError, match=f"{tmp_path}/given/test_batch: truncated or corrupt pickle"):
        load_arrays("cifar10", "test", data_dir=tmp_path / "given")


def test_bad_arguments(cifar_dir, tmp_path):
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(b"")
    with pytest.raises(DataError, match=f"data_dir={archive} is a file: extract the release"):
        load_arrays("cifar10", "train", data_dir=archive)
    with pytest.raises(DataError, match="unknown split 'validation'; accepted: train, test"):
        load_arrays("cifar10", "validation", data_dir=cifar_dir)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(DataError, match=f"max_examples must be a positive integer or None, got {bad!r}"):
            load_arrays("cifar10", "test", data_dir=cifar_dir, max_examples=bad)


def test_tfds_prepared_copy(tmp_path, monkeypatch):
    images = np.full((5, 32, 32, 3), 7, np.uint8)
    fake = _FakeTfds([(images, np.arange(5, dtype=np.int32))])
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake)
    loaded, labels = load_arrays("svhn", "train", data_dir=tmp_path, max_examples=5)
    assert fake.calls == [dict(name="svhn_cropped", split="train[:5]", data_dir=tmp_path, batch_size=-1,
                               as_supervised=True, download=False)]
    np.testing.assert_array_equal(loaded, images)
    assert labels.dtype == np.int64 and labels.tolist() == [0, 1, 2, 3, 4]


def test_tfds_download_only_when_online(monkeypatch):
    fake = _FakeTfds([AssertionError("not prepared"), ConnectionError("host\nunreachable")])
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake)
    monkeypatch.setattr(sources, "_offline_reason", lambda: None)
    expected = r"TFDS \(data_dir=None\): download failed \(ConnectionError: host unreachable\)"
    with pytest.raises(DataError, match=expected):
        load_arrays("mnist", "test")
    assert [call["download"] for call in fake.calls] == [False, True]


def test_offline_probe(monkeypatch):
    for var in sources._PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sources, "_DOWNLOAD_HOST", ("127.0.0.1", 9))  # nothing listens there
    assert real_offline_reason(timeout=1).startswith("127.0.0.1:9 unreachable (ConnectionRefusedError")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert real_offline_reason() is None  # behind a proxy, let TFDS try


def test_tfds_result_is_checked(monkeypatch):
    fake = _FakeTfds([(np.zeros((2, 28, 28, 1), np.uint8), np.array([3, 12]))])
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake)
    with pytest.raises(DataError, match=r"TFDS mnist 'test': labels must lie in \[0, 10\)"):
        load_arrays("mnist", "test")


def test_svhn_mat(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    digits = np.array([1, 2, 10, 9, 10, 5])  # the release writes the digit 0 as 10
    scipy_io.savemat(tmp_path / "test_32x32.mat", {"X": images.transpose(1, 2, 3, 0), "y": digits[:, None]})
    loaded, labels = load_arrays("svhn", "test", data_dir=tmp_path, max_examples=5)
    np.testing.assert_array_equal(loaded, images[:5])
    assert labels.tolist() == [1, 2, 0, 9, 0]
    scipy_io.savemat(tmp_path / "test_32x32.mat", {"X": images.transpose(1, 2, 3, 0), "y": digits[:5, None]})
    with pytest.raises(DataError, match="test_32x32.mat: 6 images but 5 labels"):
        load_arrays("svhn", "test", data_dir=tmp_path)
    (tmp_path / "test_32x32.mat").write_bytes(b"MATLAB 5.0 truncated")
    with pytest.raises(DataError, match="test_32x32.mat: truncated or corrupt .mat file"):
        load_arrays("svhn", "test", data_dir=tmp_path)


def test_given_data_dir_that_does_not_exist_is_an_error(tmp_path, monkeypatch, cifar_batches_dir, copy_tree):
    """Even where $TFZOO_DATA_DIR or a system folder holds the dataset: a --data_dir given is never ignored."""
    copy_tree(cifar_batches_dir, tmp_path / "env" / "cifar-10-batches-py")
    monkeypatch.setenv(sources.ENV_VAR, str(tmp_path / "env"))
    with pytest.raises(DataError, match=rf"^data_dir={tmp_path}/typo does not exist \(resolved: {tmp_path}/typo\)"):
        load_arrays("cifar10", "test", data_dir=tmp_path / "typo")
    with pytest.raises(DataError, match="^data_dir is empty: pass the folder"):
        load_arrays("cifar10", "test", data_dir="")


def test_given_data_dir_without_the_release_is_not_replaced_by_the_system_copy(tmp_path, fashion_dir):
    """Debian's Fashion-MNIST was read instead of an empty or wrong --data_dir, and the run exited 0."""
    with pytest.raises(DataError, match=rf"no fashion_mnist 'test' data found: looked in {tmp_path}/fashion_mnist, "
                                        rf"{tmp_path}/fashion-mnist, {tmp_path} and TFDS \(data_dir={tmp_path}\)"):
        load_arrays("fashion_mnist", "test", data_dir=tmp_path)
    assert len(load_arrays("fashion_mnist", "test", max_examples=3)[1]) == 3  # without data_dir: the system copy

"""The restricted unpickler: CIFAR pickles load, anything that would run code does not."""

import os
import pickle

import numpy as np
import pytest

from tfzoo.data import DataError, load_arrays
from tfzoo.data.safe_pickle import load_pickle_dict


class _System:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


class _Open:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, "w")


def _write(path, obj, protocol=2):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_os_system_payload_is_refused_and_not_run(tmp_path, protocol):
    marker = tmp_path / "pwned"
    batch = tmp_path / "test_batch"
    _write(batch, {b"data": _System(f"touch {marker}"), b"labels": [0]}, protocol)
    with pytest.raises(DataError) as info:
        load_arrays("cifar10", "test", data_dir=tmp_path)
    message = str(info.value)
    assert message.startswith(str(batch)) and "refused global" in message and "system" in message
    assert not marker.exists()


def test_open_payload_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "written"
    batch = tmp_path / "data_batch_1"
    _write(batch, {b"data": _Open(str(marker))})
    with pytest.raises(DataError, match=r"refused global .*open"):
        load_pickle_dict(batch)
    assert not marker.exists()


def test_object_arrays_are_refused(tmp_path):
    path = tmp_path / "batch"
    _write(path, {b"data": np.array([1, "a"], dtype=object)})
    with pytest.raises(DataError, match="only plain numeric arrays"):
        load_pickle_dict(path)


@pytest.mark.parametrize("dtype", ["uint8", ">i4", "<f8", "bool"])
def test_numeric_arrays_round_trip(tmp_path, dtype):
    path = tmp_path / "batch"
    array = np.arange(24).reshape(2, 3, 4).astype(dtype)
    _write(path, {b"data": array, b"fortran": np.asfortranarray(array), b"labels": [1, 2], b"name": b"x"})
    loaded = load_pickle_dict(path)
    for key in (b"data", b"fortran"):
        np.testing.assert_array_equal(loaded[key], array)
        assert loaded[key].dtype == array.dtype.newbyteorder("=")
    assert loaded[b"labels"] == [1, 2] and loaded[b"name"] == b"x"


def test_real_subset_metadata(cifar_batches_dir):
    meta = load_pickle_dict(cifar_batches_dir / "batches.meta")
    assert meta[b"num_cases_per_batch"] == 10000  # stale in the subset: loaders use len(labels)
    assert meta[b"label_names"][8] == b"ship"


def test_not_a_dict(tmp_path):
    path = tmp_path / "batch"
    _write(path, [1, 2, 3])
    with pytest.raises(DataError, match=f"{path}: expected a pickled dict, found list"):
        load_pickle_dict(path)

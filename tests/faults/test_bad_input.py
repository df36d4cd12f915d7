"""Runs that fail before training leave their output folder exactly as they found it, so the corrected
command runs; a read-only folder and a folder another process holds are one ``error:`` line each.
Every case of a CLI runs in one process (tests/cli_cases.py)."""

import contextlib
import os
import pickle
import re
import shutil
import socket
import subprocess

import numpy as np
import pytest

from tests.cli_cases import error_lines, run_cases
from tests.faults.conftest import tiny_run_flags, write_idx
from tfzoo.training import lock


def _copy_release(src, dst, **arrays):
    """A copy of the IDX release ``src`` in ``dst``, with files rewritten: {file name: array}."""
    shutil.copytree(src, dst)
    for name, array in arrays.items():
        write_idx(dst / name, array)
    return dst


def _cifar_release(folder, damage=None):
    """A CIFAR-10 "python version" release of random 32x32 images, 8 per batch; ``damage``:
    {file name: function of its bytes}."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        batch = {b"batch_label": name.encode(), b"labels": [int(y) for y in rng.integers(0, 10, 8)],
                 b"data": rng.integers(0, 256, (8, 3072), dtype=np.uint8), b"filenames": [b"x.png"] * 8}
        content = pickle.dumps(batch, protocol=2)
        (folder / name).write_bytes((damage or {}).get(name, lambda b: b)(content))
    return folder


@contextlib.contextmanager
def _read_only(folder):
    """``folder`` unwritable, even for root (chattr +i); skips where neither way works."""
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("running as root on a filesystem without chattr +i: no way to make a folder read-only")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)


def _snapshot(folder):
    """Every path under ``folder`` with its bytes (None for folders), or None if it does not exist."""
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def wrn_cases(tiny_fashion, tmp_path_factory):
    """recipes.cifar_wrn: bad data into fresh and into existing empty folders, a folder another
    process holds, a read-only folder, then the corrected command into the first folder."""
    root = tmp_path_factory.mktemp("bad_input")
    labels = np.frombuffer((tiny_fashion / "train-labels-idx1-ubyte").read_bytes()[8:], np.uint8).copy()
    labels[5] = 12
    images = np.frombuffer((tiny_fashion / "train-images-idx3-ubyte").read_bytes()[16:], np.uint8)
    cut = _copy_release(tiny_fashion, root / "cut")
    (cut / "t10k-images-idx3-ubyte").write_bytes((tiny_fashion / "t10k-images-idx3-ubyte").read_bytes()[:5000])
    data = {
        "labels out of range": _copy_release(tiny_fashion, root / "labels", **{"train-labels-idx1-ubyte": labels}),
        "wrong shape": _copy_release(tiny_fashion, root / "shape", **{
            "train-images-idx3-ubyte": images[: 128 * 27 * 28].reshape(128, 27, 28)}),
        "truncated file": cut,
        "empty data_dir": root / "empty",
        "missing data_dir": root / "nowhere",
    }
    data["empty data_dir"].mkdir()
    cifar = {
        "truncated pickle": _cifar_release(root / "c1", {"data_batch_2": lambda b: b[: len(b) // 2]}),
        "corrupt pickle": _cifar_release(root / "c2", {"test_batch": lambda b: b[:2] + b"\xff" + b[3:]}),
        "2^62-byte pickle": _cifar_release(root / "c3", {"data_batch_1": lambda b: b"\x80\x04\x8e" + (2**62).to_bytes(8, "little")}),
    }
    cases, folders = [], {}
    for i, (name, folder) in enumerate([*data.items(), *cifar.items()]):
        out = root / f"out{i}"
        if i % 2:
            out.mkdir()  # an existing, empty folder must stay empty: no config.json, no lock file
        argv = tiny_run_flags(folder, out)
        if name in cifar:
            argv = [*argv[1:], "--dataset=cifar10"]
        cases.append(argv)
        folders[name] = out
    held, read_only = root / "held", root / "read_only"
    held.mkdir()
    read_only.mkdir()
    cases += [tiny_run_flags(tiny_fashion, held), tiny_run_flags(tiny_fashion, read_only),
              tiny_run_flags(tiny_fashion, folders["labels out of range"])]
    before = {name: _snapshot(out) for name, out in folders.items()}
    with lock.hold(held), _read_only(read_only):
        results = run_cases("recipes.cifar_wrn", cases)
    return dict(zip([*folders, "held", "read_only", "corrected"], results)), folders, before, held, read_only


DATA_ERRORS = {
    "labels out of range": r"train-labels-idx1-ubyte: labels must lie in \[0, 10\) for fashion_mnist, found 0..12",
    "wrong shape": r"header says 128 x 27 x 28|expected uint8 images of shape \[N, 28, 28, 1\]",
    "truncated file": r"t10k-images-idx3-ubyte: header says 100 x 28 x 28 = 78400 bytes of data, found 4984",
    "empty data_dir": r"no fashion_mnist 'train' data found: looked in .*/empty/fashion_mnist",
    "missing data_dir": r"data_dir=.*/nowhere does not exist",
    "truncated pickle": r"data_batch_2: truncated or corrupt pickle",
    "corrupt pickle": r"test_batch: truncated or corrupt pickle \(at position 2, opcode b'\\xff' unknown\)",
    "2^62-byte pickle": r"data_batch_1: truncated or corrupt pickle \(expected 4611686018427387904 bytes in a bytes8",
}


@pytest.mark.parametrize("name", DATA_ERRORS)
def test_bad_data_is_one_line_and_leaves_the_folder_as_found(wrn_cases, name):
    results, folders, before, _, _ = wrn_cases
    result = results[name]
    assert result.returncode == 2, result.stderr[-2000:]
    [line] = error_lines(result)
    assert re.search(DATA_ERRORS[name], line), line
    assert "Traceback" not in result.stderr
    if name != "labels out of range":  # the corrected command ran in that one since
        assert _snapshot(folders[name]) == before[name]


def test_corrected_command_runs_in_the_folder_of_the_failed_one(wrn_cases):
    results, folders, before, _, _ = wrn_cases
    assert before["labels out of range"] is None
    result = results["corrected"]
    assert result.returncode == 0, result.stderr[-2000:]
    assert (folders["labels out of range"] / "results.json").is_file()


def test_folder_held_by_another_process_is_one_line_exit_2(wrn_cases):
    results, _, _, held, _ = wrn_cases
    result = results["held"]
    assert result.returncode == 2, result.stderr[-2000:]
    [line] = error_lines(result)
    assert line.startswith(f"error: output_dir {held} is in use by another run: pid {os.getpid()} on "
                           f"{socket.gethostname()} since ")
    assert sorted(p.name for p in held.iterdir()) == []  # our own lock file went when we released it


def test_read_only_folder_is_one_line_and_non_zero(wrn_cases):
    results, _, _, _, read_only = wrn_cases
    result = results["read_only"]
    assert result.returncode == 1, result.stderr[-2000:]
    [line] = error_lines(result)
    assert ("Operation not permitted" in line or "Permission denied" in line) and str(read_only / ".lock") in line
    assert "Traceback" not in result.stderr and list(read_only.iterdir()) == []


@pytest.mark.slow
def test_search_checks_both_splits_before_writing_anything(tmp_path):
    """recipes.lr_search read only the test split before writing search.json and the tuner's state."""
    release = _cifar_release(tmp_path / "cifar", {"data_batch_3": lambda b: b[:-100]})
    out = tmp_path / "search"
    [result] = run_cases("recipes.lr_search", [[
        "--model=wrn-10-1", "--dataset=cifar10", f"--data_dir={release}", "--epochs=1", "--batch_sizes=8",
        "--ghost_batch_size=8", "--lr_exponents=-4", "--runs=1", "--best=1", f"--output_dir={out}"]])
    assert result.returncode == 2, result.stderr[-2000:]
    [line] = error_lines(result)
    assert "data_batch_3: truncated or corrupt pickle" in line
    assert not out.exists()


@pytest.mark.slow
def test_imagenet_without_its_files_writes_nothing(tmp_path):
    """recipes.imagenet_resnet wrote config.json before it looked for the data."""
    (tmp_path / "manual").mkdir()
    out = tmp_path / "out"
    [result] = run_cases("recipes.imagenet_resnet", [[
        "--dataset=imagenet2012", f"--data_dir={tmp_path / 'manual'}", "--depth=18", "--batch_size=8",
        "--ghost_batch_size=4", "--epochs=1", f"--output_dir={out}"]])
    assert result.returncode == 2, result.stderr[-2000:]
    [line] = error_lines(result)
    assert "imagenet2012 is not prepared in" in line and "ILSVRC2012_img_train.tar" in line
    assert not out.exists()

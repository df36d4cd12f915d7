"""Tiny real data for the fault tests: the first images of Debian's Fashion-MNIST, written as an
IDX release in a temporary folder, so that each run trains for seconds and reads only its own files."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian package dataset-fashion-mnist (make install)
TRAIN_EXAMPLES, TEST_EXAMPLES = 128, 100


def write_idx(path, array):
    """An IDX file (Fashion-MNIST's format): magic, big-endian uint32 dimensions, the bytes."""
    magic = {3: 2051, 1: 2049}[array.ndim]
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    Path(path).write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


@pytest.fixture(scope="session")
def tiny_fashion(tmp_path_factory):
    """A folder holding the first 128 training and 100 test images of Fashion-MNIST as IDX files."""
    if not (FASHION_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"Fashion-MNIST not in {FASHION_DIR}: apt-get install dataset-fashion-mnist")
    from tfzoo.data import load_arrays

    folder = tmp_path_factory.mktemp("tiny_fashion")
    for split, prefix, count in (("train", "train", TRAIN_EXAMPLES), ("test", "t10k", TEST_EXAMPLES)):
        images, labels = load_arrays("fashion_mnist", split, FASHION_DIR, max_examples=count)
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images[..., 0])
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels)
    return folder


def tiny_run_flags(data_dir, output_dir):
    """WRN-10-1 (ZeroInit: classifier dropout, so the dropout RNG state must resume too), 2 epochs of
    4 steps of 32 images."""
    return ["--dataset=fashion_mnist", f"--data_dir={data_dir}", "--depth=10", "--width=1", "--epochs=2",
            "--batch_size=32", "--ghost_batch_size=32", "--eval_batch_size=100", "--lr=0.05",
            f"--output_dir={output_dir}"]


def launch(fault, *args, module="recipes.cifar_wrn"):
    """``python -m tests.faults.inject FAULT MODULE ARGS`` started (a Popen): see tests/faults/inject.py."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen([sys.executable, "-m", "tests.faults.inject", fault, module, *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(fault, *args, module="recipes.cifar_wrn", timeout=300):
    """``launch``, waited for: a CompletedProcess (returncode -9 when the fault killed it)."""
    return wait(launch(fault, *args, module=module), timeout)


def wait(process, timeout=300):
    """A launched process, waited for (killed past ``timeout``), as a CompletedProcess."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

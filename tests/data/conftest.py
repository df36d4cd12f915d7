"""Shared paths and fixtures for tests/data: the committed CIFAR-10 fixture and Debian's Fashion-MNIST."""

import shutil
from pathlib import Path

import pytest

from tests.conftest import CIFAR10_SUBSET
from tfzoo.data import load_arrays, sources

CIFAR_BATCHES = CIFAR10_SUBSET / "cifar-10-batches-py"
FASHION_DIR = Path(sources.SYSTEM_FOLDERS["fashion_mnist"][0])  # Debian package dataset-fashion-mnist


@pytest.fixture(autouse=True)
def _fixed_seed():
    """Overrides the suite-wide Keras seed and ``clear_session`` (0.25 s a test): data tests
    build no Keras state, and every random draw here is a stateless op with its own seed."""
    yield


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test downloads: TFDS sees the network as down, and $TFZOO_DATA_DIR is unset."""
    monkeypatch.setattr(sources, "_offline_reason", lambda: "network disabled in tests")
    monkeypatch.delenv(sources.ENV_VAR, raising=False)


@pytest.fixture(scope="session")
def cifar_dir():
    """The CIFAR-10 fixture's root: the parent of ``cifar-10-batches-py/``."""
    return CIFAR10_SUBSET


@pytest.fixture(scope="session")
def cifar_batches_dir():
    return CIFAR_BATCHES


@pytest.fixture(scope="session")
def cifar_train():
    return load_arrays("cifar10", "train", data_dir=CIFAR10_SUBSET)


@pytest.fixture(scope="session")
def cifar_test():
    return load_arrays("cifar10", "test", data_dir=CIFAR10_SUBSET)


@pytest.fixture(scope="session")
def fashion_dir():
    if not (FASHION_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"Fashion-MNIST not in {FASHION_DIR}: apt-get install dataset-fashion-mnist")
    return FASHION_DIR


@pytest.fixture
def copy_tree():
    """Copy a folder (such as a read-only data set) into a writable one: ``copy_tree(src, dst)``."""

    def copy(src, dst):
        shutil.copytree(src, dst, copy_function=shutil.copyfile)
        for folder in [dst, *(p for p in Path(dst).rglob("*") if p.is_dir())]:
            folder.chmod(0o755)
        return dst

    return copy

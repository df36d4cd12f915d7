"""Shared test set-up: quiet TensorFlow logs, paths to the real data beside the repo."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CIFAR10_SUBSET = SHARED / "data" / "cifar10-subset"


@pytest.fixture(autouse=True)
def _fixed_seed():
    import keras

    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()

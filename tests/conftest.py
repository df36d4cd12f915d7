"""Shared test set-up: quiet TensorFlow logs, the path of the committed CIFAR-10 fixture."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# 320 training and 100 test images of the official CIFAR-10 release, in its format (README.md there).
CIFAR10_SUBSET = REPO / "tests" / "fixtures" / "cifar10"


@pytest.fixture(autouse=True)
def _fixed_seed():
    """Seed 0 for every test; afterwards a clear session, and Keras's global dtype policy as it was
    found (float32): a test that leaves a mixed policy behind fails instead of changing the next."""
    import keras

    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()
    policy = keras.config.dtype_policy().name
    keras.config.set_dtype_policy("float32")
    assert policy == "float32", f"a test left the global dtype policy at {policy!r}"


# The slowest files, slowest first (``pytest --durations`` on 2 cores). ``make test`` runs
# ``pytest -n 2 --dist loadfile --no-loadscope-reorder``: whole files go to 2 workers in this
# order, so both start on a long file and the short ones even out the end, instead of one worker
# finishing a long file alone.
SLOWEST_FILES = (
    "tests/recipes/paper/test_smoke.py",
    "tests/recipes/paper/test_imagenet.py",
    "tests/faults/test_kill_resume.py",
    "tests/training/test_distribute.py",
    "tests/export/test_formats.py",
    "tests/recipes/test_fine_tune.py",
    "tests/models/test_registry_models.py",
    "tests/faults/test_bad_input.py",
    "tests/test_pretrained_keras.py",
    "tests/recipes/test_lr_search.py",
    "tests/training/test_other_backends.py",
    "tests/training/test_protocol.py",
    "tests/recipes/test_imagenet_resnet.py",
    "tests/bench/test_bench_cli.py",
    "tests/bench/test_gpu_figures.py",
    "tests/recipes/test_cifar_wrn.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {path: i for i, path in enumerate(SLOWEST_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: the rest keep their order

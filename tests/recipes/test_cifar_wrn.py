"""The CLI: bad flags fail fast with one line and exit 2, writing nothing; a short real run works."""

import csv
import json
import os
import subprocess
import sys

import pytest

from tests.cli_cases import assert_one_error, run_cases
from tests.conftest import CIFAR10_SUBSET, REPO


def _run(tmp_path, *flags):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", "recipes.cifar_wrn", f"--output_dir={tmp_path / 'out'}", *flags],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )


BAD_FLAGS = [
    ("--dataset=imagenet", "unknown dataset 'imagenet'"),
    ("--depth=17", "depth=17"),
    ("--width=0", "width=0"),
    ("--normalization=group_norm", "Unknown normalization 'group_norm'"),
    ("--init=orthogonal", "Unknown init 'orthogonal'"),
    ("--batch_size=0", "batch_size"),
    ("--batch_size=100", "batch_size=100 must be a multiple of ghost_batch_size=64"),
    ("--lr=-1", "lr must be > 0"),
    ("--momentum=1.5", "momentum"),
    ("--weight_decay=-1", "weight_decay"),
    ("--schedule=step", "Unknown schedule 'step'"),
    ("--epochs=0", "epochs"),
    ("--dropout=1.2", "dropout"),
    ("--padding=mirror", "padding"),
    ("--crop=centre", "crop must be one of auto, pad, resized. Received: crop='centre'"),
    ("--export=/", "--export=/ already exists"),
    ("--precision=fp8", "Unknown precision 'fp8'"),
    ("--strategy=horovod", "Unknown strategy 'horovod'; accepted: default, mirrored, multi_worker, tpu"),
    ("--virtual_cpu_devices=0", "virtual_cpu_devices must be a positive integer"),
    ("--depth=abc", "flag --depth=abc: invalid literal for int()"),  # absl cannot parse it: still one line
    ("--nesterov=maybe", "flag --nesterov=maybe"),
]


@pytest.fixture(scope="module")
def bad_flag_runs(tmp_path_factory):
    """{flag: (output dir, result)}, every case in one process (tests/cli_cases.py)."""
    outs = [tmp_path_factory.mktemp("bad_flag") / "out" for _ in BAD_FLAGS]
    results = run_cases("recipes.cifar_wrn", [[f"--output_dir={out}", flag] for out, (flag, _) in zip(outs, BAD_FLAGS)])
    return {flag: (out, result) for out, (flag, _), result in zip(outs, BAD_FLAGS, results)}


@pytest.mark.parametrize("flag, message", BAD_FLAGS)
def test_bad_flag_is_one_line_and_exit_2(bad_flag_runs, flag, message):
    out, result = bad_flag_runs[flag]
    assert_one_error(result, message)
    assert not out.exists()


@pytest.mark.parametrize("flag, message", [BAD_FLAGS[6], BAD_FLAGS[-2]])
def test_bad_flag_in_its_own_process(tmp_path, flag, message):
    """``python -m recipes.cifar_wrn`` itself: a value absl cannot parse, and one our checks refuse."""
    result = _run(tmp_path, flag)
    assert_one_error(result, message)
    assert not (tmp_path / "out").exists()


SHORT_RUN = ["--dataset=cifar10", f"--data_dir={CIFAR10_SUBSET}", "--depth=10", "--width=1", "--epochs=1",
             "--max_train_examples=256", "--batch_size=64", "--lr=0.05"]


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """(folder, result) of a short real run that also exports a SavedModel to folder/sm."""
    tmp_path = tmp_path_factory.mktemp("short_run")
    return tmp_path, _run(tmp_path, *SHORT_RUN, f"--export={tmp_path / 'sm'}")


@pytest.mark.slow
def test_short_real_run(short_run):
    tmp_path, result = short_run
    assert result.returncode == 0, result.stderr[-2000:]
    import tensorflow as tf

    from tfzoo.data import load_arrays

    images, _ = load_arrays("cifar10", "test", CIFAR10_SUBSET, max_examples=4)
    served = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"](images=tf.constant(images))
    assert served["probabilities"].shape == (4, 10) and f"SavedModel: {tmp_path / 'sm'}" in result.stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["epochs"] == 1 and results["num_train_examples"] == 256 and results["num_test_examples"] == 100
    assert results["bit_reproducible"] is True  # the recipe set one inter-op thread before TensorFlow started
    assert results["machine"]["onednn"] is (os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0")  # recipes' default
    assert f"test accuracy {results['test_accuracy']:.4f}" in result.stdout


@pytest.mark.slow
def test_same_seed_same_numbers(short_run, tmp_path):
    """A second run of the same command (oneDNN kernels, the recipes' default) ends bit-identical."""
    first_dir, _ = short_run
    result = _run(tmp_path, *SHORT_RUN)
    assert result.returncode == 0, result.stderr[-2000:]
    first, second = (json.loads((d / "out" / "results.json").read_text()) for d in (first_dir, tmp_path))
    numbers = ("test_accuracy", "test_loss", "train_loss", "train_cross_entropy")
    assert [second[k] for k in numbers] == [first[k] for k in numbers]
    assert _history(tmp_path) == _history(first_dir) and len(_history(tmp_path)) == 1
    assert second["bit_reproducible"] is True and second["machine"]["onednn"] == first["machine"]["onednn"]


def _history(run_dir):
    """history.csv's rows without the wall-clock seconds."""
    with open(run_dir / "out" / "history.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]

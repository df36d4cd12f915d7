"""The experiments' command lines: a bad flag is one ``error:`` line, exit 2 and nothing written;
``--dry_run`` prints the plan and its time estimate and writes nothing."""

import pickle

import numpy as np
import pytest

from tfzoo.data.sources import ENV_VAR

from tests.cli_cases import assert_one_error as _one_error
from tests.conftest import CIFAR10_SUBSET, REPO
from tests.recipes.paper.conftest import run_experiment


@pytest.mark.parametrize("name, flags, message", [
    ("ablation", ["--scale=huge"], "--scale"),
    ("depth", ["--seed=-1"], "seed must be >= 0. Received: seed=-1"),
    ("batch_size", ["--learning_rate=0.1"], "learning_rate"),
    ("small_batch", ["stray"], "unexpected arguments ['stray']"),
    ("ablation", ["--data_dir=/nonexistent/cifar"], "data_dir=/nonexistent/cifar is not a folder"),
])
def test_bad_flag_is_one_line_exit_2_nothing_written(tmp_path, name, flags, message):
    _one_error(run_experiment(name, f"--output_dir={tmp_path / 'out'}", *flags), message)
    assert list(tmp_path.iterdir()) == []


def test_output_dir_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    _one_error(run_experiment("depth", f"--output_dir={tmp_path / 'file'}"), "is a file")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


@pytest.mark.slow
def test_paper_scale_refuses_the_subset(tmp_path):
    result = run_experiment("ablation", "--scale=paper", f"--data_dir={CIFAR10_SUBSET}", f"--output_dir={tmp_path / 'o'}")
    _one_error(result, "trains on the full CIFAR-10 (50,000 training images)")
    assert "has 320" in result.stderr and list(tmp_path.iterdir()) == []


def test_no_data_given_or_found_is_one_line(tmp_path):
    """Neither --data_dir nor $TFZOO_DATA_DIR, and no TFDS (a module that fails to import stands
    in for it, so that no test downloads CIFAR-10): one line saying what to pass."""
    (tmp_path / "no_tfds").mkdir()
    (tmp_path / "no_tfds" / "tensorflow_datasets.py").write_text("raise ImportError('not installed here')\n")
    result = run_experiment("ablation", "--scale=smoke", f"--output_dir={tmp_path / 'out'}", **{ENV_VAR: ""},
                            PYTHONPATH=f"{tmp_path / 'no_tfds'}:{REPO}")
    _one_error(result, f"no CIFAR-10 data found: pass --data_dir=FOLDER (the extracted release) or set ${ENV_VAR}")
    assert "tensorflow_datasets cannot be imported" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["no_tfds"]


def _release_of(tmp_path, train_per_batch):
    """A CIFAR-10 release in tmp_path: each training batch the fixture's 320 real images tiled to
    ``train_per_batch``, the fixture's 100 test images: enough images for a --dry_run to plan."""
    source = CIFAR10_SUBSET / "cifar-10-batches-py"
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = []
    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        with open(source / name, "rb") as f:
            batches.append(pickle.load(f, encoding="bytes"))
    data = np.concatenate([b[b"data"] for b in batches])
    labels = [label for b in batches for label in b[b"labels"]]
    for i in range(1, 6):
        take = np.arange(i * train_per_batch, (i + 1) * train_per_batch) % len(labels)
        batch = {b"batch_label": b"tiled", b"labels": [labels[j] for j in take], b"data": data[take]}
        with open(folder / f"data_batch_{i}", "wb") as f:
            pickle.dump(batch, f, protocol=2)
    for name in ("test_batch", "batches.meta"):
        (folder / name).write_bytes((source / name).read_bytes())
    return tmp_path


@pytest.mark.slow
def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path):
    data_dir = _release_of(tmp_path / "data", 512)
    result = run_experiment("depth", "--scale=cpu", "--dry_run", f"--data_dir={data_dir}",
                            f"--output_dir={tmp_path / 'out'}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--scale=cpu: 10 searches, 30 trials (30 to run); 2,560 training / 100 test images" in result.stdout
    assert "estimated time: " in result.stdout and [p.name for p in tmp_path.iterdir()] == ["data"]

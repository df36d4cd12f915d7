"""The experiments' command lines: a bad flag is one ``error:`` line, exit 2 and nothing written;
``--dry_run`` prints the plan and its time estimate and writes nothing."""

import pytest

from tests.cli_cases import assert_one_error as _one_error
from tests.conftest import CIFAR10_SUBSET
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
    assert "has 5,170" in result.stderr and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path):
    result = run_experiment("depth", "--scale=cpu", "--dry_run", f"--output_dir={tmp_path / 'out'}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--scale=cpu: 10 searches, 30 trials (30 to run); 2,560 training / 1,017 test images" in result.stdout
    assert "estimated time: " in result.stdout and list(tmp_path.iterdir()) == []

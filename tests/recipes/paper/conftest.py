"""Runs of the paper experiments for the tests: each experiment's ``--scale=smoke`` once per session,
two at a time, and once more to check that a rerun trains nothing."""

import concurrent.futures
import os
import subprocess
import sys

import pytest

from tests.conftest import CIFAR10_SUBSET, REPO

EXPERIMENTS = ("ablation", "depth", "batch_size", "small_batch")


def run_experiment(name, *flags, timeout=900, **extra_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", **extra_env)
    return subprocess.run([sys.executable, "-m", f"recipes.paper.{name}", *flags], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _run_all(directories, *flags):
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(run_experiment, name, "--scale=smoke", f"--data_dir={CIFAR10_SUBSET}",
                                           f"--output_dir={directories[name]}", *flags)
                   for name in EXPERIMENTS}
        return {name: future.result() for name, future in futures.items()}


def trial_mtimes(directory):
    return {p: p.stat().st_mtime_ns for p in directory.glob("*/*/trials/*/results.json")}


@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    """{experiment: (output dir, first run, rerun, trial results.json mtimes before the rerun)}."""
    root = tmp_path_factory.mktemp("paper_smoke")
    directories = {name: root / name for name in EXPERIMENTS}
    first = _run_all(directories)
    before = {name: trial_mtimes(directories[name]) for name in EXPERIMENTS}
    tables = {name: (directories[name] / "table.md").read_text() if first[name].returncode == 0 else None
              for name in EXPERIMENTS}
    again = _run_all(directories)
    return {name: (directories[name], first[name], again[name], before[name], tables[name]) for name in EXPERIMENTS}

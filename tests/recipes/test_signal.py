"""``python -m recipes.paper.signal``: bad flags exit 2 with one line; a real run writes PNG, CSV and JSON."""

import csv
import json
import os
import subprocess
import sys

import matplotlib.image
import pytest

from tests.cli_cases import assert_one_error as _one_error, run_cases
from tests.conftest import CIFAR10_SUBSET, REPO


def _run(tmp_path, *flags):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", "recipes.paper.signal", f"--output_dir={tmp_path / 'out'}", *flags],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )


BAD_FLAGS = [
    (["--model=wrn-17-1"], "depth=17"),
    (["--batch_size=1", f"--data_dir={CIFAR10_SUBSET}"], "batch_size must be an integer >= 2"),
    (["--data_dir=/nonexistent/folder"], "data_dir=/nonexistent/folder does not exist"),
]


@pytest.fixture(scope="module")
def bad_flag_runs(tmp_path_factory):
    """[(output dir, result)] of BAD_FLAGS, every case in one process (tests/cli_cases.py)."""
    outs = [tmp_path_factory.mktemp("bad_flag") / "out" for _ in BAD_FLAGS]
    return list(zip(outs, run_cases("recipes.paper.signal", [[f"--output_dir={out}", *flags]
                                                            for out, (flags, _) in zip(outs, BAD_FLAGS)])))


@pytest.mark.parametrize("case", range(len(BAD_FLAGS)), ids=["model", "batch", "data_dir"])
def test_bad_flag_is_one_line_and_exit_2(bad_flag_runs, case):
    out, result = bad_flag_runs[case]
    _one_error(result, BAD_FLAGS[case][1])
    assert not out.exists()


def test_bad_flag_in_its_own_process(tmp_path):
    _one_error(_run(tmp_path, "--model=wrn-17-1"), "depth=17")
    assert not (tmp_path / "out").exists()


def test_writes_png_csv_and_json(tmp_path):
    result = _run(tmp_path, "--model=wrn-16-1", f"--data_dir={CIFAR10_SUBSET}", "--batch=8", "--seed=1")  # --batch: the earlier name, an alias
    assert result.returncode == 0, result.stderr[-2000:]
    out = tmp_path / "out"
    assert (out / "signal.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.image.imread(out / "signal.png").shape[:2] == (450, 1200)
    rows = list(csv.DictReader((out / "signal.csv").open()))
    assert len(rows) == 3 * (1 + 6)  # three schemes x (stem output + 6 blocks)
    assert [r["name"] for r in rows[:7]] == ["input"] + [f"stage{s}_block{b}" for s in (1, 2, 3) for b in (1, 2)]
    results = json.loads((out / "signal.json").read_text())
    assert (results["model"], results["batch_size"], results["seed"]) == ("wrn-16-1", 8, 1)
    assert list(results["schemes"]) == ["batch_norm", "none", "zeroinit"]
    for label, scheme in results["schemes"].items():
        csv_variances = [float(r["variance"]) for r in rows if r["scheme"] == label]
        assert csv_variances == [scheme["input_variance"], *scheme["variance"]]
        assert scheme["final_variance"] == scheme["variance"][-1]
    zeroinit = results["schemes"]["zeroinit"]
    assert zeroinit["init"] == "zeroinit" and set(zeroinit["branch_variance"]) == {0.0}
    assert results["schemes"]["none"]["final_variance"] > zeroinit["final_variance"]
    assert "after block 6" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [  # no temporaries
        "flagfile.txt", "signal.csv", "signal.json", "signal.png"]

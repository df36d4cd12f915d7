"""The learning-rate search CLI: bad flags fail fast, a tiny real search (one diverging learning rate),
resuming re-runs nothing, the plot subcommand, and a chief with two workers over gRPC."""

import json
import math
import os
import re
import socket
import subprocess
import sys

import pytest

from tests.cli_cases import assert_one_error as _one_error, run_cases
from tests.conftest import CIFAR10_SUBSET, REPO
from tests.search.test_plots import assert_valid_png

# Trials of WRN-10-1 on 256 images of the CIFAR-10 fixture for 1 epoch; lr 2^8 diverges without normalization.
TINY = ["--model=wrn-10-1", "--normalization=none", "--init=standard", "--dataset=cifar10", f"--data_dir={CIFAR10_SUBSET}",
        "--epochs=1", "--max_train_examples=256", "--batch_sizes=64"]
SEARCH = [*TINY, "--lr_exponents=-5:-4,8", "--runs=2", "--best=1"]
PROGRESS = re.compile(
    r"^\[(\d+)/(\d+)\] batch (\d+), lr 2\^(-?\d+), run (\d+): (test accuracy [\d.]+, train loss [\d.]+|diverged) \([\d.]+ s\)$"
)


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    return dict(env, TF_CPP_MIN_LOG_LEVEL="3", **extra)


def _run(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "recipes.lr_search", *args], cwd=REPO, env=env or _env(),
                          capture_output=True, text=True, timeout=timeout)


BAD_FLAGS = [
    (["--runs=0"], "--runs must be >= 1"),
    (["--strategy=multi_worker"], "--strategy=multi_worker is not supported by lr_search"),
    (["--runs=abc"], "--runs"),
    (["--runs=4", "--best=5"], "--best must be in [1, --runs=4]"),
    (["--best=0"], "--best must be in [1, --runs=15]"),
    (["--lr_exponents=-3,-2,-3"], "repeated: [-3]"),
    (["--lr_exponents=-2:-4"], "'-2:-4' is not an integer or an a:b range with a <= b"),
    (["--lr_exponents=-4:-2,x"], "'x' is not an integer"),
    (["--batch_sizes=0,64"], "--batch_sizes must be >= 1"),
    (["--batch_sizes=64,64"], "repeated: [64]"),
    (["--batch_sizes=16,6.5"], "'6.5' is not an integer"),
    (["--lr=0.1"], "--lr is set per trial by the search grid"),
    (["--batch_size=32"], "--batch_size is set per trial by the search grid"),
    (["--output=figs"], "--output belongs to the plot subcommand"),
    (["stray"], "unexpected arguments ['stray']"),
    (["plot", "somewhere"], "plot needs --output"),
    (["plot", "--output=figs"], "plot needs search directories"),
]


@pytest.fixture(scope="module")
def bad_flag_runs(tmp_path_factory):
    """[(folder, result)] of BAD_FLAGS, with --output_dir=folder/out, every case in one process (tests/cli_cases.py)."""
    folders = [tmp_path_factory.mktemp("bad_flag") for _ in BAD_FLAGS]
    argvs = [[f"--output_dir={folder / 'out'}", *flags] for folder, (flags, _) in zip(folders, BAD_FLAGS)]
    return list(zip(folders, run_cases("recipes.lr_search", argvs, env=_env())))


@pytest.mark.parametrize("case", range(len(BAD_FLAGS)), ids=[" ".join(flags) for flags, _ in BAD_FLAGS])
def test_bad_flag_is_one_line_exit_2_nothing_written(bad_flag_runs, case):
    folder, result = bad_flag_runs[case]
    _one_error(result, BAD_FLAGS[case][1])
    assert list(folder.iterdir()) == []


def test_bad_flag_in_its_own_process(tmp_path):
    """``python -m recipes.lr_search`` itself, with a value absl cannot parse."""
    _one_error(_run(f"--output_dir={tmp_path / 'out'}", "--runs=abc"), "--runs")
    assert list(tmp_path.iterdir()) == []


def test_incomplete_distributed_environment_is_a_bad_flag(tmp_path):
    result = _run(f"--output_dir={tmp_path / 'out'}", env=_env(KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_TUNER_ID="chief"))
    _one_error(result, "missing: KERASTUNER_ORACLE_PORT")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "flags, message",
    [
        # Every trial's TrainConfig is validated before anything starts: batch 16 < ghost batch 64.
        (["--normalization=ghost_batch_norm", "--batch_sizes=64,16"], "batch_size=16 is smaller than ghost_batch_size=64"),
        ([f"--data_dir={CIFAR10_SUBSET / 'nowhere'}"], "nowhere"),
    ],
)
def test_bad_trial_config_or_data_is_refused_before_anything_runs(tmp_path, flags, message):
    result = _run(*SEARCH, f"--output_dir={tmp_path / 'out'}", *flags)
    _one_error(result, message)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    """One real search: batch 64 x lr 2^-5, 2^-4, 2^8 x 2 runs; (directory, completed process)."""
    out = tmp_path_factory.mktemp("lr_search") / "search"
    return out, _run(*SEARCH, f"--output_dir={out}")


def _trial_rows(out):
    lines = (out / "trials.csv").read_text().splitlines()
    header = lines[0].split(",")
    return header, [dict(zip(header, line.split(","))) for line in lines[1:]]


@pytest.mark.slow
def test_search_outputs(search):
    out, result = search
    assert result.returncode == 0, result.stderr[-3000:]
    progress = [PROGRESS.match(line) for line in result.stdout.splitlines() if line.startswith("[")]
    assert all(progress) and [(m[1], m[2]) for m in progress] == [(str(i), "6") for i in range(1, 7)]
    assert sorted((m[4], m[5]) for m in progress) == sorted((e, r) for e in ("-5", "-4", "8") for r in ("0", "1"))

    header, rows = _trial_rows(out)
    assert header == ["batch_size", "lr", "run", "test_accuracy", "train_loss", "diverged", "seconds"]
    assert [(r["lr"], r["run"]) for r in rows] == [(lr, run) for lr in ("0.03125", "0.0625", "256.0") for run in ("0", "1")]
    for row in rows:
        exponent = round(math.log2(float(row["lr"])))
        trial = out / "trials" / f"bs64_lr{exponent}_run{row['run']}"
        results = json.loads((trial / "results.json").read_text())
        assert results["config"]["seed"] == int(row["run"]) and results["config"]["lr"] == float(row["lr"])
        if exponent == 8:  # 2^8 without normalization: NaN/inf loss, recorded, and the search went on
            assert row["diverged"] == "true" and row["test_accuracy"] == row["train_loss"] == "" and results["diverged"]
        else:
            assert row["diverged"] == "false" and not results["diverged"]
            assert float(row["test_accuracy"]) == results["test_accuracy"] and 0 <= results["test_accuracy"] <= 1
            assert float(row["train_loss"]) == results["train_loss"] > 0

    summary = json.loads((out / "summary.json").read_text())
    assert list(summary) == ["64"]
    finite = [r for r in rows if r["diverged"] == "false"]
    for metric, pick in (("test_accuracy", max), ("train_loss", min)):
        best_of_1 = {lr: pick(float(r[metric]) for r in finite if r["lr"] == lr) for lr in ("0.03125", "0.0625")}
        lr = pick(best_of_1, key=best_of_1.get)
        opt = summary["64"][metric]
        assert (opt["lr"], opt["mean"], opt["std"], opt["n"]) == (float(lr), best_of_1[lr], 0.0, 1)
        assert opt["boundary"] == (opt["lr_exponent"] == -5)  # -5 is the grid's first point; 8 never wins
    diverged_point = summary["64"]["grid"][2]
    assert (diverged_point["lr_exponent"], diverged_point["runs"], diverged_point["diverged"]) == (8, 2, 2)
    assert diverged_point["test_accuracy"]["mean"] is None and diverged_point["train_loss"]["n"] == 0
    assert "| batch size | test accuracy (%) | optimal lr | train loss | optimal lr |" in (out / "summary.md").read_text()
    assert "| 64 | " in result.stdout
    for name in ("performance.png", "optimal_lr.png"):
        assert_valid_png(out / name)


def _snapshot(out):
    return {str(p.relative_to(out)): (p.stat().st_mtime_ns, p.stat().st_size)
            for folder in ("trials", "keras_tuner") for p in (out / folder).rglob("*") if p.is_file()}


@pytest.mark.slow
def test_running_again_reruns_nothing(search):
    out, first = search
    assert first.returncode == 0, first.stderr[-3000:]
    before, csv_before = _snapshot(out), (out / "trials.csv").read_bytes()
    second = _run(*SEARCH, f"--output_dir={out}")
    assert second.returncode == 0, second.stderr[-3000:]
    assert not [line for line in second.stdout.splitlines() if line.startswith("[")]  # no trial ran
    assert _snapshot(out) == before  # no trial folder or keras-tuner trial touched, none added
    assert (out / "trials.csv").read_bytes() == csv_before
    assert len(list((out / "trials").iterdir())) == 6

    changed = _run(*SEARCH, f"--output_dir={out}", "--epochs=2")  # not the same search: refused
    _one_error(changed, "holds a search with epochs=1, not 2")
    assert _snapshot(out) == before


@pytest.mark.slow
def test_plot_overlays_searches(search, tmp_path):
    out, first = search
    assert first.returncode == 0, first.stderr[-3000:]
    from tfzoo.search import Grid, TrialResult, report, summarize
    from tfzoo.training import TrainConfig

    # A second, ghost-BN search written from known numbers: the overlay needs only its files.
    grid = Grid((64,), (-5, -4, 8), runs=2)
    results = [TrialResult(s, 0.3 + 0.01 * s.run, 2.0, False, 1.0) for s in grid.trials()]
    config = TrainConfig.create(model="wrn-10-1", normalization="ghost_batch_norm", init="standard")
    other = report.search_identity("wrn-10-1", grid, config)
    report.write_search(tmp_path / "bn", other)
    report.write_outputs(tmp_path / "bn", results, summarize(results, grid, best=1), other, best=1)

    result = _run("plot", str(out), str(tmp_path / "bn"), f"--output={tmp_path / 'figures' / 'bn_vs_none'}")
    assert result.returncode == 0, result.stderr[-3000:]
    paths = [tmp_path / "figures" / f"bn_vs_none_{name}.png" for name in ("performance", "optimal_lr")]
    assert result.stdout.split() == [str(p) for p in paths]
    for path in paths:
        assert_valid_png(path)
    _one_error(_run("plot", str(tmp_path), f"--output={tmp_path / 'x'}"), "not a learning-rate search directory")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_chief_and_two_workers_run_every_trial_once(tmp_path):
    out = tmp_path / "search"
    flags = [*TINY, "--max_train_examples=128", "--lr_exponents=-4,8", "--runs=2", "--best=1", f"--output_dir={out}"]
    oracle = dict(KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_ORACLE_PORT=str(_free_port()))
    processes = {
        tuner_id: subprocess.Popen([sys.executable, "-m", "recipes.lr_search", *flags], cwd=REPO, text=True,
                                   env=_env(KERASTUNER_TUNER_ID=tuner_id, **oracle),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for tuner_id in ("chief", "tuner0", "tuner1")
    }
    try:
        outputs = {tuner_id: p.communicate(timeout=600) for tuner_id, p in processes.items()}
    finally:
        for p in processes.values():
            if p.poll() is None:
                p.kill()
    for tuner_id, p in processes.items():
        assert p.returncode == 0, (tuner_id, outputs[tuner_id][1][-3000:])

    ran = [m.group(1) for w in ("tuner0", "tuner1") for m in re.finditer(rf"^\[{w}\] (batch .*?):", outputs[w][0], re.M)]
    expected = [f"batch 64, lr 2^{e}, run {r}" for e in (-4, 8) for r in (0, 1)]
    assert sorted(ran) == sorted(expected)  # every trial ran, each on exactly one worker
    chief = [PROGRESS.match(line) for line in outputs["chief"][0].splitlines() if line.startswith("[")]
    assert all(chief) and [m[1] for m in chief] == ["1", "2", "3", "4"]
    assert len(list((out / "keras_tuner").glob("trial_*"))) == 4
    for name in os.listdir(out / "trials"):
        assert json.loads((out / "trials" / name / "results.json").read_text())["resumed_from_epoch"] is None

    _, rows = _trial_rows(out)
    assert sorted((r["lr"], r["run"], r["diverged"]) for r in rows) == [
        ("0.0625", "0", "false"), ("0.0625", "1", "false"), ("256.0", "0", "true"), ("256.0", "1", "true")]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["64"]["test_accuracy"]["lr_exponent"] == -4 and summary["64"]["test_accuracy"]["n"] == 1
    assert summary["64"]["train_loss"]["lr_exponent"] == -4 and [p["diverged"] for p in summary["64"]["grid"]] == [0, 2]

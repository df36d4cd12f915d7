"""Every experiment end to end at ``--scale=smoke`` on the CIFAR-10 fixture (real images): table.md has the
conditions as rows, sorted by our test accuracy, with the paper's numbers beside them; results.json
is the searches' trials; figures are written; the same command again trains nothing."""

import csv
import importlib
import json
import math
import re

import pytest

from recipes.paper import reference
from tests.cli_cases import assert_one_error
from tests.conftest import CIFAR10_SUBSET
from tests.recipes.paper.conftest import EXPERIMENTS, trial_mtimes
from tests.search.test_plots import assert_valid_png
from tfzoo.training import TrainConfig

pytestmark = pytest.mark.slow
PROGRESS = re.compile(r"^\[\d+/\d+\] batch \d+, lr 2\^-?\d+, run \d+: ")


def _module(name):
    return importlib.import_module(f"recipes.paper.{name}")


def _table_rows(text, first_header):
    """The body rows of the Markdown table whose header starts with ``first_header``, as lists of cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def _accuracy(cell):
    return -1.0 if cell == "—" else float(cell.split(" ± ")[0])


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_runs_every_trial_and_prints_progress(smoke, name):
    out, result, _, _, _ = smoke[name]
    assert result.returncode == 0, result.stderr[-3000:]
    scale = _module(name).SCALES["smoke"]
    conditions = len(_module(name).CONDITIONS)
    searches = conditions * len(scale.depths) * len(scale.batch_sizes)
    rates = sum(len(scale.lr.exponents(b)) for b in scale.batch_sizes)  # smoke: 1 (ablation, depth) or 2 per batch
    trials = conditions * len(scale.depths) * rates * scale.runs
    assert f": {searches} searches, {trials} trials ({trials} to run)" in result.stdout
    assert re.search(r"^estimated time: \d+ min on 2 quiet CPU cores", result.stdout, re.M)
    assert len([line for line in result.stdout.splitlines() if PROGRESS.match(line)]) == trials
    assert len(re.findall(r"^\[search \d+/\d+\] optimal test accuracy", result.stdout, re.M)) == searches


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_results_json_is_the_trials(smoke, name):
    out, result, _, _, _ = smoke[name]
    results = json.loads((out / "results.json").read_text())
    assert (results["experiment"], results["scale"], results["seed"]) == (name, "smoke", 0)
    trial_seconds = [t["seconds"] for s in results["searches"] for t in s["trials"]]
    assert results["trial_seconds"] == pytest.approx(sum(trial_seconds), abs=0.1) and min(trial_seconds) > 0
    module = _module(name)
    scale = module.SCALES["smoke"]
    assert len(results["searches"]) == len(module.CONDITIONS) * len(scale.depths) * len(scale.batch_sizes)
    for search in results["searches"]:
        folder = out / search["folder"]
        with open(folder / "trials.csv") as f:
            rows = list(csv.DictReader(f))
        rates = len(scale.lr.exponents(search["batch_size"]))
        assert search["missing_trials"] == 0 and len(search["trials"]) == len(rows) == rates * scale.runs
        for trial, row in zip(search["trials"], rows):
            assert (trial["batch_size"], 2.0 ** trial["lr_exponent"], trial["run"]) == (
                int(row["batch_size"]), float(row["lr"]), int(row["run"]))
            ran = json.loads((folder / "trials" / trial["name"] / "results.json").read_text())
            assert (folder / "trials" / trial["name"] / "model.keras").is_file()
            assert not (folder / "trials" / trial["name"] / "checkpoints").exists()  # deleted once finished
            config = TrainConfig.from_dict(ran["config"])  # the run options recorded under "options"
            assert config.model == search["model"] and config.normalization == search["normalization"]
            assert config.init == search["init"] and config.batch_size == search["batch_size"]
            assert all(getattr(config, k) == v for k, v in search["overrides"].items())
            assert trial["diverged"] == ran["diverged"]
            if not trial["diverged"]:
                assert trial["test_accuracy"] == pytest.approx(ran["test_accuracy"])
                assert trial["train_loss"] == pytest.approx(ran["train_loss"])
        summary = json.loads((folder / "summary.json").read_text())[str(search["batch_size"])]
        assert search["optimum"]["test_accuracy"] == summary["test_accuracy"]
        finite = [t["test_accuracy"] for t in search["trials"] if not t["diverged"]]
        if finite:  # best 1 of 1 run: the optimum is the best trial
            assert search["optimum"]["test_accuracy"]["mean"] == pytest.approx(max(finite))


def test_ablation_table_is_table_1(smoke):
    out, _, _, _, _ = smoke["ablation"]
    text = (out / "table.md").read_text()
    rows = _table_rows(text, "method")
    labels = [row[0].split(" (all ")[0] for row in rows]
    assert sorted(labels) == sorted(c.label for c in _module("ablation").CONDITIONS)
    accuracies = [_accuracy(row[1]) for row in rows]
    assert accuracies == sorted(accuracies, reverse=True)  # as the numbers come out, not the paper's order
    for key, paper in reference.TABLE_1.items():
        row = next(r for r, label in zip(rows, labels) if label == paper.method)  # not '+ biases' for '+ biases & ...'
        assert (row[2], row[5]) == (str(paper.test_accuracy), str(paper.train_loss))
    assert next(r for r in rows if r[0].startswith("batch normalization"))[2] == "—"
    assert "**Differs from the paper:** a test of the machinery only" in text
    for claim in reference.TABLE_1_CLAIMS:
        assert claim.text in text


def test_depth_table_is_tables_2_3(smoke):
    out, _, _, _, _ = smoke["depth"]
    text = (out / "table.md").read_text()
    rows = _table_rows(text, "depth")
    assert sorted(r[1].split(" (all ")[0] for r in rows) == sorted(c.label for c in _module("depth").CONDITIONS)
    assert {r[0] for r in rows} == {"16"}
    assert [_accuracy(r[2]) for r in rows] == sorted((_accuracy(r[2]) for r in rows), reverse=True)
    for (key, depth), paper in [*reference.TABLE_2.items(), *reference.TABLE_3.items()]:
        if depth == 16:
            row = next(r for r in rows if r[1].startswith(paper.method))
            table = 2 if (key, depth) in reference.TABLE_2 else 3
            assert (row[4], row[5]) == (f"{paper.test_accuracy} ({table})", str(paper.lr))
    assert next(r for r in rows if r[1].startswith("no normalization"))[4] == "—"
    for claim in reference.TABLES_2_3_CLAIMS:
        assert claim.text in text


@pytest.mark.parametrize("name, claims", [("batch_size", reference.FIGURES_1_2), ("small_batch", reference.FIGURES_3_4)])
def test_figures_and_their_tables(smoke, name, claims):
    out, _, _, _, _ = smoke[name]
    for png in ("performance.png", "optimal_lr.png"):
        assert_valid_png(out / png)
    text = (out / "table.md").read_text()
    rows = _table_rows(text, "batch size")
    module = _module(name)
    expected = sorted((str(b), c.label) for b in module.SCALES["smoke"].batch_sizes for c in module.CONDITIONS)
    assert sorted((r[0], r[1].split(" (all ")[0]) for r in rows) == expected
    for b in module.SCALES["smoke"].batch_sizes:
        accuracies = [_accuracy(r[2]) for r in rows if r[0] == str(b)]
        assert accuracies == sorted(accuracies, reverse=True)
    results = json.loads((out / "results.json").read_text())
    assert [c["key"] for c in results["claims"]] == [c.key for c in claims]
    for claim in claims:
        assert claim.text in text
    for search in results["searches"]:  # a batch below 64 is one ghost batch (section 3)
        config = json.loads((out / search["folder"] / "search.json").read_text())["config"]
        assert config["ghost_batch_size"] == min(64, search["batch_size"])
        assert not math.isnan(search["trials"][0]["seconds"])


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_rerun_trains_nothing(smoke, name):
    out, first, again, before, table = smoke[name]
    assert again.returncode == 0, again.stderr[-3000:]
    assert "(0 to run)" in again.stdout
    assert not [line for line in again.stdout.splitlines() if PROGRESS.match(line)]
    assert trial_mtimes(out) == before and before
    assert (out / "table.md").read_text() == table


def test_changed_protocol_is_refused(smoke):
    """An output folder holds one experiment: other flags on it are one error line, and nothing changes."""
    from tests.recipes.paper.conftest import run_experiment

    out, _, _, before, table = smoke["ablation"]
    result = run_experiment("ablation", "--scale=smoke", f"--data_dir={CIFAR10_SUBSET}", f"--output_dir={out}", "--seed=1")
    assert_one_error(result, "holds an experiment with seed=0, not 1")
    assert trial_mtimes(out) == before and (out / "table.md").read_text() == table

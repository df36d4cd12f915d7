"""Best k of n on known numbers (paper section 3): means, sample stds, optimum, edge flag, diverged runs."""

import json
import math

import pytest

from tfzoo.search import Grid, TrialResult, TrialSpec, best_k, summarize
from tfzoo.search.summary import markdown
from tfzoo.training.outputs import jsonable

NAN, INF = float("nan"), float("inf")


def test_best_k_mean_and_sample_std():
    stats = best_k([0.90, 0.80, 0.70, 0.95], 2, "max")  # best two: 0.95, 0.90
    assert stats["n"] == 2
    assert stats["mean"] == pytest.approx(0.925)
    assert stats["std"] == pytest.approx(math.sqrt(2 * 0.025**2))  # ddof = 1
    stats = best_k([1.0, 0.5, 0.7, 2.0], 3, "min")  # best three: 0.5, 0.7, 1.0
    assert stats["mean"] == pytest.approx(2.2 / 3)
    assert stats["std"] == pytest.approx(math.sqrt(sum((v - 2.2 / 3) ** 2 for v in (0.5, 0.7, 1.0)) / 2))
    assert best_k([0.3], 1, "max") == {"mean": 0.3, "std": 0.0, "n": 1}


def test_diverged_runs_rank_last_and_too_few_finite_runs_have_no_mean():
    # None, NaN and inf are diverged runs: never among the best while k finite runs exist ...
    assert best_k([None, 0.6, NAN, 0.4, INF], 2, "max") == {"mean": 0.5, "std": pytest.approx(math.sqrt(0.02)), "n": 2}
    assert best_k([None, 1.5, -INF, 1.0], 2, "min")["mean"] == pytest.approx(1.25)
    # ... and with fewer than k of them the point has no mean, only the finite count.
    assert best_k([0.99, None, None], 2, "max") == {"mean": None, "std": None, "n": 1}
    assert best_k([None, None], 1, "min") == {"mean": None, "std": None, "n": 0}


@pytest.mark.parametrize("k, mode", [(0, "max"), (2.0, "max"), (1, "mean")])
def test_best_k_rejects_bad_arguments(k, mode):
    with pytest.raises(ValueError):
        best_k([1.0, 2.0], k, mode)


def _results(table):
    """{(batch, exponent): [(accuracy, loss) or None (diverged), ...]} -> TrialResults."""
    return [
        TrialResult(TrialSpec(b, e, r), *(run or (None, None)), run is None, 1.0)
        for (b, e), runs in table.items()
        for r, run in enumerate(runs)
    ]


GRID = Grid(batch_sizes=(16, 64, 256), lr_exponents=(-3, -2, -1, 0), runs=3)
TABLE = {
    # batch 16: accuracy best at 2^-2 (mean of best 2 = 0.92), loss best at 2^-3; 2^0 diverges twice.
    (16, -3): [(0.80, 0.20), (0.82, 0.10), (0.78, 0.30)],
    (16, -2): [(0.93, 0.40), (0.91, 0.50), (0.50, 0.60)],
    (16, -1): [(0.90, 0.70), (0.60, 0.80), (0.70, 0.90)],
    (16, 0): [(0.99, 0.05), None, None],  # the single best run, but only 1 of the 2 needed finite runs
    # batch 64: both optima at the largest rate, the grid's edge.
    (64, -3): [(0.50, 2.0), (0.52, 2.1), (0.51, 2.2)],
    (64, -2): [(0.60, 1.5), (0.61, 1.6), (0.62, 1.7)],
    (64, -1): [(0.70, 1.0), (0.71, 1.1), (0.72, 1.2)],
    (64, 0): [(0.80, 0.5), (0.81, 0.6), (0.82, 0.7)],
    # batch 256: every run diverges.
    **{(256, e): [None, None, None] for e in (-3, -2, -1, 0)},
}


def test_summary_optimum_boundary_and_diverged_points():
    summary = summarize(_results(TABLE), GRID, best=2)
    assert list(summary) == ["16", "64", "256"]
    acc, loss = summary["16"]["test_accuracy"], summary["16"]["train_loss"]
    assert (acc["lr"], acc["lr_exponent"], acc["n"], acc["boundary"]) == (0.25, -2, 2, False)
    assert acc["mean"] == pytest.approx(0.92) and acc["std"] == pytest.approx(math.sqrt(2 * 0.01**2))
    assert (loss["lr_exponent"], loss["boundary"]) == (-3, True) and loss["mean"] == pytest.approx(0.15)
    point = summary["16"]["grid"][3]
    assert (point["lr_exponent"], point["runs"], point["diverged"]) == (0, 3, 2)
    assert point["test_accuracy"] == {"mean": None, "std": None, "n": 1}

    assert summary["64"]["test_accuracy"]["lr_exponent"] == 0 and summary["64"]["test_accuracy"]["boundary"] is True
    assert summary["64"]["test_accuracy"]["mean"] == pytest.approx(0.815)
    assert summary["64"]["train_loss"]["lr_exponent"] == 0 and summary["64"]["train_loss"]["mean"] == pytest.approx(0.55)

    nothing = {"lr": None, "lr_exponent": None, "mean": None, "std": None, "n": 0, "boundary": None}
    assert summary["256"]["test_accuracy"] == nothing and summary["256"]["train_loss"] == nothing
    assert all(p["diverged"] == 3 for p in summary["256"]["grid"])
    json.dumps(jsonable(summary), allow_nan=False)  # valid JSON: no NaN/inf anywhere


def test_ties_go_to_the_smaller_learning_rate_and_missing_runs_count_less():
    grid = Grid((64,), (-2, -1, 0), runs=2)
    table = {(64, -2): [(0.5, 1.0), (0.5, 1.0)], (64, -1): [(0.7, 0.9), (0.7, 0.9)], (64, 0): [(0.7, 0.9)]}
    summary = summarize(_results(table), grid, best=1)
    assert summary["64"]["test_accuracy"]["lr_exponent"] == -1 and summary["64"]["train_loss"]["lr_exponent"] == -1
    assert summary["64"]["grid"][2]["runs"] == 1  # a run that never finished is missing, not diverged
    assert summarize(_results(table), grid, best=2)["64"]["grid"][2]["test_accuracy"]["mean"] is None
    with pytest.raises(ValueError, match="best must be in"):
        summarize([], grid, best=3)


def test_diverged_train_results_become_empty_metrics():
    spec = TrialSpec(64, 8, 0)
    diverged = TrialResult.from_train_results(spec, {"diverged": True, "seconds": 3.456})
    assert (diverged.test_accuracy, diverged.train_loss, diverged.diverged, diverged.seconds) == (None, None, True, 3.46)
    nan_loss = TrialResult.from_train_results(spec, {"diverged": False, "test_accuracy": 0.1, "train_loss": NAN, "seconds": 1})
    assert nan_loss.diverged and nan_loss.train_loss is None
    fine = TrialResult.from_train_results(spec, {"diverged": False, "test_accuracy": 0.5, "train_loss": 1.25, "seconds": 2})
    assert (fine.test_accuracy, fine.train_loss, fine.diverged) == (0.5, 1.25, False)


def test_markdown_is_the_paper_style_table():
    search = {"model": "wrn-16-4", "grid": GRID.to_dict(),
              "config": {"normalization": "none", "init": "zeroinit", "dataset": "cifar10", "epochs": 200, "schedule": "paper"}}
    text = markdown(summarize(_results(TABLE), GRID, best=2), search, best=2)
    assert "# Learning-rate search: wrn-16-4, none/zeroinit, cifar10" in text
    assert "best 2 of 3 runs" in text and "lr = 2^e for e in -3..0" in text
    assert "| 16 | 92.0 ± 1.4 | 2^-2 | 0.150 ± 0.071 | 2^-3 (edge) |" in text
    assert "| 64 | 81.5 ± 0.7 | 2^0 (edge) | 0.550 ± 0.071 | 2^0 (edge) |" in text
    assert "| 256 | — | — | — | — |" in text
    assert "| 16 | 2^0 | 3 | 2 | — | — |" in text


def test_markdown_names_a_validation_split_for_what_it_is():
    config = {"normalization": "batch_norm", "init": "standard", "dataset": "fashion_mnist", "epochs": 3,
              "schedule": "paper"}
    summary = summarize(_results(TABLE), GRID, best=2)
    held_out = markdown(summary, {"model": "wrn-16-2", "grid": GRID.to_dict(),
                                  "config": {**config, "validation_examples": 10000}}, best=2)
    assert "| batch size | validation accuracy (%) |" in held_out and "test accuracy" not in held_out
    assert "Accuracy on 10,000 examples held out of the training set" in held_out
    plain = markdown(summary, {"model": "wrn-16-2", "grid": GRID.to_dict(), "config": config}, best=2)
    assert "| batch size | test accuracy (%) |" in plain and "validation" not in plain
    own = markdown(summary, {"model": "wrn-16-2", "grid": GRID.to_dict(),
                             "config": {**config, "dataset": "folder", "validation": True}}, best=2)
    assert "| batch size | validation accuracy (%) |" in own and "held out" not in own
    assert "the data set's own validation split (`--validation`, an image folder's val/)" in own

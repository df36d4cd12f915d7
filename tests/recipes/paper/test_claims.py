"""The experiments' tables and claim checks on made-up search outcomes (no training): sorting,
formatting, and each claim's verdict both ways."""

import dataclasses
import math

import pytest

from recipes.paper import ablation, batch_size, common, depth, reference, small_batch
from tfzoo.search import Grid


def outcome(experiment, key, acc, loss=None, lr=-2, *, depth_=16, batch=64, edge=False, runs=1, diverged=False):
    """An Outcome whose optimal test accuracy ``acc`` and training loss ``loss`` are at 2^lr (None: no optimum);
    a grid of 2^(lr-1), 2^lr, 2^(lr+1) x ``runs``, every run diverged if ``diverged``."""
    from tfzoo.search import Grid

    condition = next(c for c in experiment.conditions if c.key == key)
    grid = Grid((batch,), (lr - 1, lr, lr + 1), runs)
    search = common.Search(condition, depth_, 1, batch, None, grid, 1)

    def opt(value):
        if value is None:
            return {"lr": None, "lr_exponent": None, "mean": None, "std": None, "n": 0, "boundary": None}
        return {"lr": 2.0**lr, "lr_exponent": lr, "mean": value, "std": 0.01, "n": 1, "boundary": edge}

    points = [{"lr": 2.0**e, "lr_exponent": e, "runs": runs, "diverged": runs if diverged else 0} for e in grid.lr_exponents]
    summary = {str(batch): {"test_accuracy": opt(acc), "train_loss": opt(acc and loss), "grid": points}}
    return common.Outcome(search, [], summary)


def by_key(claims):
    return {c["key"]: c for c in claims}


def test_formatting_and_order():
    good = outcome(ablation.EXPERIMENT, "zeroinit", 0.412, 1.2345, lr=-3, edge=True)
    bad = outcome(ablation.EXPERIMENT, "none", None, runs=3, diverged=True)
    mid = outcome(ablation.EXPERIMENT, "biases", 0.3, 1.5)
    assert common.format_value(good.optimum("test_accuracy"), "test_accuracy") == "41.2 ± 1.0"
    assert common.format_value(good.optimum("train_loss"), "train_loss") == "1.234 ± 0.010"
    assert common.format_lr(good.optimum("test_accuracy")) == "2^-3 (edge)"
    assert common.format_value(bad.optimum("test_accuracy"), "test_accuracy") == "—"
    assert common.status(bad) == "all 9 runs diverged" and common.status(good) == ""
    assert [o.search.condition.key for o in common.by_test_accuracy([bad, mid, good])] == ["zeroinit", "biases", "none"]


def test_ablation_claims_and_table():
    values = {"none": (0.30, 1.60), "biases": (0.29, 1.58), "dropout": (0.31, 1.70), "scalar_multiplier": (0.35, 1.40),
              "biases_dropout": (0.32, 1.65), "zeroinit": (0.37, 1.45), "batch_norm": (0.45, 1.10)}
    outcomes = [outcome(ablation.EXPERIMENT, k, a, l) for k, (a, l) in values.items()]
    claims = by_key(ablation.claims({o.search.condition.key: o for o in outcomes}))
    assert [claims[k]["holds"] for k in ("multiplier_beats_none", "multiplier_lowest_loss", "zeroinit_tradeoff")] == [
        True, True, True]  # batch norm's lower loss does not count: the claim is among the unnormalized rows
    values["zeroinit"] = (0.33, 1.35)
    outcomes = [outcome(ablation.EXPERIMENT, k, a, l) for k, (a, l) in values.items()]
    claims = by_key(ablation.claims({o.search.condition.key: o for o in outcomes}))
    assert claims["multiplier_lowest_loss"]["holds"] is False and claims["zeroinit_tradeoff"]["holds"] is False
    body, rows, _ = ablation.report(outcomes, ablation.SCALES["smoke"], None)
    assert [r["condition"] for r in rows] == ["batch_norm", "scalar_multiplier", "zeroinit", "biases_dropout", "dropout",
                                              "none", "biases"]
    assert "| + scalar multiplier | 35.0 ± 1.0 | 94.0 ± 0.1 | 2^-2 | 1.400 ± 0.010 | 0.181 ± 0.001 | 2^-2 |" in body


def _depth_outcomes(deep_none=None, deep_zeroinit=0.3, lrs=(-2, -2)):
    out = []
    for d, lr in zip((16, 100), lrs):
        for key in ("batch_norm", "zeroinit", "zeroinit_no_l2", "scalar_multiplier"):
            acc = deep_zeroinit if (key == "zeroinit" and d == 100) else 0.4
            out.append(outcome(depth.EXPERIMENT, key, acc, 1.5, lr=lr, depth_=d))
        out.append(outcome(depth.EXPERIMENT, "none", 0.35 if d == 16 else deep_none, 1.6, depth_=d, runs=1,
                           diverged=d == 100 and deep_none is None))
    return out


def test_depth_claims_both_ways():
    claims = by_key(depth.claims(_depth_outcomes()))
    assert all(c["holds"] for c in claims.values()), claims
    assert "depth 100: all 3 runs diverged; depth 16: 35.0 %" in claims["standard_fails"]["ours"]
    claims = by_key(depth.claims(_depth_outcomes(deep_none=0.25, deep_zeroinit=0.12, lrs=(-4, -1))))
    assert claims["standard_fails"]["holds"] is False and claims["deep_trains"]["holds"] is False
    assert claims["lr_weakly_depth"]["holds"] is False and claims["multiplier_trains"]["holds"] is True
    body, rows, _ = depth.report(_depth_outcomes(), depth.SCALES["cpu"], None)
    assert [(r["depth"], r["condition"]) for r in rows][:1] == [(16, "batch_norm")]
    assert rows[-1] == {**rows[-1], "depth": 100, "condition": "none", "test_accuracy": rows[-1]["test_accuracy"]}
    assert rows[-1]["test_accuracy"]["mean"] is None
    assert "| 100 | ZeroInit | 30.0 ± 1.0 | 2^-2 | 94.2 ± 0.1 (2) | 2^-2 |" in body
    assert "| 16 | Scalar Multiplier | 40.0 ± 1.0 | 2^-2 | 93.1 ± 0.1 (3) | 2^-2 (2^-3 – 2^-2) |" in body


def _sweep(experiment, lr_of, acc_of, batches, loss_of=lambda k, b: 1.0 if "norm" in k else 1.5):
    """One made-up outcome per (condition, batch size); batch norm has the lower training loss by default."""
    return [outcome(experiment, c.key, acc_of(c.key, b), loss_of(c.key, b), lr=lr_of(c.key, b), batch=b)
            for c in experiment.conditions for b in batches]


def test_learning_rate_slope():
    batches = (16, 64, 256, 1024)
    outcomes = _sweep(batch_size.EXPERIMENT, lambda k, b: int(math.log2(b)) - 8, lambda k, b: 0.5, batches)
    curves = batch_size.by_condition(outcomes)
    slope, points, edge = batch_size.lr_slope(curves["zeroinit"], 64)
    assert slope == pytest.approx(1.0) and len(points) == 2 and not edge
    assert batch_size.lr_slope(curves["zeroinit"], 1024)[0] == pytest.approx(1.0)
    flat = batch_size.by_condition(_sweep(batch_size.EXPERIMENT, lambda k, b: -3, lambda k, b: 0.5, batches))
    assert batch_size.lr_slope(flat["none"], 1024)[0] == pytest.approx(0.0)
    assert batch_size.lr_slope(flat["none"], 16)[0] is None  # one point: no slope


def test_batch_size_claims_both_ways():
    top = {"none": -3, "zeroinit": 1, "ghost_batch_norm": 4}
    acc = {"ghost_batch_norm": 0.5, "zeroinit": 0.45, "none": 0.4}
    outcomes = _sweep(batch_size.EXPERIMENT, lambda k, b: min(int(math.log2(b)) - 8, top[k]), lambda k, b: acc[k],
                      (16, 64, 256, 1024))
    curves = batch_size.by_condition(outcomes)
    claims = {c.key: c for c in reference.FIGURES_1_2}
    assert batch_size.compare_at_each_batch(claims["bn_best_test"], curves, "ghost_batch_norm", ("none",),
                                            "test_accuracy")["holds"] is True
    assert batch_size.compare_at_each_batch(claims["bn_best_loss"], curves, "ghost_batch_norm", ("none", "zeroinit"),
                                            "train_loss")["holds"] is True
    saturation = batch_size.saturation_claim(claims["lr_saturation"], curves)
    assert saturation["holds"] is True and "none: 2^-3 (paper 2^-3)" in saturation["ours"]
    assert batch_size.proportional_claim(claims["lr_proportional"], curves, 64)["holds"] is True
    acc["none"] = 0.6
    curves = batch_size.by_condition(_sweep(batch_size.EXPERIMENT, lambda k, b: -3, lambda k, b: acc[k], (16, 64)))
    tied = batch_size.saturation_claim(claims["lr_saturation"], curves)  # all three saturate at 2^-3: not "larger"
    assert tied["holds"] is False and "zeroinit: 2^-3 (paper 2^1)" in tied["ours"]
    o = curves["ghost_batch_norm"][64]  # now its optimum 2^-3 is the largest learning rate it tried
    curves["ghost_batch_norm"][64] = common.Outcome(
        dataclasses.replace(o.search, grid=Grid((64,), (-5, -4, -3), 1)), o.results, o.summary)
    capped = batch_size.saturation_claim(claims["lr_saturation"], curves)
    assert capped["holds"] is None and capped["ours"].endswith("; at the top of its grid: ghost_batch_norm")
    assert batch_size.compare_at_each_batch(claims["bn_best_test"], curves, "ghost_batch_norm", ("none",),
                                            "test_accuracy")["ours"] == "ghost batch normalization better at 0 of 2 batch sizes"
    assert batch_size.proportional_claim(claims["lr_proportional"], curves, 64)["holds"] is False


def test_small_batch_claims_both_ways():
    def acc(k, b):
        return {"batch_norm": 0.30 if b == 2 else 0.5, "zeroinit": 0.42, "none": 0.40}[k]

    outcomes = _sweep(small_batch.EXPERIMENT, lambda k, b: int(math.log2(b)) - 6, acc, (2, 8, 32, 128))
    claims = by_key(small_batch.claims(outcomes))
    assert all(c["holds"] for c in claims.values()), claims
    assert "at B = 2: batch norm 30.0 %, ZeroInit 42.0 %" in claims["bn_drops_small_batch"]["ours"]
    outcomes = _sweep(small_batch.EXPERIMENT, lambda k, b: -4 + (k == "none") * 2,
                      lambda k, b: 0.42 + (b / 1000 if k == "zeroinit" else 0.1), (2, 8, 32, 128))
    claims = by_key(small_batch.claims(outcomes))
    assert claims["zeroinit_flat"]["holds"] is False and "(spread 12.6 points)" in claims["zeroinit_flat"]["ours"]
    assert claims["lr_proportional"]["holds"] is False and "largest gap between methods at one B: 2" in \
        claims["lr_proportional"]["ours"]
    assert claims["bn_drops_small_batch"]["holds"] is False

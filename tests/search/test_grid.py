"""The search grid: every (batch size, lr 2^e, run) once, in a fixed order, with stable names and seeds."""

import pytest

from tfzoo.search import Grid, TrialSpec


def test_trials_in_order_with_names_lrs_and_seeds():
    grid = Grid(batch_sizes=(64, 16), lr_exponents=(0, -2, -1), runs=2)
    assert grid.batch_sizes == (16, 64) and grid.lr_exponents == (-2, -1, 0)
    trials = grid.trials()
    assert len(grid) == len(trials) == 12 and len(set(trials)) == 12
    assert trials[:3] == [TrialSpec(16, -2, 0), TrialSpec(16, -2, 1), TrialSpec(16, -1, 0)]
    assert trials[-1] == TrialSpec(64, 0, 1)
    spec = TrialSpec(256, -3, 4)
    assert spec.name == "bs256_lr-3_run4" and spec.lr == 0.125 and spec.seed(10) == 14
    assert spec.values() == {"batch_size": 256, "lr_exponent": -3, "run": 4}
    assert TrialSpec(64, 8, 0).lr == 256.0 and TrialSpec(64, 2, 0).name == "bs64_lr2_run0"


def test_edges_are_the_first_and_last_exponent():
    grid = Grid((64,), (-8, -7, -6, 2), 1)
    assert [grid.is_edge(e) for e in (-8, -7, -6, 2)] == [True, False, False, True]
    assert Grid((64,), (-3,), 1).is_edge(-3)  # one point is both edges


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(batch_sizes=(64, 64), lr_exponents=(0,), runs=1), "batch_sizes must be unique; repeated: [64]"),
        (dict(batch_sizes=(0, 64), lr_exponents=(0,), runs=1), "batch_sizes must be >= 1"),
        (dict(batch_sizes=(), lr_exponents=(0,), runs=1), "batch_sizes must not be empty"),
        (dict(batch_sizes=(64,), lr_exponents=(-1, 0, -1), runs=1), "lr_exponents must be unique; repeated: [-1]"),
        (dict(batch_sizes=(64,), lr_exponents=(0.5,), runs=1), "lr_exponents must be integers"),
        (dict(batch_sizes=(64,), lr_exponents=(2000,), runs=1), "within ±64"),
        (dict(batch_sizes=(64,), lr_exponents=(0,), runs=0), "runs must be a positive integer"),
    ],
)
def test_bad_grid_names_the_value(kwargs, message):
    with pytest.raises(ValueError) as error:
        Grid(**kwargs)
    assert message in str(error.value)

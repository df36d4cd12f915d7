"""Figures 1-2 of "Batch normalization has multiple benefits" (section 3): WRN-16-4 across batch sizes
with ghost batch norm, without normalization, and with ZeroInit; the optimal test accuracy, training
loss and learning rates.

    python -m recipes.paper.batch_size --scale=cpu --output_dir=runs/paper/batch_size_cpu
    python -m recipes.paper.batch_size --scale=paper --data_dir=/path/to/cifar-10-batches-py \\
        --output_dir=runs/paper/batch_size

Ghost batch normalization computes its statistics over ghost batches of 64 and accumulates their
gradients into batches of B (section 3; a batch below 64 is one ghost batch); "no normalization"
is the standard (He) init of Figure 1's "without batch normalization". One learning-rate search
per (condition, batch size), its grid sliding with the batch size (``common.LrGrid``). Writes
``performance.png`` (Figure 1: optimal test accuracy and training loss vs batch size),
``optimal_lr.png`` (Figure 2: their learning rates, log2-log2), ``table.md`` (the numbers, and
the paper's claims about the figures beside what we measure) and ``results.json``.
Exit codes: 0 done; 1 some trials failed (run again to retry); 2 bad flag, nothing written.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

from recipes.paper import common, reference
from recipes.paper.batch_sweep import (SLOPE_RANGE, by_condition, compare_at_each_batch, lr_slope, plot,  # noqa: F401
                                     proportional_claim, saturation_claim, sweep_table)
from recipes.paper.common import Condition, Experiment, LrGrid, Scale

PROPORTIONAL_UP_TO = 64  # the "small batch" end of Figure 2a where the optimal lr ~ B

CONDITIONS = (
    Condition("ghost_batch_norm", "ghost batch normalization", "ghost_batch_norm", "standard"),
    Condition("none", "no normalization", "none", "standard"),
    Condition("zeroinit", "ZeroInit", "none", "zeroinit"),
)

SCALES = {
    "paper": Scale(depths=(16,), width=4, batch_sizes=tuple(2**i for i in range(4, 13)),
                   lr=LrGrid(-4, 1, reference_batch=64, floor=-4, ceiling=5), runs=15, best=12, epochs=200,
                   max_train_examples=None,
                   notes="the text gives neither Figure 1's batch sizes nor the grid: we use 16..4096 (every size it "
                         "discusses) and 2^-4..2^1 at batch 64, slid by log2(B/64), down to 2^-4 and up to 2^5 always "
                         "(the saturated optima are 2^-3, 2^1 and 2^4)."),
    "cpu": Scale(depths=(10,), width=1, batch_sizes=(16, 64, 256, 1024),
                 lr=LrGrid(-5, -1, reference_batch=64, floor=-3, ceiling=1), runs=1, best=1, epochs=8,
                 max_train_examples=2048,
                 notes="WRN-10-1, not 16-4; batch sizes 16..1024; 8 epochs on the first 2,048 images of the 5,170-image "
                       "CIFAR-10 subset (1,024 updates at batch 16, 16 at batch 1024), tested on its 1,017 test images; "
                       "5 learning rates per batch size (2^-5..2^-1 at batch 64: one octave below the paper's window, since "
                       "small models at few epochs train best at lower rates, see small_batch_cpu); 1 run each (no "
                       "best-k averaging)."),
    "smoke": Scale(depths=(10,), width=1, batch_sizes=(32, 64), lr=LrGrid(-3, -2, reference_batch=64), runs=1,
                   best=1, epochs=1, max_train_examples=128,
                   notes="a test of the machinery only (WRN-10-1, 128 images, 1 epoch, 2 learning rates, 1 run): "
                         "the numbers mean nothing."),
}


def report(outcomes, scale, out):
    """Figures 1-2: the plots, the numbers behind them, and the paper's claims checked."""
    performance, optimal_lr = plot(outcomes, out)
    curves = by_condition(outcomes)
    claims = []
    for c in reference.FIGURES_1_2:
        if c.key == "bn_best_test":
            claims.append(compare_at_each_batch(c, curves, "ghost_batch_norm", ("none",), "test_accuracy"))
        elif c.key == "zeroinit_beats_none":
            claims.append(compare_at_each_batch(c, curves, "zeroinit", ("none",), "test_accuracy"))
        elif c.key == "bn_best_loss":
            claims.append(compare_at_each_batch(c, curves, "ghost_batch_norm", ("none", "zeroinit"), "train_loss"))
        elif c.key == "lr_proportional":
            claims.append(proportional_claim(c, curves, PROPORTIONAL_UP_TO))
        else:
            claims.append(saturation_claim(c, curves))
    table, rows = sweep_table(outcomes)
    body = ("## Figures 1-2: optimal performance and learning rates across batch sizes\n\n"
            f"Figure 1: `{performance.name}`; Figure 2: `{optimal_lr.name}` (hollow markers: optimum at the grid's "
            "edge). The paper prints no numbers for these figures; the claims below are its text's. \"Proportional\": "
            f"the slope of log2(optimal lr) on log2(B) for B <= {PROPORTIONAL_UP_TO} is in {list(SLOPE_RANGE)}, with no "
            "optimum at a grid edge.\n\n" + table)
    return body, rows, claims


EXPERIMENT = Experiment("batch_size", "Figures 1-2: batch normalization, no normalization and ZeroInit across batch sizes",
                        CONDITIONS, SCALES, report)

if __name__ == "__main__":
    common.run(EXPERIMENT)

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

import math
import os

from recipes.paper import common, reference
from recipes.paper.common import Condition, Experiment, LrGrid, Scale

PROPORTIONAL_UP_TO = 64  # the "small batch" end of Figure 2a where the optimal lr ~ B
SLOPE_RANGE = (0.5, 1.5)  # log2(lr) vs log2(B): "proportional" if the fitted slope is in here

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


def by_condition(outcomes):
    """{condition key: {batch size: Outcome}}, in the experiment's condition order."""
    curves = {}
    for o in outcomes:
        curves.setdefault(o.search.condition.key, {})[o.search.batch_size] = o
    return curves


def plot(outcomes, out):
    """performance.png (Figure 1 / 3) and optimal_lr.png (Figure 2 / 4) in ``out``, one curve per condition."""
    from tfzoo.search import plots

    searches = [(next(iter(c.values())).search.condition.label, {str(b): o.entry for b, o in sorted(c.items())})
                for c in by_condition(outcomes).values()]
    return plots.plot_searches(searches, f"{out}{os.sep}")


def lr_slope(curve, up_to):
    """Least-squares slope of log2(optimal lr for test accuracy) on log2(B) for B <= ``up_to``,
    the points used, and whether any of them is at its grid's edge. Slope None with < 2 points."""
    points = [(math.log2(b), o.optimum("test_accuracy")) for b, o in sorted(curve.items()) if b <= up_to]
    points = [(x, opt) for x, opt in points if opt["lr_exponent"] is not None]
    edge = any(opt["boundary"] for _, opt in points)
    if len(points) < 2:
        return None, points, edge
    xs, ys = [x for x, _ in points], [opt["lr_exponent"] for _, opt in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return slope, points, edge


def proportional_claim(claim, curves, up_to):
    """The optimal learning rate grows in proportion to B (slope of log2 lr on log2 B near 1) for every condition."""
    parts, verdicts = [], []
    for curve in curves.values():
        label = next(iter(curve.values())).search.condition.label
        slope, points, edge = lr_slope(curve, up_to)
        lrs = ", ".join(f"B={2 ** round(x)}: 2^{opt['lr_exponent']}" for x, opt in points)
        parts.append(f"{label}: slope {'—' if slope is None else f'{slope:.2f}'} ({lrs}{'; at an edge' if edge else ''})")
        verdicts.append(None if slope is None or edge else SLOPE_RANGE[0] <= slope <= SLOPE_RANGE[1])
    holds = None if None in verdicts else all(verdicts)
    return common.claim(claim, "; ".join(parts), holds)


def compare_at_each_batch(claim, curves, better, worse, metric):
    """``better`` beats every condition in ``worse`` on ``metric`` at every batch size."""
    sign = 1 if metric == "test_accuracy" else -1
    wins, total, missing = 0, 0, 0
    for b, o in sorted(curves[better].items()):
        values = [o.value(metric)] + [curves[w][b].value(metric) for w in worse]
        if None in values:
            missing += 1
            continue
        total += 1
        wins += all(sign * values[0] > sign * v for v in values[1:])
    ours = f"{curves[better][min(curves[better])].search.condition.label} better at {wins} of {total} batch sizes" + (
        f" ({missing} without an optimum)" if missing else "")
    return common.claim(claim, ours, None if total == 0 else wins == total)


def saturation_claim(claim, curves):
    """The largest optimal learning rate of each condition, strictly ordered none < ZeroInit < ghost BN
    as in Figure 2a ("a larger value ... an even larger value"). Cannot tell if one of them is the
    top of its grid: the optimum could lie above it."""
    top, capped = {}, []
    for key, curve in curves.items():
        optima = [(o.optimum("test_accuracy")["lr_exponent"], o) for o in curve.values()]
        optima = [(e, o) for e, o in optima if e is not None]
        top[key] = max(e for e, _ in optima) if optima else None
        if any(e == top[key] and e == max(o.search.grid.lr_exponents) for e, o in optima):
            capped.append(key)
    paper = reference.SATURATED_LR_EXPONENT
    ours = ", ".join(f"{k}: 2^{top[k]} (paper 2^{paper[k]})" if top[k] is not None else f"{k}: —" for k in paper)
    holds = None if None in top.values() or capped else top["none"] < top["zeroinit"] < top["ghost_batch_norm"]
    return common.claim(claim, f"largest optimal lr: {ours}" + (f"; at the top of its grid: {', '.join(capped)}"
                                                                  if capped else ""), holds)


def sweep_table(outcomes):
    """Rows by batch size, then our optimal test accuracy; (table markdown, rows for results.json)."""
    header = ("batch size", "method", "test accuracy (%)", "optimal lr", "training loss", "optimal lr")
    table, rows = [], []
    for b in sorted({o.search.batch_size for o in outcomes}):
        for o in common.by_test_accuracy([o for o in outcomes if o.search.batch_size == b]):
            acc, loss = o.optimum("test_accuracy"), o.optimum("train_loss")
            table.append((b, common.labelled(o),
                          common.format_value(acc, "test_accuracy"), common.format_lr(acc),
                          common.format_value(loss, "train_loss"), common.format_lr(loss)))
            rows.append({"batch_size": b, "condition": o.search.condition.key, "method": o.search.condition.label,
                         "test_accuracy": acc, "train_loss": loss})
    return common.markdown_table(header, table), rows


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

"""The analysis of a learning-rate search across batch sizes, shared by the experiments of Figures
1-2 (``batch_size``) and of small batches (``small_batch``) in "Batch normalization has multiple
benefits" (section 3): curves by condition, the fitted slope of log2(optimal lr) on log2(B), the
claims about them, the figures and the table.
"""

import math
import os

from recipes.paper import common, reference

SLOPE_RANGE = (0.5, 1.5)  # log2(lr) vs log2(B): "proportional" if the fitted slope is in here


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

"""The mean of the best k of n runs, and the optimal learning rate at each batch size ("Batch normalization
has multiple benefits", section 3).

"At each batch size, we train the network 15 times for a range of learning rates on a logarithmic
grid, and we independently measure the mean and standard deviation of the best 12 runs on both
the training loss and the test accuracy." The optimum is the learning rate whose best-k mean is
best, chosen separately for test accuracy (highest) and training loss (lowest).

Diverged runs rank below every finite run, as the paper's "worst". A grid point with fewer than
k finite runs therefore has no best-k mean (``mean`` and ``std`` are None, ``n`` counts its finite
runs) and can never be the optimum; a batch size where no point has k finite runs has no optimum.
"""

import dataclasses
import math

from tfzoo.search.grid import TrialSpec

METRICS = {"test_accuracy": "max", "train_loss": "min"}


@dataclasses.dataclass(frozen=True)
class TrialResult:
    """One finished trial: a row of trials.csv. Metrics are None when the run diverged."""

    spec: TrialSpec
    test_accuracy: float | None
    train_loss: float | None
    diverged: bool
    seconds: float

    @classmethod
    def from_train_results(cls, spec, results):
        """From ``tfzoo.training.train``'s results; a non-finite final metric also counts as diverged."""
        accuracy, loss = results.get("test_accuracy"), results.get("train_loss")
        diverged = bool(results["diverged"]) or not (_finite(accuracy) and _finite(loss))
        return cls(
            spec,
            None if diverged else float(accuracy),
            None if diverged else float(loss),
            diverged,
            round(float(results.get("seconds", 0.0)), 2),
        )

    def value(self, metric):
        return getattr(self, metric)


def best_k(values, k, mode):
    """Mean and sample standard deviation of the best ``k`` finite values (``mode`` "max" or "min").

    None, NaN and inf (diverged runs) rank last. With fewer than ``k`` finite values there is
    no mean: returns ``{"mean": None, "std": None, "n": <finite count>}``. ``k = 1`` has std 0.
    """
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min'. Received: mode={mode!r}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer. Received: k={k!r}")
    finite = sorted((float(v) for v in values if _finite(v)), reverse=mode == "max")
    if len(finite) < k:
        return {"mean": None, "std": None, "n": len(finite)}
    best = finite[:k]
    mean = math.fsum(best) / k
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in best) / (k - 1)) if k > 1 else 0.0
    return {"mean": mean, "std": std, "n": k}


def optimum(points, metric, grid):
    """The grid point whose best-k mean of ``metric`` is best; ties go to the smaller learning rate.

    Returns ``lr``, ``lr_exponent``, ``mean``, ``std``, ``n`` and ``boundary`` (the optimum is the
    grid's first or last learning rate, so the grid may not bracket it). All None (``n`` 0)
    when no point has k finite runs.
    """
    sign = 1.0 if METRICS[metric] == "max" else -1.0
    candidates = [p for p in points if p[metric]["mean"] is not None]
    if not candidates:
        return {"lr": None, "lr_exponent": None, "mean": None, "std": None, "n": 0, "boundary": None}
    best = max(candidates, key=lambda p: (sign * p[metric]["mean"], -p["lr_exponent"]))
    return {
        "lr": best["lr"],
        "lr_exponent": best["lr_exponent"],
        **best[metric],
        "boundary": grid.is_edge(best["lr_exponent"]),
    }


def summarize(results, grid, best):
    """``{str(batch_size): {"test_accuracy": optimum, "train_loss": optimum, "grid": [point, ...]}}``.

    Each point: ``lr``, ``lr_exponent``, ``runs`` (finished), ``diverged`` (count) and the best-k
    statistics of both metrics. Trials outside ``grid`` are ignored; missing ones just count less.
    """
    if not 1 <= best <= grid.runs:
        raise ValueError(f"best must be in [1, runs={grid.runs}]. Received: best={best}")
    by_point = {}
    for result in results:
        by_point.setdefault((result.spec.batch_size, result.spec.lr_exponent), []).append(result)
    summary = {}
    for batch_size in grid.batch_sizes:
        points = []
        for exponent in grid.lr_exponents:
            runs = [r for r in by_point.get((batch_size, exponent), []) if r.spec.run < grid.runs]
            point = {"lr": 2.0**exponent, "lr_exponent": exponent, "runs": len(runs), "diverged": sum(r.diverged for r in runs)}
            for metric, mode in METRICS.items():
                point[metric] = best_k([r.value(metric) for r in runs], best, mode)
            points.append(point)
        summary[str(batch_size)] = {metric: optimum(points, metric, grid) for metric in METRICS}
        summary[str(batch_size)]["grid"] = points
    return summary


def markdown(summary, search, best):
    """The paper-style table (its Tables 1-3 and Figures 1-2 in one): per batch size, the optimal
    test accuracy and training loss (mean ± std of the best k of n) and each one's learning rate."""
    grid, config = search["grid"], search["config"]
    plural = "" if config["epochs"] == 1 else "s"
    # With --validation_examples the "test_*" metrics are measured on examples held out of the training set.
    held_out, own = config.get("validation_examples"), config.get("validation") and not config.get("validation_examples")
    accuracy = "validation accuracy" if held_out or own else "test accuracy"
    lines = [
        f"# Learning-rate search: {search['model']}, {config['normalization']}/{config['init']}, {config['dataset']}",
        "",
        f"Mean ± std of the best {best} of {grid['runs']} runs at the optimal learning rate, chosen separately "
        f"for {accuracy} and training loss (the paper's section 3). {config['epochs']} epoch{plural}, "
        f"`{config['schedule']}` schedule, lr = 2^e for e in {_exponents(grid['lr_exponents'])}."
        + (f" Accuracy on {held_out:,} examples held out of the training set (`--validation_examples`); the test "
           "set is not used." if held_out else "")
        + (" Accuracy on the data set's own validation split (`--validation`, an image folder's val/); the test "
           "set is not used." if own else ""),
        "",
        f"| batch size | {accuracy} (%) | optimal lr | train loss | optimal lr |",
        "| --- | --- | --- | --- | --- |",
    ]
    edges = False
    for batch_size, entry in summary.items():
        cells = [batch_size]
        for metric, scale, digits in (("test_accuracy", 100.0, 1), ("train_loss", 1.0, 3)):
            opt = entry[metric]
            cells.append(_mean_std(opt, scale, digits))
            lr = "—" if opt["lr_exponent"] is None else f"2^{opt['lr_exponent']}"
            cells.append(lr + (" (edge)" if opt["boundary"] else ""))
            edges = edges or bool(opt["boundary"])
        lines.append("| " + " | ".join(cells) + " |")
    if edges:
        lines += ["", "(edge): the optimum is the grid's first or last learning rate; extend `--lr_exponents` to bracket it."]
    lines += [
        "",
        f"## Every grid point (mean ± std of the best {best}; — where fewer than {best} runs finished without diverging)",
        "",
        f"| batch size | lr | runs | diverged | {accuracy} (%) | train loss |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for batch_size, entry in summary.items():
        for point in entry["grid"]:
            lines.append(
                f"| {batch_size} | 2^{point['lr_exponent']} | {point['runs']} | {point['diverged']} | "
                f"{_mean_std(point['test_accuracy'], 100.0, 1)} | {_mean_std(point['train_loss'], 1.0, 3)} |"
            )
    return "\n".join(lines) + "\n"


def _mean_std(stats, scale, digits):
    if stats["mean"] is None:
        return "—"
    return f"{stats['mean'] * scale:.{digits}f} ± {stats['std'] * scale:.{digits}f}"


def _exponents(exponents):
    contiguous = list(exponents) == list(range(exponents[0], exponents[-1] + 1))
    return f"{exponents[0]}..{exponents[-1]}" if contiguous and len(exponents) > 2 else ", ".join(map(str, exponents))


def _finite(value):
    return value is not None and math.isfinite(value)

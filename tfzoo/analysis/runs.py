"""Finished runs side by side: their curves in one figure and their final numbers in one table.

    runs = [read_run("runs/zoo/bn"), read_run("runs/zoo/zeroinit", label="ZeroInit")]
    print(summary_table(runs))            # markdown: accuracy, losses, epochs, seconds per epoch
    plot_comparison(runs, "comparison.png")

A run is a recipe's output folder (``history.csv``, and ``results.json`` once it has finished) or a
``history.csv`` on its own, as docs/results/ keeps them. The final figures come from
``results.json`` where there is one: the test metrics and the training loss on the un-augmented
training set with dropout off, as "Batch normalization has multiple benefits" (section 3) reports
it. A history alone gives its last epoch's figures on augmented data instead, and the table says so.
"""

import csv
import dataclasses
import io
import json
import statistics
from pathlib import Path

from tfzoo.training.outputs import write_bytes_atomic


class RunError(ValueError):
    """A run folder or history file that cannot be read; the message is one line."""


@dataclasses.dataclass(frozen=True)
class Run:
    label: str
    history: tuple  # one dict per epoch, values as floats: epoch, loss, accuracy, val_accuracy, seconds, ...
    results: dict  # results.json, or {} for a history alone

    @property
    def finished(self):
        return bool(self.results)

    def final(self, key):
        """``results.json``'s ``key``, else the last epoch's figure that stands for it, else None."""
        if key in self.results:
            return self.results[key]
        fallback = {"test_accuracy": "val_accuracy", "test_loss": "val_cross_entropy", "train_loss": "loss",
                    "train_cross_entropy": "cross_entropy"}.get(key)
        return self.history[-1].get(fallback) if fallback else None

    @property
    def seconds_per_epoch(self):
        """The median wall time of an epoch (evaluation included), robust to a slow first epoch."""
        seconds = [row["seconds"] for row in self.history if "seconds" in row]
        return statistics.median(seconds) if seconds else None


def read_run(path, label=None):
    """The ``Run`` at ``path``: a run folder or a ``history.csv``; ``label`` defaults to the folder's name
    (or the file's name without ``_history.csv``)."""
    path = Path(path)
    if path.is_dir():
        history_file, results_file = path / "history.csv", path / "results.json"
        default_label = path.name
    elif path.is_file():
        history_file, results_file = path, None
        default_label = path.name.removesuffix(".csv").removesuffix("history").rstrip("_-") or path.stem
    else:
        raise RunError(f"{path} does not exist; pass a run folder (with history.csv) or a history.csv file")
    if not history_file.is_file():
        raise RunError(f"{path} holds no history.csv: not a run folder written by a recipe")
    try:
        with open(history_file, newline="", encoding="utf-8") as f:
            history = tuple({k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(f))
        results = json.loads(results_file.read_text()) if results_file and results_file.is_file() else {}
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise RunError(f"{path}: unreadable history.csv or results.json ({type(error).__name__}: {error})") from None
    if not history or any("epoch" not in row for row in history):
        raise RunError(f"{history_file} has no epochs (an empty file, or not a recipe's history.csv)")
    return Run(label or default_label, history, results)


def summary_table(runs):
    """A markdown table of the runs' final figures, one row each."""
    lines = ["| run | epochs | test accuracy | test loss | training loss (with L2) | training cross-entropy "
             "| s / epoch (median) |", "| --- | --- | --- | --- | --- | --- | --- |"]

    def number(value, form):
        return "–" if value is None else form.format(value)

    for run in runs:
        mark = "" if run.finished else " *"
        lines.append(
            f"| {run.label}{mark} | {int(run.history[-1]['epoch'])} | {number(run.final('test_accuracy'), '{:.2%}')} "
            f"| {number(run.final('test_loss'), '{:.4f}')} | {number(run.final('train_loss'), '{:.4f}')} "
            f"| {number(run.final('train_cross_entropy'), '{:.4f}')} | {number(run.seconds_per_epoch, '{:.0f}')} |")
    if not all(run.finished for run in runs):
        lines.append("")
        lines.append("\\* no results.json: the last epoch's figures, training losses on augmented data with dropout on")
    return "\n".join(lines)


def line_styles(count):
    """A distinct colour and line style per run: matplotlib's ten default colours, solid for the first ten runs,
    then dashed, dotted and dash-dotted (with only colours, the eleventh run would take the first one's line)."""
    dashes = ("-", "--", ":", "-.")
    return [{"color": f"C{i % 10}", "linestyle": dashes[(i // 10) % len(dashes)]} for i in range(count)]


def plot_comparison(runs, path, title=""):
    """Training loss (augmented, with L2) and test accuracy by epoch, every run on the same axes, as a PNG
    written atomically. The accuracy axis starts at the lowest accuracy of the runs' second halves, so the
    converged region, where the runs differ, fills the panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    late = []
    for run, style in zip(runs, line_styles(len(runs))):
        epochs = [row["epoch"] for row in run.history]
        left.plot(epochs, [row.get("loss", float("nan")) for row in run.history], label=run.label, **style)
        accuracy = [row.get("val_accuracy", float("nan")) for row in run.history]
        right.plot(epochs, accuracy, label=run.label, **style)
        late += [a for a in accuracy[len(accuracy) // 2:] if a == a]
    left.set(xlabel="epoch", ylabel="loss", title="training loss (augmented, with L2)", yscale="log")
    right.set(xlabel="epoch", ylabel="accuracy", title="test accuracy")
    if late:
        low, high = min(late), max(late)
        right.set_ylim(low - 0.25 * (high - low + 0.01), high + 0.1 * (high - low + 0.01))
    for axes in (left, right):
        axes.grid(alpha=0.3)
    # One legend for both panels, beside them: inside, it would hide the curves it names.
    fig.legend(*left.get_legend_handles_labels(), loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(title)
    fig.tight_layout()
    png = io.BytesIO()
    try:
        fig.savefig(png, format="png", dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)
    write_bytes_atomic(path, png.getvalue())

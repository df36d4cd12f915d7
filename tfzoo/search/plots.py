"""Figures 1 and 2 of "Batch normalization has multiple benefits" (section 3) from one or more searches'
summary.json.

``performance.png``: the optimal test accuracy and training loss (mean ± std of the best k) vs
batch size (Figure 1). ``optimal_lr.png``: the learning rate behind each, on log2-log2 axes
(Figure 2). Hollow markers: the optimum is at the grid's edge. PNGs are written atomically.
"""

import os
from pathlib import Path

PANELS = (("test_accuracy", "test accuracy (%)", 100.0), ("train_loss", "training loss", 1.0))


def label(search):
    """A search's legend label: its normalization and init scheme (e.g. ``none/zeroinit``)."""
    return f"{search['config']['normalization']}/{search['config']['init']}"


def output_paths(output):
    """``output`` a folder (existing, or ending in /): folder/performance.png, folder/optimal_lr.png;
    else a prefix: {prefix}_performance.png, {prefix}_optimal_lr.png (a trailing .png is dropped)."""
    text = str(output)
    if Path(text).is_dir() or text.endswith(("/", os.sep)):
        return Path(text) / "performance.png", Path(text) / "optimal_lr.png"
    if text.endswith(".png"):
        text = text[: -len(".png")]
    return Path(f"{text}_performance.png"), Path(f"{text}_optimal_lr.png")


def plot_searches(searches, output):
    """Overlays ``searches`` (a list of (label, summary)) in both figures; returns the two paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    performance_path, lr_path = output_paths(output)
    performance_path.parent.mkdir(parents=True, exist_ok=True)
    for path, kind in ((performance_path, "performance"), (lr_path, "lr")):
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        for ax, (metric, title, scale) in zip(axes, PANELS):
            plotted = [_plot_one(ax, summary, metric, scale, kind, f"C{i}", name) for i, (name, summary) in enumerate(searches)]
            if any(plotted):  # log axes need data
                ax.set_xscale("log", base=2)
                if kind == "lr":
                    ax.set_yscale("log", base=2)
            else:
                ax.text(0.5, 0.5, "no learning rate had k finite runs", transform=ax.transAxes, ha="center")
            ax.set_xlabel("batch size")
            if kind == "lr":
                ax.set_ylabel("optimal learning rate")
                ax.set_title(f"learning rate of the optimal {title.split(' (')[0]}")
            else:
                ax.set_ylabel(title)
                ax.set_title(f"optimal {title.split(' (')[0]} (mean ± std of the best k)")
            ax.grid(True, which="major", alpha=0.3)
            ax.legend(title="hollow: at the grid's edge", fontsize="small", title_fontsize="small")
        fig.tight_layout()
        _save_atomic(fig, path)
        plt.close(fig)
    return performance_path, lr_path


def _plot_one(ax, summary, metric, scale, kind, color, name):
    rows = sorted((int(b), entry[metric]) for b, entry in summary.items() if entry[metric]["mean"] is not None)
    if not rows:
        ax.plot([], [], color=color, marker="o", label=f"{name} (no finite optimum)")
        return False
    xs = [b for b, _ in rows]
    if kind == "lr":
        ys, errors = [opt["lr"] for _, opt in rows], None
    else:
        ys, errors = [opt["mean"] * scale for _, opt in rows], [opt["std"] * scale for _, opt in rows]
    ax.errorbar(xs, ys, yerr=errors, color=color, marker="o", capsize=3, label=name)
    edge = [(x, y) for x, y, (_, opt) in zip(xs, ys, rows) if opt["boundary"]]
    if edge:
        ax.plot(*zip(*edge), linestyle="none", marker="o", markersize=8, markerfacecolor="white", color=color, zorder=4)
    return True


def _save_atomic(fig, path):
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, format="png", dpi=100)
    os.replace(tmp, path)

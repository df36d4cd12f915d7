"""Run outputs: history.csv, the training-curve PNG, model.keras, JSON-safe results."""

import csv
import math
import os
from pathlib import Path


def jsonable(value):
    """Replaces NaN/inf floats (not valid JSON) by None, recursively; numpy scalars by Python ones."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_history(history, path):
    """One row per epoch: epoch, lr, loss, accuracy, cross_entropy, val_*, seconds."""
    path = Path(path)
    keys = sorted({k for row in history for k in row}, key=lambda k: (k != "epoch", k))
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(history)
    os.replace(tmp, path)


def plot_curves(history, path, title=""):
    """Training loss and test accuracy by epoch, side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("loss", "train (augmented, with L2)"), ("val_cross_entropy", "test cross-entropy")):
        left.plot(epochs, [row.get(key, float("nan")) for row in history], marker=".", label=label)
    left.set(xlabel="epoch", ylabel="loss", title="loss")
    left.legend()
    for key, label in (("accuracy", "train (augmented)"), ("val_accuracy", "test")):
        right.plot(epochs, [row.get(key, float("nan")) for row in history], marker=".", label=label)
    right.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    right.legend()
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


def save_model_atomic(model, path):
    """``model.save`` to a temporary ``.keras`` file, then rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


def write_text_atomic(path, text):
    """Writes ``text`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)

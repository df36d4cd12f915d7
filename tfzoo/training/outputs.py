"""Run outputs: history.csv, the training-curve PNG, model.keras, JSON-safe results.

Every file is written the same way: to a temporary name unique to the writer (``.NAME.<pid>.<random>.tmp``
beside it), fsynced, renamed over ``NAME`` with ``os.replace``, and the folder fsynced. A reader, a
crash or a kill -9 at any point sees the old file or the new one, never half of one, and two
writers never share a temporary file. A kill leaves at most a temporary file behind, which
``remove_stale_temporaries`` deletes when the next run owns the folder.
"""

import contextlib
import csv
import errno
import io
import math
import os
import re
import secrets
from pathlib import Path

# Temporary names of this module, and of the fixed ones it used before (".epoch_0001.tmp.keras").
_TEMPORARY = re.compile(r"^\..+\.tmp(\.[A-Za-z0-9]+)?$")


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
    keys = sorted({k for row in history for k in row}, key=lambda k: (k != "epoch", k))
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=keys, lineterminator="\r\n")  # csv's default line ending, as before
    writer.writeheader()
    writer.writerows(history)
    write_text_atomic(path, text.getvalue())


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
    try:
        with _atomic(path, ".png") as tmp:
            fig.savefig(tmp, dpi=100)
    finally:
        plt.close(fig)


def save_model_atomic(model, path):
    """``model.save`` to a temporary ``.keras`` file, fsync, then rename (see the module docstring)."""
    with _atomic(path, ".keras") as tmp:
        model.save(tmp)


def write_text_atomic(path, text):
    """Writes ``text`` to ``path`` through a temporary file, fsync and a rename."""
    with _atomic(path) as tmp:
        with open(tmp, "x", encoding="utf-8", newline="") as f:
            f.write(text)


def write_bytes_atomic(path, data):
    """Writes ``data`` (bytes) to ``path`` through a temporary file, fsync and a rename."""
    with _atomic(path) as tmp:
        with open(tmp, "xb") as f:
            f.write(data)


def remove_stale_temporaries(directory):
    """Deletes the temporary files that killed writers left in ``directory`` (not in its subfolders).
    Call it only while owning the folder (``tfzoo.training.lock``): another writer's file would go too."""
    directory = Path(directory)
    if directory.is_dir():
        for path in directory.iterdir():
            if _TEMPORARY.match(path.name) and path.is_file():
                path.unlink(missing_ok=True)


def fsync_dir(directory):
    """Makes a rename in ``directory`` durable; a no-op where the filesystem cannot sync folders."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # e.g. a platform whose folders cannot be opened
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def _atomic(path, suffix=""):
    """Yields a temporary path beside ``path``; on success fsyncs it, renames it to ``path`` and fsyncs
    the folder, on error deletes it."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp{suffix}")
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


# TensorFlow reports a failed file write (TensorBoard's event writer) as an OpError whose message is
# "[{{function_node ...}} ]PATH; REASON[\n...][ [Op:NAME]]", REASON being the C library's strerror text.
_OP_FILE_ERROR = re.compile(r"^(?:\{\{.*?\}\}\s*)?(?P<path>/.+?|[^\s;]+); (?P<reason>[^\[\n]+?)\s*(?:\[Op:\w+\])?$")
_ERRNO_OF = {os.strerror(code): code for code in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO)}


def os_error_from(error, directory):
    """The ``OSError`` a TensorFlow op error stands for when it failed to write a file under ``directory``
    (e.g. TensorBoard's event writer on a full disk: ``ResourceExhaustedError``), else None.

    Lets a caller that turns a full or read-only output folder into one line treat both the same."""
    first_line = str(getattr(error, "message", error)).splitlines()[0] if str(error) else ""
    match = _OP_FILE_ERROR.match(first_line.strip())
    if not match:
        return None
    path, reason = Path(match["path"]), match["reason"].strip()
    try:
        inside = path.resolve().is_relative_to(Path(directory).resolve())
    except (OSError, ValueError):
        return None
    if not inside or reason not in _ERRNO_OF:
        return None
    return OSError(_ERRNO_OF[reason], reason, str(path))

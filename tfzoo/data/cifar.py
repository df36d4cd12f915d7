"""Readers for the CIFAR-10 / CIFAR-100 "python version" releases.

Each batch is a pickled dict with ``data`` (uint8, N x 3072, the R, G and B planes of
a 32 x 32 image, channel-major) and a list of labels (``labels`` for CIFAR-10,
``fine_labels`` for CIFAR-100). Its length gives N: the metadata's
``num_cases_per_batch`` is not trusted.
"""

import numpy as np

from tfzoo.data.safe_pickle import load_pickle_dict
from tfzoo.data.specs import DataError, check_arrays

_SIDE = 32


def read_batches(paths, spec, label_key, max_examples=None):
    """Images uint8 [N, 32, 32, 3] and labels int64 [N] from the batch files, in order.

    Stops reading files once ``max_examples`` images are in hand.
    """
    images, labels, count = [], [], 0
    for path in paths:
        if max_examples is not None and count >= max_examples:
            break
        batch_images, batch_labels = _read_batch(path, spec, label_key)
        images.append(batch_images)
        labels.append(batch_labels)
        count += len(batch_labels)
    images, labels = np.concatenate(images), np.concatenate(labels)
    return images[:max_examples], labels[:max_examples]


def _read_batch(path, spec, label_key):
    batch = load_pickle_dict(path)
    for key in (b"data", label_key):
        if key not in batch:
            found = ", ".join(k.decode("latin1") if isinstance(k, bytes) else str(k) for k in batch)
            raise DataError(f"{path}: no {key.decode()!r} entry (found: {found})")
    data, labels = batch[b"data"], batch[label_key]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * _SIDE**2:
        described = f"{data.dtype} {list(data.shape)}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataError(f"{path}: 'data' must be uint8 [N, {3 * _SIDE**2}], got {described}")
    if not isinstance(labels, (list, np.ndarray)) or not all(isinstance(y, (int, np.integer)) for y in labels):
        raise DataError(f"{path}: {label_key.decode()!r} must be a list of integers")
    try:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except OverflowError:
        raise DataError(f"{path}: {label_key.decode()!r} holds an integer beyond int64 (labels must lie in "
                        f"[0, {spec.num_classes}))") from None
    if len(labels) != len(data):
        raise DataError(f"{path}: {len(data)} images but {len(labels)} labels")
    images = data.reshape(-1, 3, _SIDE, _SIDE).transpose(0, 2, 3, 1)
    check_arrays(images, labels, spec, path)
    return np.ascontiguousarray(images), labels


def read_label_names(path, names_key):
    """The class names stored under ``names_key`` in a release's metadata file."""
    meta = load_pickle_dict(path)
    names = meta.get(names_key)
    if not isinstance(names, list) or not all(isinstance(n, (bytes, str)) for n in names):
        raise DataError(f"{path}: no list of names under {names_key.decode()!r}")
    return tuple(n.decode("utf-8") if isinstance(n, bytes) else n for n in names)

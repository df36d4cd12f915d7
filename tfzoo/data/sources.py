"""``load_arrays``: one split of a dataset as numpy arrays, from local files or TFDS.

Sources, first match wins:

1. ``data_dir``: the official release as users keep it (see ``releases.RELEASES``). A
   ``data_dir`` that is given is the only folder looked in: one that does not exist is an
   error, and one without the release is never silently replaced by another copy;
2. without ``data_dir``: ``$TFZOO_DATA_DIR`` (same layout), then system folders: Debian's
   ``dataset-fashion-mnist`` package installs Fashion-MNIST in
   ``/usr/share/datasets/fashion-mnist``;
3. TFDS (``tfds.load``) with ``data_dir``: a prepared copy, else a download. Offline,
   TFDS retries for minutes before failing, so when no prepared copy exists and its
   download host cannot be reached the download is not attempted.

A folder that holds a release but whose files are incomplete or damaged raises
``DataError`` there and then: a broken copy is never silently replaced by another.
"""

import os
import socket
from pathlib import Path

import numpy as np

from tfzoo.data.releases import RELEASES
from tfzoo.data.catalog import check_native_size, get_spec
from tfzoo.data.folder import load_folder
from tfzoo.data.specs import DataError, check_arrays
from tfzoo.data.tfds_source import load_tfds, tfds_spec

SPLITS = ("train", "test")
ENV_VAR = "TFZOO_DATA_DIR"
SYSTEM_FOLDERS = {"fashion_mnist": ("/usr/share/datasets/fashion-mnist",)}
_DOWNLOAD_HOST = ("storage.googleapis.com", 443)  # TFDS's bucket; most of its sources are mirrored there
_PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


class _TfdsUnavailable(Exception):
    pass


def load_arrays(name, split, data_dir=None, max_examples=None, image_size=None):
    """Images uint8 [N, H, W, C] and labels int64 [N] of ``split`` ("train" or "test").

    ``max_examples`` keeps the first K examples, for quick runs. Raises ``DataError``
    (one line naming every place looked in) when no source has the data. ``folder`` and
    ``tfds:NAME`` read the user's image folders and prepared TFDS data sets; ``image_size``
    resizes a folder's images (``get_spec``).
    """
    if name == "folder":
        return load_folder(data_dir, split, max_examples, image_size)
    if isinstance(name, str) and name.startswith("tfds:"):
        check_native_size(tfds_spec(name, data_dir), image_size)
        return load_tfds(name, split, data_dir, max_examples)
    spec = get_spec(name, image_size=image_size)
    if spec.streaming:
        raise DataError(
            f"{name} does not fit in memory and is not read by load_arrays; stream it with "
            "tfzoo.data.make_imagenet_train_dataset / make_imagenet_eval_dataset, or tfzoo.data.training_datasets"
        )
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; accepted: {', '.join(SPLITS)}")
    if max_examples is not None and (not isinstance(max_examples, int) or isinstance(max_examples, bool)
                                     or max_examples < 1):
        raise DataError(f"max_examples must be a positive integer or None, got {max_examples!r}")
    _check_data_dir(data_dir)
    release = RELEASES[name]
    folders = _candidate_folders(name, data_dir)
    for folder in folders:
        paths = release.locate(folder, split)
        if paths is not None:
            return release.read(paths, spec, max_examples=max_examples)
    try:
        return _load_tfds(spec, split, data_dir, max_examples)
    except _TfdsUnavailable as e:
        raise DataError(
            f"no {name} {split!r} data found: looked in {', '.join(map(str, folders))} and TFDS "
            f"(data_dir={data_dir}): {e}. Pass --data_dir=... pointing at the extracted official release."
        ) from None


def load_class_names(name, data_dir=None):
    """Class names from the release's metadata file where one is found (CIFAR), else the spec's."""
    spec = get_spec(name, data_dir)
    release = RELEASES.get(name)
    if release is not None and release.read_class_names is not None:
        for folder in _candidate_folders(name, data_dir):
            if release.holds(folder) and (names := release.read_class_names(folder)) is not None:
                if len(names) != spec.num_classes:
                    raise DataError(f"{folder}: {len(names)} class names, expected {spec.num_classes} for {name}")
                return names
    return spec.class_names


def _check_data_dir(data_dir):
    """DataError unless ``data_dir`` is None or names an existing folder."""
    if data_dir is None:
        return
    if not str(data_dir).strip():
        raise DataError("data_dir is empty: pass the folder holding the dataset's release files, or leave it out")
    path = Path(data_dir).expanduser()
    if path.is_file():
        raise DataError(f"data_dir={data_dir} is a file: extract the release (tar -xzf) and pass its folder")
    if not path.is_dir():
        raise DataError(f"data_dir={data_dir} does not exist (resolved: {path.resolve()}); pass the folder "
                        "holding the dataset's release files")


def _candidate_folders(name, data_dir):
    release = RELEASES[name]
    if data_dir:  # the folder the user named, and no other: never silently a copy from elsewhere
        return list(dict.fromkeys(release.folders(os.path.expanduser(data_dir))))
    folders = []
    if os.environ.get(ENV_VAR):
        folders += release.folders(os.path.expanduser(os.environ[ENV_VAR]))
    folders += [Path(folder) for folder in SYSTEM_FOLDERS.get(name, ())]
    return list(dict.fromkeys(folders))


def _load_tfds(spec, split, data_dir, max_examples):
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise _TfdsUnavailable(f"tensorflow_datasets cannot be imported ({e})") from None
    kwargs = dict(
        split=split if max_examples is None else f"{split}[:{max_examples}]",
        data_dir=data_dir, batch_size=-1, as_supervised=True,
    )
    try:
        arrays = tfds.load(spec.tfds_name, download=False, **kwargs)
    except Exception:  # not prepared in data_dir; TFDS raises several types for that
        offline = _offline_reason()
        if offline:
            raise _TfdsUnavailable(f"no prepared copy, and no download: {offline}") from None
        try:
            arrays = tfds.load(spec.tfds_name, download=True, **kwargs)
        except Exception as e:  # network, disk and format errors all end the search here
            raise _TfdsUnavailable(f"download failed ({one_line(e)})") from None
    images, labels = tfds.as_numpy(arrays)
    images, labels = np.asarray(images), np.asarray(labels).astype(np.int64)
    check_arrays(images, labels, spec, f"TFDS {spec.tfds_name} {split!r}")
    return images, labels


def _offline_reason(timeout=3.0):
    """Why TFDS's download host is unreachable, or None if it answers (or a proxy is set)."""
    if any(os.environ.get(var) for var in _PROXY_VARS):
        return None
    host, port = _DOWNLOAD_HOST
    try:
        socket.create_connection(_DOWNLOAD_HOST, timeout=timeout).close()
    except OSError as e:
        return f"{host}:{port} unreachable ({one_line(e)})"
    return None


def one_line(error):
    """``Type: message`` of an exception on one line, at most 300 characters of message."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__

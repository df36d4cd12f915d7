"""Where the files of each official release sit, and which reader reads them.

A user points ``data_dir`` at the extracted release folder (``cifar-10-batches-py/``) or
at its parent; ``Release.folders`` lists both, and ``Release.locate`` says whether a
folder holds the release.
"""

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path

from tfzoo.data import cifar, idx, svhn
from tfzoo.data.specs import DataError


@dataclasses.dataclass(frozen=True)
class Release:
    """An official release: its folder names, files per split, reader and class-name file."""

    subdirs: tuple[str, ...]  # folders under a root that may hold the files; "." is the root itself
    files: dict[str, tuple[str, ...]]  # split -> file names, in reading order
    read: Callable  # (paths, spec, max_examples) -> (images, labels)
    suffixes: tuple[str, ...] = ("",)  # accepted endings of each file name, preferred first
    read_class_names: Callable | None = None  # folder -> names, or None where the release has none

    def folders(self, root):
        """The folders under ``root`` where this release may sit, in search order."""
        root = Path(root)
        return [root if sub == "." else root / sub for sub in self.subdirs]

    def locate(self, folder, split):
        """The files of ``split`` in ``folder``; None if it holds no file of the release.

        A folder holding some files of the release but not all of ``split`` raises
        ``DataError`` naming the missing ones, rather than silently looking elsewhere.
        """
        if not self.holds(folder):
            return None
        found = [self._find(folder, name) for name in self.files[split]]
        missing = [name for name, path in zip(self.files[split], found) if path is None]
        if missing:
            raise DataError(f"{folder} holds part of the release but not {', '.join(missing)} (needed for {split!r})")
        return found

    def holds(self, folder):
        """Whether ``folder`` holds any data file of this release."""
        return any(self._find(folder, name) for names in self.files.values() for name in names)

    def _find(self, folder, name):
        for suffix in self.suffixes:
            path = Path(folder) / (name + suffix)
            if path.is_file():
                return path
        return None


def _cifar_names(meta_file, names_key, folder):
    path = Path(folder) / meta_file
    return cifar.read_label_names(path, names_key) if path.is_file() else None


_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

RELEASES = {
    "cifar10": Release(
        subdirs=("cifar-10-batches-py", "."),
        files={"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)},
        read=functools.partial(cifar.read_batches, label_key=b"labels"),
        read_class_names=functools.partial(_cifar_names, "batches.meta", b"label_names"),
    ),
    "cifar100": Release(
        subdirs=("cifar-100-python", "."),
        files={"train": ("train",), "test": ("test",)},
        read=functools.partial(cifar.read_batches, label_key=b"fine_labels"),
        read_class_names=functools.partial(_cifar_names, "meta", b"fine_label_names"),
    ),
    "svhn": Release(
        subdirs=("svhn", "."),
        files={"train": ("train_32x32.mat",), "test": ("test_32x32.mat",)},
        read=svhn.read_mat,
    ),
    "mnist": Release(subdirs=("mnist", "."), files=_MNIST_FILES, read=idx.read_idx_pair, suffixes=(".gz", "")),
    "fashion_mnist": Release(
        subdirs=("fashion_mnist", "fashion-mnist", "."), files=_MNIST_FILES, read=idx.read_idx_pair,
        suffixes=(".gz", ""),
    ),
}

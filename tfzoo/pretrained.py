"""Pretrained SavedModels: a registry of entries, each verified by sha256 before it is read.

    import tfzoo
    tfzoo.pretrained.names()                     # ['wrn-10-2-bn-fashion_mnist', ...]
    tfzoo.pretrained.info("wrn-10-2-zeroinit-fashion_mnist").test_accuracy
    serving = tfzoo.pretrained.load("wrn-10-2-zeroinit-fashion_mnist")
    serving.signatures["serving_default"](images=uint8_batch)["probabilities"]

An entry's source is a file shipped inside the package (``package:NAME.tar.gz``) or an https
URL, downloaded once into the cache (``$TFZOO_CACHE``, else ``~/.cache/tfzoo``). Every load
reads the archive's bytes, checks their sha256 and only then unpacks and loads them; a cached
file that fails the check is replaced by a verified copy from the source, never loaded.
"""

import dataclasses
import hashlib
import io
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

PACKAGE_PREFIX = "package:"


class PretrainedError(ValueError):
    """An unknown name, or an archive whose bytes do not match the registry's sha256."""


@dataclasses.dataclass(frozen=True)
class PretrainedModel:
    """One pretrained SavedModel, with what it scores and how it was made."""

    name: str
    source: str  # "package:<file in tfzoo/pretrained_models>" or "https://..."
    sha256: str
    size: int  # bytes of the archive
    dataset: str
    model: str
    normalization: str
    init: str
    input_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    test_accuracy: float  # the SavedModel's accuracy on the official test split, recomputed by a test
    test_examples: int
    epochs: int
    training_seconds: float
    machine: str
    command: str

    @property
    def num_classes(self):
        return len(self.class_names)


_FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
_MACHINE = "2 CPU cores (x86_64), no GPU, shared with concurrent test runs; TensorFlow 2.21, Keras 3.15; tfzoo 0.1.0"

REGISTRY = {}


def register(entry):
    """Adds ``entry`` to the registry (names are unique)."""
    if entry.name in REGISTRY:
        raise PretrainedError(f"pretrained model {entry.name!r} is already registered")
    if not (entry.source.startswith(PACKAGE_PREFIX) or entry.source.startswith("https://")):
        raise PretrainedError(f"source must be 'package:FILE' or an https:// URL. Received: {entry.source!r}")
    REGISTRY[entry.name] = entry
    return entry


def names():
    """Names of the registered pretrained models, sorted."""
    return sorted(REGISTRY)


def info(name):
    """The ``PretrainedModel`` entry called ``name``."""
    if name not in REGISTRY:
        raise PretrainedError(f"unknown pretrained model {name!r}; accepted: {', '.join(names())}")
    return REGISTRY[name]


def cache_path(path=None):
    """``path``, else ``$TFZOO_CACHE``, else ``~/.cache/tfzoo``."""
    return Path(path or os.environ.get("TFZOO_CACHE") or Path.home() / ".cache" / "tfzoo")


def load(name, cache_dir=None):
    """The verified SavedModel ``name``, loaded with ``tf.saved_model.load``."""
    import tensorflow as tf

    entry = info(name)
    data = fetch_verified(entry, cache_dir)
    with tempfile.TemporaryDirectory(prefix=f"tfzoo-{name}-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            archive.extractall(tmp, filter="data")
        root = Path(tmp) / "saved_model"
        if not (root / "saved_model.pb").is_file():
            raise PretrainedError(f"archive of {name} has no saved_model/saved_model.pb")
        return tf.saved_model.load(str(root))


def measure_test_accuracy(name, *, data_dir=None, cache_dir=None, batch_size=1000):
    """(accuracy, examples) of the verified SavedModel ``name`` on its data set's official test split."""
    import numpy as np
    import tensorflow as tf

    from tfzoo.data import load_arrays

    entry = info(name)
    images, labels = load_arrays(entry.dataset, "test", data_dir)
    serving = load(name, cache_dir).signatures["serving_default"]
    classes = np.concatenate([
        serving(images=tf.constant(images[i:i + batch_size]))["classes"].numpy() for i in range(0, len(images), batch_size)
    ])
    return float(np.mean(classes == labels)), len(labels)


def fetch_verified(entry, cache_dir=None):
    """The archive bytes of ``entry``, checked against its sha256 (from the package or the cache)."""
    if entry.source.startswith(PACKAGE_PREFIX):
        data = _package_file(entry.source[len(PACKAGE_PREFIX):]).read_bytes()
        _check(entry, data, f"packaged file {entry.source}")
        return data
    cached = cache_path(cache_dir) / f"{entry.name}-{entry.sha256[:12]}.tar.gz"
    if cached.is_file():
        data = cached.read_bytes()
        if _sha256(data) == entry.sha256:
            return data
        print(f"tfzoo: cached {cached} fails its sha256 check; replacing it with a verified download",
              file=sys.stderr)
    data = _download(entry.source)
    _check(entry, data, f"download {entry.source}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=cached.parent, prefix=f".{cached.name}.", delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, cached)
    return data


def _check(entry, data, where):
    digest = _sha256(data)
    if digest != entry.sha256:
        raise PretrainedError(
            f"{where} for {entry.name} has sha256 {digest} ({len(data)} bytes), expected {entry.sha256} "
            f"({entry.size} bytes); refusing to load it"
        )


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _package_file(filename):
    import importlib_resources

    return importlib_resources.files("tfzoo") / "pretrained_models" / filename


def _download(url, timeout=60):
    with urllib.request.urlopen(url, timeout=timeout) as response, io.BytesIO() as buffer:
        shutil.copyfileobj(response, buffer)
        return buffer.getvalue()


register(PretrainedModel(
    name="wrn-10-2-zeroinit-fashion_mnist",
    source="package:wrn-10-2-zeroinit-fashion_mnist.tar.gz",
    sha256="4ecc0c2c7299577dc7ac95dac47a9e314447428ed073ba554bd47bf88a3a8582",
    size=2_279_353,
    dataset="fashion_mnist", model="wrn-10-2", normalization="none", init="zeroinit",
    input_shape=(28, 28, 1), class_names=_FASHION,
    test_accuracy=0.8598, test_examples=10_000, epochs=3, training_seconds=1483.3, machine=_MACHINE,
    command="python -m recipes.cifar_wrn --dataset=fashion_mnist --depth=10 --width=2 --normalization=none "
            "--init=zeroinit --batch_size=64 --lr=0.05 --epochs=3 --schedule=paper --seed=0 "
            "--output_dir=runs/pretrained/wrn-10-2-zeroinit-fashion_mnist && python -m export.saved_model "
            "--model=runs/pretrained/wrn-10-2-zeroinit-fashion_mnist/model.keras "
            "--output=exported/wrn-10-2-zeroinit-fashion_mnist",
))

register(PretrainedModel(
    name="wrn-10-2-bn-fashion_mnist",
    source="package:wrn-10-2-bn-fashion_mnist.tar.gz",
    sha256="57991e00186c8570ad78aed6782afc64883eb909053d668acdfed5ee27e6d3a3",
    size=2_301_918,
    dataset="fashion_mnist", model="wrn-10-2", normalization="batch_norm", init="standard",
    input_shape=(28, 28, 1), class_names=_FASHION,
    test_accuracy=0.9046, test_examples=10_000, epochs=3, training_seconds=1278.7, machine=_MACHINE,
    command="python -m recipes.cifar_wrn --dataset=fashion_mnist --depth=10 --width=2 --normalization=batch_norm "
            "--init=standard --batch_size=64 --lr=0.1 --epochs=3 --schedule=paper --seed=0 "
            "--output_dir=runs/pretrained/wrn-10-2-bn-fashion_mnist && python -m export.saved_model "
            "--model=runs/pretrained/wrn-10-2-bn-fashion_mnist/model.keras "
            "--output=exported/wrn-10-2-bn-fashion_mnist",
))

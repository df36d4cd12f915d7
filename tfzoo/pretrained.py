"""Pretrained models: a registry of entries, each archive verified by sha256 before it is read.

    import tfzoo
    tfzoo.list_models(pretrained=True)             # entries whose Keras weights load
    model = tfzoo.create_model(pretrained=NAME)    # Keras model: 0..255 pixels in, logits out
    model = tfzoo.create_model(pretrained=NAME, num_classes=3)                 # fresh classifier
    features = tfzoo.create_model(pretrained=NAME, include_top=False, pooling="avg")
    tfzoo.pretrained.info(NAME).test_accuracy
    serving = tfzoo.pretrained.load(NAME)          # the SavedModel, for serving
    serving.signatures["serving_default"](images=uint8_batch)["probabilities"]

An archive holds ``saved_model/`` (the serving export) and, for entries with
``keras_weights``, ``model.weights.h5``: the trained model's weights, which
``create_pretrained`` loads into ``create_model(entry.model, ...)`` built from the entry.

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

from tfzoo.transfer import transfer_weights

PACKAGE_PREFIX = "package:"
PAPER = ('"Batch normalization has multiple benefits: an empirical study on residual networks" '
         '(Soham De and Samuel L. Smith, ICLR 2020 submission)')


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
    precision: str = "fp32"  # what it was trained in (tfzoo.precision)
    keras_weights: bool = False  # the archive holds model.weights.h5 (create_model(pretrained=...))
    model_options: tuple = ()  # further create_model options it was trained with, as (key, value) pairs
    mean: tuple | None = None  # per-channel input statistics on the 0..255 scale; None: the data set's
    std: tuple | None = None
    license: str = "Apache-2.0"
    paper: str = PAPER
    lr_selection: str = ""  # how the learning rate was chosen (on a validation split, never the test set)

    @property
    def num_classes(self):
        return len(self.class_names)

    def input_normalization(self):
        """(mean, std) of the model's inputs on the 0..255 scale: the entry's, else its data set's."""
        if self.mean is not None:
            return tuple(self.mean), tuple(self.std)
        from tfzoo.data.specs import get_spec

        spec = get_spec(self.dataset)
        return spec.mean, spec.std

    def architecture(self, **overrides):
        """The ``ModelOptions`` that rebuild this entry's trained architecture, with ``overrides``."""
        from tfzoo.models.options import ModelOptions

        return ModelOptions.from_kwargs(**{**dict(self.model_options), "normalization": self.normalization,
                                           "init": self.init, "num_classes": self.num_classes,
                                           "input_shape": tuple(self.input_shape), **overrides})


WEIGHTS_MEMBER = "model.weights.h5"

REGISTRY = {}


def register(entry):
    """Adds ``entry`` to the registry (names are unique)."""
    if entry.name in REGISTRY:
        raise PretrainedError(f"pretrained model {entry.name!r} is already registered")
    if not (entry.source.startswith(PACKAGE_PREFIX) or entry.source.startswith("https://")):
        raise PretrainedError(f"source must be 'package:FILE' or an https:// URL. Received: {entry.source!r}")
    REGISTRY[entry.name] = entry
    return entry


def names(with_weights=False):
    """Names of the registered pretrained models, sorted; ``with_weights``: only those whose
    Keras weights ``create_model(pretrained=...)`` loads."""
    return sorted(name for name, entry in REGISTRY.items() if entry.keras_weights or not with_weights)


def info(name):
    """The ``PretrainedModel`` entry called ``name``."""
    if name not in REGISTRY:
        raise PretrainedError(f"unknown pretrained model {name!r}; accepted: {', '.join(names())}")
    return REGISTRY[name]


def cache_path(path=None):
    """``path``, else ``$TFZOO_CACHE``, else ``~/.cache/tfzoo``."""
    return Path(path or os.environ.get("TFZOO_CACHE") or Path.home() / ".cache" / "tfzoo")


def load(name, cache_dir=None):
    """The verified SavedModel ``name``, loaded with ``tf.saved_model.load`` (``load_archive``)."""
    return load_archive(fetch_verified(info(name), cache_dir), what=f"archive of {name}")


def load_archive(data, *, what):
    """The SavedModel in the archive bytes ``data`` (its ``saved_model/``), loaded with
    ``tf.saved_model.load``; unpacked with ``tfzoo.archives.safe_extract``, which refuses any member
    that is not a plain file or folder inside the archive's root, on every Python this package
    supports. ``what`` names the archive in the one-line ``PretrainedError``."""
    import tensorflow as tf

    from tfzoo.archives import ArchiveError, safe_extract

    with tempfile.TemporaryDirectory(prefix="tfzoo-archive-") as tmp:
        try:
            safe_extract(data, tmp, what=what)
        except ArchiveError as error:
            raise PretrainedError(str(error)) from None
        root = Path(tmp) / "saved_model"
        if not (root / "saved_model.pb").is_file():
            raise PretrainedError(f"{what} has no saved_model/saved_model.pb")
        return tf.saved_model.load(str(root))


def create_pretrained(name, *, model=None, num_classes=None, include_top=True, pooling=None, cache_dir=None,
                      **options):
    """The Keras model of pretrained entry ``name`` (what ``create_model(pretrained=name)`` returns).

    The archive is verified by sha256 before anything in it is read. The model takes pixels on
    the 0..255 scale (uint8 or float; the entry's normalization is its first layer) and returns
    logits. ``num_classes`` other than the entry's: every weight but the classifier is loaded
    and the classifier is new (initialised as the entry's scheme initialises it), which is
    printed on one line. ``include_top=False`` with ``pooling`` None, "avg" or "max": the
    feature extractor of ``keras.applications``. Raises ``PretrainedError`` for an unknown name,
    an entry without Keras weights, an option the entry fixes, or a damaged archive.
    """
    from tfzoo.models.registry import create_model

    entry = info(name)
    if options:
        raise PretrainedError(
            f"create_model(pretrained={name!r}) takes only num_classes, include_top and pooling: the architecture "
            f"and scheme come from the entry. Received: {', '.join(f'{k}={v!r}' for k, v in sorted(options.items()))}")
    if model is not None and model != entry.model:
        raise PretrainedError(f"pretrained model {name!r} is a {entry.model}. Received: name={model!r}")
    if not entry.keras_weights:
        raise PretrainedError(
            f"pretrained model {name!r} ships a SavedModel only (tfzoo.pretrained.load); entries with Keras "
            f"weights: {', '.join(names(with_weights=True)) or 'none'}")
    new_classes = num_classes is not None and num_classes != entry.num_classes and include_top
    target = create_model(entry.model, options=entry.architecture(
        num_classes=num_classes if new_classes else entry.num_classes, include_top=include_top, pooling=pooling,
        input_normalization=entry.input_normalization()))
    source = _entry_source(entry, cache_dir)
    skipped = transfer_weights(source, target, skip=("classifier",) if new_classes else (), error=PretrainedError)
    if skipped:
        print(f"tfzoo: {name}: loaded every weight but the classifier ({', '.join(skipped)}); new classifier "
              f"of {num_classes} classes (the entry has {entry.num_classes})", file=sys.stderr)
    return target


def _entry_source(entry, cache_dir=None):
    """The entry's trained architecture (standardized images in) with its verified weights."""
    from tfzoo.models import folding
    from tfzoo.models.registry import create_model

    source = create_model(entry.model, options=entry.architecture())
    data = fetch_verified(entry, cache_dir)
    with tempfile.TemporaryDirectory(prefix=f"tfzoo-{entry.name}-") as tmp:
        path = Path(tmp) / WEIGHTS_MEMBER
        path.write_bytes(_read_member(data, WEIGHTS_MEMBER, entry.name))
        try:  # archives packed before the multiplier was folded into its convolution load too
            folding.load_weights(source, path, lambda: create_model(
                entry.model, options=entry.architecture().replace(fold_multiplier=False)))
        except (ValueError, OSError) as error:
            raise PretrainedError(f"{WEIGHTS_MEMBER} of {entry.name} does not fit {entry.model} ({entry.normalization}/"
                                  f"{entry.init}): {' '.join(str(error).split())[:300]}") from None
    return source


def check_init_from(value):
    """Raises ValueError unless ``value`` names a pretrained entry with Keras weights or an
    existing ``.keras`` file (a zip archive holding a Keras model's config.json)."""
    import zipfile

    if value in REGISTRY:
        if not REGISTRY[value].keras_weights:
            raise PretrainedError(f"init_from={value!r} ships a SavedModel only; accepted: a .keras file or one of "
                                  f"{', '.join(names(with_weights=True)) or 'none'}")
        return
    path = Path(value).expanduser()
    if not path.is_file():
        raise PretrainedError(f"init_from={value!r} is neither a pretrained model ("
                              f"{', '.join(names(with_weights=True)) or 'none with weights'}) nor an existing .keras file")
    try:
        with zipfile.ZipFile(path) as archive:
            if "config.json" not in archive.namelist():
                raise zipfile.BadZipFile("no config.json")
    except (zipfile.BadZipFile, OSError) as error:
        raise PretrainedError(f"init_from={value} is not a Keras model file (.keras): {error}") from None


def initialize_from(model, init_from, cache_dir=None):
    """Loads into ``model`` the weights of a pretrained entry or a ``.keras`` file, layer by
    layer by name; a classifier of another shape stays as initialised (fine-tuning on new
    classes), which is printed on one line. Raises ``PretrainedError`` if anything else differs."""
    import keras

    check_init_from(init_from)
    if init_from in REGISTRY:
        source = _entry_source(REGISTRY[init_from], cache_dir)
    else:
        try:
            source = keras.saving.load_model(Path(init_from).expanduser(), compile=False)
        except Exception as error:  # Keras raises many types for a file it cannot rebuild
            raise PretrainedError(f"init_from={init_from} cannot be loaded as a Keras model: "
                                  f"{type(error).__name__}: {' '.join(str(error).split())[:300]}") from None
    kept = transfer_weights(source, model, replace=("classifier",), adapt_channels=("stem_conv",),
                            error=PretrainedError)
    fresh = f"; kept the new {', '.join(kept)} ({model.output.shape[-1]} classes)" if kept else ""
    print(f"tfzoo: initialised {model.name} from {init_from}: every other weight loaded{fresh}", file=sys.stderr)


def _read_member(data, member, name):
    """The bytes of one regular file of a verified archive, read without extracting anything."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            info_ = archive.getmember(member)
            if not info_.isfile():
                raise PretrainedError(f"archive of {name}: {member} is not a regular file")
            return archive.extractfile(info_).read()
    except KeyError:
        raise PretrainedError(f"archive of {name} has no {member}") from None
    except (tarfile.TarError, OSError, EOFError) as error:
        raise PretrainedError(f"archive of {name} cannot be read: {type(error).__name__}: {error}") from None


def measure_test_accuracy(name, *, data_dir=None, cache_dir=None, batch_size=1000):
    """(accuracy, examples) of the verified SavedModel ``name`` on its data set's official test split."""
    return saved_model_test_accuracy(load(name, cache_dir), info(name).dataset, data_dir=data_dir,
                                     batch_size=batch_size)


def saved_model_test_accuracy(saved_model, dataset, *, data_dir=None, batch_size=1000):
    """(accuracy, examples) of a loaded SavedModel's ``serving_default`` (uint8 images in,
    ``classes`` out) on the test split of ``dataset``."""
    import numpy as np
    import tensorflow as tf

    from tfzoo.data import load_arrays

    images, labels = load_arrays(dataset, "test", data_dir)
    serving = saved_model.signatures["serving_default"]
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


from tfzoo import pretrained_entries  # noqa: E402,F401  (registers the shipped entries; imports this module's names)

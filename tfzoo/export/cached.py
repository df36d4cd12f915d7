"""The SavedModel of a pretrained entry, built from its preset on first use and cached, verified like a download.

    serving = tfzoo.pretrained.load("wrn-16-2-bn-fashion_mnist")
    serving.signatures["serving_default"](images=uint8_batch)["probabilities"]

The zoo ships presets (weights, not graphs). The first ``load`` of an entry exports its SavedModel
(``tfzoo.export``, checked against Keras in TensorFlow before it is kept) into the cache
(``$TFZOO_CACHE``, else ``~/.cache/tfzoo``) as ``saved_model/NAME-SHA12-sV/`` (V: the signatures' version), beside ``manifest.json``: the sha256
of every file of it and of the archive it was built from. Every later ``load`` checks those hashes before
TensorFlow reads a byte; a cache that fails the check is rebuilt from the verified archive, never loaded.
"""

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from tfzoo.data import DataError, get_spec, load_arrays
from tfzoo.data.folder import NAME as FOLDER
from tfzoo.data.folder import load_labelled
from tfzoo.export import export
from tfzoo.export.source import load_source
from tfzoo.export.to_saved_model import SIGNATURES_VERSION
from tfzoo.pretrained.fetch import cache_path
from tfzoo.pretrained.registry import info

MANIFEST = "manifest.json"


def load(name, cache_dir=None):
    """The verified SavedModel of pretrained entry ``name``, loaded with ``tf.saved_model.load``."""
    import tensorflow as tf  # here, not at import: the registry and presets load on JAX or PyTorch alone

    return tf.saved_model.load(str(saved_model_path(name, cache_dir)))


def saved_model_path(name, cache_dir=None):
    """The folder of the cached, verified SavedModel of entry ``name``, exported first if it is not there."""
    entry = info(name)
    root = cache_path(cache_dir) / "saved_model"
    folder = root / f"{entry.name}-{entry.sha256[:12]}-s{SIGNATURES_VERSION}"  # older signatures: not reused
    if folder.is_dir():
        if _verified(folder, entry):
            return folder / "saved_model"
        print(f"tfzoo: cached SavedModel {folder} fails its sha256 check; exporting it again from the verified "
              "archive", file=sys.stderr)
        shutil.rmtree(folder)
    root.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=root))
    try:
        export(load_source(pretrained=name), staged / "saved_model", "saved_model")
        files = {str(p.relative_to(staged)): _sha256(p) for p in sorted(staged.rglob("*")) if p.is_file()}
        (staged / MANIFEST).write_text(json.dumps({"archive_sha256": entry.sha256, "files": files}, indent=2) + "\n")
        os.replace(staged, folder)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return folder / "saved_model"


def _verified(folder, entry):
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    files = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} - {MANIFEST}
    if manifest.get("archive_sha256") != entry.sha256 or files != set(manifest.get("files", {})):
        return False
    return all(_sha256(folder / path) == digest for path, digest in manifest["files"].items())


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def measure_test_accuracy(name_or_folder, *, data_dir=None, dataset=None, batch_size=500):
    """(accuracy, examples) of a pretrained entry's or preset's Keras model on the test split of its data set
    (``data_dir``: where that data set lies, as for training), or of ``dataset`` (a name of
    ``tfzoo.data.names()`` whose classes are the model's, in its order: CIFAR-10's official pixels for a model
    trained on CIFAR-10 as JPEG files). A model trained on an image folder is measured on ``data_dir``'s
    ``test/`` alone (a folder or archive that need not hold ``train/``), labelled by the model's class names."""
    source = load_source(pretrained=name_or_folder)
    spec = source.spec
    if dataset is not None and dataset != FOLDER:
        other = get_spec(dataset, data_dir)
        if other.class_names != spec.class_names or other.image_shape != spec.image_shape:
            raise DataError(f"dataset {dataset} ({other.num_classes} classes {', '.join(other.class_names)}; "
                            f"{other.image_shape}) is not what {name_or_folder} was trained on ({spec.num_classes} "
                            f"classes {', '.join(spec.class_names)}; {spec.image_shape}); accepted: a data set with "
                            "the model's classes, in its order, and image shape")
        images, labels = load_arrays(dataset, "test", data_dir)
    elif spec.name == FOLDER or dataset == FOLDER:
        images, labels = load_labelled(data_dir, "test", spec.class_names, spec.image_shape)
    else:
        images, labels = load_arrays(spec.name, "test", data_dir, image_size=spec.image_shape[:2])
    logits = np.concatenate([np.asarray(source.model(images[i:i + batch_size].astype(np.float32), training=False))
                             for i in range(0, len(images), batch_size)])
    return float(np.mean(logits.argmax(-1) == labels)), len(labels)

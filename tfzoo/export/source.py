"""Where an export starts: a ``Source`` from a run folder or ``.keras`` file, a pretrained name, or
a Keras model in memory."""

import json
from pathlib import Path

import keras

from tfzoo import serialization  # noqa: F401  (registers what a run's model.keras names: the EpochSchedule)
from tfzoo.data.catalog import get_spec
from tfzoo.data.specs import DatasetSpec
from tfzoo.export.common import ExportError, Source, first_line, sha256_file
from tfzoo.pretrained.loading import opened
from tfzoo.pretrained.presets import load_preset, read_preset
from tfzoo.version import __version__


def load_source(model=None, pretrained=None, dataset=None):
    """A ``Source`` from a ``.keras`` file or run folder (``model``), or a pretrained name or preset folder.

    For a run, the data set defaults to the ``dataset`` of the ``config.json`` beside the model;
    for a preset it is the one its metadata.json records. Raises ``ExportError`` with one line on failure.
    """
    if (model is None) == (pretrained is None):
        raise ExportError("pass exactly one of --model (a .keras file or run folder) and --pretrained (a name)")
    metadata = {"tfzoo": __version__}
    if pretrained is not None:
        with opened(pretrained) as folder:  # PretrainedError (a ValueError) names the accepted names
            keras_model = load_preset(folder)
            card = read_preset(folder)[2]
        spec = preset_spec(card, pretrained)
        metadata.update(pretrained=str(pretrained), results={"test_accuracy": card.get("test_accuracy")})
        return _checked(Source(keras_model, spec, metadata, preprocessed=True), dataset)
    path = Path(model)
    keras_path = path / "model.keras" if path.is_dir() else path
    if not keras_path.is_file():
        where = f"{path} holds no model.keras" if path.is_dir() else f"model file {path} not found"
        raise ExportError(f"{where} (expected a .keras file or run folder written by a recipe)")
    try:
        keras_model = keras.saving.load_model(keras_path)
    except Exception as error:  # noqa: BLE001  (a user's file: any failure is one line, not a traceback)
        raise ExportError(f"cannot load {keras_path}: {first_line(error)}") from None
    run = _run_info(keras_path.parent)
    dataset = dataset or run.get("config", {}).get("dataset")
    if dataset is None:
        raise ExportError("dataset is unknown: pass --dataset (no config.json beside the model says it)")
    metadata.update(run, source_model=str(keras_path), source_sha256=sha256_file(keras_path))
    recorded = run.get("dataset_spec")  # a run on the user's own data (folder, tfds:NAME) records its spec
    if recorded and recorded.get("name") == dataset:
        spec = DatasetSpec.from_dict(recorded)
    else:
        spec = get_spec(dataset)
    return _checked(Source(keras_model, spec, metadata, path=path), None)


def source_from_model(model, dataset):
    """A ``Source`` for a Keras model in memory that takes normalized ``dataset`` images (as a
    recipe trains it); ``dataset`` is a name or a ``DatasetSpec``."""
    spec = dataset if isinstance(dataset, DatasetSpec) else get_spec(dataset)
    return _checked(Source(model, spec, {"tfzoo": __version__}), spec.name)


def _checked(source, dataset):
    shape = tuple(source.model.input_shape[1:])
    if shape != tuple(source.spec.image_shape):
        named = dataset or source.spec.name
        raise ExportError(f"the model takes inputs of shape {list(shape)} but {named} images are "
                          f"{list(source.spec.image_shape)}; pass the --dataset it was trained on")
    return source


def _run_info(run_dir):
    """The config and headline results of the recipe run that wrote a model.keras, if present."""
    info = {}
    for name, keys in (("config.json", None), ("results.json", ("test_accuracy", "test_loss", "train_loss", "epochs"))):
        path = run_dir / name
        if path.is_file():
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError) as error:
                raise ExportError(f"cannot read {path}: {error}") from None
            info["config" if keys is None else "results"] = data if keys is None else {k: data.get(k) for k in keys}
            if keys is not None and data.get("dataset_spec"):
                info["dataset_spec"] = data["dataset_spec"]
    return info


def preset_spec(card, where):
    """The ``DatasetSpec`` a preset's metadata.json records (its ``dataset_spec``), else its data set's by name."""
    if card.get("dataset_spec"):
        return DatasetSpec.from_dict(card["dataset_spec"])
    try:
        return get_spec(card.get("dataset"))
    except ValueError:
        raise ExportError(f"the metadata.json of {where} names no dataset_spec and no known dataset "
                          f"({card.get('dataset')!r}): its classes and input statistics are unknown") from None

"""Presets: a model as a folder of data, in keras-hub's layout, saved and loaded without executing anything.

    tfzoo.save_preset(model, "my-model/", metadata={"dataset": "my photos"})
    model = tfzoo.create_model(pretrained="my-model/")

A preset folder holds three files:

- ``config.json``: what builds the model, as keras-hub writes a backbone's config: ``{"module": "tfzoo",
  "class_name": "create_model", "config": {"name": "wrn-16-4", "options": {...}}}``, the options being every
  field of ``ModelOptions``; loading calls ``create_model(name, options=ModelOptions(**options))`` and nothing
  else, so a file naming any other module or function is refused.
- ``model.weights.h5``: the weights, ``keras.Model.save_weights``'s format.
- ``metadata.json`` (optional on reading): the model card (data set and its spec, class names, accuracy, command, machine, what it
  was trained from) beside ``keras_version``, ``tfzoo_version`` and ``parameter_count`` as keras-hub records
  them.

The pretrained zoo ships presets as reproducible ``.tar.gz`` files of those three members (``preset_archive``);
SavedModel, LiteRT and ONNX are exports built from them. Nothing here imports TensorFlow.
"""

import dataclasses
import gzip
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

import keras

from tfzoo.models.options import ModelOptions
from tfzoo.models.registry import build_model
from tfzoo.pretrained.registry import PretrainedError
from tfzoo.transfer import transfer_weights
from tfzoo.version import __version__

CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
METADATA = "metadata.json"
FILES = (CONFIG, WEIGHTS, METADATA)
_BUILDER = {"module": "tfzoo", "class_name": "create_model", "registered_name": "tfzoo>create_model"}
_TUPLES = ("input_shape", "input_normalization")


class PresetError(PretrainedError):
    """A preset folder or archive that cannot be saved or loaded; the message is one line naming the file."""


def architecture_of(model):
    """(model name, ``ModelOptions``) that ``build_model`` recorded on ``model``, or None for a model it did not
    build (one read back from a ``.keras`` file, say)."""
    return getattr(model, "_tfzoo_architecture", None)


def save_preset(model, directory, *, metadata=None, architecture=None, overwrite=False):
    """Writes ``model`` as the preset folder ``directory`` (config.json, model.weights.h5, metadata.json).

    ``architecture``: (model name, ``ModelOptions``), by default what ``create_model`` recorded on the model
    (a model built by ``tfzoo.create_model``, pretrained or not, fine-tuned or not). ``metadata``: the card,
    JSON data (``dataset``, ``class_names``, ``test_accuracy``, ``command``, ...). The folder is written beside
    its destination and renamed into place, so a failure leaves nothing; an existing non-empty ``directory``
    is refused unless ``overwrite``. Returns the folder's path.
    """
    architecture = architecture or architecture_of(model)
    if architecture is None:
        raise PresetError(f"save_preset: {model.name} was not built by tfzoo.create_model, so its architecture is "
                          "unknown; pass architecture=(model name, tfzoo.ModelOptions(...))")
    name, options = architecture
    target = Path(directory).expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())) and not overwrite:
        raise PresetError(f"save_preset: {target} already exists and is not empty; choose a new folder or pass "
                          "overwrite=True")
    config = {**_BUILDER, "config": {"name": name, "options": _jsonable(options.as_dict())}}
    card = {"keras_version": _keras_version(), "tfzoo_version": __version__,
            "parameter_count": int(model.count_params()), **(metadata or {})}
    try:
        card_text = json.dumps(_jsonable(card), indent=2, sort_keys=True) + "\n"
    except (TypeError, ValueError) as error:
        raise PresetError(f"save_preset: metadata is not JSON data ({error})") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        (staged / CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        model.save_weights(staged / WEIGHTS)
        (staged / METADATA).write_text(card_text)
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        os.replace(staged, target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return target


def is_preset(path):
    """Whether ``path`` is a folder holding a preset's config.json."""
    return Path(path).expanduser().is_dir() and (Path(path).expanduser() / CONFIG).is_file()


def read_preset(directory):
    """(model name, ``ModelOptions``, metadata dict) of a preset folder, read as data only; ``PresetError``
    naming the file for anything missing, unreadable or naming a builder other than tfzoo's."""
    root = Path(directory).expanduser()
    missing = [f for f in (CONFIG, WEIGHTS) if not (root / f).is_file()]
    if missing:
        raise PresetError(f"{root} is not a tfzoo preset: it has no {', '.join(missing)} "
                          f"(a preset holds {', '.join(FILES)})")
    config = _read_json(root / CONFIG)
    builder = {key: config.get(key) for key in ("module", "class_name")}
    if builder != {key: _BUILDER[key] for key in builder} or not isinstance(config.get("config"), dict):
        raise PresetError(f"{root / CONFIG} names {builder.get('module')!r}.{builder.get('class_name')!r}; a tfzoo "
                          "preset is built by 'tfzoo'.'create_model' only, and nothing else is executed: refusing it")
    body = config["config"]
    name, options = body.get("name"), body.get("options")
    if not isinstance(name, str) or not isinstance(options, dict):
        raise PresetError(f"{root / CONFIG}: config needs a model 'name' (string) and 'options' (object)")
    try:
        options = ModelOptions.from_kwargs(**{k: _tuples(v) if k in _TUPLES else v for k, v in options.items()})
    except (TypeError, ValueError) as error:
        raise PresetError(f"{root / CONFIG}: {error}") from None
    metadata = _read_json(root / METADATA) if (root / METADATA).is_file() else {}  # optional, as in keras-hub
    return name, options, metadata


def load_preset(directory, *, num_classes=None, include_top=True, pooling=None):
    """The Keras model of a preset folder with its weights (``create_model(pretrained=FOLDER)``).

    Built once from config.json and given model.weights.h5; ``num_classes`` other than the preset's keeps
    every weight but the classifier, which starts as the preset's scheme initialises it (printed on one line),
    and ``include_top=False`` with ``pooling`` makes a feature extractor; both read the weights into the
    preset's own architecture first and copy them across by layer name.
    """
    root = Path(directory).expanduser()
    name, options, _ = read_preset(root)
    new_classes = num_classes is not None and num_classes != options.num_classes and include_top
    if not new_classes and include_top and pooling is None:
        return _with_weights(build_model(name, options=options), root)
    try:
        target = build_model(name, options=options.replace(
            num_classes=num_classes if new_classes else options.num_classes, include_top=include_top, pooling=pooling))
    except ValueError as error:
        raise PresetError(f"create_model(pretrained={str(directory)!r}): {error}") from None
    source = _with_weights(build_model(name, options=options), root)
    skipped = transfer_weights(source, target, skip=("classifier",) if new_classes else (), error=PresetError)
    if skipped:
        print(f"tfzoo: {root.name}: loaded every weight but the classifier ({', '.join(skipped)}); new classifier "
              f"of {num_classes} classes (the preset has {options.num_classes})", file=sys.stderr)
    return target


def preset_archive(directory):
    """The bytes of a reproducible ``.tar.gz`` of a preset folder's three files (sorted, owned by 0:0, mtime 0,
    no gzip timestamp): what the zoo ships and ``fetch_verified`` checks by sha256."""
    root = Path(directory)
    read_preset(root)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name in sorted(f for f in FILES if (root / f).is_file()):
                data = (root / name).read_bytes()
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o644, 0
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unpack_preset(data, directory, *, what):
    """Writes the three preset files of the verified archive bytes ``data`` into ``directory`` (read member
    by member: nothing but those regular files is written). ``what`` names the archive in errors."""
    directory = Path(directory)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for name in FILES:
                try:
                    member = archive.getmember(name)
                except KeyError:
                    if name == METADATA:
                        continue
                    raise PresetError(f"{what} has no {name}; a preset archive holds {', '.join(FILES)}") from None
                if not member.isfile():
                    raise PresetError(f"{what}: {name} is not a regular file")
                (directory / name).write_bytes(archive.extractfile(member).read())
    except (tarfile.TarError, OSError, EOFError) as error:
        raise PresetError(f"{what} cannot be read: {type(error).__name__}: {error}") from None
    return directory


def _with_weights(model, root):
    path = root / WEIGHTS
    try:
        model.load_weights(path)
    except (ValueError, OSError, KeyError, TypeError) as error:  # h5py: OSError/KeyError; Keras: ValueError
        raise PresetError(f"{path} does not fit the model of {root / CONFIG} ({model.name}): "
                          f"{type(error).__name__}: {' '.join(str(error).split())[:300]}") from None
    return model


def _read_json(path):
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise PresetError(f"{path} is not readable JSON: {' '.join(str(error).split())[:200]}") from None
    if not isinstance(value, dict):
        raise PresetError(f"{path} holds {type(value).__name__}, not a JSON object")
    return value


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _jsonable(value):
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # NumPy scalars
        return value.item()
    return value


def _keras_version():
    return keras.__version__

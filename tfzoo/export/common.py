"""What every export format shares: the formats and their files, the metadata key, the
tolerances, ``ExportError``, the ``Source`` being exported, Keras's reference probabilities
(``predict``), the serving model the converters take, ``read_metadata`` and the converter guard."""

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np

from tfzoo.inference import predict_proba

FORMATS = ("saved_model", "litert", "litert_int8", "onnx")
FILENAMES = {"litert": "model.tflite", "litert_int8": "model.tflite", "onnx": "model.onnx"}
METADATA = Path("assets.extra") / "tfzoo.json"  # inside a SavedModel
METADATA_KEY = "tfzoo.json"  # the .tflite metadata entry and the ONNX metadata_props key
SIGNATURES = ("serving_default", "serving_encoded")
FLOAT_TOLERANCE = 1e-4  # largest |exported - Keras| probability accepted for float formats
INT8_TOLERANCE = 0.25  # int8 rounds; a wrongly converted layer moves probabilities far more
CALIBRATION_IMAGES = 256
PREDICT_BATCH = 500


class ExportError(ValueError):
    """A model that cannot be loaded or converted, or an output that would overwrite its source."""


@dataclasses.dataclass(frozen=True)
class Source:
    """A Keras model to export, with what it needs: ``preprocessed`` says whether it takes 0-255
    pixels itself (pretrained models) or normalized ones (a run's model.keras); ``path`` is the
    file or folder it was read from (None for a pretrained model)."""

    model: object
    spec: object  # tfzoo.data.DatasetSpec: image shape, classes, mean/std
    metadata: dict
    preprocessed: bool = False
    path: Path | None = None


def predict(source, images):
    """Keras's probabilities for uint8 ``images``: what every export must reproduce."""
    if source.preprocessed:
        import keras

        def probabilities(batch):
            logits = source.model(np.asarray(batch, np.float32), training=False)
            return np.asarray(keras.ops.softmax(keras.ops.cast(logits, "float32"), axis=-1), np.float32)

        # In batches: one call on a whole test set holds every activation of 10,000 images at once.
        return np.concatenate([probabilities(images[i:i + PREDICT_BATCH]) for i in range(0, len(images), PREDICT_BATCH)])
    return predict_proba(source.model, images, source.spec)


def serving_model(source, input_dtype="uint8"):
    """A Keras model: ``images`` (0-255 pixels, ``input_dtype``) -> ``{"probabilities": ...}``,
    normalization and softmax inside; what the LiteRT and ONNX exports convert."""
    import keras

    spec = source.spec
    images = keras.Input(spec.image_shape, dtype=input_dtype, name="images")
    x = keras.ops.cast(images, "float32")
    if not source.preprocessed:
        x = (x - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    logits = source.model(x, training=False)
    probabilities = keras.layers.Softmax(dtype="float32", name="probabilities")(keras.ops.cast(logits, "float32"))
    return keras.Model(images, {"probabilities": probabilities}, name=f"{source.model.name}_serving")


def read_metadata(path):
    """The tfzoo metadata of an export: a SavedModel folder, a ``.tflite`` or an ``.onnx`` file, or
    a folder holding one of those files. Raises ``ExportError`` when there is none."""
    path = Path(path)
    if path.is_dir():
        if (path / METADATA).is_file():
            return json.loads((path / METADATA).read_text())
        for name in sorted(set(FILENAMES.values())):
            if (path / name).is_file():
                return read_metadata(path / name)
        raise ExportError(f"{path} is not a tfzoo export: no {METADATA}, {' or '.join(sorted(set(FILENAMES.values())))}")
    if path.suffix == ".tflite":
        from tensorflow.lite.tools import flatbuffer_utils

        model = flatbuffer_utils.read_model(str(path))
        for entry in model.metadata or []:
            if entry.name.decode() == METADATA_KEY:
                return json.loads(bytes(model.buffers[entry.buffer].data).decode())
    elif path.suffix == ".onnx" and path.is_file():
        import onnx

        for prop in onnx.load(str(path), load_external_data=False).metadata_props:
            if prop.key == METADATA_KEY:
                return json.loads(prop.value)
    raise ExportError(f"{path} is not a tfzoo export: no {METADATA_KEY} metadata")


def sha256_file(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def tf_error_line(error):
    """The one informative line of a TensorFlow runtime error (not "Graph execution error:")."""
    for line in error.message.splitlines():
        line = line.strip()
        if line and not line.startswith(("Graph execution error", "Detected at node", "<stack traces", "[[")):
            return line.split(" [Op:")[0]
    return error.message.splitlines()[0]


def signature(model):
    import tensorflow as tf

    return [tf.TensorSpec([None, *model.input_shape[1:]], model.inputs[0].dtype, name="images")]


def converting(format, convert):  # returns what ``convert`` returns
    """Runs a converter; its failure (an op or layer it cannot convert) becomes one ExportError line.
    The converters' own logs are quieted: tf2onnx logs a traceback when one of its graph optimizers
    gives up (its transpose optimizer on a scalar bias, as in Fixup) and goes on without it; the
    runtime check after conversion is what says whether the result is right."""
    import logging
    import warnings

    loggers = [logging.getLogger(name) for name in ("tf2onnx", "tensorflow")]  # tf: deprecation notices
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return convert()
    except ExportError:
        raise
    except Exception as error:  # noqa: BLE001  (converters raise many types; the message is what matters)
        raise ExportError(f"the model cannot be converted to {format}: {first_line(error)}") from None
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def first_line(error):
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]

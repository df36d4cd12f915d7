"""Export a tfzoo model for serving: SavedModel, LiteRT (float32 or full-integer int8) or ONNX.

    from tfzoo import export
    source = export.load_source(model="runs/demo")          # a run folder or its model.keras
    source = export.load_source(pretrained="wrn-16-2-bn-fashion_mnist")
    export.export(source, "exported/demo_litert", "litert")  # -> exported/demo_litert/model.tflite

Every format takes uint8 pixels ``[N, H, W, C]`` (0-255) and returns ``probabilities`` float32
``[N, classes]``: the normalization the model was trained with and the softmax run inside the
exported graph, as in the SavedModel's ``serving_default`` signature. Each carries the same
metadata (dataset, class names, input shape, mean/std, the run's config and results):
``assets.extra/tfzoo.json`` in a SavedModel, a ``tfzoo.json`` metadata entry in a ``.tflite``
flatbuffer, ``metadata_props["tfzoo.json"]`` in an ``.onnx`` file (``read_metadata`` reads all three).

- ``saved_model``: ``serving_default(images)`` (uint8) and ``serving_encoded(encoded_images)``
  (PNG/JPEG/BMP/GIF bytes), each returning ``probabilities`` and ``classes``.
- ``litert``: float32 inside, built-in LiteRT ops only (no TensorFlow "Flex" ops).
- ``litert_int8``: full-integer quantization calibrated on a fixed draw of the training split;
  uint8 in (scale 1, zero point 0: the raw pixels), float32 probabilities out.
- ``onnx``: Keras's own ONNX export (``Model.export(format="onnx")``, tf2onnx on TensorFlow).

Each export is run in its own runtime (TensorFlow, the LiteRT interpreter, ONNX Runtime) on test
images before it is moved into place: a float export whose probabilities differ from Keras's by
more than ``FLOAT_TOLERANCE`` raises ``ExportError`` and writes nothing, so a layer that converts
wrongly never yields a silently wrong model. Nothing is written over or inside the source.

One module per part: ``source`` (what is exported), ``to_saved_model``, ``to_litert`` and
``to_onnx`` (one format each), ``common`` (what they share); ``export`` here writes, checks and
moves into place whichever format is asked for.
"""

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from tfzoo import inference
from tfzoo.data import load_arrays
from tfzoo.export.common import (CALIBRATION_IMAGES, FILENAMES, FLOAT_TOLERANCE, FORMATS, INT8_TOLERANCE, METADATA,
                                 METADATA_KEY, PREDICT_BATCH, SIGNATURES, ExportError, Source, first_line, predict,
                                 read_metadata, serving_model, sha256_file, tf_error_line)
from tfzoo.export.source import load_source, source_from_model
from tfzoo.export.to_litert import write_litert
from tfzoo.export.to_onnx import write_onnx
from tfzoo.export.to_saved_model import write_saved_model

__all__ = ["CALIBRATION_IMAGES", "FILENAMES", "FLOAT_TOLERANCE", "FORMATS", "INT8_TOLERANCE", "METADATA", "METADATA_KEY",
           "PREDICT_BATCH", "SIGNATURES", "ExportError", "Source", "export", "load_source", "predict", "read_metadata",
           "serving_model", "sha256_file", "source_from_model", "tf_error_line"]


def export(source, output_dir, format, *, overwrite=False, calibration_images=None, data_dir=None):
    """Writes ``source`` in ``format`` and checks it in its runtime; returns its metadata, with
    ``path`` (what was written) and ``check``: max |exported - Keras| probability and top-1
    agreement on 64 images (random pixels; for int8, calibration images).

    ``saved_model`` writes the folder ``output_dir``; the others write ``output_dir/model.tflite``
    or ``output_dir/model.onnx``. int8 calibrates on ``calibration_images`` (uint8) or on a fixed
    draw of ``CALIBRATION_IMAGES`` training images (``data_dir``: where the data set lies).
    """
    if format not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}. Received: {format!r}")
    output_dir = Path(output_dir)
    target = output_dir if format == "saved_model" else output_dir / FILENAMES[format]
    _check_not_over_source(source, output_dir, target)
    if target.exists() and not overwrite:
        raise ExportError(f"{target} already exists; choose another --output_dir or pass --overwrite")
    spec = source.spec
    metadata = {
        **source.metadata, "format": format, "dataset": spec.name, "class_names": list(spec.class_names),
        "num_classes": spec.num_classes, "image_shape": list(spec.image_shape), "mean": list(spec.mean),
        "std": list(spec.std), "model_name": source.model.name,
        "input": "images: uint8 [N, H, W, C], pixels 0-255", "output": "probabilities: float32 [N, classes]",
    }
    if format == "litert_int8" and calibration_images is None:
        calibration_images = _calibration_draw(spec, data_dir)
    # Float exports are checked on random pixels (every input must match); int8 on real images,
    # since quantization ranges are calibrated for those.
    images = calibration_images[:64] if format == "litert_int8" else _check_images(spec)
    expected = predict(source, images)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        written = tmp / target.name
        if format == "saved_model":
            write_saved_model(source, written, metadata)
        elif format == "onnx":
            write_onnx(source, written, metadata)
        else:
            if format == "litert_int8":
                metadata["calibration_images"] = len(calibration_images)
            write_litert(source, written, metadata, calibration_images if format == "litert_int8" else None)
        check = _compare(format, written, images, expected)
        _replace(written, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {**metadata, "path": str(target), "check": check}


def _check_not_over_source(source, output, target):
    """Refuses an output that is the source, holds it (so replacing it deletes the source) or lies
    inside a source folder."""
    if source.path is None:
        return
    src, out = source.path.resolve(), target.resolve()
    if out == src or out in src.parents or (src.is_dir() and src in out.parents):
        raise ExportError(f"--output_dir={output} would write over or inside the source {source.path}; "
                          "choose a folder outside it")


def _check_images(spec, count=64, seed=0):
    return np.random.RandomState(seed).randint(0, 256, size=(count, *spec.image_shape), dtype=np.uint8)


def _calibration_draw(spec, data_dir, seed=0):
    images, _ = load_arrays(spec.name, "train", data_dir, image_size=spec.image_shape[:2])
    index = np.random.RandomState(seed).choice(len(images), min(CALIBRATION_IMAGES, len(images)), replace=False)
    return images[np.sort(index)]


def _compare(format, path, images, expected):
    """Runs the export in its runtime on ``images``; raises ExportError if it disagrees with Keras."""
    try:
        if format == "saved_model":
            import tensorflow as tf

            serving = tf.saved_model.load(str(path)).signatures["serving_default"]
            got = serving(images=tf.constant(images))["probabilities"].numpy()
        elif format == "onnx":
            got = inference.run_onnx(inference.onnx_session(path), images)
        else:
            got = inference.run_litert(inference.litert_interpreter(path), images)
    except Exception as error:  # noqa: BLE001  (any runtime's failure on the converted file)
        raise ExportError(f"the {format} export does not run in its runtime: {first_line(error)}; "
                          "nothing was written") from None
    difference = float(np.max(np.abs(got - expected)))
    check = {"images": len(images), "max_abs_difference": difference,
             "top1_agreement": float(np.mean(got.argmax(axis=1) == expected.argmax(axis=1)))}
    tolerance = INT8_TOLERANCE if format == "litert_int8" else FLOAT_TOLERANCE
    if not difference <= tolerance:
        raise ExportError(f"the {format} export differs from Keras by {difference:.2e} (> {tolerance:g}) in its "
                          "probabilities: a layer did not convert correctly; nothing was written")
    return check


def _replace(src, dst):
    """Moves ``src`` to ``dst``; an existing ``dst`` is swapped out first and deleted after."""
    old = None
    if dst.exists():
        old = dst.with_name(f".{dst.name}.old-{os.getpid()}")
        os.replace(dst, old)
    os.replace(src, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()

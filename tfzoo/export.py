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
"""

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

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


def load_source(model=None, pretrained=None, dataset=None):
    """A ``Source`` from a ``.keras`` file or run folder (``model``), or a pretrained name.

    For a run, the data set defaults to the ``dataset`` of the ``config.json`` beside the model;
    for a pretrained name it is the entry's. Raises ``ExportError`` with one line on failure.
    """
    import keras

    import tfzoo
    from tfzoo.data import DatasetSpec, get_spec

    if (model is None) == (pretrained is None):
        raise ExportError("pass exactly one of --model (a .keras file or run folder) and --pretrained (a name)")
    metadata = {"tfzoo": tfzoo.__version__}
    if pretrained is not None:
        from tfzoo import pretrained as registry

        entry = registry.info(pretrained)  # PretrainedError (a ValueError) names the accepted names
        try:
            keras_model = tfzoo.create_model(pretrained=pretrained)
        except TypeError as error:
            raise ExportError(f"this tfzoo's create_model cannot load pretrained weights ({error})") from None
        spec = get_spec(entry.dataset)
        metadata.update(pretrained=pretrained, results={"test_accuracy": entry.test_accuracy})
        return _checked(Source(keras_model, spec, metadata, preprocessed=True), dataset)
    path = Path(model)
    keras_path = path / "model.keras" if path.is_dir() else path
    if not keras_path.is_file():
        where = f"{path} holds no model.keras" if path.is_dir() else f"model file {path} not found"
        raise ExportError(f"{where} (expected a .keras file or run folder written by a recipe)")
    from tfzoo.training import schedules  # noqa: F401  (registers the EpochSchedule a run's model.keras holds)

    try:
        keras_model = keras.saving.load_model(keras_path)
    except Exception as error:  # noqa: BLE001  (a user's file: any failure is one line, not a traceback)
        raise ExportError(f"cannot load {keras_path}: {_first_line(error)}") from None
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
    import tfzoo
    from tfzoo.data import DatasetSpec, get_spec

    spec = dataset if isinstance(dataset, DatasetSpec) else get_spec(dataset)
    return _checked(Source(model, spec, {"tfzoo": tfzoo.__version__}), spec.name)


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
            _write_saved_model(source, written, metadata)
        elif format == "onnx":
            _write_onnx(source, written, metadata)
        else:
            if format == "litert_int8":
                metadata["calibration_images"] = len(calibration_images)
            _write_litert(source, written, metadata, calibration_images if format == "litert_int8" else None)
        check = _compare(format, written, images, expected)
        _replace(written, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {**metadata, "path": str(target), "check": check}


def predict(source, images):
    """Keras's probabilities for uint8 ``images``: what every export must reproduce."""
    from tfzoo.inference import predict_proba

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


def _checked(source, dataset):
    shape = tuple(source.model.input_shape[1:])
    if shape != tuple(source.spec.image_shape):
        named = dataset or source.spec.name
        raise ExportError(f"the model takes inputs of shape {list(shape)} but {named} images are "
                          f"{list(source.spec.image_shape)}; pass the --dataset it was trained on")
    return source


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
    from tfzoo.data import load_arrays

    images, _ = load_arrays(spec.name, "train", data_dir)
    index = np.random.RandomState(seed).choice(len(images), min(CALIBRATION_IMAGES, len(images)), replace=False)
    return images[np.sort(index)]


def _write_saved_model(source, path, metadata):
    """The SavedModel with ``serving_default`` (uint8) and ``serving_encoded`` (image bytes)."""
    import keras
    import tensorflow as tf

    from tfzoo.data import normalize

    model, spec = source.model, source.spec
    height, width, channels = spec.image_shape

    def serve_images(images):
        # A loaded signature checks the dtype but not the static shape: check it at run time.
        images = tf.ensure_shape(images, [None, height, width, channels])
        x = tf.cast(images, tf.float32) if source.preprocessed else normalize(images, spec)
        probabilities = tf.nn.softmax(tf.cast(model(x, training=False), tf.float32), axis=-1)
        return {"probabilities": probabilities, "classes": tf.argmax(probabilities, axis=-1, output_type=tf.int64)}

    def decode(encoded):
        image = tf.io.decode_image(encoded, channels=channels, expand_animations=False)
        return tf.ensure_shape(image, spec.image_shape)

    def serve_encoded(encoded_images):
        images = tf.map_fn(decode, encoded_images, fn_output_signature=tf.TensorSpec(spec.image_shape, tf.uint8))
        return serve_images(images)

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", serve_images,
                         input_signature=[tf.TensorSpec([None, height, width, channels], tf.uint8, name="images")])
    archive.add_endpoint("serving_encoded", serve_encoded,
                         input_signature=[tf.TensorSpec([None], tf.string, name="encoded_images")])
    _converting("saved_model", lambda: archive.write_out(str(path), verbose=False))
    (path / METADATA).parent.mkdir(parents=True, exist_ok=True)
    (path / METADATA).write_text(json.dumps(metadata, indent=2, sort_keys=True))


def _write_litert(source, path, metadata, calibration_images):
    """Keras's LiteRT export of ``serving_model``; int8 when ``calibration_images`` are given."""
    import tensorflow as tf
    from tensorflow.lite.tools import flatbuffer_utils
    from tensorflow.lite.python import schema_py_generated as schema

    if calibration_images is None:
        options = {"target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}}
        model = serving_model(source, "uint8")
    else:
        def representative_dataset():
            for image in calibration_images:
                yield [image[None].astype(np.float32)]

        options = {
            "optimizations": [tf.lite.Optimize.DEFAULT], "representative_dataset": representative_dataset,
            "target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
            "inference_input_type": tf.uint8, "inference_output_type": tf.float32,
        }
        model = serving_model(source, "float32")  # quantized to uint8 at the input by the converter
    _converting("litert", lambda: model.export(str(path), format="litert", verbose=False,
                                               input_signature=_signature(model), **options))
    flatbuffer = flatbuffer_utils.read_model(str(path))
    if calibration_images is not None:
        quantization = flatbuffer.subgraphs[0].tensors[flatbuffer.subgraphs[0].inputs[0]].quantization
        if list(quantization.scale) != [1.0] or list(quantization.zeroPoint) != [0]:
            raise ExportError(f"int8 input quantization is scale {list(quantization.scale)}, zero point "
                              f"{list(quantization.zeroPoint)}, not the raw pixels (1, 0): the calibration "
                              "images must span 0..255")
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(metadata, sort_keys=True).encode(), np.uint8)
    flatbuffer.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_KEY, len(flatbuffer.buffers) - 1
    flatbuffer.metadata = [*(flatbuffer.metadata or []), entry]
    flatbuffer_utils.write_model(flatbuffer, str(path))


def _write_onnx(source, path, metadata):
    """Keras's ONNX export of ``serving_model`` (tf2onnx on TensorFlow), with the metadata.

    Keras hands tf2onnx a function whose captured constant tensors (those of a
    ``keras.layers.Normalization`` built with a fixed mean and variance, as a pretrained model's
    input normalization is) tf2onnx turns into extra graph inputs; such a model is converted
    from its frozen graph instead, where they are constants.
    """
    try:
        import onnx
        import tf2onnx  # noqa: F401  (Keras imports it lazily; say what to install up front)
    except ImportError as error:
        raise ExportError(f"--format=onnx needs {error.name}: pip install 'tfzoo[export]'") from None
    model = serving_model(source, "uint8")
    _converting("onnx", lambda: model.export(str(path), format="onnx", verbose=False,
                                             input_signature=_signature(model)))
    proto = onnx.load(str(path))
    if [i.name for i in proto.graph.input] != ["images"]:
        proto = _converting("onnx", lambda: _onnx_from_frozen_graph(model))
    proto.metadata_props.add(key=METADATA_KEY, value=json.dumps(metadata, sort_keys=True))
    onnx.save(proto, str(path))


def _onnx_from_frozen_graph(model):
    """tf2onnx on the frozen graph of ``model`` (variables and captured tensors as constants), with
    its input and output renamed ``images`` and ``probabilities``."""
    import tensorflow as tf
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    function = tf.function(lambda images: model(images, training=False)["probabilities"])
    frozen = convert_variables_to_constants_v2(function.get_concrete_function(*_signature(model)))
    (input_name,), (output_name,) = [t.name for t in frozen.inputs], [t.name for t in frozen.outputs]
    proto, _ = tf2onnx.convert.from_graph_def(frozen.graph.as_graph_def(), input_names=[input_name],
                                              output_names=[output_name])
    renames = {input_name: "images", output_name: "probabilities"}
    for value in [*proto.graph.input, *proto.graph.output]:
        value.name = renames.get(value.name, value.name)
    for node in proto.graph.node:
        node.input[:] = [renames.get(name, name) for name in node.input]
        node.output[:] = [renames.get(name, name) for name in node.output]
    return proto


def _signature(model):
    import tensorflow as tf

    return [tf.TensorSpec([None, *model.input_shape[1:]], model.inputs[0].dtype, name="images")]


def _converting(format, convert):  # returns what ``convert`` returns
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
        raise ExportError(f"the model cannot be converted to {format}: {_first_line(error)}") from None
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _compare(format, path, images, expected):
    """Runs the export in its runtime on ``images``; raises ExportError if it disagrees with Keras."""
    from tfzoo import inference

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
        raise ExportError(f"the {format} export does not run in its runtime: {_first_line(error)}; "
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


def _first_line(error):
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]

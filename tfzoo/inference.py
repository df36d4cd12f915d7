"""Class probabilities from raw uint8 images: a Keras model, and the exported files in their own runtimes.

``predict_proba`` is the Keras-side twin of the exported SavedModel's ``serving_default``
signature (``tfzoo.export``): both run ``tfzoo.data.normalize`` and a softmax over the logits,
so they agree to float32 rounding. ``run_litert`` and ``run_onnx`` call a ``.tflite`` or
``.onnx`` export in the LiteRT interpreter or ONNX Runtime, as a client would.
"""

import numpy as np

from tfzoo.data import get_spec, normalize


def check_images(images, image_shape):
    """Raise ValueError unless ``images`` is uint8 ``[N, H, W, C]`` with ``(H, W, C) == image_shape``."""
    images = np.asarray(images)
    expected = f"uint8 [N, {', '.join(map(str, image_shape))}]"
    if images.dtype != np.uint8:
        raise ValueError(f"images must be {expected}. Received: dtype {images.dtype}")
    if images.ndim != 4 or tuple(images.shape[1:]) != tuple(image_shape):
        raise ValueError(f"images must be {expected}. Received: shape {list(images.shape)}")
    return images


def load_model(path, **kwargs):
    """``keras.saving.load_model`` of a tfzoo ``.keras`` file (a run's ``model.keras``), with
    what its config names registered (``import tfzoo`` registers tfzoo's layers and the learning-rate
    schedule that a run's optimizer holds: ``tfzoo.serialization``). ``safe_mode`` stays on."""
    import keras

    return keras.saving.load_model(path, **kwargs)


def predict_proba(model, images, dataset, *, batch_size=256):
    """Softmax probabilities ``[N, classes]`` (float32) of a tfzoo Keras model on uint8 images.

    ``dataset`` (a name or a ``DatasetSpec``) gives the per-channel mean/std the model was
    trained with; dropout is off.
    """
    import keras

    spec = get_spec(dataset) if isinstance(dataset, str) else dataset
    images = check_images(images, spec.image_shape)
    out = []
    for start in range(0, len(images), batch_size):
        x = np.asarray(normalize(images[start:start + batch_size], spec))
        logits = model(x, training=False)
        out.append(np.asarray(keras.ops.softmax(keras.ops.cast(logits, "float32"), axis=-1)))
    if not out:
        return np.zeros((0, spec.num_classes), np.float32)
    return np.concatenate(out).astype(np.float32)


def litert_interpreter(path, num_threads=None):
    """A LiteRT interpreter for a ``.tflite`` file: ``ai_edge_litert``'s where it is installed,
    else TensorFlow's ``tf.lite.Interpreter`` (the same runtime, shipped inside TensorFlow)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
    interpreter.allocate_tensors()
    return interpreter


def run_litert(interpreter, images):
    """Probabilities ``[N, classes]`` of a tfzoo ``.tflite`` (one uint8 ``images`` input, one
    ``probabilities`` output) on uint8 images; resizes the batch dimension when it changes."""
    images = np.asarray(images)
    detail = interpreter.get_input_details()[0]
    if tuple(detail["shape"]) != images.shape:
        interpreter.resize_tensor_input(detail["index"], list(images.shape))
        interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], images.astype(detail["dtype"], copy=False))
    interpreter.invoke()
    output = interpreter.get_output_details()[0]
    values = interpreter.get_tensor(output["index"])
    scale, zero_point = output["quantization"]
    if output["dtype"] != np.float32 and scale:
        values = (values.astype(np.float32) - zero_point) * scale
    return np.asarray(values, np.float32)


def onnx_session(path, num_threads=None):
    """An ``onnxruntime.InferenceSession`` on the CPU for a ``.onnx`` file."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if num_threads:
        options.intra_op_num_threads = num_threads
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_onnx(session, images):
    """Probabilities ``[N, classes]`` of a tfzoo ``.onnx`` (uint8 ``images`` in) on uint8 images."""
    name = session.get_inputs()[0].name
    return np.asarray(session.run(["probabilities"], {name: np.asarray(images, np.uint8)})[0], np.float32)

"""The LiteRT format: float32, or full-integer int8 with uint8 pixels in, built-in ops only, with
tfzoo's metadata as a ``tfzoo.json`` entry of the flatbuffer."""

import json

import numpy as np

from tfzoo.export.common import METADATA_KEY, ExportError, converting, serving_model, signature


def write_litert(source, path, metadata, calibration_images):
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
    converting("litert", lambda: model.export(str(path), format="litert", verbose=False,
                                               input_signature=signature(model), **options))
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

"""The ONNX format: Keras's ONNX export (tf2onnx on TensorFlow), with tfzoo's metadata in
``metadata_props``."""

import json

from tfzoo.export.common import METADATA_KEY, ExportError, converting, serving_model, signature


def write_onnx(source, path, metadata):
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
    converting("onnx", lambda: model.export(str(path), format="onnx", verbose=False,
                                             input_signature=signature(model)))
    proto = onnx.load(str(path))
    if [i.name for i in proto.graph.input] != ["images"]:
        proto = converting("onnx", lambda: _onnx_from_frozen_graph(model))
    proto.metadata_props.add(key=METADATA_KEY, value=json.dumps(metadata, sort_keys=True))
    onnx.save(proto, str(path))


def _onnx_from_frozen_graph(model):
    """tf2onnx on the frozen graph of ``model`` (variables and captured tensors as constants), with
    its input and output renamed ``images`` and ``probabilities``."""
    import tensorflow as tf
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    function = tf.function(lambda images: model(images, training=False)["probabilities"])
    frozen = convert_variables_to_constants_v2(function.get_concrete_function(*signature(model)))
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

"""The SavedModel format: ``serving_default`` (uint8 images) and ``serving_encoded`` (image bytes),
with tfzoo's metadata in ``assets.extra/tfzoo.json``."""

import json

from tfzoo.data import normalize
from tfzoo.export.common import METADATA, converting


def write_saved_model(source, path, metadata):
    """The SavedModel with ``serving_default`` (uint8) and ``serving_encoded`` (image bytes)."""
    import keras
    import tensorflow as tf

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
    converting("saved_model", lambda: archive.write_out(str(path), verbose=False))
    (path / METADATA).parent.mkdir(parents=True, exist_ok=True)
    (path / METADATA).write_text(json.dumps(metadata, indent=2, sort_keys=True))

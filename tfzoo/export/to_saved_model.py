"""The SavedModel format: ``serving_default`` (uint8 images) and ``serving_encoded`` (image bytes),
with tfzoo's metadata in ``assets.extra/tfzoo.json``.

``serving_encoded`` takes an image of any size: one that is not the model's H x W is resized (bilinear,
antialiased), keeping its aspect ratio, until it covers H x W, and its centre H x W is kept: the centre crop
of ImageNet evaluation (``tfzoo.data.imagenet``), without its 224/256 margin.
"""

import json

from tfzoo.data import normalize
from tfzoo.export.common import METADATA, converting

# The signatures' layout: raised when they change, so that SavedModels cached by an older tfzoo are rebuilt.
SIGNATURES_VERSION = 2  # 2: serving_encoded resizes images of another size


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
        return tf.ensure_shape(cover_and_centre_crop(image, height, width), spec.image_shape)

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


def cover_and_centre_crop(image, height, width):
    """uint8 ``[height, width, C]`` of a uint8 ``[h, w, C]`` image: itself when it has that size, else
    resized (bilinear, antialiased, aspect ratio kept) to the smallest size covering it, centre-cropped."""
    import tensorflow as tf

    shape = tf.shape(image)
    h, w = shape[0], shape[1]

    def resized():
        scale = tf.maximum(height / tf.cast(h, tf.float64), width / tf.cast(w, tf.float64))
        new_h = tf.maximum(height, tf.cast(tf.math.ceil(tf.cast(h, tf.float64) * scale - 1e-6), tf.int32))
        new_w = tf.maximum(width, tf.cast(tf.math.ceil(tf.cast(w, tf.float64) * scale - 1e-6), tf.int32))
        big = tf.image.resize(image, tf.stack([new_h, new_w]), method="bilinear", antialias=True)
        top, left = (new_h - height) // 2, (new_w - width) // 2
        crop = big[top:top + height, left:left + width]
        return tf.cast(tf.clip_by_value(tf.round(crop), 0, 255), tf.uint8)

    return tf.cond(tf.logical_and(tf.equal(h, height), tf.equal(w, width)), lambda: image, resized)

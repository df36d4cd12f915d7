"""Class probabilities from raw uint8 images, with the preprocessing the model was trained with.

``predict_proba`` is the Keras-side twin of the exported SavedModel's ``serving_default``
signature (``export/saved_model.py``): both run ``tfzoo.data.normalize`` and a softmax over
the logits, so they agree to float32 rounding.
"""

import numpy as np


def check_images(images, image_shape):
    """Raise ValueError unless ``images`` is uint8 ``[N, H, W, C]`` with ``(H, W, C) == image_shape``."""
    images = np.asarray(images)
    expected = f"uint8 [N, {', '.join(map(str, image_shape))}]"
    if images.dtype != np.uint8:
        raise ValueError(f"images must be {expected}. Received: dtype {images.dtype}")
    if images.ndim != 4 or tuple(images.shape[1:]) != tuple(image_shape):
        raise ValueError(f"images must be {expected}. Received: shape {list(images.shape)}")
    return images


def predict_proba(model, images, dataset, *, batch_size=256):
    """Softmax probabilities ``[N, classes]`` (float32) of a tfzoo Keras model on uint8 images.

    ``dataset`` (a name or a ``DatasetSpec``) gives the per-channel mean/std the model was
    trained with; dropout is off.
    """
    import keras

    from tfzoo.data import get_spec, normalize

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

"""tf.data input pipelines: normalization, the training stream and the evaluation stream.

The training stream is a pure function of (seed, epoch, position): epoch ``e`` visits
the examples in a permutation drawn from (seed, e), the example at ``position`` of that
epoch is augmented with row ``position`` of draws made from (seed, e), and mixup uses
(seed, e, batch). Nothing depends on what was read before, so the stream from
``start_epoch=k`` is exactly the tail of the stream from epoch 0: a run killed after
epoch k and resumed there sees the same batches. Augmentation runs on whole batches.

``images`` is a uint8 array, or a large image folder's ``FolderImages`` (``folder_stream.py``): then each batch's
images are read from their files by a ``tf.numpy_function`` in the parallel map, and the batches are those the
array of the same images would give.
"""

import numpy as np

from tfzoo.data import augment as augment_lib
from tfzoo.data.augment import AugmentConfig
from tfzoo.data.specs import DataError, check_arrays
from tfzoo.lazy import LazyModule

tf = LazyModule("tensorflow")  # used on the TensorFlow backend only

# Independent streams of random draws, each folded into the seed: one per purpose.
SHUFFLE, AUGMENT, MIXUP = 0, 1, 2


def normalize(images, spec):
    """float32 ``(images - spec.mean) / spec.std`` per channel, for pixels on the 0..255 scale.

    Pure TensorFlow ops on uint8 or float input of any batch shape: the same preprocessing
    in tf.data, in a model or in a serving signature.
    """
    mean = tf.constant(spec.mean, tf.float32)
    std = tf.constant(spec.std, tf.float32)
    return (tf.cast(images, tf.float32) - mean) / std


def steps_per_epoch(num_examples, batch_size):
    """Full batches per epoch, ``num_examples // batch_size``; the remainder is dropped."""
    check_int("batch_size", batch_size, minimum=1)
    steps = num_examples // batch_size
    if steps == 0:
        raise DataError(f"batch_size={batch_size} exceeds the {num_examples} training examples: an epoch "
                         f"would hold no full batch; use batch_size <= {num_examples}")
    return steps


def make_train_dataset(images, labels, spec, *, batch_size, seed, augment=AugmentConfig(), start_epoch=0,
                       num_epochs=None):
    """Shuffled, augmented batches ``(float32 [B, H, W, C] normalized, float32 one-hot [B, classes])``.

    Epochs ``start_epoch, start_epoch + 1, ...`` (``num_epochs`` of them, or forever when
    None), each ``steps_per_epoch(len(images), batch_size)`` batches long. Augmentation,
    in order: the crop (``AugmentConfig.crop_mode``: pad + random crop, or random-resized crop), flip,
    normalize, cutout, then mixup across the batch.
    """
    images, labels = checked_arrays(images, labels, spec, "make_train_dataset")
    check_stream_args(spec, seed=seed, augment=augment, start_epoch=start_epoch, num_epochs=num_epochs)
    steps = steps_per_epoch(len(images), batch_size)
    flip_enabled = spec.flip if augment.flip is None else augment.flip
    crop = augment.crop_mode(spec.image_shape)
    # A streamed folder's random-resized crops are cut from the files at full resolution; an array's from itself.
    file_crops = crop == "resized" and getattr(images, "streamed", False)
    root = root_seed(seed)
    gather_images, all_labels = image_gather(images, spec, crops=file_crops), tf.constant(labels)

    def epoch_batches(epoch):
        """The epoch's batches of example indices and augmentation draws, [steps, batch_size, ...]."""
        order = tf.random.experimental.stateless_shuffle(
            tf.range(len(images), dtype=tf.int64), fold_seed(root, SHUFFLE, epoch))
        draws = augment_lib.sample_draws(steps * batch_size, augment.pad, spec.image_shape,
                                         fold_seed(root, AUGMENT, epoch), resized=crop == "resized")
        per_batch = {key: tf.reshape(value, [steps, batch_size, *value.shape[1:]]) for key, value in draws.items()}
        per_batch["index"] = tf.reshape(order[: steps * batch_size], [steps, batch_size])
        per_batch["epoch"], per_batch["step"] = tf.fill([steps], epoch), tf.range(steps, dtype=tf.int64)
        return tf.data.Dataset.from_tensor_slices(per_batch)

    def make_batch(batch):
        if file_crops:
            x = tf.cast(gather_images(batch["index"], batch["boxes"]), tf.float32)
        else:
            x = tf.cast(gather_images(batch["index"]), tf.float32)
            if crop == "resized":
                x = augment_lib.resized_crop(x, batch["boxes"])
        if crop == "pad":
            x = augment_lib.pad_and_crop(x, augment.pad, augment.padding, batch["offsets"])
        if flip_enabled:
            x = augment_lib.flip(x, batch["flips"])
        labels = tf.gather(all_labels, batch["index"])
        return finish_batch(x, labels, spec, augment, batch["centres"],
                            fold_seed(root, MIXUP, batch["epoch"], batch["step"]))

    dataset = epoch_numbers(start_epoch, num_epochs).flat_map(epoch_batches)
    dataset = dataset.map(make_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def make_eval_dataset(images, labels, spec, *, batch_size):
    """Batches ``(normalized float32 images, float32 one-hot labels)`` in order; keeps the remainder."""
    images, labels = checked_arrays(images, labels, spec, "make_eval_dataset")
    check_int("batch_size", batch_size, minimum=1)
    gather_images = image_gather(images, spec)  # the array's rows, or a streamed folder's files read
    dataset = tf.data.Dataset.zip(tf.data.Dataset.range(len(images)).batch(batch_size),
                                  tf.data.Dataset.from_tensor_slices(labels).batch(batch_size))
    dataset = dataset.map(lambda rows, y: (normalize(gather_images(rows), spec), tf.one_hot(y, spec.num_classes)),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def image_gather(images, spec, crops=False):
    """``rows -> uint8 images[rows]`` in TensorFlow: a gather from the array held as a constant, or for streamed
    images (``FolderImages``) their files read and decoded in Python (``stateful=False``: the same rows give the
    same pixels, so tf.data may run it in parallel). With ``crops`` (streamed images only): ``(rows, boxes) ->``
    their random-resized crops, cut from the files (``FolderImages.crops``)."""
    if not getattr(images, "streamed", False):
        constant = tf.constant(images)
        return lambda rows: tf.gather(constant, rows)

    read = images.guarded_reader(crops)

    def gather(rows, *boxes):
        batch = tf.numpy_function(read, [rows, *boxes], tf.uint8, stateful=False)
        return tf.ensure_shape(batch, [None, *spec.image_shape])

    return gather


def check_stream_args(spec, *, seed, augment, start_epoch, num_epochs):
    """The argument checks every training stream makes; ValueError naming the bad value."""
    check_int("seed", seed)
    if not isinstance(augment, AugmentConfig):
        raise ValueError(f"augment must be an AugmentConfig. Received: augment={augment!r}")
    check_int("start_epoch", start_epoch, minimum=0)
    if num_epochs is not None:
        check_int("num_epochs", num_epochs, minimum=1)
    augment.check_image_shape(spec.image_shape)


def epoch_numbers(start_epoch, num_epochs):
    """int64 epochs ``start_epoch, start_epoch + 1, ...``: ``num_epochs`` of them, or forever when None."""
    if num_epochs is None:
        return tf.data.Dataset.counter(start_epoch)
    return tf.data.Dataset.range(start_epoch, start_epoch + num_epochs)


def finish_batch(images, labels, spec, augment, centres, mixup_seed):
    """The batch-level tail of every training stream: normalize, cutout, one-hot labels, mixup."""
    x = normalize(images, spec)
    if augment.cutout:
        x = augment_lib.cutout(x, augment.cutout, centres)
    y = tf.one_hot(labels, spec.num_classes)
    if augment.mixup_alpha > 0:
        x, y = augment_lib.mixup(x, y, augment.mixup_alpha, mixup_seed)
    return x, y


def root_seed(seed):
    """The stateless seed every draw of a stream is folded from."""
    return tf.constant([int(seed), 0], tf.int64)


def fold_seed(seed, *values):
    """A new stateless seed from ``seed`` and integers, one ``stateless_fold_in`` each."""
    for value in values:
        seed = tf.random.experimental.stateless_fold_in(seed, tf.cast(value, tf.int64))
    return seed


def checked_arrays(images, labels, spec, caller):
    """``images`` and int64 ``labels`` as arrays, checked against ``spec`` (``specs.check_arrays``); streamed images
    (``FolderImages``) are checked by their shape and kept, nothing decoded."""
    labels = np.asarray(labels)
    if getattr(images, "streamed", False):
        check_arrays(np.broadcast_to(np.uint8(0), images.shape), labels, spec, caller)  # a view: no pixels
        return images, labels.astype(np.int64)
    images = np.asarray(images)
    check_arrays(images, labels, spec, caller)
    return images, labels.astype(np.int64)


def check_int(name, value, minimum=None):
    """ValueError naming ``name`` unless ``value`` is an integer (at least ``minimum``)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or (minimum is not None and value < minimum):
        accepted = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {accepted}. Received: {name}={value!r}")

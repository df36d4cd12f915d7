"""The training and evaluation streams in NumPy, for Keras on JAX or PyTorch, where tf.data is absent.

The same augmentations as ``pipeline.py`` (pad + random crop or random-resized crop, flip, normalize, cutout, then
mixup across the batch) and the same contract: the stream is a pure function of (seed, epoch, position). Epoch ``e`` visits the examples in
a permutation drawn from (seed, e), the example at ``position`` of that epoch is augmented with row ``position`` of
draws made from (seed, e), and mixup draws from (seed, e, step), so the stream from ``start_epoch=k`` is exactly the
tail of the stream from epoch 0 and a resumed run sees the batches it would have seen. The draws come from NumPy's
generators, not TensorFlow's: with one seed, a run on JAX sees other crops than a run on TensorFlow.
"""

import itertools
import math

import keras
import numpy as np

from tfzoo.data.augment import BOX_UNIFORMS, AugmentConfig, resized_crop_boxes
from tfzoo.data.pipeline import (AUGMENT, MIXUP, SHUFFLE, check_int, check_stream_args, checked_arrays,
                                 steps_per_epoch)


def _generator(seed, *keys):
    """A NumPy generator for (seed, purpose, epoch[, step]); any integer seed, negative ones too."""
    return np.random.default_rng([int(seed) % 2**64, *(int(k) for k in keys)])


def normalize(images, spec):
    """float32 ``(images - spec.mean) / spec.std`` per channel, for pixels on the 0..255 scale."""
    return (np.asarray(images, np.float32) - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)


def one_hot(labels, num_classes):
    return np.eye(num_classes, dtype=np.float32)[labels]


def pad_and_crop(images, pad, padding, offsets):
    """Pad [B, H, W, C] images by ``pad`` on every side; crop image b at corner ``offsets[b]`` (0..2 * pad)."""
    _, height, width, _ = images.shape
    padded = np.pad(images, [(0, 0), (pad, pad), (pad, pad), (0, 0)], mode="constant" if padding == "zero" else "reflect")
    rows = offsets[:, :1] + np.arange(height)  # [B, H]
    cols = offsets[:, 1:] + np.arange(width)  # [B, W]
    batch = np.arange(len(images))[:, None, None]
    return padded[batch, rows[:, :, None], cols[:, None, :]]


def resized_crop(images, boxes):
    """Crop box b of each [B, H, W, C] float image and resize it back to H x W, bilinear: ``tf.image.crop_and_resize``
    in NumPy (output pixel i of a box (y1, ..., y2) samples row y1 * (H - 1) + i * (y2 - y1) * (H - 1) / (H - 1))."""
    _, height, width, _ = images.shape

    def grid(start, stop, size):  # [B, size] sample positions, their lower neighbours and weights
        steps = np.arange(size, dtype=np.float32) / max(size - 1, 1)
        points = (start[:, None] + (stop - start)[:, None] * steps) * (size - 1)
        lower = np.clip(np.floor(points), 0, size - 1).astype(np.int64)
        return lower, np.minimum(lower + 1, size - 1), (points - lower).astype(np.float32)

    top, bottom, wy = grid(boxes[:, 0], boxes[:, 2], height)
    left, right, wx = grid(boxes[:, 1], boxes[:, 3], width)
    batch = np.arange(len(images))[:, None, None]

    def at(rows, cols):
        return images[batch, rows[:, :, None], cols[:, None, :]]

    wx = wx[:, None, :, None]
    upper = at(top, left) + (at(top, right) - at(top, left)) * wx
    lower = at(bottom, left) + (at(bottom, right) - at(bottom, left)) * wx
    return (upper + (lower - upper) * wy[:, :, None, None]).astype(np.float32)


def cutout(images, size, centres):
    """Zero a ``size`` x ``size`` square of each [B, H, W, C] image around ``centres`` (flat pixel indices), clipped
    at the borders."""
    _, height, width, _ = images.shape
    top = centres[:, None] // width - size // 2
    left = centres[:, None] % width - size // 2
    rows, cols = np.arange(height)[None], np.arange(width)[None]
    inside = (((rows >= top) & (rows < top + size))[:, :, None, None]
              & ((cols >= left) & (cols < left + size))[:, None, :, None])
    return np.where(inside, np.float32(0), images)


def mixup(images, labels, alpha, generator):
    """``lam * x + (1 - lam) * x[perm]``, labels alike, one ``lam ~ Beta(alpha, alpha)`` per batch."""
    gammas = generator.gamma(alpha, size=2)
    lam = np.float32(gammas[0] / (gammas[0] + gammas[1]) if gammas.sum() > 0 else 0.0)
    perm = generator.permutation(len(images))
    return lam * images + (1 - lam) * images[perm], lam * labels + (1 - lam) * labels[perm]


def train_batches(images, labels, spec, *, batch_size, seed, augment=AugmentConfig(), start_epoch=0, num_epochs=None):
    """A generator of shuffled, augmented batches ``(float32 [B, H, W, C] normalized, float32 one-hot)``: epochs
    ``start_epoch, start_epoch + 1, ...`` (``num_epochs`` of them, or forever), ``len(images) // batch_size`` batches
    each, as ``pipeline.make_train_dataset`` gives them with tf.data."""
    images, labels = checked_arrays(images, labels, spec, "train_batches")
    check_stream_args(spec, seed=seed, augment=augment, start_epoch=start_epoch, num_epochs=num_epochs)
    steps = steps_per_epoch(len(images), batch_size)
    flip = spec.flip if augment.flip is None else augment.flip
    crop = augment.crop_mode(spec.image_shape)
    file_crops = crop == "resized" and getattr(images, "streamed", False)
    height, width = spec.image_shape[:2]
    epochs = itertools.count(start_epoch) if num_epochs is None else range(start_epoch, start_epoch + num_epochs)

    def batches():
        for epoch in epochs:
            order = _generator(seed, SHUFFLE, epoch).permutation(len(images))[: steps * batch_size]
            draws = _generator(seed, AUGMENT, epoch)
            offsets = draws.integers(0, 2 * augment.pad + 1, size=(steps * batch_size, 2))
            flips = draws.random(steps * batch_size) < 0.5
            centres = draws.integers(0, height * width, size=steps * batch_size)
            if crop == "resized":  # drawn last, so the other draws stay as they were
                uniforms = draws.random((steps * batch_size, BOX_UNIFORMS), dtype=np.float32)
                boxes = resized_crop_boxes(np, uniforms, spec.image_shape)
            for step in range(steps):
                rows = slice(step * batch_size, (step + 1) * batch_size)
                if file_crops:  # a streamed folder's crops, cut from the files (FolderImages.crops)
                    x = images.crops(order[rows], boxes[rows]).astype(np.float32)
                else:
                    x = images[order[rows]].astype(np.float32)
                    if crop == "resized":
                        x = resized_crop(x, boxes[rows])
                if crop == "pad":
                    x = pad_and_crop(x, augment.pad, augment.padding, offsets[rows])
                if flip:
                    x = np.where(flips[rows, None, None, None], x[:, :, ::-1], x)
                x = normalize(x, spec)
                if augment.cutout:
                    x = cutout(x, augment.cutout, centres[rows])
                y = one_hot(labels[order[rows]], spec.num_classes)
                if augment.mixup_alpha > 0:
                    x, y = mixup(x, y, augment.mixup_alpha, _generator(seed, MIXUP, epoch, step))
                yield x, y

    return batches()


def rebatch(batches, size):
    """Each batch of ``batches`` split into consecutive batches of ``size`` examples (ghost batches that the optimizer
    accumulates), as ``tf.data.Dataset.rebatch`` does."""
    for x, y in batches:
        for start in range(0, len(x), size):
            yield x[start:start + size], y[start:start + size]


class EvalBatches(keras.utils.PyDataset):
    """Batches ``(normalized float32 images, float32 one-hot labels)`` in order, the remainder kept: one pass, as
    ``pipeline.make_eval_dataset`` gives them."""

    def __init__(self, images, labels, spec, *, batch_size):
        super().__init__()
        self.images, self.labels = checked_arrays(images, labels, spec, "EvalBatches")
        check_int("batch_size", batch_size, minimum=1)
        self.spec, self.batch_size = spec, batch_size

    def __len__(self):
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return normalize(self.images[rows], self.spec), one_hot(self.labels[rows], self.spec.num_classes)

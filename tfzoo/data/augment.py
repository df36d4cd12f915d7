"""Training-time augmentation: pad + random crop, horizontal flip, cutout and mixup.

All ops work on whole batches. Their randomness comes in as arguments: per-example draws
from ``sample_draws`` and a stateless seed (a shape-[2] integer tensor) for mixup, so an
augmented example depends on its draws only, never on what ran before it.
"""

import dataclasses
import math

from tfzoo.lazy import LazyModule

tf = LazyModule("tensorflow")  # used on the TensorFlow backend only

PADDINGS = ("zero", "reflect")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """What the training pipeline does to each example.

    pad: pixels added on every side before a random crop back to H x W (0 = no crop).
    padding: "zero" (black pixels) or "reflect" (mirror the border).
    flip: random horizontal flip; None takes the dataset's default (``DatasetSpec.flip``).
    cutout: side of a square set to zero after normalization, i.e. to the mean colour
        (DeVries & Taylor 2017); its centre is uniform over the image, so it is clipped at
        the borders. 0 = off.
    mixup_alpha: mix each batch with a shuffled copy of itself, weight ~ Beta(alpha, alpha)
        (Zhang et al. 2018, one weight per batch); 0 = off.
    """

    pad: int = 4
    padding: str = "zero"
    flip: bool | None = None
    cutout: int = 0
    mixup_alpha: float = 0.0

    def __post_init__(self):
        if not _is_int(self.pad) or self.pad < 0:
            raise ValueError(f"pad must be a non-negative integer. Received: pad={self.pad!r}")
        if self.padding not in PADDINGS:
            raise ValueError(f"padding must be one of {', '.join(PADDINGS)}. Received: padding={self.padding!r}")
        if self.flip is not None and not isinstance(self.flip, bool):
            raise ValueError(f"flip must be True, False or None. Received: flip={self.flip!r}")
        if not _is_int(self.cutout) or self.cutout < 0:
            raise ValueError(f"cutout must be a non-negative integer. Received: cutout={self.cutout!r}")
        alpha = self.mixup_alpha
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha) or alpha < 0:
            raise ValueError(f"mixup_alpha must be a finite number >= 0. Received: mixup_alpha={alpha!r}")

    def check_image_shape(self, image_shape):
        """Raise ValueError if these settings cannot apply to images of ``image_shape``."""
        side = min(image_shape[:2])
        if self.padding == "reflect" and self.pad >= side:
            raise ValueError(f"reflect padding needs pad < {side} for images of shape {image_shape}. "
                             f"Received: pad={self.pad}")
        if self.cutout > side:
            raise ValueError(f"cutout must be at most {side} for images of shape {image_shape}. "
                             f"Received: cutout={self.cutout}")


def sample_draws(count, pad, image_shape, seed):
    """The random draws of ``count`` examples, row i for the i-th: one stateless op per kind.

    Returns ``offsets`` (int32 [count, 2], crop corner in 0..2 * pad), ``flips`` (bool
    [count]) and ``centres`` (int32 [count], cutout centre as a flat pixel index). Row i
    does not depend on ``count``: Philox draws are counter-based.
    """
    height, width = image_shape[:2]
    crop_seed, flip_seed, cutout_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    return {
        "offsets": tf.random.stateless_uniform([count, 2], crop_seed, minval=0, maxval=2 * pad + 1, dtype=tf.int32),
        "flips": tf.random.stateless_uniform([count], flip_seed) < 0.5,
        "centres": tf.random.stateless_uniform([count], cutout_seed, minval=0, maxval=height * width,
                                               dtype=tf.int32),
    }


def pad_and_crop(images, pad, padding, offsets):
    """Pad [B, H, W, C] images by ``pad`` on every side; crop image b at corner ``offsets[b]``."""
    _, height, width, _ = images.shape
    mode = "CONSTANT" if padding == "zero" else "REFLECT"
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode=mode)
    rows = offsets[:, :1] + tf.range(height)  # [B, H]: the padded rows each crop keeps
    cols = offsets[:, 1:] + tf.range(width)
    crops = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(crops, cols, axis=2, batch_dims=1)


def flip(images, flips):
    """Mirror left-right the [B, H, W, C] images where ``flips`` (bool [B]) is true."""
    return tf.where(flips[:, tf.newaxis, tf.newaxis, tf.newaxis], tf.reverse(images, axis=[2]), images)


def cutout(images, size, centres):
    """Zero a ``size`` x ``size`` square of each [B, H, W, C] image around ``centres`` (flat
    pixel indices), clipped at the borders."""
    _, height, width, _ = images.shape
    top = centres[:, tf.newaxis] // width - size // 2
    left = centres[:, tf.newaxis] % width - size // 2
    rows, cols = tf.range(height)[tf.newaxis], tf.range(width)[tf.newaxis]
    in_rows = (rows >= top) & (rows < top + size)  # [B, H]
    in_cols = (cols >= left) & (cols < left + size)  # [B, W]
    inside = in_rows[:, :, tf.newaxis, tf.newaxis] & in_cols[:, tf.newaxis, :, tf.newaxis]
    return tf.where(inside, tf.zeros_like(images), images)


def mixup(images, labels, alpha, seed):
    """Mix a batch with a shuffled copy of itself: lam * x + (1 - lam) * x[perm], labels alike.

    ``lam ~ Beta(alpha, alpha)``, one draw per batch, sampled as G1 / (G1 + G2) with
    G1, G2 ~ Gamma(alpha).
    """
    weight_seed, perm_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    gammas = tf.random.stateless_gamma([2], weight_seed, alpha=alpha)
    lam = tf.math.divide_no_nan(gammas[0], gammas[0] + gammas[1])
    perm = tf.random.experimental.stateless_shuffle(tf.range(tf.shape(images)[0]), perm_seed)
    mixed_images = lam * images + (1.0 - lam) * tf.gather(images, perm)
    mixed_labels = lam * labels + (1.0 - lam) * tf.gather(labels, perm)
    return mixed_images, mixed_labels

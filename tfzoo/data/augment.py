"""Training-time augmentation: pad + random crop or random-resized crop, horizontal flip, cutout and mixup.

All ops work on whole batches. Their randomness comes in as arguments: per-example draws
from ``sample_draws`` and a stateless seed (a shape-[2] integer tensor) for mixup, so an
augmented example depends on its draws only, never on what ran before it.
"""

import dataclasses
import math

from tfzoo.lazy import LazyModule

tf = LazyModule("tensorflow")  # used on the TensorFlow backend only

PADDINGS = ("zero", "reflect")
CROPS = ("auto", "pad", "resized")
# The random-resized crop of "Going deeper with convolutions" (Szegedy et al. 2015, section 6), as the ResNet
# protocol of "Batch normalization has multiple benefits" (section 5) trains ImageNet with: 8-100 % of the area,
# aspect ratio 3/4-4/3, ten tries, else the whole image (imagenet.py draws the same on the encoded image).
RESIZED_AREA = (0.08, 1.0)
RESIZED_ASPECT = (3 / 4, 4 / 3)
RESIZED_ATTEMPTS = 10
RESIZED_MIN_SIDE = 64  # crop="auto": the random-resized crop for images whose shorter side has this many pixels


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """What the training pipeline does to each example.

    crop: "pad" (pad + random crop back to H x W, the CIFAR crop of section 3), "resized" (random-resized crop
        of ``RESIZED_AREA`` of the area and ``RESIZED_ASPECT``, resized back to H x W, the ImageNet crop of
        section 5), or "auto": "resized" for images whose shorter side is at least ``RESIZED_MIN_SIDE``, else "pad".
    pad: pixels added on every side before a random crop back to H x W (0 = no crop), for crop "pad".
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
    crop: str = "auto"

    def __post_init__(self):
        if self.crop not in CROPS:
            raise ValueError(f"crop must be one of {', '.join(CROPS)}. Received: crop={self.crop!r}")
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

    def crop_mode(self, image_shape):
        """The crop images of ``image_shape`` get: "resized", "pad" (with ``pad`` > 0) or "none"."""
        mode = self.crop
        if mode == "auto":
            mode = "resized" if min(image_shape[:2]) >= RESIZED_MIN_SIDE else "pad"
        return "pad" if mode == "pad" and self.pad else mode if mode == "resized" else "none"

    def check_image_shape(self, image_shape):
        """Raise ValueError if these settings cannot apply to images of ``image_shape``."""
        side = min(image_shape[:2])
        if self.crop_mode(image_shape) == "pad" and self.padding == "reflect" and self.pad >= side:
            raise ValueError(f"reflect padding needs pad < {side} for images of shape {image_shape}. "
                             f"Received: pad={self.pad}")
        if self.cutout > side:
            raise ValueError(f"cutout must be at most {side} for images of shape {image_shape}. "
                             f"Received: cutout={self.cutout}")


def sample_draws(count, pad, image_shape, seed, resized=False):
    """The random draws of ``count`` examples, row i for the i-th: one stateless op per kind.

    Returns ``offsets`` (int32 [count, 2], crop corner in 0..2 * pad), ``flips`` (bool
    [count]) and ``centres`` (int32 [count], cutout centre as a flat pixel index), and with ``resized``
    ``boxes`` (float32 [count, 4], ``resized_crop_boxes``). Row i does not depend on ``count``: Philox
    draws are counter-based. The boxes draw from a seed of their own, so the other draws stay as they were.
    """
    height, width = image_shape[:2]
    crop_seed, flip_seed, cutout_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    draws = {
        "offsets": tf.random.stateless_uniform([count, 2], crop_seed, minval=0, maxval=2 * pad + 1, dtype=tf.int32),
        "flips": tf.random.stateless_uniform([count], flip_seed) < 0.5,
        "centres": tf.random.stateless_uniform([count], cutout_seed, minval=0, maxval=height * width,
                                               dtype=tf.int32),
    }
    if resized:
        uniforms = tf.random.stateless_uniform([count, BOX_UNIFORMS], tf.random.experimental.stateless_fold_in(seed, 3))
        draws["boxes"] = resized_crop_boxes(tf, uniforms, image_shape)
    return draws


BOX_UNIFORMS = 2 * RESIZED_ATTEMPTS + 2  # per example: (area, log aspect) per try, then the top and left offsets


def resized_crop_boxes(xp, uniforms, image_shape):
    """float32 [N, 4] boxes ``(y1, x1, y2, x2)`` of random-resized crops of images of ``image_shape``, in the
    normalized coordinates of ``tf.image.crop_and_resize`` (0 and 1: the centres of the first and last pixels).

    ``uniforms`` [N, ``BOX_UNIFORMS``] in [0, 1) make the draw; ``xp`` is ``numpy`` or ``tensorflow``, so the
    tf.data and the NumPy pipelines compute the same boxes from the same uniforms. As torchvision's
    ``RandomResizedCrop``: try i takes area ``a`` uniform in ``RESIZED_AREA`` of the image and aspect ratio ``r``
    log-uniform in ``RESIZED_ASPECT``, a crop of round(sqrt(a * H * W / r)) x round(sqrt(a * H * W * r)) pixels;
    the first try that fits the image wins, placed uniformly at random; when none fits, the whole image.
    """
    height, width = image_shape[:2]
    low, high = RESIZED_AREA
    log_low, log_high = math.log(RESIZED_ASPECT[0]), math.log(RESIZED_ASPECT[1])
    crop_h, crop_w = xp.ones_like(uniforms[:, 0]) * height, xp.ones_like(uniforms[:, 0]) * width  # the fallback
    for attempt in reversed(range(RESIZED_ATTEMPTS)):  # the earliest try that fits is applied last, so it wins
        area = (low + (high - low) * uniforms[:, 2 * attempt]) * (height * width)
        ratio = xp.exp(log_low + (log_high - log_low) * uniforms[:, 2 * attempt + 1])
        h, w = xp.round(xp.sqrt(area / ratio)), xp.round(xp.sqrt(area * ratio))
        fits = (h >= 1) & (h <= height) & (w >= 1) & (w <= width)
        crop_h, crop_w = xp.where(fits, h, crop_h), xp.where(fits, w, crop_w)
    top = xp.floor(uniforms[:, -2] * (height - crop_h + 1))
    left = xp.floor(uniforms[:, -1] * (width - crop_w + 1))
    y_scale, x_scale = max(height - 1, 1), max(width - 1, 1)
    boxes = [top / y_scale, left / x_scale, (top + crop_h - 1) / y_scale, (left + crop_w - 1) / x_scale]
    return xp.stack(boxes, axis=1)


def resized_crop(images, boxes):
    """Crop box b (``resized_crop_boxes``) of each [B, H, W, C] image and resize it back to H x W (bilinear)."""
    _, height, width, _ = images.shape
    return tf.image.crop_and_resize(images, boxes, tf.range(tf.shape(images)[0]), [height, width], method="bilinear")


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

"""One image file to the pixels a model takes: decoded with Pillow (odd modes converted), brought to the
model's channels and size. What the in-memory folder reader (``folder.py``) and the streamed one
(``folder_stream.py``) both do, so that the two give the same pixels.

Pillow, not TensorFlow: a run validates its data before it sets TensorFlow's threads for determinism,
which TensorFlow ops would start too early; and Pillow reads the odd files (CMYK, 16-bit, palettes).
"""

import math

import numpy as np

from tfzoo.data.specs import DataError



def is_gray(mode, decoded):
    """Whether an image of Pillow ``mode`` decodes to one channel: 16- and 32-bit integer, 8-bit and 1-bit
    grayscale, and palettes of grays only (``decoded()``, the image decoded, says for a palette)."""
    return mode.startswith("I") or mode in ("L", "LA", "1") or (mode == "P" and decoded().shape[-1] == 1)


def load_image(store, image_file, size, channels):
    """uint8 ``[*size, channels]`` of one image file of ``store`` (``image_files``): ``decode``, then ``fit``."""
    return fit(decode(store, image_file), size, channels)


def fit(image, size, channels):
    """uint8 ``[*size, channels]`` of a decoded uint8 ``[h, w, 1 or 3]`` image: grayscale among colour repeated,
    colour for a grayscale model reduced to luma (as Pillow's ``convert("L")``), then ``cover_and_centre_crop``."""
    return cover_and_centre_crop(_channels(image, channels), size)


def _channels(image, channels):
    """A decoded image with ``channels``: grayscale among colour repeated, colour for a grayscale model as luma."""
    if image.shape[-1] != channels:
        image = np.repeat(image, 3, axis=-1) if channels == 3 else _luma(image)
    return image


def load_crop(store, image_file, size, channels, box):
    """uint8 ``[*size, channels]``: the random-resized crop ``box`` of one image file, cut from the file at its full
    resolution (``crop_resized``) rather than from the image ``load_image`` gives."""
    return crop_resized(_channels(decode(store, image_file), channels), size, box)


def crop_resized(image, size, box):
    """uint8 ``[*size, C]``: the part of a decoded uint8 ``[h, w, C]`` image that ``box`` marks on its fitted
    ``size`` image (``cover_and_centre_crop``), resized to ``size`` from the image itself (Pillow, bilinear with
    antialiasing).

    ``box`` is ``(y1, x1, y2, x2)`` in ``tf.image.crop_and_resize``'s coordinates of the fitted image (0 and 1: the
    centres of its first and last pixels), as ``augment.resized_crop_boxes`` draws it. The fitted image's pixel edges
    map to the decoded image through the fit's own scale and offset, so the whole box gives the fitted image, on the
    same sampling grid, and a small box the decoded pixels under it: a 10 % crop of a large photo keeps the photo's
    detail instead of enlarging the fitted image's.
    """
    from PIL import Image

    height, width = size
    h, w = image.shape[:2]
    (new_h, new_w), (top, left) = _fit_geometry((h, w), size)
    y1, x1, y2, x2 = (float(v) for v in box)
    rows = (y1 * (height - 1) + top, y2 * (height - 1) + 1 + top)  # pixel edges in the resized image
    cols = (x1 * (width - 1) + left, x2 * (width - 1) + 1 + left)
    scale_y, scale_x = new_h / h, new_w / w
    pillow_box = (cols[0] / scale_x, rows[0] / scale_y, cols[1] / scale_x, rows[1] / scale_y)
    gray = image.shape[-1] == 1
    source = Image.fromarray(image[..., 0] if gray else image, "L" if gray else "RGB")
    crop = source.resize((width, height), Image.Resampling.BILINEAR, box=pillow_box)
    return np.asarray(crop).reshape(height, width, image.shape[-1])


def decode(store, image_file):
    """uint8 [H, W, 1 or 3] of one image file of ``store``; DataError naming the file if it cannot be decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with store.open(image_file) as f, Image.open(f) as image:
            image.load()
            if image.mode.startswith("I"):  # 16- or 32-bit grayscale: scaled, not clipped, to 0..255
                array = _eight_bit(np.asarray(image))[..., None]
            elif image.mode in ("L", "LA", "1", "P") and not has_colour(image):
                array = np.asarray(image.convert("L"))[..., None]
            else:  # RGB, RGBA (alpha dropped), CMYK, YCbCr, colour palettes
                array = np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        message = " ".join(str(error).split())[:200]
        raise DataError(f"{image_file.name} cannot be read as an image: {type(error).__name__}: {message}") from None
    return array.astype(np.uint8)


def _eight_bit(pixels):
    """uint8 of integer grayscale pixels: 16-bit ones (any value above 255) scaled by 255 / 65535."""
    pixels = pixels.astype(np.float64)
    if pixels.max(initial=0) > 255:
        pixels = pixels * (255 / 65535)
    return np.clip(np.round(pixels), 0, 255).astype(np.uint8)


def has_colour(image):
    """Whether a palette image uses colours (a grayscale palette stays one channel)."""
    if image.mode != "P":
        return False
    rgb = np.asarray(image.convert("RGB"))
    return not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def cover_and_centre_crop(image, size):
    """uint8 ``[*size, C]`` of a uint8 ``[h, w, C]`` image: itself when it has that size, else resized
    (bilinear, Pillow's antialiasing, aspect ratio kept) to the smallest size covering ``size`` and
    centre-cropped: the rule of the SavedModel's ``serving_encoded`` signature too."""
    from PIL import Image

    height, width = size
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    (new_h, new_w), (top, left) = _fit_geometry((h, w), size)
    gray = image.shape[-1] == 1
    resized = np.asarray(Image.fromarray(image[..., 0] if gray else image, "L" if gray else "RGB").resize(
        (new_w, new_h), Image.Resampling.BILINEAR)).reshape(new_h, new_w, image.shape[-1])
    return resized[top:top + height, left:left + width]


def _fit_geometry(shape, size):
    """((new_h, new_w), (top, left)) of ``cover_and_centre_crop``: the smallest size, aspect ratio kept, that covers
    ``size``, and the corner of the centre crop in it."""
    (h, w), (height, width) = shape, size
    if (h, w) == (height, width):
        return (h, w), (0, 0)
    scale = max(height / h, width / w)
    new_h, new_w = max(height, math.ceil(h * scale - 1e-6)), max(width, math.ceil(w * scale - 1e-6))
    return (new_h, new_w), ((new_h - height) // 2, (new_w - width) // 2)


def _luma(image):
    """uint8 [H, W, 1] of an RGB image, as Pillow converts RGB to L."""
    from PIL import Image

    return np.asarray(Image.fromarray(image, "RGB").convert("L"))[..., None]

"""A user's own images: ``DIR/train/<class>/*`` and ``DIR/test/<class>/*``, the layout of
``keras.utils.image_dataset_from_directory``.

Classes are the sub-folder names of ``train/``, sorted (label i is the i-th name); ``test/``
may hold the same classes or a subset of them. PNG, JPEG, GIF and BMP files are read (other
files are ignored). Every file is checked cheaply before any is decoded (``image_check``): the
broken ones are named together in one ``DataError``. Odd but valid images are converted: CMYK,
RGBA and colour palettes to RGB, 16-bit grayscale scaled to 8 bits. Every image is brought to one
size, ``image_size`` (``--image_size``) or else the most common size among the training images:
an image of another size is resized (bilinear, aspect ratio kept) to cover it and centre-cropped,
the rule by which the exported SavedModel treats a photo too. Channels: 1 when every training
image is grayscale, else 3. The per-channel mean and standard deviation of the training images
become the data set's normalization, as the release statistics do for the built-in data sets
(``specs.py``).

The decoded arrays are kept per process (keyed by the folder's resolved path and the files'
sizes and modification times), so the spec and both splits are read once.
"""

import collections
import functools
import math
from pathlib import Path

import numpy as np

from tfzoo.data.image_check import check_image_files
from tfzoo.data.specs import DataError, DatasetSpec, check_image_size

NAME = "folder"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")
SPLITS = ("train", "test")


def folder_spec(data_dir, image_size=None):
    """The ``DatasetSpec`` of the image folder ``data_dir`` (reads and decodes the images), its images
    resized to ``image_size`` (height, width) when given."""
    return _read(*_fingerprint(data_dir), check_image_size(image_size))[0]


def load_folder(data_dir, split, max_examples=None, image_size=None):
    """Images uint8 [N, H, W, C] and labels int64 [N] of ``split`` of the image folder ``data_dir``."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; accepted: {', '.join(SPLITS)}")
    _, arrays = _read(*_fingerprint(data_dir), check_image_size(image_size))
    images, labels = arrays[split]
    return images[:max_examples], labels[:max_examples]


def _root(data_dir):
    if not data_dir:
        raise DataError("dataset 'folder' needs --data_dir=DIR holding DIR/train/<class>/ and DIR/test/<class>/ "
                        "image folders")
    root = Path(data_dir).expanduser().resolve()
    if not root.is_dir():
        raise DataError(f"data_dir={data_dir} is not a folder; dataset 'folder' reads DIR/train/<class>/*.png|jpg "
                        "and DIR/test/<class>/*")
    return root


def _files(root, split):
    """{class name: [image paths]} of one split, sorted."""
    folder = root / split
    if not folder.is_dir():
        raise DataError(f"{root} has no {split}/ folder; dataset 'folder' reads DIR/train/<class>/* and "
                        "DIR/test/<class>/*")
    classes = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        images = sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if images:
            classes[sub.name] = images
    return classes


def _fingerprint(data_dir):
    """(root, its image files with their sizes and mtimes): the cache key of ``_read``."""
    root = _root(data_dir)
    listing = []
    for split in SPLITS:
        for name, paths in _files(root, split).items():
            for path in paths:
                stat = path.stat()
                listing.append((split, name, str(path), stat.st_size, stat.st_mtime_ns))
    return root, tuple(listing)


@functools.lru_cache(maxsize=4)
def _read(root, listing, image_size):
    """(spec, {split: (images, labels)}) of the folder; DataError for anything unusable."""
    by_split = {split: collections.defaultdict(list) for split in SPLITS}
    for split, name, path, _, _ in listing:
        by_split[split][name].append(Path(path))
    classes = sorted(by_split["train"])
    if not classes:
        raise DataError(f"{root}/train holds no class folder with images ({', '.join(IMAGE_SUFFIXES)})")
    if len(classes) < 2:
        raise DataError(f"{root}/train holds one class ({classes[0]!r}); a classifier needs at least 2 class folders")
    unknown = sorted(set(by_split["test"]) - set(classes))
    if unknown:
        raise DataError(f"{root}/test has classes that train/ lacks: {', '.join(unknown)}")
    if not by_split["test"]:
        raise DataError(f"{root}/test holds no class folder with images ({', '.join(IMAGE_SUFFIXES)})")
    # Every file checked cheaply first, so that all broken ones are named at once, before any is decoded.
    check_image_files([Path(path) for _, _, path, _, _ in listing], root)
    decoded = {split: [(_decode(p), classes.index(name)) for name, p in interleave(files)]
               for split, files in by_split.items()}
    channels = 1 if all(image.shape[-1] == 1 for image, _ in decoded["train"]) else 3
    sizes = collections.Counter(image.shape[:2] for image, _ in decoded["train"])
    height, width = image_size or sizes.most_common(1)[0][0]
    arrays = {split: _stack(items, (height, width), channels) for split, items in decoded.items()}
    pixels = arrays["train"][0].reshape(-1, channels).astype(np.float64)
    spec = DatasetSpec(
        name=NAME, num_classes=len(classes), image_shape=(height, width, channels), class_names=tuple(classes),
        mean=tuple(round(float(v), 3) for v in pixels.mean(0)),
        std=tuple(round(max(float(v), 1e-3), 3) for v in pixels.std(0)), flip=True, tfds_name="")
    return spec, arrays


def interleave(files):
    """[(class name, path)] of {class name: [paths]}, round-robin over the sorted classes: the first
    file of every class, then the second, ... So the first N files of a split (``--max_train_examples``)
    hold every class in proportion instead of the first classes only."""
    names = sorted(files)
    longest = max((len(files[name]) for name in names), default=0)
    return [(name, files[name][i]) for i in range(longest) for name in names if i < len(files[name])]


def _decode(path):
    """uint8 [H, W, 1 or 3] of one image file; DataError naming the file if it cannot be decoded.

    Decoded with Pillow, not TensorFlow: a run validates its data before it sets TensorFlow's
    threads for determinism, which TensorFlow ops would start too early."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode.startswith("I"):  # 16- or 32-bit grayscale: scaled, not clipped, to 0..255
                array = _eight_bit(np.asarray(image))[..., None]
            elif image.mode in ("L", "LA", "1", "P") and not _has_colour(image):
                array = np.asarray(image.convert("L"))[..., None]
            else:  # RGB, RGBA (alpha dropped), CMYK, YCbCr, colour palettes
                array = np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        message = " ".join(str(error).split())[:200]
        raise DataError(f"{path} cannot be read as an image: {type(error).__name__}: {message}") from None
    return array.astype(np.uint8)


def _eight_bit(pixels):
    """uint8 of integer grayscale pixels: 16-bit ones (any value above 255) scaled by 255 / 65535."""
    pixels = pixels.astype(np.float64)
    if pixels.max(initial=0) > 255:
        pixels = pixels * (255 / 65535)
    return np.clip(np.round(pixels), 0, 255).astype(np.uint8)


def _has_colour(image):
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
    scale = max(height / h, width / w)
    new_h, new_w = max(height, math.ceil(h * scale - 1e-6)), max(width, math.ceil(w * scale - 1e-6))
    gray = image.shape[-1] == 1
    resized = np.asarray(Image.fromarray(image[..., 0] if gray else image, "L" if gray else "RGB").resize(
        (new_w, new_h), Image.Resampling.BILINEAR)).reshape(new_h, new_w, image.shape[-1])
    top, left = (new_h - height) // 2, (new_w - width) // 2
    return resized[top:top + height, left:left + width]


def _stack(items, size, channels):
    images = []
    for image, _ in items:
        if image.shape[-1] != channels:
            image = np.repeat(image, 3, axis=-1)  # grayscale among colour images
        images.append(cover_and_centre_crop(image, size))
    labels = np.array([label for _, label in items], np.int64)
    return np.stack(images).astype(np.uint8), labels

"""A user's own images: ``DIR/train/<class>/*`` and ``DIR/test/<class>/*``, the layout of
``keras.utils.image_dataset_from_directory``, and optionally ``DIR/val/<class>/*`` (or ``validation/``), the
validation split a run measures on with ``--validation``; in a folder or in a ``.zip`` or uncompressed ``.tar``
archive read in place (``image_files``; the same files give the same arrays from all three).

Classes are the sub-folder names of ``train/``, sorted (label i is the i-th name); ``test/``
and ``val/`` may hold the same classes or a subset of them. PNG, JPEG, GIF and BMP files are read (other
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
sizes and modification times), so the spec and both splits are read once. ``load_labelled`` reads one
split alone, labelled by the class names a trained model was given: how a pretrained model is measured
on a test folder that holds no ``train/``.
"""

import collections
import functools
import os

import numpy as np

from tfzoo.data.image_check import check_members
from tfzoo.data.folder_stream import FolderImages, pixel_stats
from tfzoo.data.image_decode import decode, is_gray
from tfzoo.data.image_files import IMAGE_SUFFIXES, LAYOUT, open_store
from tfzoo.data.specs import DataError, DatasetSpec, check_image_size

NAME = "folder"
CACHE_ENV = "TFZOO_FOLDER_CACHE_MB"  # how many MiB of decoded images a folder may hold in memory (0: always stream)
CACHE_BYTES = 256 * 2**20  # the default: a folder whose splits fit in this, decoded, is held in memory; a larger one
# is streamed
SPLITS = ("train", "test")  # every folder has these
VALIDATION = "validation"  # the split of a ``val/`` or ``validation/`` folder, when there is one
VALIDATION_FOLDERS = ("val", "validation")
_ALL_FOLDERS = SPLITS + VALIDATION_FOLDERS
__all__ = ["CACHE_BYTES", "IMAGE_SUFFIXES", "NAME", "SPLITS", "VALIDATION", "folder_spec", "folder_split",
           "has_validation", "load_folder", "load_labelled"]


def folder_spec(data_dir, image_size=None):
    """The ``DatasetSpec`` of the image folder or archive ``data_dir`` (reads and decodes the images), its
    images resized to ``image_size`` (height, width) when given."""
    return _read(*_fingerprint(data_dir), check_image_size(image_size), cache_bytes())[0]


def has_validation(data_dir):
    """Whether the image folder or archive ``data_dir`` has a validation split (``val/`` or ``validation/``)."""
    return _validation_folder(open_store(data_dir)) is not None


def load_folder(data_dir, split, max_examples=None, image_size=None):
    """Images uint8 [N, H, W, C] and labels int64 [N] of ``split`` ("train", "test" or "validation") of the image
    folder or archive ``data_dir``."""
    images, labels = folder_split(data_dir, split, image_size)
    return images[:max_examples], labels[:max_examples]


def cache_bytes():
    """Bytes of decoded images a folder may hold in memory: ``$TFZOO_FOLDER_CACHE_MB`` MiB if set, else
    ``CACHE_BYTES``."""
    value = os.environ.get(CACHE_ENV, "").strip()
    if not value:
        return CACHE_BYTES
    try:
        megabytes = float(value)
    except ValueError:
        megabytes = -1
    if not megabytes >= 0:
        raise DataError(f"{CACHE_ENV}={value} is not a size; accepted: a number of MiB >= 0 (0: always stream)")
    return int(megabytes * 2**20)


def folder_split(data_dir, split, image_size=None, streamed=False):
    """(images, labels int64 [N]) of ``split`` as a run reads it: images a uint8 [N, H, W, C] array when the
    folder fits in ``CACHE_BYTES`` decoded, else ``FolderImages``, decoded as the batches ask (``folder_stream``);
    ``FolderImages`` whatever the size with ``streamed`` (what random-resized crops cut from the files).
    ``split`` "validation" is the ``val/`` or ``validation/`` folder; a DataError when there is none."""
    if split not in SPLITS + (VALIDATION,):
        raise DataError(f"unknown split {split!r}; accepted: {', '.join(SPLITS + (VALIDATION,))}")
    root, listing = _fingerprint(data_dir)
    _, arrays, files = _read(root, listing, check_image_size(image_size), cache_bytes())
    if split not in arrays:
        raise DataError(f"{root} has no validation split; accepted: a val/ or validation/ folder of class folders "
                        "beside train/ (or --validation_examples=N, N training images held out)")
    return (files[split], arrays[split][1]) if streamed else arrays[split]


def load_labelled(data_dir, split, class_names, image_shape):
    """Images uint8 [N, *image_shape] and labels int64 [N] of the one split ``split`` of ``data_dir``, label i
    the class folder named ``class_names[i]`` (every class folder must be one of them), each image brought to
    ``image_shape`` (height, width, channels) as ``load_folder`` does. Files in class order, interleaved."""
    store = open_store(data_dir)
    root, files = store.root, _split_files(store, split)
    unknown = sorted(set(files) - set(class_names))
    if unknown:
        raise DataError(f"{root}/{split} has classes the model was not trained on: {', '.join(unknown)}; "
                        f"accepted: {', '.join(class_names)}")
    check_files(store, files, root)
    items = interleave(files)
    images = FolderImages(store, [f for _, f in items], tuple(image_shape[:2]), image_shape[2])
    return images[:], np.array([list(class_names).index(name) for name, _ in items], np.int64)


def _split_files(store, split):
    """{class name: [ImageFile]} of one split of a store, sorted; DataError when the split is missing or empty."""
    found = store.files(split)
    if found is None:
        raise DataError(f"{store.root} has no {split}/ folder; dataset 'folder' reads {LAYOUT}")
    classes = collections.defaultdict(list)
    for image_file in found:
        classes[image_file.label].append(image_file)
    if not classes:
        raise DataError(f"{store.root}/{split} holds no class folder with images ({', '.join(IMAGE_SUFFIXES)})")
    return dict(classes)


def _validation_folder(store):
    """"val" or "validation", the store's validation folder, or None; a DataError when it has both."""
    found = [name for name in VALIDATION_FOLDERS if store.files(name) is not None]
    if len(found) > 1:
        raise DataError(f"{store.root} has both val/ and validation/; accepted: one validation folder")
    return found[0] if found else None


def _fingerprint(data_dir):
    """(root, what changes when any image file of the store does): the cache key of ``_read``."""
    store = open_store(data_dir)
    return store.root, tuple((split, store.fingerprint(store.files(split) or [])) for split in _ALL_FOLDERS)


def check_files(store, files, root=None):
    """{key: [ImageHeader]} of {key: [ImageFile]}: every file checked cheaply first, so that all broken ones are
    named at once (one DataError), before any is decoded."""
    members = [(f.name, f.size, functools.partial(store.open, f)) for paths in files.values() for f in paths]
    headers = iter(check_members(members, store.root if root is None else root))
    return {key: [next(headers) for _ in paths] for key, paths in files.items()}


@functools.lru_cache(maxsize=4)
def _read(root, listing, image_size, cache_bytes):
    """(spec, {split: (images, labels)}, {split: FolderImages}) of the folder (its "validation" split when it has
    one), images a uint8 array when all splits fit in ``cache_bytes`` decoded, else the ``FolderImages``; DataError
    for anything unusable."""
    del listing  # the cache key: the same root with changed files is read again
    store = open_store(root)
    by_split = {split: _split_files(store, split) for split in SPLITS}
    validation = _validation_folder(store)
    if validation is not None:
        by_split[VALIDATION] = _split_files(store, validation)
    classes = sorted(by_split["train"])
    if len(classes) < 2:
        raise DataError(f"{root}/train holds one class ({classes[0]!r}); a classifier needs at least 2 class folders")
    for split, folder in (("test", "test"), (VALIDATION, validation)):
        unknown = sorted(set(by_split.get(split, ())) - set(classes))
        if unknown:
            raise DataError(f"{root}/{folder} has classes that train/ lacks: {', '.join(unknown)}")
    ordered = {split: interleave(files) for split, files in by_split.items()}
    headers = check_files(store, {split: [f for _, f in items] for split, items in ordered.items()}, root)
    train = list(zip(headers["train"], (f for _, f in ordered["train"])))
    # The layout from the headers, nothing decoded but grayscale-looking palettes: 1 channel when every
    # training image is grayscale, and the most common training size unless image_size says.
    channels = 1 if all(is_gray(header.mode, lambda f=f: decode(store, f)) for header, f in train) else 3
    sizes = collections.Counter((header.size[1], header.size[0]) for header, _ in train)
    height, width = image_size or sizes.most_common(1)[0][0]
    labels = {split: np.array([classes.index(name) for name, _ in items], np.int64) for split, items in ordered.items()}
    streamed = sum(map(len, labels.values())) * height * width * channels > cache_bytes
    files = {split: FolderImages(store, [f for _, f in items], (height, width), channels)
             for split, items in ordered.items()}
    arrays = {split: (images if streamed else images[:], labels[split]) for split, images in files.items()}
    mean, std = pixel_stats(arrays["train"][0])
    spec = DatasetSpec(name=NAME, num_classes=len(classes), image_shape=(height, width, channels),
                       class_names=tuple(classes), mean=mean, std=std, flip=True, tfds_name="")
    return spec, arrays, files


def interleave(files):
    """[(class name, path)] of {class name: [paths]}, round-robin over the sorted classes: the first
    file of every class, then the second, ... So the first N files of a split (``--max_train_examples``)
    hold every class in proportion instead of the first classes only."""
    names = sorted(files)
    longest = max((len(files[name]) for name in names), default=0)
    return [(name, files[name][i]) for i in range(longest) for name in names if i < len(files[name])]

"""Any TFDS image-classification data set the user has prepared: ``--dataset=tfds:NAME``.

``tfds:NAME`` reads the builder's ``supervised_keys`` (image, label) with ``tfds.load`` from
``data_dir`` (TFDS's default folder when None), without downloading: prepare it first with
``tfds build NAME`` or ``tfds.builder(NAME).download_and_prepare()`` on a machine that is
online. Both splits are held in memory, as the built-in data sets are. Classes and names come
from the label feature; image size and channels from the images; the per-channel mean and
standard deviation of the training images become the normalization. A test split named
"test" is used, else "validation".
"""

import functools

import numpy as np

from tfzoo.data.specs import DataError, DatasetSpec

PREFIX = "tfds:"
SPLITS = ("train", "test")
_TEST_SPLITS = ("test", "validation")


def is_tfds(name):
    return isinstance(name, str) and name.startswith(PREFIX)


def tfds_spec(name, data_dir=None):
    """The ``DatasetSpec`` of ``tfds:NAME`` (reads its training split)."""
    return _read(name, _key(data_dir))[0]


def load_tfds(name, split, data_dir=None, max_examples=None):
    """Images uint8 [N, H, W, C] and labels int64 [N] of ``split`` of ``tfds:NAME``."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; accepted: {', '.join(SPLITS)}")
    images, labels = _read(name, _key(data_dir))[1][split]
    return images[:max_examples], labels[:max_examples]


def _key(data_dir):
    from pathlib import Path

    return None if data_dir is None else str(Path(data_dir).expanduser().resolve())


@functools.lru_cache(maxsize=2)
def _read(name, data_dir):
    import tensorflow_datasets as tfds

    tfds_name = name[len(PREFIX):]
    if not tfds_name:
        raise DataError(f"dataset {name!r} names no TFDS data set; use tfds:NAME, e.g. tfds:cifar10")
    try:
        builder = tfds.builder(tfds_name, data_dir=data_dir)
    except Exception as error:  # TFDS raises its own DatasetNotFoundError and friends
        raise DataError(f"TFDS has no data set {tfds_name!r}: {' '.join(str(error).split())[:200]}") from None
    info = builder.info
    if not info.supervised_keys or len(info.supervised_keys) != 2:
        raise DataError(f"TFDS {tfds_name!r} has no (image, label) supervised_keys; it is not an image classification set")
    image_key, label_key = info.supervised_keys
    label = info.features[label_key]
    if not hasattr(label, "num_classes") or label.num_classes < 2:
        raise DataError(f"TFDS {tfds_name!r}: its label {label_key!r} is not a ClassLabel of >= 2 classes")
    # A prepared data set lists its splits; one that is not prepared lists none and fails to load below.
    test_split = "validation" if info.splits and "test" not in info.splits and "validation" in info.splits else "test"
    arrays = {}
    for ours, theirs in (("train", "train"), ("test", test_split)):
        try:
            dataset = tfds.load(tfds_name, split=theirs, data_dir=data_dir, as_supervised=True, download=False)
            batches = list(tfds.as_numpy(dataset.batch(4096)))
        except Exception as error:  # not prepared, or damaged
            raise DataError(f"TFDS {tfds_name!r} split {theirs!r} is not prepared in "
                            f"{data_dir or 'the default TFDS folder'} ({type(error).__name__}); run "
                            f"`tfds build {tfds_name}` where there is network, then pass --data_dir") from None
        if not batches:
            raise DataError(f"TFDS {tfds_name!r} split {theirs!r} is empty")
        images = np.concatenate([b[0] for b in batches])
        labels = np.concatenate([b[1] for b in batches])
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3):
            raise DataError(f"TFDS {tfds_name!r}: expected uint8 images [N, H, W, 1 or 3] of one size, got "
                            f"{images.dtype} {list(images.shape)}")
        arrays[ours] = images, np.asarray(labels).astype(np.int64)
    train_images = arrays["train"][0]
    if arrays["test"][0].shape[1:] != train_images.shape[1:]:
        raise DataError(f"TFDS {tfds_name!r}: test images {arrays['test'][0].shape[1:]} differ from training images "
                        f"{train_images.shape[1:]}")
    pixels = train_images.reshape(-1, train_images.shape[-1]).astype(np.float64)
    spec = DatasetSpec(
        name=name, num_classes=label.num_classes, image_shape=tuple(int(d) for d in train_images.shape[1:]),
        class_names=tuple(label.names), mean=tuple(round(float(v), 3) for v in pixels.mean(0)),
        std=tuple(round(max(float(v), 1e-3), 3) for v in pixels.std(0)), flip=True, tfds_name=tfds_name)
    return spec, arrays

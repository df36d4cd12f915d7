"""What each supported dataset is: shape, classes, normalization statistics, defaults.

``mean`` and ``std`` are per-channel statistics of the training images on the 0..255
scale (``normalize`` computes ``(x - mean) / std`` on raw pixel values).
"""

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np


class DataError(ValueError):
    """A dataset could not be found or read; the message is one line naming what and where."""


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A dataset: its name, classes, image shape (H, W, C), statistics and TFDS name.

    ``flip`` is the default of random horizontal flipping: on for natural images and
    garments (a mirrored coat is still a coat), off for digits (a mirrored 2 is not a 2).
    ``streaming``: too big for memory; read as a tf.data stream (``imagenet.py``), not
    by ``load_arrays``.
    """

    name: str
    num_classes: int
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    flip: bool
    tfds_name: str
    streaming: bool = False

    @classmethod
    def from_dict(cls, values):
        """The spec that ``dataclasses.asdict`` wrote as JSON (lists back to tuples), e.g. the
        ``dataset_spec`` a run records in results.json for its own data (folder, tfds:NAME)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


_CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_CIFAR100_NAMES = tuple(
    """apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus
    butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab
    crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard
    lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom
    oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine
    possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake
    spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor
    train trout tulip turtle wardrobe whale willow_tree wolf woman worm""".split()
)
_DIGITS = tuple(str(d) for d in range(10))
_FASHION_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


def _imagenet_synsets():
    """The 1000 WordNet ids of ImageNet in TFDS's label order, from the file TFDS ships
    (found without importing TFDS); numbered names if that file is not there."""
    found = importlib.util.find_spec("tensorflow_datasets")
    if found is not None and found.submodule_search_locations:
        path = Path(found.submodule_search_locations[0]) / "datasets" / "imagenet2012" / "labels.txt"
        if path.is_file():
            names = tuple(path.read_text().split())
            if len(names) == 1000:
                return names
    return tuple(f"class_{i:03d}" for i in range(1000))


SPECS = {
    spec.name: spec
    for spec in [
        DatasetSpec("cifar10", 10, (32, 32, 3), _CIFAR10_NAMES,
                    (125.307, 122.950, 113.865), (62.993, 62.089, 66.705), True, "cifar10"),
        DatasetSpec("cifar100", 100, (32, 32, 3), _CIFAR100_NAMES,
                    (129.304, 124.070, 112.434), (68.170, 65.392, 70.418), True, "cifar100"),
        DatasetSpec("svhn", 10, (32, 32, 3), _DIGITS,
                    (111.609, 113.161, 120.565), (50.498, 51.259, 50.244), False, "svhn_cropped"),
        DatasetSpec("mnist", 10, (28, 28, 1), _DIGITS, (33.318,), (78.567,), False, "mnist"),
        DatasetSpec("fashion_mnist", 10, (28, 28, 1), _FASHION_NAMES, (72.940,), (90.021,), True, "fashion_mnist"),
        # The usual ImageNet statistics (0.485, 0.456, 0.406) and (0.229, 0.224, 0.225), times 255.
        DatasetSpec("imagenet2012", 1000, (224, 224, 3), _imagenet_synsets(),
                    (123.675, 116.28, 103.53), (58.395, 57.12, 57.375), True, "imagenet2012", streaming=True),
    ]
}


def check_arrays(images, labels, spec, origin):
    """Raise ``DataError`` unless images are uint8 [N, *image_shape] and labels N ints in range."""
    if images.dtype != np.uint8 or images.shape[1:] != spec.image_shape:
        raise DataError(
            f"{origin}: expected uint8 images of shape [N, {', '.join(map(str, spec.image_shape))}] for "
            f"{spec.name}, got {images.dtype} {list(images.shape)}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{origin}: {len(images)} images but labels of shape {list(labels.shape)}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{origin}: labels must be integers, got {labels.dtype}")
    if len(labels) and (labels.min() < 0 or labels.max() >= spec.num_classes):
        raise DataError(
            f"{origin}: labels must lie in [0, {spec.num_classes}) for {spec.name}, "
            f"found {labels.min()}..{labels.max()}"
        )


def as_image_size(value):
    """``value`` as the command line or a config.json gives it ("32", "32,24", [32, 24], 32) as a
    (height, width) tuple where it reads as one; anything else unchanged, for ``check_image_size`` to name."""
    size = [part.strip() for part in value.split(",")] if isinstance(value, str) else value
    if isinstance(size, int) and not isinstance(size, bool):
        size = [size]
    if isinstance(size, (list, tuple)) and all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in size):
        try:
            size = tuple(int(v) for v in size)
        except ValueError:
            return value
        return size * 2 if len(size) == 1 else size
    return value


def check_image_size(image_size):
    """``image_size`` as (height, width) of positive integers, or None; ``DataError`` naming it otherwise."""
    if image_size is None:
        return None
    size = (image_size,) * 2 if isinstance(image_size, int) and not isinstance(image_size, bool) else image_size
    try:
        height, width = size
    except (TypeError, ValueError):
        height = width = None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in (height, width)):
        raise DataError(f"image_size must be H or (H, W), positive integers. Received: image_size={image_size!r}")
    return int(height), int(width)

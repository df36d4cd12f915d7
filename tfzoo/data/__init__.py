"""Datasets, augmentation and input pipelines.

``load_arrays`` reads a split from the official release files (``data_dir``,
``$TFZOO_DATA_DIR``, Debian's Fashion-MNIST package) or TFDS; ``make_train_dataset``
and ``make_eval_dataset`` turn the arrays into normalized, one-hot tf.data batches.
"""

from tfzoo.data.augment import AugmentConfig
from tfzoo.data.pipeline import make_eval_dataset, make_train_dataset, normalize, steps_per_epoch
from tfzoo.data.sources import load_arrays, load_class_names
from tfzoo.data.specs import DataError, DatasetSpec, get_spec, list_datasets

__all__ = [
    "AugmentConfig",
    "DataError",
    "DatasetSpec",
    "get_spec",
    "list_datasets",
    "load_arrays",
    "load_class_names",
    "make_eval_dataset",
    "make_train_dataset",
    "normalize",
    "steps_per_epoch",
]

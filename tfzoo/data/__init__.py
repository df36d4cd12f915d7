"""Datasets, augmentation and input pipelines.

``load_arrays`` reads a split from the official release files (``data_dir``,
``$TFZOO_DATA_DIR``, Debian's Fashion-MNIST package) or TFDS; ``make_train_dataset``
and ``make_eval_dataset`` turn the arrays into normalized, one-hot tf.data batches.
ImageNet is streamed instead (``imagenet.py``); ``training_datasets`` serves both kinds.
"""

from tfzoo.data.augment import AugmentConfig
from tfzoo.data.imagenet import (imagenet_builder, imagenet_num_examples, make_imagenet_eval_dataset,
                                 make_imagenet_train_dataset)
from tfzoo.data.pipeline import make_eval_dataset, make_train_dataset, normalize, steps_per_epoch
from tfzoo.data.sources import load_arrays, load_class_names
from tfzoo.data.specs import DataError, DatasetSpec, get_spec, list_datasets
from tfzoo.data.training_data import TrainingData, num_examples, training_datasets

__all__ = [
    "AugmentConfig",
    "DataError",
    "DatasetSpec",
    "TrainingData",
    "get_spec",
    "imagenet_builder",
    "imagenet_num_examples",
    "list_datasets",
    "load_arrays",
    "load_class_names",
    "make_eval_dataset",
    "make_imagenet_eval_dataset",
    "make_imagenet_train_dataset",
    "make_train_dataset",
    "normalize",
    "num_examples",
    "steps_per_epoch",
    "training_datasets",
]

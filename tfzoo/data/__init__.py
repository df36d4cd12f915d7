"""Datasets, augmentation and input pipelines.

``load_arrays`` reads a split from the official release files (``data_dir``,
``$TFZOO_DATA_DIR``, Debian's Fashion-MNIST package) or TFDS; ``make_train_dataset``
and ``make_eval_dataset`` turn the arrays into normalized, one-hot tf.data batches.
ImageNet is streamed instead (``imagenet.py``); ``training_datasets`` serves both kinds.

Names are imported on first use, as in ``tfzoo.training``: the data sets' descriptions
(``tfzoo.data.specs``, ``catalog``), which the pretrained registry reads, import without TensorFlow, so a
pretrained model loads into ``create_model`` on any Keras backend with TensorFlow absent.
"""

from tfzoo.lazy import lazy_exports

_EXPORTS = {
    "AugmentConfig": "augment",
    "imagenet_builder": "imagenet",
    "imagenet_num_examples": "imagenet",
    "make_imagenet_eval_dataset": "imagenet",
    "make_imagenet_train_dataset": "imagenet",
    "make_eval_dataset": "pipeline",
    "make_train_dataset": "pipeline",
    "normalize": "pipeline",
    "steps_per_epoch": "pipeline",
    "load_arrays": "sources",
    "load_class_names": "sources",
    "DataError": "specs",
    "DatasetSpec": "specs",
    "get_spec": "catalog",
    "list_datasets": "catalog",
    "TrainingData": "training_data",
    "num_examples": "training_data",
    "training_datasets": "training_data",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

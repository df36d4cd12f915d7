"""The three datasets of a training run, whatever the source: in memory (CIFAR, SVHN,
MNIST-family, via ``load_arrays``; a user's image folder that fits ``folder.CACHE_BYTES`` decoded) or streamed
(ImageNet, via ``imagenet.py``; a larger image folder, read from its files, ``folder_stream.py``).

``training_datasets`` is what a fit loop calls: the augmented training stream, the
training set un-augmented (for the training loss the paper reports) and the test set, with
their sizes for steps-per-epoch and results.
"""

from typing import NamedTuple

import keras
import numpy as np

from tfzoo.data import imagenet, numpy_pipeline
from tfzoo.data.augment import AugmentConfig
from tfzoo.data.pipeline import make_eval_dataset, make_train_dataset
from tfzoo.data.sources import load_arrays
from tfzoo.data.catalog import get_spec
from tfzoo.data.folder import NAME as FOLDER
from tfzoo.data.folder import VALIDATION, folder_split
from tfzoo.data.folder_stream import take
from tfzoo.data.specs import DataError


class TrainingData(NamedTuple):
    """``train``: augmented batches from ``start_epoch`` on, ``num_train // batch_size`` per epoch;
    ``eval_train`` and ``test``: one pass each, in order, un-augmented, remainder kept. On the TensorFlow backend
    ``tf.data.Dataset``s; on JAX and PyTorch a generator and two ``keras.utils.PyDataset``s
    (``numpy_pipeline``)."""

    train: object
    eval_train: object
    test: object
    num_train: int
    num_test: int


def training_datasets(name, data_dir=None, *, batch_size, eval_batch_size, seed, augment=AugmentConfig(),
                      start_epoch=0, num_epochs=None, max_train_examples=None, validation_examples=None,
                      validation=False, image_size=None):
    """``TrainingData`` for dataset ``name``; ``max_train_examples`` keeps the first N training examples.

    ``validation_examples=V`` holds V training examples out (``split_validation``) and returns them
    as ``test``: hyper-parameters are then chosen without looking at the test set. The held-out
    examples never reach ``train`` or ``eval_train``; ``max_train_examples`` applies to the rest.
    ``validation=True`` (without ``validation_examples``) returns an image folder's own validation split
    (``val/`` or ``validation/``) as ``test``; DataError for a data set without one.
    ``image_size`` (height, width) resizes a user's image folder (``get_spec``).

    In-memory datasets go through ``load_arrays``, ``make_train_dataset`` and ``make_eval_dataset``;
    ImageNet through ``imagenet_builder`` (prepared once from the manual download in ``data_dir``)
    and its streams, "test" being its validation set. Raises ``DataError`` when the data is missing.
    """
    spec = get_spec(name, data_dir, image_size)
    if spec.streaming:
        builder = imagenet.imagenet_builder(data_dir)
        train = imagenet.make_imagenet_train_dataset(
            builder, batch_size=batch_size, seed=seed, augment=augment, start_epoch=start_epoch,
            num_epochs=num_epochs, max_examples=max_train_examples)
        eval_train = imagenet.make_imagenet_eval_dataset(
            builder, batch_size=eval_batch_size, split="train", max_examples=max_train_examples)
        test = imagenet.make_imagenet_eval_dataset(builder, batch_size=eval_batch_size, split="test")
        num_train = imagenet.imagenet_num_examples(builder, "train", max_train_examples)
        return TrainingData(train, eval_train, test, num_train, imagenet.imagenet_num_examples(builder, "test"))
    # A folder's random-resized crops are cut from its files at full resolution: its training images are read from
    # them (FolderImages) whatever the folder's size; the evaluations read it as usual.
    file_crops = name == FOLDER and augment.crop_mode(spec.image_shape) == "resized"

    def split(which, streamed=False):  # a large image folder streamed (FolderImages), everything else in memory
        if name == FOLDER:
            return folder_split(data_dir, which, image_size, streamed)
        return load_arrays(name, which, data_dir, image_size=image_size)

    if validation_examples is None:
        if validation and name != FOLDER:
            raise DataError(f"{name} has no validation split of its own; accepted: validation_examples=N "
                            "(--validation_examples, N training examples held out)")
        train_x, train_y = split("train")
        crop_x = split("train", True)[0] if file_crops else train_x
        test_x, test_y = split(VALIDATION if validation else "test")
    else:
        (train_x, train_y), (test_x, test_y) = split_validation(*split("train"), validation_examples,
                                                                origin=f"{name} 'train'")
        crop_x = split_validation(*split("train", True), validation_examples)[0][0] if file_crops else train_x
    train_x, crop_x = take(train_x, slice(max_train_examples)), take(crop_x, slice(max_train_examples))
    train_y = train_y[:max_train_examples]
    if keras.backend.backend() == "tensorflow":
        train = make_train_dataset(crop_x, train_y, spec, batch_size=batch_size, seed=seed, augment=augment,
                                   start_epoch=start_epoch, num_epochs=num_epochs)
        eval_train = make_eval_dataset(train_x, train_y, spec, batch_size=eval_batch_size)
        test = make_eval_dataset(test_x, test_y, spec, batch_size=eval_batch_size)
    else:  # JAX, PyTorch: no tf.data, the same streams in NumPy
        train = numpy_pipeline.train_batches(crop_x, train_y, spec, batch_size=batch_size, seed=seed, augment=augment,
                                             start_epoch=start_epoch, num_epochs=num_epochs)
        eval_train = numpy_pipeline.EvalBatches(train_x, train_y, spec, batch_size=eval_batch_size)
        test = numpy_pipeline.EvalBatches(test_x, test_y, spec, batch_size=eval_batch_size)
    return TrainingData(train, eval_train, test, len(train_x), len(test_x))


VALIDATION_SEED = 20_160_523  # fixed, so every run and every search holds out the same examples


def split_validation(images, labels, validation_examples, *, origin="training split"):
    """((train images, labels), (validation images, labels)): ``validation_examples`` examples drawn
    at random, with a seed that no run flag changes, and the rest in their original order."""
    if isinstance(validation_examples, bool) or not isinstance(validation_examples, int) or validation_examples < 1:
        raise DataError(f"validation_examples must be a positive integer. Received: {validation_examples!r}")
    if validation_examples >= len(labels):
        raise DataError(f"validation_examples={validation_examples} leaves no training example: {origin} has "
                        f"{len(labels)} examples")
    held_out = np.random.RandomState(VALIDATION_SEED).permutation(len(labels))[:validation_examples]
    keep = np.ones(len(labels), bool)
    keep[held_out] = False
    held_out = np.sort(held_out)
    return (take(images, keep), labels[keep]), (take(images, held_out), labels[held_out])


def num_examples(name, split, data_dir=None, max_examples=None):
    """Examples in ``split`` ("train" or "test") of dataset ``name``, at most ``max_examples``.

    For in-memory datasets this reads the split; for ImageNet it reads TFDS's metadata only.
    """
    if get_spec(name, data_dir).streaming:
        return imagenet.imagenet_num_examples(imagenet.imagenet_builder(data_dir), split, max_examples)
    if name == FOLDER:
        return len(folder_split(data_dir, split)[1][:max_examples])
    return len(load_arrays(name, split, data_dir, max_examples)[1])

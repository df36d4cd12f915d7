"""The NumPy streams that Keras on JAX or PyTorch trains from (``tfzoo.data.numpy_pipeline``), on the CIFAR-10 fixture
(real images): each augmentation equal to the tf.data pipeline's for the same draws, evaluation batches equal to
``make_eval_dataset``'s, and the stream a pure function of (seed, epoch, position)."""

import numpy as np
import pytest

from tfzoo.data import AugmentConfig, augment as augment_lib, get_spec, make_eval_dataset
from tfzoo.data import numpy_pipeline as npp

SPEC = get_spec("cifar10")
NO_AUGMENTATION = AugmentConfig(pad=0, flip=False)


def _take(generator, count):
    return [next(generator) for _ in range(count)]


@pytest.mark.parametrize("padding", ["zero", "reflect"])
def test_pad_and_crop_equals_tensorflows(cifar_test, padding):
    images = cifar_test[0][:8].astype(np.float32)
    offsets = np.random.RandomState(0).randint(0, 9, size=(8, 2)).astype(np.int32)
    offsets[0] = [4, 4]  # the centre crop: the image itself
    ours = npp.pad_and_crop(images, 4, padding, offsets)
    assert ours.shape == images.shape
    np.testing.assert_array_equal(ours, augment_lib.pad_and_crop(images, 4, padding, offsets).numpy())
    np.testing.assert_array_equal(ours[0], images[0])


def test_cutout_and_flip_equal_tensorflows(cifar_test):
    images = npp.normalize(cifar_test[0][:8], SPEC)
    centres = np.random.RandomState(1).randint(0, 32 * 32, size=8).astype(np.int32)
    ours = npp.cutout(images, 8, centres)
    np.testing.assert_array_equal(ours, augment_lib.cutout(images, 8, centres).numpy())
    assert 0 < np.mean(ours == 0) < 0.07  # at most an 8 x 8 square of 32 x 32 per image, clipped at the borders
    flips = np.arange(8) % 2 == 0
    flipped = np.where(flips[:, None, None, None], images[:, :, ::-1], images)
    np.testing.assert_array_equal(flipped, augment_lib.flip(images, flips).numpy())


def test_eval_batches_equal_make_eval_dataset(cifar_test):
    images, labels = cifar_test
    ours = npp.EvalBatches(images, labels, SPEC, batch_size=32)
    theirs = [(x.numpy(), y.numpy()) for x, y in make_eval_dataset(images, labels, SPEC, batch_size=32)]
    assert len(ours) == 4 and [len(x) for x, _ in ours] == [32, 32, 32, 4]  # in order, the remainder kept
    for (x, y), (tx, ty) in zip(ours, theirs):
        np.testing.assert_allclose(x, tx, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(y, ty)
    with pytest.raises(IndexError):
        ours[4]


def test_train_batches_visit_every_example_once_per_epoch(cifar_train):
    images, labels = cifar_train[0][:96], cifar_train[1][:96]
    batches = _take(npp.train_batches(images, labels, SPEC, batch_size=32, seed=3, augment=NO_AUGMENTATION), 6)
    assert all(x.shape == (32, 32, 32, 3) and x.dtype == np.float32 and y.shape == (32, 10) for x, y in batches)
    index_of = {npp.normalize(image, SPEC).tobytes(): i for i, image in enumerate(images)}
    for epoch in (batches[:3], batches[3:]):
        seen = [index_of[x.tobytes()] for batch, _ in epoch for x in batch]
        assert sorted(seen) == list(range(96))  # a permutation of the examples
        np.testing.assert_array_equal(np.concatenate([y for _, y in epoch]).argmax(1), labels[seen])
    assert [index_of[x.tobytes()] for x in batches[0][0]] != [index_of[x.tobytes()] for x in batches[3][0]]


def test_train_stream_is_a_function_of_seed_epoch_and_position(cifar_train):
    images, labels = cifar_train[0][:128], cifar_train[1][:128]
    every = AugmentConfig(pad=4, padding="reflect", cutout=8, mixup_alpha=0.5)
    stream = dict(batch_size=32, seed=7, augment=every)
    first = _take(npp.train_batches(images, labels, SPEC, **stream), 8)
    again = _take(npp.train_batches(images, labels, SPEC, **stream), 8)
    resumed = _take(npp.train_batches(images, labels, SPEC, start_epoch=1, **stream), 4)
    other_seed = _take(npp.train_batches(images, labels, SPEC, **{**stream, "seed": 8}), 1)
    for (x, y), (ax, ay) in zip(first + first[4:], again + resumed):
        np.testing.assert_array_equal(x, ax)
        np.testing.assert_array_equal(y, ay)
    assert not np.array_equal(first[0][0], other_seed[0][0])
    y = np.concatenate([y for _, y in first])
    np.testing.assert_allclose(y.sum(1), 1.0, rtol=1e-6)  # mixup's labels: a convex mix of two one-hots
    assert np.mean((y > 0) & (y < 1)) > 0  # mixed
    assert sum(1 for _ in npp.train_batches(images, labels, SPEC, num_epochs=2, **stream)) == 8


def test_rebatch_splits_each_batch_in_order():
    batches = [(np.arange(8.0)[:, None], np.arange(8.0)[:, None] * 10)]
    parts = list(npp.rebatch(iter(batches), 4))
    assert [p[0][:, 0].tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert parts[1][1][:, 0].tolist() == [40, 50, 60, 70]


def test_bad_arguments_are_named(cifar_train):
    images, labels = cifar_train
    with pytest.raises(ValueError, match="seed must be an integer"):
        npp.train_batches(images, labels, SPEC, batch_size=32, seed=1.5)
    with pytest.raises(ValueError, match="batch_size=6000 exceeds the"):
        npp.train_batches(images, labels, SPEC, batch_size=6000, seed=0)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        npp.EvalBatches(images, labels, SPEC, batch_size=0)

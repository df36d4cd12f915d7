"""Input pipelines on the CIFAR-10 fixture (real images): shapes, normalization, determinism, exact resume."""

import numpy as np
import pytest
import tensorflow as tf

from tfzoo.data import (AugmentConfig, DataError, get_spec, make_eval_dataset, make_train_dataset, normalize,
                        steps_per_epoch)

SPEC = get_spec("cifar10")
ALL_AUGMENTATIONS = AugmentConfig(pad=4, padding="reflect", cutout=8, mixup_alpha=0.5)
NO_AUGMENTATION = AugmentConfig(pad=0, flip=False)


def _batches(dataset, count=None):
    if count is not None:
        dataset = dataset.take(count)
    return [(x.numpy(), y.numpy()) for x, y in dataset]


def _source_indices(batches, images):
    """Index in ``images`` of each (unaugmented) example of ``batches``, by exact pixel match."""
    index_of = {image.tobytes(): i for i, image in enumerate(images)}
    pixels = [np.rint(x * np.array(SPEC.std) + np.array(SPEC.mean)).astype(np.uint8) for x, _ in batches]
    return [index_of[image.tobytes()] for image in np.concatenate(pixels)]


def test_steps_per_epoch():
    assert steps_per_epoch(5170, 128) == 40
    assert steps_per_epoch(5170, 5170) == 1
    with pytest.raises(ValueError, match="batch_size=6000 exceeds the 5170 training examples"):
        steps_per_epoch(5170, 6000)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1. Received: batch_size=0"):
        steps_per_epoch(5170, 0)


def test_normalize_matches_numpy(cifar_test):
    images = cifar_test[0][:16]
    expected = (images.astype(np.float32) - np.float32(SPEC.mean)) / np.float32(SPEC.std)
    out = normalize(images, SPEC)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)


def test_eval_dataset(cifar_test):
    images, labels = cifar_test
    batches = _batches(make_eval_dataset(images, labels, SPEC, batch_size=32))
    assert [x.shape[0] for x, _ in batches] == [32] * 3 + [4]  # keeps the remainder
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    assert x.dtype == np.float32 and y.dtype == np.float32 and y.shape == (100, 10)
    np.testing.assert_array_equal(y.argmax(axis=1), labels)  # in order, one-hot
    assert set(np.unique(y)) == {0.0, 1.0}
    np.testing.assert_allclose(x, normalize(images, SPEC).numpy())
    # Normalized with the full training set's statistics: near zero mean, unit spread per channel.
    np.testing.assert_allclose(x.mean(axis=(0, 1, 2)), 0.0, atol=0.05)
    np.testing.assert_allclose(x.std(axis=(0, 1, 2)), 1.0, atol=0.05)


def test_train_batches(cifar_train):
    images, labels = cifar_train
    batches = _batches(make_train_dataset(images, labels, SPEC, batch_size=96, seed=0, num_epochs=1))
    assert len(batches) == 3  # 320 // 96, remainder dropped
    x, y = batches[0]
    assert x.shape == (96, 32, 32, 3) and x.dtype == np.float32
    assert y.shape == (96, 10) and y.dtype == np.float32
    np.testing.assert_array_equal(y.sum(axis=1), 1.0)
    # Pad-4 crops show on average E|offset - 4| = 20/9 black rows and columns of 32; a black
    # pixel normalizes to -mean/std and the others average what these images' pixels do.
    black = 1 - (1 - 20 / 9 / 32) ** 2
    all_x = np.concatenate([b[0] for b in batches])
    kept = (images.mean(axis=(0, 1, 2)) - np.array(SPEC.mean)) / np.array(SPEC.std)
    expected = (1 - black) * kept - black * np.array(SPEC.mean) / np.array(SPEC.std)
    np.testing.assert_allclose(all_x.mean(axis=(0, 1, 2)), expected, atol=0.03)


def test_each_epoch_is_a_new_permutation(cifar_train):
    images, labels = cifar_train
    dataset = make_train_dataset(images, labels, SPEC, batch_size=96, seed=1, augment=NO_AUGMENTATION,
                                 num_epochs=2)
    batches = _batches(dataset)
    assert len(batches) == 6
    first, second = _source_indices(batches[:3], images), _source_indices(batches[3:], images)
    assert len(set(first)) == len(set(second)) == 288  # each epoch: distinct examples, 32 dropped
    assert first != second
    y = np.concatenate([b[1] for b in batches[:3]]).argmax(axis=1)
    np.testing.assert_array_equal(y, labels[first])  # labels travel with their images


def test_seed_determines_the_stream(cifar_train):
    images, labels = cifar_train

    def stream(seed):
        return _batches(make_train_dataset(images, labels, SPEC, batch_size=64, seed=seed,
                                           augment=ALL_AUGMENTATIONS), count=20)

    first, again, other = stream(3), stream(3), stream(4)
    for (x1, y1), (x2, y2) in zip(first, again):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(first[0][0], other[0][0])


def test_resume_equals_the_tail_of_the_stream(cifar_train):
    images, labels = cifar_train[0][:300], cifar_train[1][:300]
    kwargs = dict(batch_size=100, seed=11, augment=ALL_AUGMENTATIONS)
    from_start = _batches(make_train_dataset(images, labels, SPEC, num_epochs=3, **kwargs))
    resumed = _batches(make_train_dataset(images, labels, SPEC, start_epoch=1, num_epochs=2, **kwargs))
    assert len(from_start) == 9 and len(resumed) == 6
    for (x1, y1), (x2, y2) in zip(from_start[3:], resumed):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    forever = make_train_dataset(images, labels, SPEC, start_epoch=2, **kwargs)
    np.testing.assert_array_equal(_batches(forever, count=1)[0][0], from_start[6][0])


def test_flip_default_follows_the_spec(cifar_train):
    images, labels = cifar_train[0][:256], cifar_train[1][:256]
    svhn = get_spec("svhn")  # a digit set: same image shape as CIFAR, flip off by default
    batches = _batches(make_train_dataset(images, labels, svhn, batch_size=256, seed=0,
                                          augment=AugmentConfig(pad=0), num_epochs=1))
    unflipped = normalize(images, svhn).numpy()
    found = {x.tobytes() for x in unflipped}
    assert all(x.tobytes() in found for x in batches[0][0])
    cifar = _batches(make_train_dataset(images, labels, SPEC, batch_size=256, seed=0,
                                        augment=AugmentConfig(pad=0), num_epochs=1))
    unflipped = {x.tobytes() for x in normalize(images, SPEC).numpy()}
    mirrored = sum(x.tobytes() not in unflipped for x in cifar[0][0])
    assert 90 <= mirrored <= 166  # about half of 256


def test_cutout_in_the_pipeline(cifar_train):
    images, labels = cifar_train[0][:128], cifar_train[1][:128]
    augment = AugmentConfig(pad=0, flip=False, cutout=10)
    (x, _), = _batches(make_train_dataset(images, labels, SPEC, batch_size=128, seed=5, augment=augment,
                                          num_epochs=1))
    zero = (x == 0).all(axis=-1)
    counts = zero.sum(axis=(1, 2))
    assert counts.max() == 100 and counts.min() > 0  # a 10 x 10 square, clipped at the borders
    assert (counts == 100).mean() > 0.3


def test_mixup_labels(cifar_train):
    images, labels = cifar_train
    augment = AugmentConfig(mixup_alpha=1.0)
    batches = _batches(make_train_dataset(images, labels, SPEC, batch_size=128, seed=2, augment=augment,
                                          num_epochs=1))
    y = np.concatenate([b[1] for b in batches])
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-6)
    assert ((y > 0).sum(axis=1) == 2).mean() > 0.8  # most rows mix two classes
    assert y.min() >= 0 and y.max() <= 1


def test_bad_inputs(cifar_train):
    images, labels = cifar_train
    with pytest.raises(DataError, match=r"make_train_dataset: expected uint8 images of shape \[N, 28, 28, 1\]"):
        make_train_dataset(images, labels, get_spec("mnist"), batch_size=8, seed=0)
    with pytest.raises(DataError, match=r"make_eval_dataset: labels must lie in \[0, 10\)"):
        make_eval_dataset(images[:3], np.array([0, 1, 10]), SPEC, batch_size=8)
    with pytest.raises(ValueError, match="start_epoch must be an integer >= 0. Received: start_epoch=-1"):
        make_train_dataset(images, labels, SPEC, batch_size=8, seed=0, start_epoch=-1)
    with pytest.raises(ValueError, match="seed must be an integer. Received: seed=None"):
        make_train_dataset(images, labels, SPEC, batch_size=8, seed=None)
    with pytest.raises(ValueError, match="cutout must be at most 32"):
        make_train_dataset(images, labels, SPEC, batch_size=8, seed=0, augment=AugmentConfig(cutout=40))

"""Augmentation ops and their configuration, checked pixel by pixel."""

import numpy as np
import pytest
import tensorflow as tf

from tfzoo.data import AugmentConfig
from tfzoo.data import augment as aug


def _seed(i):
    return tf.constant([i, 7], tf.int64)


def _ramp(height=8, width=6, channels=2):
    """An image whose pixels are all distinct and positive, so padding (0) stands out."""
    return tf.reshape(tf.range(1, height * width * channels + 1, dtype=tf.float32), (height, width, channels))


@pytest.mark.parametrize("kwargs, message", [
    (dict(pad=-1), "pad must be a non-negative integer. Received: pad=-1"),
    (dict(pad=2.0), "Received: pad=2.0"),
    (dict(padding="edge"), "padding must be one of zero, reflect. Received: padding='edge'"),
    (dict(flip="yes"), "flip must be True, False or None. Received: flip='yes'"),
    (dict(cutout=-4), "Received: cutout=-4"),
    (dict(mixup_alpha=-0.5), "mixup_alpha must be a finite number >= 0. Received: mixup_alpha=-0.5"),
    (dict(mixup_alpha=float("nan")), "Received: mixup_alpha=nan"),
    (dict(crop="random"), "crop must be one of auto, pad, resized. Received: crop='random'"),
])
def test_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("(", r"\(")):
        AugmentConfig(**kwargs)


def test_config_against_image_shape():
    AugmentConfig(pad=27, padding="reflect", cutout=28).check_image_shape((28, 28, 1))
    with pytest.raises(ValueError, match="reflect padding needs pad < 28"):
        AugmentConfig(pad=28, padding="reflect").check_image_shape((28, 28, 1))
    with pytest.raises(ValueError, match="cutout must be at most 32"):
        AugmentConfig(cutout=33).check_image_shape((32, 32, 3))


def test_sample_draws():
    draws = {k: v.numpy() for k, v in aug.sample_draws(20000, 4, (32, 32, 3), _seed(0)).items()}
    assert draws["offsets"].shape == (20000, 2) and draws["offsets"].dtype == np.int32
    assert np.bincount(draws["offsets"].ravel()).shape == (9,)  # 0..2 * pad, all of them
    assert np.bincount(draws["offsets"].ravel()).min() > 4000  # about 40000 / 9 each
    assert 0.48 < draws["flips"].mean() < 0.52
    assert draws["centres"].min() >= 0 and draws["centres"].max() < 32 * 32
    # Row i belongs to example i whatever the count: a shorter table is a prefix.
    fewer = aug.sample_draws(10, 4, (32, 32, 3), _seed(0))
    for key, value in fewer.items():
        np.testing.assert_array_equal(value.numpy(), draws[key][:10])


@pytest.mark.parametrize("padding, np_mode", [("zero", "constant"), ("reflect", "reflect")])
def test_pad_and_crop_takes_the_window_at_each_offset(padding, np_mode):
    image = _ramp()
    padded = np.pad(image.numpy(), [(2, 2), (2, 2), (0, 0)], mode=np_mode)
    offsets = tf.constant([(y, x) for y in range(5) for x in range(5)], tf.int32)
    crops = aug.pad_and_crop(tf.stack([image] * 25), 2, padding, offsets).numpy()
    for crop, (y, x) in zip(crops, offsets.numpy()):
        np.testing.assert_array_equal(crop, padded[y:y + 8, x:x + 6])
    np.testing.assert_array_equal(crops[12], image.numpy())  # the centred window is the image


def test_flip_mirrors_where_asked():
    images = tf.stack([_ramp(), _ramp() * 2])
    out = aug.flip(images, tf.constant([True, False])).numpy()
    np.testing.assert_array_equal(out[0], images[0].numpy()[:, ::-1])
    np.testing.assert_array_equal(out[1], images[1].numpy())


def test_cutout_zeroes_the_clipped_square_around_each_centre():
    images = tf.stack([_ramp(12, 10, 3)] * 120)
    out = aug.cutout(images, 4, tf.range(120)).numpy()  # every pixel as the centre once
    for centre, image in enumerate(out):
        cy, cx = divmod(centre, 10)
        expected = np.zeros((12, 10), bool)
        expected[max(cy - 2, 0):cy + 2, max(cx - 2, 0):cx + 2] = True
        np.testing.assert_array_equal((image == 0).all(axis=-1), expected)
        np.testing.assert_array_equal(image[~expected], images[0].numpy()[~expected])


def test_mixup_pairs_examples_with_one_weight():
    images = tf.reshape(tf.range(8 * 2 * 2 * 1, dtype=tf.float32), (8, 2, 2, 1))
    labels = tf.one_hot(tf.range(8), 8)
    mixed, mixed_labels = (t.numpy() for t in aug.mixup(images, labels, 0.4, _seed(3)))
    np.testing.assert_allclose(mixed_labels.sum(axis=1), 1.0, rtol=1e-6)
    lam = mixed_labels[np.arange(8), np.arange(8)]
    partner = np.where(mixed_labels > 0, 1, 0) - np.eye(8)  # the other example of each mix
    for i in range(8):
        j = int(np.argmax(partner[i])) if partner[i].any() else i
        expected = lam[i] * images[i] + (1 - lam[i]) * images[j] if j != i else images[i]
        np.testing.assert_allclose(mixed[i], expected, rtol=1e-5, atol=1e-5)
    assert len(np.unique(np.round(lam[lam < 1], 5))) == 1  # one weight for the whole batch

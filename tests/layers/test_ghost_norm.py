import keras
import numpy as np
import pytest

from tests.helpers import assert_layer_round_trip, random_images
from tfzoo.layers import GhostBatchNormalization


def _bn_per_ghost(x, ghost, momentum, epsilon):
    """Plain Keras BN applied to each ghost batch separately, from the same weights."""
    outputs, means, variances = [], [], []
    for chunk in np.split(x, x.shape[0] // ghost):
        bn = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon)
        outputs.append(np.asarray(bn(chunk, training=True)))
        means.append(chunk.mean(axis=(0, 1, 2)))
        variances.append(chunk.var(axis=(0, 1, 2)))
    return np.concatenate(outputs), np.mean(means, axis=0), np.mean(variances, axis=0)


def test_training_equals_batch_norm_per_ghost_batch():
    x = random_images(12, 5, 5, 3) * 3.0 + np.array([1.0, -2.0, 0.5], dtype="float32")
    layer = GhostBatchNormalization(4, momentum=0.9, epsilon=1e-5)
    y = np.asarray(layer(x, training=True))
    expected, mean, variance = _bn_per_ghost(x, 4, 0.9, 1e-5)
    np.testing.assert_allclose(y, expected, atol=1e-5)
    # Each ghost batch is standardised on its own, which whole-batch BN would not do.
    for chunk in np.split(y, 3):
        np.testing.assert_allclose(chunk.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    whole = np.asarray(keras.layers.BatchNormalization(epsilon=1e-5)(x, training=True))
    assert np.abs(whole - y).max() > 1e-2
    # Moving statistics move towards the average of the ghost statistics.
    np.testing.assert_allclose(np.asarray(layer.moving_mean), 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(layer.moving_variance), 0.9 + 0.1 * variance, rtol=1e-5)


def test_inference_uses_moving_statistics():
    x = random_images(8, 3, 3, 2)
    layer = GhostBatchNormalization(4, epsilon=1e-3)
    layer.build(x.shape)
    layer.moving_mean.assign(np.array([0.5, -1.0], "float32"))
    layer.moving_variance.assign(np.array([4.0, 0.25], "float32"))
    layer.gamma.assign(np.array([2.0, 1.0], "float32"))
    layer.beta.assign(np.array([0.0, 3.0], "float32"))
    expected = 2.0 * (x[..., :1] - 0.5) / np.sqrt(4.0 + 1e-3)
    expected = np.concatenate([expected, (x[..., 1:] + 1.0) / np.sqrt(0.25 + 1e-3) + 3.0], -1)
    np.testing.assert_allclose(np.asarray(layer(x, training=False)), expected, rtol=1e-5, atol=1e-5)
    # Inference does not depend on how the batch splits into ghosts.
    np.testing.assert_allclose(np.asarray(layer(x[:3], training=False)), expected[:3], rtol=1e-5, atol=1e-5)


def test_ghost_of_whole_batch_is_plain_batch_norm():
    x = random_images(6, 4, 4, 3)
    ghost = np.asarray(GhostBatchNormalization(6, epsilon=1e-3)(x, training=True))
    plain = np.asarray(keras.layers.BatchNormalization(epsilon=1e-3)(x, training=True))
    np.testing.assert_allclose(ghost, plain, atol=1e-5)


def test_batch_not_divisible_by_ghost_is_an_error():
    with pytest.raises(ValueError, match=r"multiple of ghost_batch_size=4.*batch size 6"):
        GhostBatchNormalization(4)(random_images(6, 2, 2, 1), training=True)


@pytest.mark.parametrize("bad", [0, -2, 1.5, "64", True])
def test_bad_ghost_batch_size(bad):
    with pytest.raises(ValueError, match="ghost_batch_size"):
        GhostBatchNormalization(bad)


def test_channels_first_is_rejected():
    with pytest.raises(ValueError, match="axis"):
        GhostBatchNormalization(4, axis=1)


def test_round_trip(tmp_path):
    layer = GhostBatchNormalization(2, momentum=0.8, epsilon=1e-4, name="gbn")
    assert layer.get_config()["ghost_batch_size"] == 2
    assert_layer_round_trip(layer, random_images(4, 3, 3, 2), tmp_path)

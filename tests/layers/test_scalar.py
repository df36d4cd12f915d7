import numpy as np
import pytest

from tests.helpers import assert_layer_round_trip, random_images
from tfzoo.layers import ScalarBias, ScalarMultiplier


def test_multiplier_starts_at_its_initial_value_and_scales():
    x = random_images(2, 4, 4, 3)
    np.testing.assert_array_equal(np.asarray(ScalarMultiplier()(x)), np.zeros_like(x))
    np.testing.assert_allclose(np.asarray(ScalarMultiplier(1.0)(x)), x)
    layer = ScalarMultiplier(0.5)
    np.testing.assert_allclose(np.asarray(layer(x)), 0.5 * x, rtol=1e-6)
    assert [tuple(w.shape) for w in layer.trainable_weights] == [()]


def test_bias_adds_one_scalar():
    x = random_images(2, 4, 4, 3)
    layer = ScalarBias(0.25)
    np.testing.assert_allclose(np.asarray(layer(x)), x + 0.25, rtol=1e-6)
    assert len(layer.trainable_weights) == 1 and layer.trainable_weights[0].shape == ()


@pytest.mark.parametrize("cls", [ScalarMultiplier, ScalarBias])
def test_round_trip(cls, tmp_path):
    assert_layer_round_trip(cls(0.0, name="scalar"), random_images(2, 4, 4, 3), tmp_path)


@pytest.mark.parametrize("bad", ["0", None, True, [1.0]])
def test_bad_initial_value(bad):
    with pytest.raises(ValueError, match="initial_value"):
        ScalarMultiplier(bad)


@pytest.mark.parametrize("cls, initial", [(ScalarMultiplier, 1.0), (ScalarBias, 0.0)])
def test_gradient_scale_trains_the_scalar_at_that_fraction_of_the_learning_rate(cls, initial):
    """Fixup's scalars learn at lr / 10: same forward value, one SGD step 10 times smaller."""
    import keras

    x = random_images(4, 3, 3, 2)
    y = x * 2.0 + 1.0
    steps = {}
    for scale in (1.0, 0.1):
        inputs = keras.Input((3, 3, 2))
        layer = cls(initial, gradient_scale=scale)
        model = keras.Model(inputs, layer(inputs))
        np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(cls(initial)(x)))  # forward unchanged
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)
        steps[scale] = float(np.asarray(layer.trainable_weights[0])) - initial
    assert abs(steps[1.0]) > 1e-3
    assert steps[0.1] == pytest.approx(0.1 * steps[1.0], rel=1e-4)


def test_gradient_scale_round_trips_and_is_checked(tmp_path):
    layer = ScalarBias(0.0, gradient_scale=0.1, name="scalar")
    assert layer.get_config()["gradient_scale"] == 0.1
    assert_layer_round_trip(layer, random_images(2, 4, 4, 3), tmp_path)
    for bad in (0.0, 1.5, "0.1"):
        with pytest.raises(ValueError, match="gradient_scale"):
            ScalarMultiplier(1.0, gradient_scale=bad)

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

"""``ScaledConv2D`` computes ``alpha * conv(x)``, and trains as ``Conv2D`` then ``ScalarMultiplier`` do."""

import keras
import numpy as np
import pytest

from tests.helpers import assert_layer_round_trip, random_images
from tfzoo.layers import ScalarMultiplier, ScaledConv2D


def _pair(alpha, use_bias, gradient_scale):
    """(separate, folded): Conv2D then ScalarMultiplier, and ScaledConv2D, with the same weights."""
    inputs = keras.Input((5, 5, 3))
    conv = keras.layers.Conv2D(4, 3, padding="same", use_bias=use_bias)
    separate = keras.Model(inputs, ScalarMultiplier(alpha, gradient_scale=gradient_scale)(conv(inputs)))
    scaled = ScaledConv2D(4, 3, padding="same", use_bias=use_bias, initial_multiplier=alpha,
                          gradient_scale=gradient_scale)
    folded = keras.Model(inputs, scaled(inputs))
    rng = np.random.RandomState(3)
    conv.kernel.assign(rng.normal(size=conv.kernel.shape).astype("float32"))
    scaled.kernel.assign(np.asarray(conv.kernel))
    if use_bias:
        conv.bias.assign(rng.normal(size=conv.bias.shape).astype("float32"))
        scaled.bias.assign(np.asarray(conv.bias))
    return separate, folded


@pytest.mark.parametrize("use_bias, gradient_scale", [(True, 1.0), (False, 1.0), (True, 0.1)])
def test_equals_conv_then_multiplier_forward_and_after_an_sgd_step(use_bias, gradient_scale):
    x = random_images(4, 5, 5, 3)
    y = random_images(4, 5, 5, 4, seed=1)
    separate, folded = _pair(0.7, use_bias, gradient_scale)
    np.testing.assert_allclose(np.asarray(folded(x)), np.asarray(separate(x)), rtol=1e-5, atol=1e-5)
    for model in (separate, folded):
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)  # one step: equal weights after it = equal gradients
    moved = float(np.asarray(folded.layers[-1].multiplier)) - 0.7
    assert abs(moved) > 1e-4
    before_after = zip(sorted(separate.weights, key=lambda w: w.name), sorted(folded.weights, key=lambda w: w.name))
    for a, b in before_after:
        assert a.name == b.name
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-5, atol=1e-6, err_msg=a.name)


def test_zero_multiplier_outputs_zero_and_only_the_multiplier_learns_first():
    """SkipInit/ZeroInit at initialisation: the branch adds nothing, its kernel gets no gradient, alpha does."""
    x = random_images(4, 5, 5, 3)
    _, folded = _pair(0.0, True, 1.0)
    layer = folded.layers[-1]
    np.testing.assert_array_equal(np.asarray(folded(x)), np.zeros((4, 5, 5, 4), "float32"))
    kernel = np.asarray(layer.kernel)
    folded.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    folded.fit(x, random_images(4, 5, 5, 4, seed=1), batch_size=4, epochs=1, verbose=0)
    np.testing.assert_array_equal(np.asarray(layer.kernel), kernel)
    assert float(np.asarray(layer.multiplier)) != 0.0


def test_weights_and_round_trip(tmp_path):
    layer = ScaledConv2D(4, 3, padding="same", initial_multiplier=0.0, gradient_scale=0.1, name="scaled")
    assert_layer_round_trip(layer, random_images(2, 5, 5, 3), tmp_path)
    assert [w.name for w in layer.weights] == ["kernel", "bias", "multiplier"]
    assert layer.get_config()["initial_multiplier"] == 0.0 and layer.get_config()["gradient_scale"] == 0.1


@pytest.mark.parametrize("options, match", [(dict(initial_multiplier="0"), "initial_multiplier"),
                                            (dict(gradient_scale=0.0), "gradient_scale")])
def test_bad_options_name_the_value(options, match):
    with pytest.raises(ValueError, match=match):
        ScaledConv2D(4, 3, **options)

"""The branch multiplier folded into its convolution: the same model as with a separate layer, and
weights saved with the separate layer (before the fold) still load (``tfzoo.models.folding``)."""

import keras
import numpy as np
import pytest

import tfzoo
from tests.helpers import count_params, loss_and_gradients, random_images
from tfzoo.layers import ScalarMultiplier, ScaledConv2D
from tfzoo.models import folding
from tfzoo.transfer import transfer_weights

CASES = [  # (model, options, multipliers, folded)
    ("wrn-10-1", dict(normalization="none", init="zeroinit"), 3, 3),
    ("wrn-10-1", dict(normalization="none", init="skipinit"), 3, 3),
    ("wrn-10-1", dict(normalization="none", init="fixup"), 3, 3),
    ("wrn-10-1", dict(normalization="batch_norm", init="skipinit"), 3, 3),  # pre-activation: conv last
    ("resnet18_v1", dict(normalization="none", init="zeroinit"), 8, 8),
    ("resnet18_v1", dict(normalization="batch_norm", init="skipinit"), 8, 0),  # BN between conv and multiplier
]


def _build(name, options, fold):
    keras.utils.set_random_seed(0)
    return tfzoo.create_model(name, num_classes=5, input_shape=(16, 16, 3), fold_multiplier=fold, **options)


def _off_zero(model, seed=0):
    """Every multiplier (zero at ZeroInit) and weight moved, so that each one matters."""
    rng = np.random.RandomState(seed)
    for w in model.trainable_weights:
        w.assign(np.asarray(w) + rng.uniform(0.05, 0.2, size=w.shape).astype("float32"))


@pytest.mark.parametrize("name, options, multipliers, folded", CASES)
def test_folded_model_is_the_separate_one(name, options, multipliers, folded):
    separate, model = _build(name, options, False), _build(name, options, True)
    assert sum(isinstance(layer, ScaledConv2D) for layer in model.layers) == folded
    assert sum(isinstance(layer, ScalarMultiplier) for layer in model.layers) == multipliers - folded
    assert sum(isinstance(layer, ScalarMultiplier) for layer in separate.layers) == multipliers
    assert count_params(model.trainable_weights) == count_params(separate.trainable_weights)
    _off_zero(separate)
    transfer_weights(separate, model)
    images, labels = random_images(4, 16, 16, 3), np.arange(4) % 5
    np.testing.assert_allclose(np.asarray(model(images, training=False)), np.asarray(separate(images, training=False)),
                               rtol=1e-4, atol=1e-4)
    if keras.backend.backend() in ("tensorflow", "jax"):
        loss_a, grads_a = loss_and_gradients(separate, images, labels)
        loss_b, grads_b = loss_and_gradients(model, images, labels)
        assert loss_b == pytest.approx(loss_a, rel=1e-5)
        by_path = dict(zip([v.path for v in model.trainable_variables], grads_b))
        for variable, grad in zip(separate.trainable_variables, grads_a):
            path = variable.path.replace("_branch_multiplier/", "_branch_conv2/")  # where the fold puts it
            path = path if path in by_path else variable.path  # a multiplier left separate (after BN)
            np.testing.assert_allclose(by_path[path], grad, rtol=2e-4, atol=2e-5 * np.abs(grad).max() + 1e-7,
                                       err_msg=variable.path)


def test_weights_saved_before_the_fold_load_and_predict_the_same(tmp_path):
    options = dict(normalization="none", init="zeroinit")
    separate = _build("wrn-10-1", options, False)
    _off_zero(separate, seed=1)
    old = tmp_path / "old.weights.h5"
    separate.save_weights(old)
    model = _build("wrn-10-1", options, True)
    assert folding.saved_unfolded(model, old)
    with pytest.raises(ValueError):
        model.load_weights(old)  # Keras addresses layers by class and position: the old file does not fit as is
    folding.load_weights(model, old, lambda: _build("wrn-10-1", options, False))
    images = random_images(3, 16, 16, 3)
    np.testing.assert_allclose(np.asarray(model(images)), np.asarray(separate(images)), rtol=1e-4, atol=1e-4)
    new = tmp_path / "new.weights.h5"
    model.save_weights(new)
    assert not folding.saved_unfolded(model, new)
    again = _build("wrn-10-1", options, True)
    folding.load_weights(again, new, lambda: pytest.fail("a folded file needs no conversion"))
    np.testing.assert_array_equal(np.asarray(again(images)), np.asarray(model(images)))
    bn = _build("wrn-10-1", dict(normalization="batch_norm", init="standard"), True)
    assert not folding.saved_unfolded(bn, new)  # no ScaledConv2D: nothing to convert


def test_fold_multiplier_is_checked():
    with pytest.raises(ValueError, match="fold_multiplier must be True or False. Received: fold_multiplier='no'"):
        tfzoo.create_model("wrn-10-1", normalization="none", init="zeroinit", fold_multiplier="no")

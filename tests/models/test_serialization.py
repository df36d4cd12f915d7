"""Every (normalization x init) combination saves to .keras and reloads with identical outputs."""

import itertools

import numpy as np
import pytest

import tfzoo
from tests.helpers import assert_model_round_trip, loss_and_gradients, random_images

COMBINATIONS = [
    (n, i) for n, i in itertools.product(tfzoo.NORMALIZATIONS, tfzoo.INIT_SCHEMES) if not (i == "fixup" and n != "none")
]


def _perturb(model):
    rng = np.random.RandomState(3)
    for w in model.weights:
        w.assign(np.asarray(w) + rng.normal(scale=0.05, size=w.shape).astype(w.dtype))


@pytest.mark.parametrize("normalization, init", COMBINATIONS)
def test_wrn_round_trip(normalization, init, tmp_path):
    model = tfzoo.create_model("wrn-10-1", normalization=normalization, init=init, ghost_batch_size=2)
    _perturb(model)
    assert_model_round_trip(model, random_images(4), tmp_path)


@pytest.mark.parametrize("name, scalar_bias", [("resnet18_v1", True), ("resnet18_v2", False)])
@pytest.mark.parametrize("normalization, init", [("ghost_batch_norm", "standard"), ("none", "fixup"), ("none", "zeroinit")])
def test_resnet_round_trip(name, scalar_bias, normalization, init, tmp_path):
    model = tfzoo.create_model(
        name, normalization=normalization, init=init, scalar_bias=scalar_bias and init == "zeroinit",
        input_shape=(32, 32, 3), ghost_batch_size=2,
    )
    _perturb(model)
    assert_model_round_trip(model, random_images(2), tmp_path)


@pytest.mark.slow
def test_thousand_layer_zeroinit_wrn_has_finite_outputs_and_gradients():
    model = tfzoo.create_model("wrn-1000-1", normalization="none", init="zeroinit")
    images = random_images(2)
    logits = np.asarray(model(images))
    assert logits.shape == (2, 10) and np.isfinite(logits).all()
    loss, grads = loss_and_gradients(model, images, np.array([3, 7]))
    assert np.isfinite(loss) and all(np.isfinite(g).all() for g in grads)
    # At init every identity block passes the signal through: the multipliers get gradient.
    assert len(grads) == len(model.trainable_weights) and sum(float(np.abs(g).sum()) > 0 for g in grads) > 400

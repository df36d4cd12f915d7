"""tfzoo.layers.BatchNormalization and GhostBatchNormalization's written-out gradient against Keras's
BatchNormalization differentiated by autodiff, on the active backend (the suite runs this under
TensorFlow and JAX)."""

import keras
import numpy as np
import pytest

from tests.helpers import assert_layer_round_trip, random_images
from tfzoo.layers import BatchNormalization, GhostBatchNormalization

SHAPE = (12, 4, 4, 6)


def _inputs(mean=3.0, std=2.0):
    """Inputs whose mean is far from 0 (where E[x^2] - E[x]^2 style shortcuts lose precision), an
    upstream gradient, and gamma, beta away from 1, 0."""
    rng = np.random.RandomState(1)
    x = (mean + std * rng.normal(size=SHAPE)).astype("float32")
    upstream = rng.normal(size=SHAPE).astype("float32")
    gamma = rng.uniform(0.5, 1.5, size=SHAPE[-1:]).astype("float32")
    beta = rng.normal(size=SHAPE[-1:]).astype("float32")
    return x, upstream, gamma, beta


def training_step(layer, x, upstream, gamma=None, beta=None):
    """(outputs, d sum(outputs * upstream) / d x, gradients of the trainable weights, moving mean,
    moving variance) of one training-mode call of a fresh ``layer``."""
    layer.build(x.shape)
    if gamma is not None:
        layer.gamma.assign(gamma)
    if beta is not None:
        layer.beta.assign(beta)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * upstream)
        dx, *dweights = tape.gradient(loss, [x, *layer.trainable_variables])
        moving = [np.asarray(layer.moving_mean), np.asarray(layer.moving_variance)]
    elif backend == "jax":
        import jax

        non_trainable = [v.value for v in layer.non_trainable_variables]

        def loss(x, trainable):
            y, updated = layer.stateless_call(trainable, non_trainable, x, training=True)
            return (y * upstream).sum(), (y, updated)

        (_, (y, updated)), (dx, dweights) = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(
            x, [v.value for v in layer.trainable_variables])
        moving = [np.asarray(v) for v in updated]  # non_trainable_variables: moving mean, moving variance
    else:
        pytest.skip(f"no gradient helper for backend {backend!r}")
    return np.asarray(y), np.asarray(dx), [np.asarray(g) for g in dweights], moving


@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False), (False, False)])
def test_training_step_equals_keras_batch_norm(center, scale):
    x, upstream, gamma, beta = _inputs()
    kwargs = dict(momentum=0.9, epsilon=1e-5, center=center, scale=scale)
    weights = dict(gamma=gamma if scale else None, beta=beta if center else None)
    ours = training_step(BatchNormalization(**kwargs), x, upstream, **weights)
    keras_ = training_step(keras.layers.BatchNormalization(**kwargs), x, upstream, **weights)
    assert np.abs(ours[1]).max() > 1e-2 and len(ours[2]) == int(center) + int(scale)
    for name, a, b in (("outputs", ours[0], keras_[0]), ("dx", ours[1], keras_[1]),
                       *((f"d weight {i}", g, h) for i, (g, h) in enumerate(zip(ours[2], keras_[2]))),
                       ("moving mean", ours[3][0], keras_[3][0]), ("moving variance", ours[3][1], keras_[3][1])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5, err_msg=name)


def float64_reference(x, upstream, gamma, beta, epsilon=1e-5):
    """BN's outputs, dx, dgamma and dbeta in float64 from the closed forms (Ioffe & Szegedy 2015, section 3)."""
    x, upstream = x.astype("float64"), upstream.astype("float64")
    axes = tuple(range(x.ndim - 1))
    mean, variance = x.mean(axes), x.var(axes)
    xhat = (x - mean) / np.sqrt(variance + epsilon)
    dx = gamma / np.sqrt(variance + epsilon) * (upstream - upstream.mean(axes) - xhat * (upstream * xhat).mean(axes))
    return xhat * gamma + beta, dx, (upstream * xhat).sum(axes), upstream.sum(axes)


def test_large_input_mean_keeps_the_gradient():
    """Channels with mean 100 std 1, where float32 loses digits in ``x - mean``: our gradients are as
    close to float64's as Keras's are, or closer (dgamma: TensorFlow's fused kernel 3e-4, Keras and
    the ``keras.ops`` path 1.3e-3)."""
    x, upstream, gamma, beta = _inputs(mean=100.0, std=1.0)
    ours = training_step(BatchNormalization(epsilon=1e-5), x, upstream, gamma, beta)
    keras_ = training_step(keras.layers.BatchNormalization(epsilon=1e-5), x, upstream, gamma, beta)
    _, dx, dgamma, _ = float64_reference(x, upstream, gamma, beta)
    assert np.abs(dx).max() > 1.0
    np.testing.assert_allclose(ours[1], dx, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours[2][0], dgamma, atol=2e-3)
    assert np.abs(ours[2][0] - dgamma).max() <= np.abs(keras_[2][0] - dgamma).max() + 1e-4


def _assert_same_step(ours, reference, rtol, atol):
    """Two ``training_step`` results agree: outputs and gradients to ``rtol``/``atol`` (bf16 or float32
    rounding), the float32 moving statistics to float32 rounding."""
    for name, a, b in (("outputs", ours[0], reference[0]), ("dx", ours[1], reference[1]),
                       ("dgamma", ours[2][0], reference[2][0]), ("dbeta", ours[2][1], reference[2][1])):
        np.testing.assert_allclose(np.asarray(a, "float32"), np.asarray(b, "float32"), rtol=rtol, atol=atol,
                                   err_msg=name)
    for name, a, b in (("moving mean", ours[3][0], reference[3][0]), ("moving variance", ours[3][1], reference[3][1])):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=name)


class OpsBatchNormalization(BatchNormalization):
    """tfzoo's BN held to its ``keras.ops`` path (``normalize``) on every backend."""

    def _fused(self, inputs):
        return False


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the fused kernel is TensorFlow's")
@pytest.mark.parametrize("policy, rtol, atol", [("float32", 1e-4, 2e-5), ("mixed_bfloat16", 2e-2, 3e-2)])
def test_fused_kernel_equals_the_keras_ops_path(policy, rtol, atol):
    """Under TensorFlow the training step runs FusedBatchNormV3 (on bf16 inputs as they are under
    mixed_bfloat16): outputs and gradients equal ``normalize``'s to float32 or bf16 rounding, and the
    moving statistics, float32 in both, to float32 rounding."""
    import tensorflow as tf

    x, upstream, gamma, beta = _inputs()
    kwargs = dict(momentum=0.9, epsilon=1e-5, dtype=policy)
    fused = BatchNormalization(**kwargs)
    ops_path = OpsBatchNormalization(**kwargs)
    if policy == "mixed_bfloat16":
        x = np.asarray(tf.cast(tf.cast(x, tf.bfloat16), tf.float32))  # both read the same bf16 values
    ours, reference = (training_step(layer, x, upstream, gamma, beta) for layer in (fused, ops_path))
    graph = tf.function(lambda x: fused(x, training=True)).get_concrete_function(
        tf.TensorSpec(SHAPE, tf.float32)).graph
    assert "FusedBatchNormV3" in {op.type for op in graph.get_operations()}
    assert fused.moving_variance.dtype == "float32"
    _assert_same_step(ours, reference, rtol, atol)
    mean, variance = x.astype("float64").mean((0, 1, 2)), x.astype("float64").var((0, 1, 2))
    np.testing.assert_allclose(ours[3][1], 0.9 + 0.1 * variance, rtol=1e-5)  # biased variance, float32 statistics
    np.testing.assert_allclose(ours[3][0], 0.1 * mean, rtol=1e-5)


class OpsGhostBatchNormalization(GhostBatchNormalization):
    """tfzoo's ghost BN held to its ``keras.ops`` path on every backend."""

    def _fused(self, inputs):
        return False


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the fused kernel is TensorFlow's")
@pytest.mark.parametrize("policy, rtol, atol", [("float32", 1e-4, 2e-5), ("mixed_bfloat16", 2e-2, 3e-2)])
def test_ghost_batches_through_the_fused_kernel_equal_the_keras_ops_path(policy, rtol, atol):
    """G = 4 of B = 12 under TensorFlow: FusedBatchNormV3 once per ghost batch gives the ``keras.ops``
    path's outputs, gradients and moving statistics; a batch size unknown when traced takes the
    ``keras.ops`` path."""
    import tensorflow as tf

    x, upstream, gamma, beta = _inputs()
    if policy == "mixed_bfloat16":
        x = np.asarray(tf.cast(tf.cast(x, tf.bfloat16), tf.float32))
    kwargs = dict(momentum=0.9, epsilon=1e-5, dtype=policy)
    fused, ops_path = GhostBatchNormalization(4, **kwargs), OpsGhostBatchNormalization(4, **kwargs)
    ours, reference = (training_step(layer, x, upstream, gamma, beta) for layer in (fused, ops_path))
    _assert_same_step(ours, reference, rtol, atol)

    def op_types(batch):
        graph = tf.function(lambda x: fused(x, training=True)).get_concrete_function(
            tf.TensorSpec((batch,) + SHAPE[1:], tf.float32)).graph
        return [op.type for op in graph.get_operations()]

    assert op_types(SHAPE[0]).count("FusedBatchNormV3") == 3 and "FusedBatchNormV3" not in op_types(None)


def test_keras_ops_path_equals_float64():
    """The ``keras.ops`` path (the one JAX runs) against the float64 closed forms."""
    x, upstream, gamma, beta = _inputs()
    y, dx, (dgamma, dbeta), _ = training_step(OpsBatchNormalization(epsilon=1e-5), x, upstream, gamma, beta)
    for name, a, b in zip(("outputs", "dx", "dgamma", "dbeta"), (y, dx, dgamma, dbeta),
                          float64_reference(x, upstream, gamma, beta)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5, err_msg=name)


def test_ghost_gradients_equal_batch_norm_per_ghost_batch():
    """G = 4 of B = 12: dx is each ghost batch's own BN gradient; gamma's and beta's sum over them."""
    x, upstream, gamma, beta = _inputs()
    y, dx, (dgamma, dbeta), _ = training_step(GhostBatchNormalization(4, epsilon=1e-5), x, upstream, gamma, beta)
    parts = [training_step(keras.layers.BatchNormalization(epsilon=1e-5), xs, us, gamma, beta)
             for xs, us in zip(np.split(x, 3), np.split(upstream, 3))]
    np.testing.assert_allclose(y, np.concatenate([p[0] for p in parts]), rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(dx, np.concatenate([p[1] for p in parts]), rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(dgamma, sum(p[2][0] for p in parts), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dbeta, sum(p[2][1] for p in parts), rtol=1e-4, atol=1e-4)


def test_inference_uses_the_moving_statistics_as_keras_does():
    x = random_images(4, 3, 3, 2)
    ours, theirs = BatchNormalization(epsilon=1e-3), keras.layers.BatchNormalization(epsilon=1e-3)
    for layer in (ours, theirs):
        layer.build(x.shape)
        layer.moving_mean.assign(np.array([0.5, -1.0], "float32"))
        layer.moving_variance.assign(np.array([4.0, 0.25], "float32"))
    np.testing.assert_array_equal(np.asarray(ours(x, training=False)), np.asarray(theirs(x, training=False)))


def test_round_trip(tmp_path):
    layer = BatchNormalization(momentum=0.8, epsilon=1e-4, name="bn")
    assert layer.get_config()["momentum"] == 0.8
    assert_layer_round_trip(layer, random_images(4, 3, 3, 2), tmp_path)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="JAX traces with static shapes only")
def test_unknown_batch_size_in_a_traced_function():
    """In a tf.function whose batch dimension is None the element count is a tensor, not an int."""
    import tensorflow as tf

    x, upstream, gamma, beta = _inputs()
    layer = BatchNormalization(epsilon=1e-5)
    layer.build(x.shape)
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)

    @tf.function(input_signature=[tf.TensorSpec((None,) + SHAPE[1:], tf.float32)])
    def dx(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=True) * upstream)
        return tape.gradient(loss, x)

    expected = training_step(keras.layers.BatchNormalization(epsilon=1e-5), x, upstream, gamma, beta)[1]
    np.testing.assert_allclose(dx(tf.constant(x)).numpy(), expected, rtol=1e-4, atol=2e-5)


def test_weights_load_across_keras_and_tfzoo_batch_norm(tmp_path):
    """The same weights (gamma, beta, moving mean and variance) under the same names: a model saved
    with Keras's BN (tfzoo before this layer) loads into one with tfzoo's, with equal outputs."""
    x = random_images(4, 3, 3, 2)

    def model(bn):
        inputs = keras.Input((3, 3, 2))
        return keras.Model(inputs, keras.layers.Conv2D(3, 1, name="conv")(bn(name="bn")(inputs)))

    old, new = model(keras.layers.BatchNormalization), model(BatchNormalization)
    for w in old.weights:
        w.assign(np.asarray(w) + np.random.RandomState(2).uniform(0.1, 0.5, size=w.shape).astype("float32"))
    old.save_weights(tmp_path / "old.weights.h5")
    new.load_weights(tmp_path / "old.weights.h5")
    np.testing.assert_array_equal(np.asarray(new(x, training=False)), np.asarray(old(x, training=False)))

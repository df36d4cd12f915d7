"""Checks every custom layer and model must pass (one shared helper, so that every layer meets the same bar)."""

import numpy as np
import keras


def assert_layer_round_trip(layer, inputs, tmp_path, **call_kwargs):
    """``get_config`` rebuilds an equal layer, and a model holding it saves and reloads to ``.keras``
    with identical outputs."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    x = keras.Input(shape=inputs.shape[1:], batch_size=inputs.shape[0])
    model = keras.Model(x, layer(x, **call_kwargs))
    # Move the weights off their initial values so that the round trip is not trivially true.
    for w in model.weights:
        w.assign(np.asarray(w) + np.random.RandomState(1).uniform(0.1, 0.5, size=w.shape).astype(w.dtype))
    assert_model_round_trip(model, inputs, tmp_path)


def assert_model_round_trip(model, inputs, tmp_path, name="model.keras"):
    """Saving to ``.keras`` and loading gives identical inference outputs and weights."""
    path = tmp_path / name
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(np.asarray(model(inputs, training=False)), np.asarray(loaded(inputs, training=False)))
    assert [w.path for w in model.weights] == [w.path for w in loaded.weights]
    return loaded


def random_images(batch, height=32, width=32, channels=3, seed=0):
    return np.random.RandomState(seed).normal(size=(batch, height, width, channels)).astype("float32")


def count_params(weights):
    return int(sum(np.prod(w.shape) for w in weights))


def loss_and_gradients(model, images, labels):
    """Cross-entropy of ``model`` (training mode) and its gradients, on the active backend."""
    backend = keras.backend.backend()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        return float(loss), [np.asarray(g) for g in grads]
    if backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]

        def compute(trainable):
            logits, _ = model.stateless_call(trainable, non_trainable, images, training=True)
            return loss_fn(labels, logits)

        loss, grads = jax.value_and_grad(compute)(trainable)
        return float(loss), [np.asarray(g) for g in grads]
    raise NotImplementedError(f"no gradient helper for backend {backend!r}")


def assert_twin_logits(twin, keras_model, images, *, shift=(0.05, 0.2), seed=0):
    """Shifts ``keras_model``'s weights off their (partly zero) initial values by uniform ``shift``, so every layer
    matters; ``twin(keras_model)`` returns the PyTorch twin with those weights loaded. Checks both give the same
    logits on ``images`` [B, H, W, C], in inference and in training mode."""
    import torch

    rng = np.random.RandomState(seed)
    for w in keras_model.weights:
        w.assign(np.asarray(w) + rng.uniform(*shift, size=w.shape).astype("float32"))
    model = twin(keras_model)
    nchw = torch.from_numpy(images).permute(0, 3, 1, 2)
    for training in (False, True):
        model.train(training)
        expected = np.asarray(keras_model(images, training=training))
        with torch.no_grad():
            actual = model(nchw).numpy()
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())

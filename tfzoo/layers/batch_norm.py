"""Batch normalization (Ioffe & Szegedy 2015; ``001`` section 3) with its backward pass written out.

``keras.layers.BatchNormalization`` lets autodiff differentiate through ``ops.moments`` and
``ops.batch_normalization``: on TensorFlow's CPU kernels (no XLA, no fusion) that is about twice
the full-size element-wise passes of a fused kernel. ``normalize`` computes the same function with
the closed-form gradient of BN (its derivation: Ioffe & Szegedy 2015, section 3), in ``keras.ops``
only, in its affine form: ``y = a * x + b`` and ``dx = a * dy + c * x + d`` with per-group,
per-channel ``a..d``. ``python -m bench.batch_norm`` times it (``--impl=tfzoo``) against Keras,
the fused kernel and PyTorch; ``docs/results/performance.md`` A6 has the figures.
"""

import keras
from keras import ops


def normalize(x, mean, variance, gamma, beta, epsilon, axes):
    """Training-mode BN of ``x`` with the batch statistics ``mean`` and ``variance`` of ``x`` over
    ``axes`` (kept as size-1 dimensions); ``gamma`` and ``beta`` are per channel (the last axis).

    The gradient with respect to ``x`` includes the path through ``mean`` and ``variance``, which
    must therefore come from ``ops.moments(x, axes, keepdims=True)`` and get no gradient of their
    own (``BatchNormalization`` passes them through ``ops.stop_gradient``). Where ``x`` has axes
    besides ``axes`` and the channels (ghost batches), gamma's and beta's gradients are summed over
    them.
    """
    dims = ops.shape(x)  # ints, or scalar tensors where a dimension is not static (TensorFlow)
    count = 1
    for axis in axes:
        count = count * dims[axis]
    if not isinstance(count, int):
        count = ops.cast(count, x.dtype)
    others = tuple(axis for axis in range(len(x.shape) - 1) if axis not in axes)  # ghost batches, if any

    def per_channel(stat):  # [..., C] with size-1 ``axes`` -> [C], summed over the ghost batches
        return ops.reshape(ops.sum(stat, axis=others) if others else stat, (-1,))

    @ops.custom_gradient
    def forward(x, gamma, beta, mean, variance):
        inv = ops.rsqrt(variance + epsilon)
        a = gamma * inv

        def backward(*args, upstream=None):
            dy = args[0] if upstream is None else upstream
            sum_dy = ops.sum(dy, axis=axes, keepdims=True)
            # sum(dy * xhat) = inv * (sum(dy * x) - mean * sum(dy)), per group
            sum_dy_xhat = inv * (ops.sum(dy * x, axis=axes, keepdims=True) - mean * sum_dy)
            c = -a * inv * sum_dy_xhat / count
            dx = dy * a + (x * c + (-a * sum_dy / count - c * mean))
            return dx, per_channel(sum_dy_xhat), per_channel(sum_dy), ops.zeros_like(mean), ops.zeros_like(variance)

        return x * a + (beta - mean * a), backward

    return forward(x, gamma, beta, mean, variance)


@keras.saving.register_keras_serializable(package="tfzoo")
class BatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` whose training step uses ``normalize``'s written-out
    gradient: the same outputs, gradients, moving statistics (Keras's momentum, biased variance)
    and config; the same weights, so checkpoints of either load into the other.

    Inference, masks, renorm, synchronized BN and a channel axis other than the last take
    Keras's own path.
    """

    def _fast_path(self, inputs, training, mask):
        return (training and self.trainable and mask is None and not self.renorm and not self.synchronized
                and self.axis in (-1, len(inputs.shape) - 1))

    def call(self, inputs, training=None, mask=None):
        if not self._fast_path(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        x = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        axes = tuple(range(len(x.shape) - 1))
        outputs = self._normalize_and_update(x, axes)
        return ops.cast(outputs, self.compute_dtype)

    def _normalize_and_update(self, x, axes):
        """``normalize(x)`` with statistics over ``axes``; the moving statistics take their average
        over any other non-channel axes (ghost batches)."""
        mean, variance = ops.moments(ops.stop_gradient(x), axes=axes, keepdims=True)
        channels = (x.shape[-1],)
        gamma = ops.cast(self.gamma, x.dtype) if self.scale else ops.ones(channels, x.dtype)
        beta = ops.cast(self.beta, x.dtype) if self.center else ops.zeros(channels, x.dtype)
        outputs = normalize(x, mean, variance, gamma, beta, self.epsilon, axes)
        non_channel = tuple(range(len(x.shape) - 1))
        batch_mean = ops.reshape(ops.mean(mean, axis=non_channel), channels)
        batch_variance = ops.reshape(ops.mean(variance, axis=non_channel), channels)
        moving_mean = ops.cast(self.moving_mean, x.dtype)
        moving_variance = ops.cast(self.moving_variance, x.dtype)
        self.moving_mean.assign(moving_mean * self.momentum + batch_mean * (1.0 - self.momentum))
        self.moving_variance.assign(moving_variance * self.momentum + batch_variance * (1.0 - self.momentum))
        return outputs

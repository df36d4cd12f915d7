"""Batch normalization (Ioffe & Szegedy 2015, "Batch Normalization: Accelerating Deep Network Training by
Reducing Internal Covariate Shift", section 3) with its backward pass written out.

``keras.layers.BatchNormalization`` lets autodiff differentiate through ``ops.moments`` and
``ops.batch_normalization``: on TensorFlow's CPU kernels (no XLA, no fusion) that is about twice
the full-size element-wise passes of a fused kernel. ``normalize`` computes the same function with
the closed-form gradient of BN (its derivation: Ioffe & Szegedy 2015, section 3), in ``keras.ops``
only, in its affine form: ``y = a * x + b`` and ``dx = a * dy + c * x + d`` with per-group,
per-channel ``a..d``. ``python -m tools.batch_norm`` times it (``--impl=tfzoo``) against Keras,
the fused kernel and PyTorch; ``docs/performance.md`` has the figures.

Under TensorFlow, plain BN on 4-D channels-last inputs takes TensorFlow's fused kernel instead
(``fused_normalize``: ``FusedBatchNormV3`` and its registered gradient, one pass each way; oneDNN's
kernel where oneDNN is on). It reads 16-bit inputs as they are and writes 16-bit outputs, with
float32 scale, offset and statistics, as Keras mixed precision keeps BN's statistics in float32
(Micikevicius et al. 2018, section 3.3): the float32 copies of a bf16 activation and the casts
around them are gone; ghost batch norm runs the same kernel once per ghost batch
(``tfzoo.layers.GhostBatchNormalization``). ``normalize`` stays the path for JAX and anything else,
and the tests hold the two to each other.
"""

import keras
from keras import ops

FUSED_DTYPES = ("float16", "bfloat16", "float32")  # FusedBatchNormV3's T; scale, offset, statistics: float32


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


def fused_normalize(x, gamma, beta, epsilon):
    """TensorFlow only: training-mode BN of a 4-D NHWC ``x`` by ``FusedBatchNormV3`` with float32
    ``gamma`` and ``beta``; returns the outputs (``x``'s dtype) and the batch mean and biased
    variance over N, H, W in float32, without gradients (as ``ops.moments`` would give them).
    """
    import tensorflow as tf

    empty = tf.zeros([0], tf.float32)
    y, mean, variance, _, _, _ = tf.raw_ops.FusedBatchNormV3(
        x=x, scale=gamma, offset=beta, mean=empty, variance=empty, epsilon=epsilon, exponential_avg_factor=1.0,
        data_format="NHWC", is_training=True)
    # The kernel returns the unbiased (Bessel-corrected) variance, for its own moving average;
    # Keras's moving variance averages the biased one, which normalizes the batch.
    count = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), tf.float32)
    variance = variance * ((count - 1.0) / count)
    return y, tf.stop_gradient(mean), tf.stop_gradient(variance)


@keras.saving.register_keras_serializable(package="tfzoo")
class BatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` whose training step uses TensorFlow's fused kernel
    (``fused_normalize``, 4-D inputs under TensorFlow) or ``normalize``'s written-out gradient:
    the same outputs, gradients, moving statistics (Keras's momentum, biased variance) and config;
    the same weights, so checkpoints of either load into the other.

    Inference, masks, renorm, synchronized BN and a channel axis other than the last take
    Keras's own path.
    """

    def _fast_path(self, inputs, training, mask):
        return (training and self.trainable and mask is None and not self.renorm and not self.synchronized
                and self.axis in (-1, len(inputs.shape) - 1))

    def _fused(self, inputs):
        """Whether ``fused_normalize`` serves this training call (the checks of ``_fast_path`` come first)."""
        return (keras.backend.backend() == "tensorflow" and len(inputs.shape) == 4
                and keras.backend.standardize_dtype(inputs.dtype) in FUSED_DTYPES
                and not all(d == 1 for d in inputs.shape[:-1]))  # one value per channel: no unbiased variance

    def call(self, inputs, training=None, mask=None):
        if not self._fast_path(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        if self._fused(inputs):
            outputs, mean, variance = fused_normalize(inputs, *self._float32_gamma_beta(), self.epsilon)
            self._update_moving(mean, variance)
            return ops.cast(outputs, self.compute_dtype)
        x = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        axes = tuple(range(len(x.shape) - 1))
        outputs = self._normalize_and_update(x, axes)
        return ops.cast(outputs, self.compute_dtype)

    def _float32_gamma_beta(self):
        """``fused_normalize``'s scale and offset: gamma and beta in float32, or ones and zeros where the
        layer has none (``scale=False``, ``center=False``)."""
        channels = self.moving_mean.shape
        gamma = ops.cast(self.gamma, "float32") if self.scale else ops.ones(channels, "float32")
        beta = ops.cast(self.beta, "float32") if self.center else ops.zeros(channels, "float32")
        return gamma, beta

    def _normalize_and_update(self, x, axes):
        """``normalize(x)`` with statistics over ``axes``; the moving statistics take their average
        over any other non-channel axes (ghost batches)."""
        mean, variance = ops.moments(ops.stop_gradient(x), axes=axes, keepdims=True)
        channels = (x.shape[-1],)
        gamma = ops.cast(self.gamma, x.dtype) if self.scale else ops.ones(channels, x.dtype)
        beta = ops.cast(self.beta, x.dtype) if self.center else ops.zeros(channels, x.dtype)
        outputs = normalize(x, mean, variance, gamma, beta, self.epsilon, axes)
        non_channel = tuple(range(len(x.shape) - 1))
        self._update_moving(ops.reshape(ops.mean(mean, axis=non_channel), channels),
                            ops.reshape(ops.mean(variance, axis=non_channel), channels))
        return outputs

    def _update_moving(self, batch_mean, batch_variance):
        """Keras's moving averages: ``moving = momentum * moving + (1 - momentum) * batch``."""
        moving_mean = ops.cast(self.moving_mean, batch_mean.dtype)
        moving_variance = ops.cast(self.moving_variance, batch_variance.dtype)
        self.moving_mean.assign(moving_mean * self.momentum + batch_mean * (1.0 - self.momentum))
        self.moving_variance.assign(moving_variance * self.momentum + batch_variance * (1.0 - self.momentum))

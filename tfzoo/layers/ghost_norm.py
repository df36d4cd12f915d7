"""Ghost batch normalization (Hoffer et al. 2017), as used throughout "Batch normalization has multiple
benefits", section 3."""

import keras
from keras import ops

from tfzoo.layers.batch_norm import BatchNormalization, fused_normalize


@keras.saving.register_keras_serializable(package="tfzoo")
class GhostBatchNormalization(BatchNormalization):
    """Batch normalization whose training statistics come from fixed-size ghost batches.

    In training a batch of ``B = n * G`` examples is split into ``n`` ghost batches of
    ``ghost_batch_size = G``; each is normalised with its own per-channel mean and variance,
    ``y = gamma * (x - mu_g) / sqrt(var_g + eps) + beta``. The moving statistics, used in
    inference, are updated with the average of the ghost means and variances, with
    ``keras.layers.BatchNormalization``'s momentum and epsilon semantics.
    "Batch normalization has multiple benefits", section 3,
    uses G = 64 on CIFAR-10 and G = 256 on ImageNet; a batch of exactly G is plain BN.

    Under TensorFlow, with 4-D inputs whose batch size is known when traced, each ghost batch runs
    TensorFlow's fused kernel (``tfzoo.layers.batch_norm.fused_normalize``) and the outputs are
    concatenated: the float32 copies of the ``keras.ops`` path, and the casts around them, are gone
    (docs/performance/epyc_avx512_bf16.md, D5). Elsewhere the
    gradient is ``tfzoo.layers.batch_norm.normalize``'s, written out per ghost batch.
    """

    def __init__(self, ghost_batch_size=64, **kwargs):
        if isinstance(ghost_batch_size, bool) or not isinstance(ghost_batch_size, int) or ghost_batch_size < 1:
            raise ValueError(
                "GhostBatchNormalization: ghost_batch_size must be a positive integer. "
                f"Received: ghost_batch_size={ghost_batch_size!r}"
            )
        for key, accepted in (("axis", -1), ("renorm", False), ("synchronized", False)):
            if key in kwargs and kwargs[key] != accepted:
                raise ValueError(
                    f"GhostBatchNormalization supports only {key}={accepted!r} (channels last). "
                    f"Received: {key}={kwargs[key]!r}"
                )
        super().__init__(**kwargs)
        self.ghost_batch_size = ghost_batch_size

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable):
            return super().call(inputs, training=False)
        if mask is not None:
            raise ValueError("GhostBatchNormalization does not support masks.")
        batch = inputs.shape[0]
        ghost = self.ghost_batch_size
        if batch is not None and batch % ghost:
            raise ValueError(
                f"GhostBatchNormalization '{self.name}': the batch size must be a multiple of "
                f"ghost_batch_size={ghost}. Received: batch size {batch}"
            )
        if batch is not None and self._fused(inputs) and not all(d == 1 for d in (ghost, *inputs.shape[1:-1])):
            return self._fused_ghosts(inputs, batch // ghost)
        x = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        # [B, ..., C] -> [B/G, G, ..., C]; statistics over everything but ghost and channel.
        ghosts = ops.reshape(x, (-1, ghost) + tuple(x.shape[1:]))
        normalized = self._normalize_and_update(ghosts, axes=tuple(range(1, len(ghosts.shape) - 1)))
        return ops.cast(ops.reshape(normalized, ops.shape(inputs)), self.compute_dtype)

    def _fused_ghosts(self, inputs, count):
        """TensorFlow's fused kernel on each of the ``count`` ghost batches of ``inputs``, with one
        gamma and beta (their gradients sum over the ghosts); the moving statistics take the average
        of the ghosts' float32 statistics, as the ``keras.ops`` path does."""
        gamma, beta = self._float32_gamma_beta()
        ghosts = ops.split(inputs, count, axis=0) if count > 1 else [inputs]
        outputs, means, variances = zip(*(fused_normalize(g, gamma, beta, self.epsilon) for g in ghosts))
        self._update_moving(ops.mean(ops.stack(means), axis=0), ops.mean(ops.stack(variances), axis=0))
        outputs = ops.concatenate(outputs, axis=0) if count > 1 else outputs[0]
        return ops.cast(outputs, self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "ghost_batch_size": self.ghost_batch_size}

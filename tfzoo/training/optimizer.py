"""The paper's optimizer: SGD with heavy-ball momentum, L2 on the loss, ghost-batch accumulation."""

import keras

from tfzoo.models.schemes import get_normalization


def add_l2(model, coefficient):
    """Adds ``coefficient / 2 * sum(w ** 2)`` over every conv and dense kernel to the loss.

    The gradient is then ``coefficient * w``, the usual meaning of "L2 5e-4"
    ("Batch normalization has multiple benefits", section 3). Biases, normalization parameters
    and the scalar multipliers and biases are not regularised. Returns the number of regularised
    kernels.
    """
    if coefficient < 0:
        raise ValueError(f"The L2 coefficient must be >= 0. Received: weight_decay={coefficient}")
    regularizer = keras.regularizers.L2(coefficient / 2.0) if coefficient else None
    kernels = [
        layer.kernel
        for layer in model.layers
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
    ]
    for kernel in kernels:
        kernel.regularizer = regularizer
    return len(kernels)


def accumulation_steps(batch_size, ghost_batch_size, normalization, accumulate=True):
    """How many ghost batches one update accumulates.

    Ghost BN: B / G micro-batches of G, each normalised on its own, one update of batch B ("Batch
    normalization has multiple benefits", section 3). No normalization: the same split is exact and
    saves memory. Plain BN normalises over the whole batch, so it takes one step of B.
    ``accumulate=False``: one step of B however B and G compare; ghost BN layers then split the
    batch into ghost batches themselves (the same statistics and gradient in one step, which is
    faster where a batch of B fits in memory; the moving statistics take one update of the ghosts'
    average instead of one per ghost batch).
    """
    if batch_size < 1 or ghost_batch_size < 1:
        raise ValueError(f"batch sizes must be >= 1. Received: batch_size={batch_size}, ghost_batch_size={ghost_batch_size}")
    if not accumulate or not get_normalization(normalization).splits_batch or ghost_batch_size >= batch_size:
        return 1
    if batch_size % ghost_batch_size:
        raise ValueError(
            f"batch_size={batch_size} must be a multiple of ghost_batch_size={ghost_batch_size} "
            f"with normalization={normalization!r}."
        )
    return batch_size // ghost_batch_size


def make_optimizer(learning_rate, *, momentum=0.9, nesterov=False, accumulation=1):
    """``keras.optimizers.SGD`` (velocity ``v = m v - lr g``, ``w += v``) with Keras's own
    gradient accumulation, which averages the ``accumulation`` micro-batch gradients."""
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1). Received: momentum={momentum}")
    return keras.optimizers.SGD(
        learning_rate=learning_rate,
        momentum=momentum,
        nesterov=nesterov,
        gradient_accumulation_steps=accumulation if accumulation > 1 else None,
    )

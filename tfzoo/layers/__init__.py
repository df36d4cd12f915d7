"""Keras layers for training residual networks with and without normalization."""

from tfzoo.layers.batch_norm import BatchNormalization
from tfzoo.layers.ghost_norm import GhostBatchNormalization
from tfzoo.layers.initializers import fixup_scale, he_normal, zeros
from tfzoo.layers.scalar import ScalarBias, ScalarMultiplier

__all__ = [
    "BatchNormalization", "GhostBatchNormalization", "ScalarBias", "ScalarMultiplier", "fixup_scale", "he_normal", "zeros",
]

"""Keras layers for training residual networks with and without normalization."""

from tfzoo.layers.batch_norm import BatchNormalization
from tfzoo.layers.ghost_norm import GhostBatchNormalization
from tfzoo.layers.initializers import fixup_scale, he_normal, zeros
from tfzoo.layers.scalar import ScalarBias, ScalarMultiplier
from tfzoo.layers.scaled_conv import ScaledConv2D

__all__ = [
    "BatchNormalization", "GhostBatchNormalization", "ScalarBias", "ScalarMultiplier", "ScaledConv2D", "fixup_scale", "he_normal", "zeros",
]

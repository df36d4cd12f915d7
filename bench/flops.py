"""FLOPs of a Keras model, counted from its layers: 2 x the multiply-adds of convolutions and dense layers.

Forward pass, per image. Normalization, activations, pooling and additions are not counted
(they are a few percent of a WRN's work and are memory-bound). A training step is counted as
3 x forward (``TRAIN_FLOPS_PER_FORWARD``): the forward pass, the gradient with respect to the
activations and the gradient with respect to the weights each cost about one forward pass.
"""

import math

import keras

TRAIN_FLOPS_PER_FORWARD = 3


def layer_macs(layer):
    """Multiply-adds of one Conv2D/Dense layer for one example; 0 for any other layer."""
    if isinstance(layer, keras.layers.Conv2D):
        kh, kw, cin_per_group, cout = layer.kernel.shape
        out_h, out_w = layer.output.shape[1:3]
        return out_h * out_w * kh * kw * cin_per_group * cout
    if isinstance(layer, keras.layers.Dense):
        fan_in, units = layer.kernel.shape
        positions = math.prod(layer.output.shape[1:-1])  # a Dense on [B, ..., C] applies per position
        return positions * fan_in * units
    return 0


def forward_flops(model):
    """Forward FLOPs per image of a built functional model (nested models included): 2 x MACs."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += forward_flops(layer)
        else:
            total += 2 * layer_macs(layer)
    return total


def train_flops(model):
    """Training FLOPs per image: ``TRAIN_FLOPS_PER_FORWARD`` x forward."""
    return TRAIN_FLOPS_PER_FORWARD * forward_flops(model)

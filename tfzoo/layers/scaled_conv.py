"""A convolution that carries its residual branch's scalar multiplier: ``alpha * conv(x)``, folded.

SkipInit, ZeroInit and Fixup end every residual branch with ``alpha * f(x)`` ("Batch normalization
has multiple benefits", sections 2 and 4). When ``f`` ends in a convolution, ``alpha * (x * W + b)``
equals ``x * (alpha W) + alpha b``: scaling the kernel and bias (a few thousand numbers) replaces
three passes over the activations in every training step, the product itself, its input
gradient ``alpha * dy``, and the multiplier's gradient ``sum(dy * f(x))``. The multiplier's gradient
comes from the kernel's and bias's instead (``sum(dW' * W) + sum(db' * b)``, equal by the chain
rule). ``ScalarMultiplier`` after a ``Conv2D`` computes the same function; the models build this
layer where a multiplier directly follows a convolution (``models/blocks.py``).
"""

import keras
from keras import layers, ops

from tfzoo.layers.scalar import _check_number, _check_scale, _scaled_gradient


@keras.saving.register_keras_serializable(package="tfzoo")
class ScaledConv2D(layers.Conv2D):
    """``Conv2D`` times one learnable scalar: ``y = alpha * (conv(x, W) + b)``, computed as
    ``conv(x, alpha W) + alpha b``.

    Weights: ``kernel``, ``bias`` (with ``use_bias``), then ``multiplier`` (``alpha``, initialised to
    ``initial_multiplier``: 0 for SkipInit/ZeroInit, 1 for Fixup). ``gradient_scale`` < 1 trains
    alpha at that fraction of the learning rate (Fixup's 1/10), as in ``ScalarMultiplier``.
    """

    def __init__(self, filters, kernel_size, initial_multiplier=0.0, gradient_scale=1.0, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        self.initial_multiplier = _check_number(initial_multiplier, "initial_multiplier", "ScaledConv2D")
        self.gradient_scale = _check_scale(gradient_scale, "ScaledConv2D")

    def build(self, input_shape):
        super().build(input_shape)
        self.multiplier = self.add_weight(
            shape=(), name="multiplier", initializer=keras.initializers.Constant(self.initial_multiplier)
        )

    def call(self, inputs):
        alpha = ops.cast(_scaled_gradient(self.multiplier, self.gradient_scale), self.compute_dtype)
        outputs = self.convolution_op(inputs, self.kernel * alpha)
        if self.use_bias:
            shape = (1,) * (self.rank + 1) + (self.filters,) if self.data_format == "channels_last" else (
                (1, self.filters) + (1,) * self.rank)
            outputs = ops.add(outputs, ops.reshape(self.bias * alpha, shape))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    # Keras's convolutions save and load their kernel and bias only (for LoRA): all three here, in order.
    def _own_variables(self):
        return [self.kernel, *([self.bias] if self.use_bias else []), self.multiplier]

    def save_own_variables(self, store):
        if self.built:
            for i, variable in enumerate(self._own_variables()):
                store[str(i)] = variable

    def load_own_variables(self, store):
        self._check_load_own_variables(store)
        if self.built:
            for i, variable in enumerate(self._own_variables()):
                variable.assign(store[str(i)])

    def get_config(self):
        return {**super().get_config(), "initial_multiplier": self.initial_multiplier,
                "gradient_scale": self.gradient_scale}

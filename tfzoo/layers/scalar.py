"""Learnable scalars on residual branches: SkipInit/ZeroInit multipliers and Fixup biases."""

import keras
from keras import ops


def _check_number(value, name, layer):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{layer}: {name} must be a number. Received: {name}={value!r}")
    return float(value)


@keras.saving.register_keras_serializable(package="tfzoo")
class ScalarMultiplier(keras.layers.Layer):
    """Multiplies its input by one learnable scalar: ``y = alpha * x``.

    At the end of a residual branch, ``x + alpha * f(x)`` with ``alpha = 0`` makes the block the
    identity at initialisation: SkipInit, component 1 of ZeroInit ("Batch normalization has multiple
    benefits", section 4). ``alpha = 1`` is Fixup's multiplier (section 2, component 3).
    """

    def __init__(self, initial_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.initial_value = _check_number(initial_value, "initial_value", "ScalarMultiplier")

    def build(self, input_shape):
        self.multiplier = self.add_weight(
            shape=(), name="multiplier", initializer=keras.initializers.Constant(self.initial_value)
        )

    def call(self, inputs):
        return inputs * ops.cast(self.multiplier, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "initial_value": self.initial_value}


@keras.saving.register_keras_serializable(package="tfzoo")
class ScalarBias(keras.layers.Layer):
    """Adds one learnable scalar to its input: ``y = x + b``, ``b`` initialised to 0.

    Fixup puts one before every convolution, linear and element-wise activation layer ("Batch
    normalization has multiple benefits", section 2, component 4); ZeroInit for ResNet-V1 puts one after
    the skip and branch merge, before the final ReLU (section 5, Table 5).
    """

    def __init__(self, initial_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.initial_value = _check_number(initial_value, "initial_value", "ScalarBias")

    def build(self, input_shape):
        self.bias = self.add_weight(
            shape=(), name="bias", initializer=keras.initializers.Constant(self.initial_value)
        )

    def call(self, inputs):
        return inputs + ops.cast(self.bias, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "initial_value": self.initial_value}

"""Learnable scalars on residual branches: SkipInit/ZeroInit multipliers and Fixup biases."""

import keras
from keras import ops


def _check_number(value, name, layer):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{layer}: {name} must be a number. Received: {name}={value!r}")
    return float(value)


def _check_scale(value, layer):
    value = _check_number(value, "gradient_scale", layer)
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{layer}: gradient_scale must be in (0, 1]. Received: gradient_scale={value!r}")
    return value


def _scaled_gradient(variable, scale):
    """``variable``'s value, with its gradient multiplied by ``scale``.

    ``v + scale * (v - stop_gradient(v))`` written as below is exactly ``v`` in the forward pass
    and has gradient ``scale``; for SGD with momentum (linear in the gradient) and no L2 on the
    variable this is training it at ``scale`` times the learning rate.
    """
    if scale == 1.0:
        return variable
    held = ops.stop_gradient(variable)
    return held + scale * (variable - held)


@keras.saving.register_keras_serializable(package="tfzoo")
class ScalarMultiplier(keras.layers.Layer):
    """Multiplies its input by one learnable scalar: ``y = alpha * x``.

    At the end of a residual branch, ``x + alpha * f(x)`` with ``alpha = 0`` makes the block the
    identity at initialisation: SkipInit, component 1 of ZeroInit ("Batch normalization has multiple
    benefits", section 4). ``alpha = 1`` is Fixup's multiplier (section 2, component 3).
    ``gradient_scale`` < 1 trains alpha at that fraction of the learning rate (Fixup's 1/10).
    """

    def __init__(self, initial_value=0.0, gradient_scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.initial_value = _check_number(initial_value, "initial_value", "ScalarMultiplier")
        self.gradient_scale = _check_scale(gradient_scale, "ScalarMultiplier")

    def build(self, input_shape):
        self.multiplier = self.add_weight(
            shape=(), name="multiplier", initializer=keras.initializers.Constant(self.initial_value)
        )

    def call(self, inputs):
        return inputs * ops.cast(_scaled_gradient(self.multiplier, self.gradient_scale), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "initial_value": self.initial_value, "gradient_scale": self.gradient_scale}


@keras.saving.register_keras_serializable(package="tfzoo")
class ScalarBias(keras.layers.Layer):
    """Adds one learnable scalar to its input: ``y = x + b``, ``b`` initialised to 0.

    Fixup puts one before every convolution, linear and element-wise activation layer ("Batch
    normalization has multiple benefits", section 2, component 4); ZeroInit for ResNet-V1 puts one after
    the skip and branch merge, before the final ReLU (section 5, Table 5). ``gradient_scale`` < 1
    trains b at that fraction of the learning rate (Fixup's 1/10).
    """

    def __init__(self, initial_value=0.0, gradient_scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.initial_value = _check_number(initial_value, "initial_value", "ScalarBias")
        self.gradient_scale = _check_scale(gradient_scale, "ScalarBias")

    def build(self, input_shape):
        self.bias = self.add_weight(
            shape=(), name="bias", initializer=keras.initializers.Constant(self.initial_value)
        )

    def call(self, inputs):
        return inputs + ops.cast(_scaled_gradient(self.bias, self.gradient_scale), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "initial_value": self.initial_value, "gradient_scale": self.gradient_scale}

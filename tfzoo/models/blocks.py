"""Residual blocks as functions of a Keras tensor, configured by a ``Scheme``.

One block per architecture, whatever the scheme: normalization slots, Fixup's scalar
biases, conv biases, the branch multiplier and zero-initialised last layers are read from
the scheme (``schemes.py``). Layer names are stable: ``stage2_block3_branch_conv1``.
"""

import keras
from keras import layers

from tfzoo.layers import (BatchNormalization, GhostBatchNormalization, ScalarBias, ScalarMultiplier, ScaledConv2D,
                          he_normal, zeros)
from tfzoo.models.schemes import NORMALIZATIONS

BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5


def conv(x, filters, kernel, stride, scheme, name, *, zero=False, scale=1.0, multiplier=False):
    """A same-padded convolution; He-normal (times ``scale``) or zero initialised. ``multiplier=True``:
    the scheme's branch multiplier folded into it (``ScaledConv2D``)."""
    options = dict(strides=stride, padding="same", use_bias=scheme.conv_bias,
                   kernel_initializer=zeros() if zero else he_normal(scale), name=name)
    if multiplier:
        return ScaledConv2D(filters, kernel, initial_multiplier=scheme.residual_multiplier,
                            gradient_scale=scheme.scalar_lr_scale, **options)(x)
    return layers.Conv2D(filters, kernel, **options)(x)


def folds_multiplier(scheme, *, normalized_last=False):
    """Whether the branch's multiplier goes into its last convolution (``ScaledConv2D``: the same function,
    fewer passes over the activations): the scheme has one and no normalization sits between them
    (``normalized_last``: ResNet-V1's norm after it)."""
    return scheme.residual_multiplier is not None and not (normalized_last and scheme.normalized)


def norm(x, scheme, name, *, with_bias=True):
    """The normalization slot: BN, ghost BN, Fixup's scalar bias, or nothing."""
    statistics = NORMALIZATIONS[scheme.normalization].statistics
    if statistics == "batch":
        return BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name)(x)
    if statistics == "ghost":
        return GhostBatchNormalization(
            scheme.ghost_batch_size, momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name
        )(x)
    return fixup_bias(x, scheme, name + "_bias") if with_bias else x


def fixup_bias(x, scheme, name):
    """Fixup's scalar bias (component 4), where the scheme has them."""
    return ScalarBias(gradient_scale=scheme.scalar_lr_scale, name=name)(x) if scheme.scalar_biases else x


def relu(x, name):
    return layers.ReLU(name=name)(x)


def branch_end(x, scheme, name, *, folded=False):
    """``alpha * branch`` (SkipInit/ZeroInit/Fixup multiplier; ``folded``: already in the last
    convolution), then Fixup's output bias."""
    if scheme.residual_multiplier is not None and not folded:
        x = ScalarMultiplier(scheme.residual_multiplier, gradient_scale=scheme.scalar_lr_scale,
                             name=name + "_multiplier")(x)
    return fixup_bias(x, scheme, name + "_out_bias")


def merge(shortcut, branch, name):
    return layers.Add(name=name + "_add")([shortcut, branch])


def _preact_and_shortcut(x, out_filters, stride, scheme, name):
    """Pre-activation ``relu(norm(x))`` (plus Fixup's bias) and the shortcut: ``x``, or a
    strided 1x1 convolution of the pre-activation when the shape changes."""
    pre = relu(norm(x, scheme, name + "_preact_norm"), name + "_preact_relu")
    pre = fixup_bias(pre, scheme, name + "_in_bias")
    if stride == 1 and x.shape[-1] == out_filters:
        return pre, x
    return pre, conv(pre, out_filters, 1, stride, scheme, name + "_shortcut_conv")


def preact_basic_block(x, filters, stride, scheme, name, *, fixup_scale=1.0):
    """Pre-activation basic block B(3,3): WRN (Wide Residual Networks, Table 1) and ResNet-V2 18/34.

    ``out = shortcut(x) + alpha * conv(relu(norm(conv(relu(norm(x))))))``; the projection
    shortcut, when the shape changes, is a 1x1 convolution of the pre-activated input.
    """
    pre, shortcut = _preact_and_shortcut(x, filters, stride, scheme, name)
    y = conv(pre, filters, 3, stride, scheme, name + "_branch_conv1", scale=fixup_scale)
    y = relu(norm(y, scheme, name + "_branch_norm1"), name + "_branch_relu1")
    if scheme.dropout:
        y = layers.Dropout(scheme.dropout, name=name + "_branch_dropout")(y)
    y = fixup_bias(y, scheme, name + "_branch_bias2")
    fold = folds_multiplier(scheme)
    y = conv(y, filters, 3, 1, scheme, name + "_branch_conv2", zero=scheme.zero_last_conv, multiplier=fold)
    return merge(shortcut, branch_end(y, scheme, name + "_branch", folded=fold), name)


def preact_bottleneck_block(x, filters, stride, scheme, name, *, fixup_scale=1.0):
    """Pre-activation bottleneck (He et al. 2016b, ResNet-V2 50+): 1x1, 3x3 (strided), 1x1 x4."""
    out_filters = 4 * filters
    pre, shortcut = _preact_and_shortcut(x, out_filters, stride, scheme, name)
    y = conv(pre, filters, 1, 1, scheme, name + "_branch_conv1", scale=fixup_scale)
    y = relu(norm(y, scheme, name + "_branch_norm1"), name + "_branch_relu1")
    y = fixup_bias(y, scheme, name + "_branch_bias2")
    y = conv(y, filters, 3, stride, scheme, name + "_branch_conv2", scale=fixup_scale)
    y = relu(norm(y, scheme, name + "_branch_norm2"), name + "_branch_relu2")
    y = fixup_bias(y, scheme, name + "_branch_bias3")
    fold = folds_multiplier(scheme)
    y = conv(y, out_filters, 1, 1, scheme, name + "_branch_conv3", zero=scheme.zero_last_conv, multiplier=fold)
    return merge(shortcut, branch_end(y, scheme, name + "_branch", folded=fold), name)


def _v1_output(shortcut, branch, scheme, name):
    x = merge(shortcut, branch, name)
    if scheme.scalar_bias:
        x = ScalarBias(name=name + "_merge_bias")(x)
    return relu(x, name + "_out_relu")


def _v1_shortcut(x, pre, out_filters, stride, scheme, name):
    if stride == 1 and x.shape[-1] == out_filters:
        return x
    y = conv(pre, out_filters, 1, stride, scheme, name + "_shortcut_conv")
    return norm(y, scheme, name + "_shortcut_norm", with_bias=False)


def basic_block_v1(x, filters, stride, scheme, name, *, fixup_scale=1.0):
    """ResNet-V1 basic block (He et al. 2016a, ResNet-18/34): ReLU after the merge."""
    pre = fixup_bias(x, scheme, name + "_in_bias")
    y = conv(pre, filters, 3, stride, scheme, name + "_branch_conv1", scale=fixup_scale)
    y = relu(norm(y, scheme, name + "_branch_norm1"), name + "_branch_relu1")
    y = fixup_bias(y, scheme, name + "_branch_bias2")
    fold = folds_multiplier(scheme, normalized_last=True)
    y = conv(y, filters, 3, 1, scheme, name + "_branch_conv2", zero=scheme.zero_last_conv, multiplier=fold)
    y = norm(y, scheme, name + "_branch_norm2", with_bias=False)
    shortcut = _v1_shortcut(x, pre, filters, stride, scheme, name)
    return _v1_output(shortcut, branch_end(y, scheme, name + "_branch", folded=fold), scheme, name)


def bottleneck_block_v1(x, filters, stride, scheme, name, *, fixup_scale=1.0):
    """ResNet-V1 bottleneck (He et al. 2016a, ResNet-50+): stride on the first 1x1, as published."""
    out_filters = 4 * filters
    pre = fixup_bias(x, scheme, name + "_in_bias")
    y = conv(pre, filters, 1, stride, scheme, name + "_branch_conv1", scale=fixup_scale)
    y = relu(norm(y, scheme, name + "_branch_norm1"), name + "_branch_relu1")
    y = fixup_bias(y, scheme, name + "_branch_bias2")
    y = conv(y, filters, 3, 1, scheme, name + "_branch_conv2", scale=fixup_scale)
    y = relu(norm(y, scheme, name + "_branch_norm2"), name + "_branch_relu2")
    y = fixup_bias(y, scheme, name + "_branch_bias3")
    fold = folds_multiplier(scheme, normalized_last=True)
    y = conv(y, out_filters, 1, 1, scheme, name + "_branch_conv3", zero=scheme.zero_last_conv, multiplier=fold)
    y = norm(y, scheme, name + "_branch_norm3", with_bias=False)
    shortcut = _v1_shortcut(x, pre, out_filters, stride, scheme, name)
    return _v1_output(shortcut, branch_end(y, scheme, name + "_branch", folded=fold), scheme, name)


# Convolutions per residual branch, for Fixup's L^(-1/(2m-2)).
CONVS_PER_BRANCH = {
    preact_basic_block: 2,
    basic_block_v1: 2,
    preact_bottleneck_block: 3,
    bottleneck_block_v1: 3,
}


POOLINGS = ("avg", "max", None)


def model_input(input_shape, input_normalization=None):
    """(``keras.Input``, the tensor the stem reads): the images themselves, or with
    ``input_normalization=(mean, std)`` pixels on the 0..255 scale standardized per channel
    inside the model, ``(x - mean) / std``, so the model takes raw images as served."""
    inputs = keras.Input(shape=input_shape, name="images")
    if input_normalization is None:
        return inputs, inputs
    mean, std = input_normalization
    normalized = layers.Normalization(
        mean=list(mean), variance=[float(s) ** 2 for s in std], name="input_normalization"
    )(inputs)
    return inputs, normalized


def classifier_head(x, num_classes, scheme, *, preact, include_top=True, pooling=None):
    """(norm, ReLU for pre-activation nets) -> global average pool -> dropout -> dense logits.

    ``include_top=False`` ends after the last activation instead, as ``keras.applications``
    does: feature maps [B, H, W, C], or [B, C] with ``pooling="avg"`` or ``"max"``.
    """
    if preact:
        x = relu(norm(x, scheme, "head_norm"), "head_relu")
    if not include_top:
        if pooling == "avg":
            return layers.GlobalAveragePooling2D(name="head_pool")(x)
        if pooling == "max":
            return layers.GlobalMaxPooling2D(name="head_pool")(x)
        return x
    x = layers.GlobalAveragePooling2D(name="head_pool")(x)
    if scheme.classifier_dropout:
        x = layers.Dropout(scheme.classifier_dropout, name="head_dropout")(x)
    x = fixup_bias(x, scheme, "head_bias")
    # With 16-bit features (a mixed policy, tfzoo.precision) the classifier computes in float32:
    # float32 logits for the softmax and the loss, as mixed-precision training needs.
    return layers.Dense(
        num_classes,
        kernel_initializer=zeros() if scheme.zero_classifier else "glorot_uniform",
        dtype="float32" if x.dtype in ("bfloat16", "float16") else None,
        name="classifier",
    )(x)

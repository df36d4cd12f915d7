"""WRN-d-k from "Wide Residual Networks" (Zagoruyko & Komodakis 2016, section 2, Table 1)."""

import keras

from tfzoo.layers import fixup_scale
from tfzoo.models import blocks


def blocks_per_stage(depth):
    """n in d = 6n + 4 (three stages of n two-convolution blocks, plus stem conv and classifier)."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
        raise ValueError(
            f"WRN depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, 40, ..., 1000, ...). Received: depth={depth!r}"
        )
    return (depth - 4) // 6


def check_architecture(depth, width):
    """Raises ValueError for a depth that is not 6n + 4 or a width below 1."""
    blocks_per_stage(depth)
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"WRN width must be an integer >= 1. Received: width={width!r}")


def wide_resnet(depth, width, scheme, *, num_classes, input_shape, name, include_top=True, pooling=None,
                input_normalization=None):
    """Builds WRN-``depth``-``width``: conv3x3(16) then stages of 16k, 32k, 64k channels.

    Stages 2 and 3 downsample by 2 in their first block; pre-activation basic blocks; the head is
    norm-ReLU, global average pooling and a dense classifier (Wide Residual Networks, Table 1).
    """
    check_architecture(depth, width)
    n = blocks_per_stage(depth)
    scale = fixup_scale(3 * n, 2) if scheme.rescale_branches else 1.0
    inputs, x = blocks.model_input(input_shape, input_normalization)
    x = blocks.conv(x, 16, 3, 1, scheme, "stem_conv")
    for stage, (filters, stride) in enumerate(((16, 1), (32, 2), (64, 2)), start=1):
        for block in range(1, n + 1):
            x = blocks.preact_basic_block(
                x,
                filters * width,
                stride if block == 1 else 1,
                scheme,
                f"stage{stage}_block{block}",
                fixup_scale=scale,
            )
    outputs = blocks.classifier_head(x, num_classes, scheme, preact=True, include_top=include_top, pooling=pooling)
    return keras.Model(inputs, outputs, name=name)


"""ImageNet ResNets: V1 (He et al. 2016a) and pre-activation V2 (He et al. 2016b), 18 to 152 layers."""

import keras
from keras import layers

from tfzoo.layers import fixup_scale
from tfzoo.models import blocks

# Blocks per stage for each depth; 18/34 use basic blocks, 50+ bottlenecks (He et al. 2016a, Table 1).
RESNET_STAGES = {
    18: (2, 2, 2, 2),
    34: (3, 4, 6, 3),
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
}
STAGE_FILTERS = (64, 128, 256, 512)
_BLOCKS = {
    (1, False): blocks.basic_block_v1,
    (1, True): blocks.bottleneck_block_v1,
    (2, False): blocks.preact_basic_block,
    (2, True): blocks.preact_bottleneck_block,
}


def resnet(depth, version, scheme, *, num_classes, input_shape, name, include_top=True, pooling=None,
           input_normalization=None):
    """Builds ResNet-``depth``-V``version``.

    Stem: 7x7/2 convolution with 64 channels (V1 adds norm and ReLU; V2 leaves them to the
    first pre-activation) and a 3x3/2 max pool; four stages, the last three downsampling in
    their first block; V2 ends with norm-ReLU; then global average pooling and a dense layer.
    """
    if depth not in RESNET_STAGES:
        raise ValueError(f"Unknown ResNet depth {depth!r}; accepted: {sorted(RESNET_STAGES)}.")
    if version not in (1, 2):
        raise ValueError(f"Unknown ResNet version {version!r}; accepted: 1, 2.")
    if scheme.dropout:
        raise ValueError(
            "dropout inside residual blocks applies to Wide-ResNets only; use classifier_dropout. "
            f"Received: dropout={scheme.dropout}"
        )
    stages = RESNET_STAGES[depth]
    bottleneck = depth >= 50
    block_fn = _BLOCKS[(version, bottleneck)]
    convs = blocks.CONVS_PER_BRANCH[block_fn]
    scale = fixup_scale(sum(stages), convs) if scheme.rescale_branches else 1.0

    inputs, x = blocks.model_input(input_shape, input_normalization)
    x = blocks.conv(x, 64, 7, 2, scheme, "stem_conv")
    if version == 1:
        x = blocks.relu(blocks.norm(x, scheme, "stem_norm"), "stem_relu")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage, (count, filters) in enumerate(zip(stages, STAGE_FILTERS), start=1):
        for block in range(1, count + 1):
            stride = 2 if stage > 1 and block == 1 else 1
            x = block_fn(x, filters, stride, scheme, f"stage{stage}_block{block}", fixup_scale=scale)
    outputs = blocks.classifier_head(x, num_classes, scheme, preact=version == 2, include_top=include_top, pooling=pooling)
    return keras.Model(inputs, outputs, name=name)

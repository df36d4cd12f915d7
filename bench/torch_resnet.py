"""The PyTorch twin of tfzoo's ResNet-V1 (He et al. 2016a): the reference that the GPU figures of ResNet-50 divide by.

``create_torch_resnet("resnet50_v1", normalization=..., init=...)`` reads the same resolved ``Scheme`` as
``tfzoo.create_model`` and builds the same layers from ``bench.torch_wrn``'s pieces (Keras's "same" padding,
BN / ghost BN / none, SkipInit and ZeroInit multipliers, conv biases, Fixup's scalar biases and rescaled branches,
classifier dropout, ResNet-V1's scalar bias after the merge of "Batch normalization has multiple benefits", Table 5),
so both have exactly the same parameter count and forward FLOPs (tested). V1's stride sits on the bottleneck's first
1x1 convolution, as published, where torchvision's ``resnet50`` (V1.5) puts it on the 3x3.
"""

import torch.nn.functional as F
from torch import nn

from bench import torch_wrn
from bench.torch_wrn import ScalarBias, ScalarMultiplier, _bias, _conv, _norm, classifier_head, same_pads
from tfzoo.layers import fixup_scale
from tfzoo.models import resnet as resnet_lib
from tfzoo.models.options import ModelOptions
from tfzoo.models.registry import resolve_options


def _same_max_pool(x, kernel=3, stride=2):
    """Keras's ``MaxPooling2D(3, 2, padding="same")``: -inf padding, ``total // 2`` before and the rest after."""
    pads = same_pads(x.shape[2:], (kernel, kernel), (stride, stride))
    return F.max_pool2d(F.pad(x, pads, value=float("-inf")) if any(pads) else x, kernel, stride)


class BlockV1(nn.Module):
    """``relu(shortcut + alpha * branch [+ b])``: ``blocks.basic_block_v1`` (two 3x3) and ``blocks.bottleneck_block_v1``
    (1x1 with the stride, 3x3, 1x1 with 4x the channels); every convolution but the last followed by norm and ReLU,
    the last by norm alone; the projection shortcut a strided 1x1 convolution and norm."""

    def __init__(self, cin, filters, stride, scheme, *, bottleneck, fixup_scale=1.0, keras_name=""):
        super().__init__()
        self.keras_name = keras_name  # "stage{s}_block{b}", the prefix of its layers in the Keras model
        cout = 4 * filters if bottleneck else filters
        shapes = ([(cin, filters, 1, stride), (filters, filters, 3, 1), (filters, cout, 1, 1)] if bottleneck
                  else [(cin, filters, 3, stride), (filters, cout, 3, 1)])
        self.in_bias = _bias(scheme)
        self.convs, self.norms, self.biases = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for i, (a, b, kernel, s) in enumerate(shapes):
            last = i == len(shapes) - 1
            zero = last and scheme.zero_last_conv
            self.convs.append(_conv(a, b, kernel, s, scheme, zero=zero, scale=1.0 if last else fixup_scale))
            self.norms.append(_norm(b, scheme, with_bias=not last))
            self.biases.append(nn.Identity() if last else _bias(scheme))
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(_conv(cin, cout, 1, stride, scheme), _norm(cout, scheme, with_bias=False))
        multiplier = scheme.residual_multiplier
        self.multiplier = nn.Identity() if multiplier is None else ScalarMultiplier(multiplier)
        self.out_bias = _bias(scheme)
        self.merge_bias = ScalarBias() if scheme.scalar_bias else nn.Identity()

    def forward(self, x):
        pre = self.in_bias(x)
        y = pre
        for i, (conv, norm, bias) in enumerate(zip(self.convs, self.norms, self.biases)):
            y = norm(conv(y))
            if i < len(self.convs) - 1:
                y = bias(F.relu(y))
        shortcut = x if self.shortcut is None else self.shortcut(pre)
        return F.relu(self.merge_bias(shortcut + self.out_bias(self.multiplier(y))))


class ResNetV1(nn.Module):
    """ResNet-V1, NCHW: 7x7/2 convolution, norm, ReLU, 3x3/2 max pool, four stages, average pool, dropout, linear."""

    def __init__(self, depth, scheme, *, num_classes, input_shape, name):
        super().__init__()
        stages = resnet_lib.RESNET_STAGES[depth]
        bottleneck = depth >= 50
        scale = fixup_scale(sum(stages), 3 if bottleneck else 2) if scheme.rescale_branches else 1.0
        self.name = name
        self.stem = _conv(input_shape[-1], 64, 7, 2, scheme)
        self.stem_norm = _norm(64, scheme)
        blocks, cin = [], 64
        for stage, (count, filters) in enumerate(zip(stages, resnet_lib.STAGE_FILTERS), start=1):
            for block in range(1, count + 1):
                stride = 2 if stage > 1 and block == 1 else 1
                blocks.append(BlockV1(cin, filters, stride, scheme, bottleneck=bottleneck, fixup_scale=scale,
                                      keras_name=f"stage{stage}_block{block}"))
                cin = 4 * filters if bottleneck else filters
        self.blocks = nn.Sequential(*blocks)
        self.head_dropout, self.head_bias, self.classifier = classifier_head(cin, num_classes, scheme)

    def forward(self, x):
        x = _same_max_pool(F.relu(self.stem_norm(self.stem(x))))
        x = self.blocks(x).mean(dim=(2, 3))
        return self.classifier(self.head_bias(self.head_dropout(x)))


_BLOCK_LAYERS = {"in_bias": "in_bias", "convs": "branch_conv", "norms": "branch_norm", "biases": "branch_bias",
                 "multiplier": "branch_multiplier", "out_bias": "branch_out_bias", "merge_bias": "merge_bias"}


def keras_layer_name(model, path, module):
    """The Keras layer name of a torch module path of ``model``: ``blocks.3.convs.1`` -> ``stage2_block1_branch_conv2``
    (ResNet-50), ``blocks.3.shortcut.1`` -> ``stage2_block1_shortcut_norm``; a normalization slot holding Fixup's
    scalar bias gets ``_bias``, as ``blocks.norm`` names it."""
    parts = path.split(".")
    if parts[0] != "blocks":
        name = {"stem": "stem_conv"}.get(path, path)
        return name + "_bias" if path == "stem_norm" and isinstance(module, ScalarBias) else name
    prefix = model.blocks[int(parts[1])].keras_name
    if parts[2] == "shortcut":
        return f"{prefix}_shortcut_{'conv' if parts[3] == '0' else 'norm'}"
    name = f"{prefix}_{_BLOCK_LAYERS[parts[2]]}"
    if parts[2] in ("convs", "norms"):
        name += str(int(parts[3]) + 1)
    elif parts[2] == "biases":
        name += str(int(parts[3]) + 2)  # the bias after the (i+1)-th ReLU: blocks' "_branch_bias{i+2}"
    return name + "_bias" if parts[2] == "norms" and isinstance(module, ScalarBias) else name


def load_keras_weights(model, keras_model):
    """Copies a ``tfzoo`` Keras ResNet-V1's weights into its torch twin (``bench.torch_wrn.load_keras_weights``)."""
    torch_wrn.load_keras_weights(model, keras_model, lambda path, module: keras_layer_name(model, path, module))


def create_torch_resnet(name="resnet50_v1", **options):
    """The PyTorch twin of ``tfzoo.create_model(name, **options)`` for ResNet-V1 (NCHW inputs)."""
    if not (name.startswith("resnet") and name.endswith("_v1")):
        raise ValueError(f"bench.torch_resnet builds ResNet-V1 only ('resnet{{depth}}_v1'). Received: {name!r}")
    _, kwargs = resolve_options(name, ModelOptions.from_kwargs(**options))
    for key, default in (("include_top", True), ("pooling", None), ("input_normalization", None)):
        if kwargs.pop(key, default) != default:  # the twin is the classifier on normalized inputs only
            raise ValueError(f"bench.torch_resnet builds {key}={default!r} only. Received: {key}={options[key]!r}")
    return ResNetV1(**kwargs)

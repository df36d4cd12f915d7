"""The same pre-activation WRN in PyTorch (eager), the reference every speed figure is a ratio to.

``create_torch_model("wrn-16-4", normalization=..., init=...)`` takes ``tfzoo.create_model``'s
options and reads the same resolved ``Scheme`` (``tfzoo/models/schemes.py``), so the two
models have the same layers and exactly the same parameter count (tested): BN, ghost BN or
none; SkipInit/ZeroInit scalar multipliers, conv biases, classifier dropout; Fixup's scalar
biases, rescaled and zeroed layers. ``make_train_step`` is the recipe's update in PyTorch:
SGD with heavy-ball momentum, L2 on conv/linear weights (``weight_decay * w`` added to their
gradients, what ``tfzoo.training.optimizer.add_l2`` gives), cross-entropy, and gradient
accumulation over ghost batches where the recipe accumulates.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tfzoo.layers import fixup_scale
from tfzoo.models import wide_resnet
from tfzoo.models.blocks import BN_EPSILON, BN_MOMENTUM
from tfzoo.models.options import ModelOptions
from tfzoo.models.schemes import NORMALIZATIONS
from tfzoo.models.registry import resolve_options


class ScalarMultiplier(nn.Module):
    """``alpha * x`` with one learnable scalar (SkipInit/ZeroInit: alpha = 0; Fixup: 1)."""

    def __init__(self, initial_value):
        super().__init__()
        self.multiplier = nn.Parameter(torch.tensor(float(initial_value)))

    def forward(self, x):
        return x * self.multiplier.to(x.dtype)


class ScalarBias(nn.Module):
    """``x + b`` with one learnable scalar initialised to 0 (Fixup)."""

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return x + self.bias.to(x.dtype)


class GhostBatchNorm2d(nn.BatchNorm2d):
    """Batch norm with statistics per ghost batch of ``ghost_batch_size`` examples in training;
    the running statistics move towards the mean of the ghost means and (biased) variances, as
    ``tfzoo.layers.GhostBatchNormalization``'s do."""

    def __init__(self, channels, ghost_batch_size, **kwargs):
        super().__init__(channels, **kwargs)
        self.ghost_batch_size = ghost_batch_size

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        if x.shape[0] % self.ghost_batch_size:
            raise ValueError(f"batch {x.shape[0]} is not a multiple of ghost_batch_size={self.ghost_batch_size}")
        ghosts = x.split(self.ghost_batch_size)
        outputs = [F.batch_norm(g, None, None, self.weight, self.bias, True, 0.0, self.eps) for g in ghosts]
        with torch.no_grad():
            variances, means = zip(*(torch.var_mean(g.float(), dim=(0, 2, 3), unbiased=False) for g in ghosts))
            self.running_mean.lerp_(torch.stack(means).mean(0), self.momentum)
            self.running_var.lerp_(torch.stack(variances).mean(0), self.momentum)
        return outputs[0] if len(outputs) == 1 else torch.cat(outputs)


class Conv2dSame(nn.Conv2d):
    """A convolution with Keras's ``padding="same"``: a strided one pads ``total // 2`` before and the
    rest after (bottom/right), where ``nn.Conv2d(padding=1)`` would pad both sides by one."""

    def __init__(self, cin, cout, kernel, stride, bias):
        super().__init__(cin, cout, kernel, stride=stride, padding=kernel // 2 if stride == 1 else 0, bias=bias)

    def forward(self, x):
        if self.stride == (1, 1):
            return super().forward(x)
        pads = same_pads(x.shape[2:], self.kernel_size, self.stride)
        return super().forward(F.pad(x, pads) if any(pads) else x)


def same_pads(sizes, kernels, strides):
    """``F.pad``'s list (last dimension first) for Keras's ``padding="same"`` over the spatial ``sizes``: of each
    dimension's ``total`` padding, ``total // 2`` before and the rest after."""
    pads = []
    for size, kernel, stride in zip(reversed(sizes), reversed(kernels), reversed(strides)):
        total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return pads


def _conv(cin, cout, kernel, stride, scheme, *, zero=False, scale=1.0):
    conv = Conv2dSame(cin, cout, kernel, stride, bias=scheme.conv_bias)
    if zero:
        nn.init.zeros_(conv.weight)
    else:  # He normal, untruncated, std = scale * sqrt(2 / fan_in), as tfzoo.layers.he_normal
        nn.init.normal_(conv.weight, std=scale * math.sqrt(2.0 / (cin * kernel * kernel)))
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)
    return conv


def _norm(channels, scheme, *, with_bias=True):
    """BN, ghost BN, Fixup's scalar bias or nothing: ``blocks.norm``."""
    kwargs = dict(eps=BN_EPSILON, momentum=1.0 - BN_MOMENTUM)
    statistics = NORMALIZATIONS[scheme.normalization].statistics
    if statistics == "batch":
        return nn.BatchNorm2d(channels, **kwargs)
    if statistics == "ghost":
        return GhostBatchNorm2d(channels, scheme.ghost_batch_size, **kwargs)
    return _bias(scheme) if with_bias else nn.Identity()


def _bias(scheme):
    return ScalarBias() if scheme.scalar_biases else nn.Identity()


def classifier_head(features, num_classes, scheme):
    """(dropout, Fixup's bias, linear layer) after the pooled features: ``blocks.classifier_head``'s dense part, the
    classifier zero-initialised where the scheme says so (Fixup), else Glorot-uniform as Keras's ``Dense``."""
    dropout = nn.Dropout(scheme.classifier_dropout) if scheme.classifier_dropout else nn.Identity()
    classifier = nn.Linear(features, num_classes)
    if scheme.zero_classifier:
        nn.init.zeros_(classifier.weight)
    else:
        nn.init.xavier_uniform_(classifier.weight)
    nn.init.zeros_(classifier.bias)
    return dropout, _bias(scheme), classifier


class PreactBasicBlock(nn.Module):
    """``shortcut(x) + alpha * conv(relu(norm(conv(relu(norm(x))))))``: ``blocks.preact_basic_block``."""

    def __init__(self, cin, cout, stride, scheme, *, fixup_scale=1.0):
        super().__init__()
        self.preact_norm, self.in_bias = _norm(cin, scheme), _bias(scheme)
        self.shortcut = None if stride == 1 and cin == cout else _conv(cin, cout, 1, stride, scheme)
        self.conv1 = _conv(cin, cout, 3, stride, scheme, scale=fixup_scale)
        self.norm1 = _norm(cout, scheme)
        self.dropout = nn.Dropout(scheme.dropout) if scheme.dropout else nn.Identity()
        self.bias2 = _bias(scheme)
        self.conv2 = _conv(cout, cout, 3, 1, scheme, zero=scheme.zero_last_conv)
        multiplier = scheme.residual_multiplier
        self.multiplier = nn.Identity() if multiplier is None else ScalarMultiplier(multiplier)
        self.out_bias = _bias(scheme)

    def forward(self, x):
        pre = self.in_bias(F.relu(self.preact_norm(x)))
        shortcut = x if self.shortcut is None else self.shortcut(pre)
        y = self.conv1(pre)
        y = self.bias2(self.dropout(F.relu(self.norm1(y))))
        y = self.out_bias(self.multiplier(self.conv2(y)))
        return shortcut + y


class WideResNet(nn.Module):
    """WRN-d-k, NCHW: conv3x3(16), three stages of 16k/32k/64k channels, norm-ReLU-pool-dropout-linear."""

    def __init__(self, depth, width, scheme, *, num_classes, input_shape, name):
        super().__init__()
        wide_resnet.check_architecture(depth, width)
        n = wide_resnet.blocks_per_stage(depth)
        scale = fixup_scale(3 * n, 2) if scheme.rescale_branches else 1.0
        self.name = name
        self.stem = _conv(input_shape[-1], 16, 3, 1, scheme)
        blocks, cin = [], 16
        for filters, stride in ((16, 1), (32, 2), (64, 2)):
            for block in range(n):
                cout = filters * width
                blocks.append(PreactBasicBlock(cin, cout, stride if block == 0 else 1, scheme, fixup_scale=scale))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head_norm = _norm(cin, scheme)
        self.head_dropout, self.head_bias, self.classifier = classifier_head(cin, num_classes, scheme)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = F.relu(self.head_norm(x)).mean(dim=(2, 3))
        return self.classifier(self.head_bias(self.head_dropout(x)))


def create_torch_model(name="wrn-16-4", **options):
    """The PyTorch twin of ``tfzoo.create_model(name, **options)`` for WRNs (NCHW inputs)."""
    family, kwargs = resolve_options(name, ModelOptions.from_kwargs(**options))
    if family.build is not wide_resnet.wide_resnet:
        raise ValueError(f"bench.torch_wrn builds Wide-ResNets only ('wrn-{{d}}-{{k}}'). Received: {name!r}")
    for key, default in (("include_top", True), ("pooling", None), ("input_normalization", None)):
        if kwargs.pop(key, default) != default:  # the twin is the classifier on normalized inputs only
            raise ValueError(f"bench.torch_wrn builds {key}={default!r} only. Received: {key}={options[key]!r}")
    return WideResNet(**kwargs)


_BLOCK_LAYERS = {
    "preact_norm": "preact_norm", "in_bias": "in_bias", "shortcut": "shortcut_conv", "conv1": "branch_conv1",
    "norm1": "branch_norm1", "bias2": "branch_bias2", "conv2": "branch_conv2", "multiplier": "branch_multiplier",
    "out_bias": "branch_out_bias",
}


def keras_layer_name(path, module, blocks_per_stage):
    """The Keras layer name of a torch module path: ``blocks.4.conv1`` -> ``stage2_block1_branch_conv1``
    (n = 4); a normalization slot holding Fixup's scalar bias gets ``_bias``, as ``blocks.norm`` names it."""
    parts = path.split(".")
    if parts[0] == "blocks":
        index = int(parts[1])
        stage, block = index // blocks_per_stage + 1, index % blocks_per_stage + 1
        name = f"stage{stage}_block{block}_{_BLOCK_LAYERS[parts[2]]}"
    else:
        name = {"stem": "stem_conv"}.get(path, path)
    is_norm_slot = parts[-1] in ("preact_norm", "norm1", "head_norm")
    return name + "_bias" if is_norm_slot and isinstance(module, ScalarBias) else name


def load_keras_weights(model, keras_model, layer_name=None):
    """Copies a ``tfzoo`` Keras model's weights into its torch twin: kernels HWIO -> OIHW, dense kernels
    transposed, BN gamma/beta/moving statistics, scalars. ``layer_name(path, module)`` names the Keras layer of
    a torch module (default: the WRN's, ``keras_layer_name``). A torch weight without its Keras layer raises."""
    if layer_name is None:
        n = len(model.blocks) // 3
        layer_name = lambda path, module: keras_layer_name(path, module, n)  # noqa: E731
    layers = {layer.name: layer for layer in keras_model.layers}
    with torch.no_grad():
        for path, module in model.named_modules():
            if not isinstance(module, (nn.Conv2d, nn.Linear, nn.BatchNorm2d, ScalarBias, ScalarMultiplier)):
                continue
            name = layer_name(path, module)
            if name not in layers and isinstance(module, ScalarMultiplier):  # folded into the branch's last conv
                name = next((k for k, layer in layers.items() if k.startswith(name.removesuffix("multiplier") + "conv")
                             and hasattr(layer, "multiplier")), name)
            if name not in layers:
                raise ValueError(f"torch module {path!r} has no Keras layer {name!r} in {keras_model.name!r}")
            # a ScaledConv2D holds the conv's weights and the multiplier the twin keeps as a module of its own
            weights = layers[name].weights
            if hasattr(layers[name], "multiplier") and not isinstance(module, ScalarMultiplier):
                weights = [w for w in weights if w is not layers[name].multiplier]
            elif isinstance(module, ScalarMultiplier):
                weights = [layers[name].multiplier]
            values = [torch.from_numpy(np.asarray(w, dtype=np.float32)) for w in weights]
            if isinstance(module, nn.BatchNorm2d):
                targets = (module.weight, module.bias, module.running_mean, module.running_var)
            elif isinstance(module, (nn.Conv2d, nn.Linear)):
                values[0] = values[0].permute(3, 2, 0, 1) if isinstance(module, nn.Conv2d) else values[0].T
                targets = (module.weight,) if module.bias is None else (module.weight, module.bias)
            else:
                targets = tuple(module.parameters())
            if len(targets) != len(values):
                raise ValueError(f"{path!r} has {len(targets)} weights, Keras layer {name!r} {len(values)}")
            for target, value in zip(targets, values):
                target.copy_(value)


def parameter_counts(model):
    """(trainable parameters, running statistics) of a torch model; ``num_batches_tracked`` is not counted
    (Keras has no such variable)."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    buffers = sum(b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked"))
    return trainable, buffers


def forward_flops(model, input_shape):
    """Forward FLOPs per image (2 x conv/linear multiply-adds), counted with forward hooks."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += 2 * output[0].numel() * kh * kw * module.in_channels // module.groups
        elif isinstance(module, nn.Linear):
            total += 2 * output[0].numel() * module.in_features

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            h, w, c = input_shape
            model(torch.zeros(1, c, h, w, device=next(model.parameters()).device))
        model.train(was_training)
    finally:
        for hook in hooks:
            hook.remove()
    return total


def make_train_step(model, *, lr=0.05, momentum=0.9, weight_decay=5e-4, accumulation=1, channels_last=False,
                    bf16=False):
    """``step(images NCHW, int labels) -> loss``: one SGD update over ``accumulation`` equal
    micro-batches (gradients averaged), activations in ``channels_last`` layout if asked; float32,
    or with ``bf16`` PyTorch's mixed precision (``torch.autocast`` in bfloat16: bf16
    convolutions and matmuls, float32 parameters, optimizer and loss), the peer of Keras's
    ``mixed_bfloat16``. The autocast runs on the model's device (``cpu`` or ``cuda``)."""
    device_type = next(model.parameters()).device.type
    decay = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    decay_ids = {id(p) for p in decay}
    other = [p for p in model.parameters() if id(p) not in decay_ids]
    optimizer = torch.optim.SGD(
        [{"params": decay, "weight_decay": weight_decay}, {"params": other, "weight_decay": 0.0}],
        lr=lr, momentum=momentum,
    )
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model.to(memory_format=memory_format).train()

    def step(images, labels):
        optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for x, y in zip(images.chunk(accumulation), labels.chunk(accumulation)):
            with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
                logits = model(x.contiguous(memory_format=memory_format))
            loss = F.cross_entropy(logits.float(), y)
            (loss / accumulation).backward()
            total += loss.item() / accumulation
        optimizer.step()
        return total

    return step

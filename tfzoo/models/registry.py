"""Model names -> builders and defaults: ``create_model`` and ``list_models``.

Variants are a table (STYLE.md 1-2): one entry per name, one builder per family. Any
``wrn-{d}-{k}`` with d = 6n + 4 and k >= 1 is accepted, registered or not.
"""

import dataclasses
import re

from tfzoo.models import resnet as resnet_lib
from tfzoo.models.blocks import POOLINGS
from tfzoo.models import wide_resnet as wrn_lib
from tfzoo.models.options import ModelOptions
from tfzoo.models.schemes import resolve_scheme


@dataclasses.dataclass(frozen=True)
class Family:
    """How to build one family: its builder, ZeroInit dropout and default input."""

    build: object
    # ZeroInit's classifier dropout ("Batch normalization has multiple benefits"): 0.6 on CIFAR
    # (section 4), 0.2 on ImageNet (Tables 4-5).
    zeroinit_dropout: float
    input_shape: tuple
    supports_scalar_bias: bool = False


FAMILIES = {
    "wrn": Family(wrn_lib.wide_resnet, 0.6, (32, 32, 3)),
    "resnet_v1": Family(
        lambda depth, **kw: resnet_lib.resnet(depth, 1, **kw), 0.2, (224, 224, 3), supports_scalar_bias=True
    ),
    "resnet_v2": Family(lambda depth, **kw: resnet_lib.resnet(depth, 2, **kw), 0.2, (224, 224, 3)),
}

# The WRNs of Wide Residual Networks, Table 4, and those "Batch normalization has multiple benefits"
# trains (16-4; d-2 for d = 16, 100, 1000).
WRN_VARIANTS = {
    f"wrn-{d}-{k}": dict(depth=d, width=k)
    for d, k in [
        (16, 1), (16, 2), (16, 4), (16, 8), (16, 10), (22, 8), (22, 10), (28, 10), (28, 12),
        (40, 1), (40, 2), (40, 4), (40, 8), (100, 2), (1000, 2),
    ]
}
RESNET_VARIANTS = {
    f"resnet{d}_v{v}": dict(depth=d) for v in (1, 2) for d in sorted(resnet_lib.RESNET_STAGES)
}

_MODELS = {}
_WRN_PATTERN = re.compile(r"^wrn-(\d+)-(\d+)$")


def register(name, family, **arch):
    """Adds ``name`` -> (family, architecture arguments) to the registry."""
    if family not in FAMILIES:
        raise ValueError(f"Unknown family {family!r}; accepted: {', '.join(FAMILIES)}.")
    if name in _MODELS:
        raise ValueError(f"Model {name!r} is already registered.")
    _MODELS[name] = (family, arch)


for _name, _arch in WRN_VARIANTS.items():
    register(_name, "wrn", **_arch)
for _name, _arch in RESNET_VARIANTS.items():
    register(_name, "resnet_v" + _name[-1], **_arch)


def list_models():
    """Registered model names, sorted (any other ``wrn-{d}-{k}`` also builds); ``tfzoo.list_models(pretrained=True)``
    lists the pretrained ones."""
    return sorted(_MODELS, key=_sort_key)


def _sort_key(name):
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


def lookup(name):
    """(family name, architecture arguments) for a model name, or a ValueError naming it."""
    if name in _MODELS:
        return _MODELS[name]
    match = _WRN_PATTERN.match(str(name))
    if match:
        return "wrn", dict(depth=int(match.group(1)), width=int(match.group(2)))
    raise ValueError(
        f"Unknown model {name!r}; accepted: 'wrn-{{depth}}-{{width}}' (depth = 6n + 4) or one of "
        f"{', '.join(n for n in list_models() if not n.startswith('wrn'))}."
    )


def resolve_options(name, options):
    """Checks ``options`` (a ``ModelOptions``) for model ``name`` without building anything;
    returns (family, the builder's keyword arguments). Raises ValueError naming the bad value and
    what is accepted."""
    family_name, arch = lookup(name)
    family = FAMILIES[family_name]
    o = options
    scheme = resolve_scheme(o, zeroinit_dropout=family.zeroinit_dropout,
                            supports_scalar_bias=family.supports_scalar_bias)
    num_classes = o.num_classes
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2. Received: num_classes={num_classes!r}")
    shape = tuple(o.input_shape) if o.input_shape is not None else family.input_shape
    if len(shape) != 3 or any(not isinstance(s, int) or s < 1 for s in shape):
        raise ValueError(f"input_shape must be (height, width, channels). Received: input_shape={o.input_shape!r}")
    if not isinstance(o.include_top, bool):
        raise ValueError(f"include_top must be True or False. Received: include_top={o.include_top!r}")
    if o.pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}. Received: pooling={o.pooling!r}")
    if o.include_top and o.pooling is not None:
        raise ValueError(f"pooling applies with include_top=False only. Received: pooling={o.pooling!r}")
    input_normalization = o.input_normalization
    if input_normalization is not None:
        input_normalization = _check_normalization(input_normalization, shape[-1])
    if family_name == "wrn":
        wrn_lib.check_architecture(**arch)
    return family, dict(arch, scheme=scheme, num_classes=num_classes, input_shape=shape, name=name,
                        include_top=o.include_top, pooling=o.pooling, input_normalization=input_normalization)


def _check_normalization(value, channels):
    """``(mean, std)``, each one float per channel with std > 0, as tuples of floats."""
    try:
        mean, std = (tuple(float(v) for v in part) for part in value)
    except (TypeError, ValueError):
        raise ValueError(f"input_normalization must be (mean, std), one value per channel each. "
                         f"Received: input_normalization={value!r}") from None
    if len(mean) != channels or len(std) != channels or not all(v > 0 for v in std):
        raise ValueError(f"input_normalization needs {channels} means and {channels} positive stds. "
                         f"Received: input_normalization={value!r}")
    return mean, std


def build_model(name, *, options=None, **overrides):
    """Builds the registered architecture ``name`` with a normalization and init scheme, fresh weights.

    Args:
      name: e.g. ``"wrn-16-4"``, ``"resnet50_v2"`` (see ``list_models()``).
      normalization: ``"batch_norm"`` (default), ``"ghost_batch_norm"`` or ``"none"``.
      init: ``"standard"`` (default), ``"skipinit"``, ``"zeroinit"`` or ``"fixup"`` (``schemes.py``).
      num_classes, input_shape: classifier size (default 10) and (H, W, C); None = the family's default.
      dropout: WRN dropout between the two convolutions of each block (default 0).
      classifier_dropout, conv_bias, scalar_multiplier: override the init scheme's switch
        (the ablations of "Batch normalization has multiple benefits", Table 1); None keeps the
        scheme's value.
      scalar_bias: ResNet-V1 only, a scalar bias before each block's final ReLU (the paper's Table 5).
      ghost_batch_size: examples per ghost batch for ``"ghost_batch_norm"`` (default 64).
      include_top: False ends the model after the last block's activation, as in
        ``keras.applications``: a feature extractor (no classifier, ``num_classes`` unused).
      pooling: with ``include_top=False``: ``"avg"`` or ``"max"`` global pooling to [B, C], or
        None for the feature maps [B, H, W, C].
      input_normalization: ``(mean, std)`` per channel: the model takes pixels on the 0..255
        scale and standardizes them itself; None (default): it takes standardized images.

      options: a ``ModelOptions`` holding all of the above at once (what a training run's
        configuration and a preset pass); keyword arguments given beside it override it.

    Returns a functional ``keras.Model`` from images to logits (or features). It remembers (name, options)
    as ``model._tfzoo_architecture``, which ``save_preset`` writes into a preset's config.json.
    """
    if not isinstance(name, str):
        raise ValueError(f"create_model needs a model name (tfzoo.list_models()) or pretrained=NAME_OR_FOLDER. "
                         f"Received: name={name!r}")
    options = (options or ModelOptions()).replace(**overrides)
    family, kwargs = resolve_options(name, options)
    model = family.build(**kwargs)
    object.__setattr__(model, "_tfzoo_architecture", (name, options))  # plain data, not a tracked Keras attribute
    return model

"""What each normalization and init scheme switches on, written once as data.

A model is (architecture, normalization, init scheme). Blocks read a resolved ``Scheme``; the ablations
of "Batch normalization has multiple benefits" (Table 1: biases alone, dropout alone, multiplier alone,
...) are overrides of these switches, never new block code.
"""

import dataclasses



@dataclasses.dataclass(frozen=True)
class Normalization:
    """What a normalization computes its statistics over. The blocks read it to pick the layer, the
    optimizer and the training configuration to split a batch into ghost batches, and the
    benchmarks' PyTorch twin to mirror the blocks.

    statistics: "batch" (the whole per-replica batch: one step per update), "ghost" (each ghost batch
        of ``ghost_batch_size`` examples on its own: "Batch normalization has multiple benefits",
        section 3) or None (no normalization: a batch may be split into ghost batches, which is exact
        and saves memory).
    """

    name: str
    statistics: str | None
    description: str

    @property
    def normalized(self):
        return self.statistics is not None

    @property
    def splits_batch(self):
        """Whether an update may accumulate the gradients of several ghost batches."""
        return self.statistics != "batch"


NORMALIZATIONS = {
    n.name: n
    for n in (
        Normalization("batch_norm", "batch", "batch normalization over the whole batch"),
        Normalization("ghost_batch_norm", "ghost", "batch normalization over each ghost batch"),
        Normalization("none", None, "no normalization"),
    )
}


def get_normalization(name):
    """The ``Normalization`` called ``name``, or a ValueError naming it and the accepted names."""
    _check_choice("normalization", name, tuple(NORMALIZATIONS))
    return NORMALIZATIONS[name]

# Switches of each init scheme ("Batch normalization has multiple benefits", sections 2 and 4).
# ``classifier_dropout=True`` means "the family's ZeroInit drop probability" (0.6 for CIFAR WRNs, 0.2
# for ResNet-50).
INIT_SCHEMES = {
    "standard": dict(),
    "skipinit": dict(residual_multiplier=0.0),
    "zeroinit": dict(residual_multiplier=0.0, conv_bias=True, classifier_dropout=True),
    "fixup": dict(
        residual_multiplier=1.0,
        scalar_biases=True,
        zero_last_conv=True,
        rescale_branches=True,
        zero_classifier=True,
        scalar_lr_scale=0.1,
    ),
}


@dataclasses.dataclass(frozen=True)
class Scheme:
    """Resolved switches read by the blocks.

    residual_multiplier: initial value of a scalar multiplier at the end of every residual
        branch, or None for no multiplier (0 = SkipInit/ZeroInit, 1 = Fixup).
    conv_bias: a bias on every convolution (ZeroInit component 2; the classifier always has one).
    classifier_dropout: drop probability before the classifier (ZeroInit component 3).
    scalar_biases: Fixup's scalar biases before every convolution and activation.
    zero_last_conv / rescale_branches / zero_classifier: Fixup components 1 and 2.
    scalar_bias: a scalar bias after the merge, before the final ReLU (ResNet-V1; the paper's Table 5).
    dropout: WRN dropout between the two convolutions of a block (Wide Residual Networks, section 2.4).
    scalar_lr_scale: the fraction of the learning rate at which the scalar multipliers and biases
        train. Fixup's is 0.1: the reference implementation of "Fixup Initialization: Residual
        Learning Without Normalization" trains its bias and scale parameters at base_lr / 10, and
        without it Fixup's scalar biases grow negative within the first hundred steps and switch
        every ReLU off (WRN-16-2 on Fashion-MNIST at lr 2^-5, docs/results/fashion_mnist.md).
    """

    normalization: str = "batch_norm"
    ghost_batch_size: int = 64
    residual_multiplier: float | None = None
    conv_bias: bool = False
    classifier_dropout: float = 0.0
    scalar_biases: bool = False
    zero_last_conv: bool = False
    rescale_branches: bool = False
    zero_classifier: bool = False
    scalar_bias: bool = False
    dropout: float = 0.0
    scalar_lr_scale: float = 1.0

    @property
    def normalized(self):
        return NORMALIZATIONS[self.normalization].normalized


def _check_choice(name, value, accepted):
    if value not in accepted:
        raise ValueError(f"Unknown {name} {value!r}; accepted: {', '.join(map(repr, accepted))}.")


def _check_rate(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1). Received: {name}={value!r}")
    return float(value)


def resolve_scheme(options, *, zeroinit_dropout, supports_scalar_bias=False):
    """Turns a ``ModelOptions`` into a ``Scheme``, rejecting unknown values and meaningless mixes.

    ``options.classifier_dropout``, ``conv_bias`` and ``scalar_multiplier`` (bool) override the init
    scheme's switch when not None; that is how the ablation rows are written. ``zeroinit_dropout``
    and ``supports_scalar_bias`` are the architecture family's.
    """
    normalization, init, ghost_batch_size = options.normalization, options.init, options.ghost_batch_size
    classifier_dropout, conv_bias, scalar_multiplier = (options.classifier_dropout, options.conv_bias,
                                                        options.scalar_multiplier)
    dropout, scalar_bias = options.dropout, options.scalar_bias
    get_normalization(normalization)
    _check_choice("init", init, tuple(INIT_SCHEMES))
    switches = dict(INIT_SCHEMES[init])
    if init == "fixup" and NORMALIZATIONS[normalization].normalized:
        raise ValueError(
            f"init='fixup' replaces normalization and needs normalization='none'. "
            f"Received: normalization={normalization!r}"
        )
    if scalar_bias and not supports_scalar_bias:
        raise ValueError(
            "scalar_bias=True applies to ResNet-V1 only (a scalar bias before the ReLU that "
            "follows the merge); this architecture has no such ReLU. Received: scalar_bias=True"
        )
    if isinstance(ghost_batch_size, bool) or not isinstance(ghost_batch_size, int) or ghost_batch_size < 1:
        raise ValueError(f"ghost_batch_size must be a positive integer. Received: {ghost_batch_size!r}")
    if switches.pop("classifier_dropout", False):
        switches["classifier_dropout"] = zeroinit_dropout
    if classifier_dropout is not None:
        switches["classifier_dropout"] = _check_rate("classifier_dropout", classifier_dropout)
    if conv_bias is not None:
        switches["conv_bias"] = bool(conv_bias)
    if scalar_multiplier is not None:
        if init == "fixup" and not scalar_multiplier:
            raise ValueError("init='fixup' always has its scalar multiplier; received scalar_multiplier=False")
        if scalar_multiplier:
            switches.setdefault("residual_multiplier", 0.0)
        else:
            switches.pop("residual_multiplier", None)
    return Scheme(
        normalization=normalization,
        ghost_batch_size=ghost_batch_size,
        dropout=_check_rate("dropout", dropout),
        scalar_bias=bool(scalar_bias),
        **switches,
    )

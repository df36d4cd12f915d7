"""``ModelOptions``: the one object that says how to build a model, whoever asks for it.

``create_model``'s keyword arguments, a training run's configuration (``TrainConfig.options``, the
recipes' flags defined from its fields) and a preset's config.json (``tfzoo.pretrained.presets``) all become a ``ModelOptions``;
``registry.resolve_options`` checks it against the model's family and hands the builder its
arguments. It is frozen: a variation is ``options.replace(num_classes=5)``.
"""

import dataclasses


def _option(default, help_text):
    """A field that a training run takes from its user (one command-line flag per such field, its
    help ``help_text``); the other fields a run fills in from its data set."""
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass(frozen=True)
class ModelOptions:
    """How to build a registered architecture (``create_model`` documents each field).

    normalization, init: the scheme (``schemes.NORMALIZATIONS``, ``schemes.INIT_SCHEMES``).
    num_classes, input_shape: classifier size and (H, W, C); None = the family's default shape.
    dropout: WRN dropout between the two convolutions of each block.
    classifier_dropout, conv_bias, scalar_multiplier: overrides of the init scheme's switches
        ("Batch normalization has multiple benefits", Table 1's ablations); None keeps the scheme's.
    scalar_bias: ResNet-V1's scalar bias before each block's final ReLU (the paper's Table 5).
    ghost_batch_size: examples per ghost batch.
    include_top, pooling: False and "avg" / "max" / None make a feature extractor (keras.applications).
    input_normalization: (mean, std) per channel on the 0..255 scale, applied inside the model.
    """

    normalization: str = _option("batch_norm", "batch_norm, ghost_batch_norm or none.")
    init: str = _option("standard", "standard, skipinit, zeroinit or fixup.")
    num_classes: int = 10
    input_shape: tuple | None = None
    dropout: float = _option(0.0, "Dropout between the two convolutions of each block.")
    classifier_dropout: float | None = _option(None, "Dropout before the classifier (default: the scheme's; "
                                                     "ZeroInit 0.6).")
    conv_bias: bool | None = _option(None, "A bias on every convolution (default: the scheme's; on for "
                                           "ZeroInit).")
    scalar_multiplier: bool | None = _option(None, "A scalar multiplier at the end of each residual branch "
                                                   "(default: the scheme's; zero-initialised for SkipInit and "
                                                   "ZeroInit, one for Fixup).")
    scalar_bias: bool = _option(False, "ResNet-V1 only: a scalar bias before each block's final ReLU (Table 5).")
    ghost_batch_size: int = _option(64, "Ghost batch G: BN statistics per G examples, gradients accumulated over B/G.")
    include_top: bool = True
    pooling: str | None = None
    input_normalization: tuple | None = None

    @classmethod
    def from_kwargs(cls, **options):
        """``ModelOptions(**options)``, with a ValueError naming an unknown option and the accepted ones."""
        _check_names(options)
        return cls(**options)

    def replace(self, **changes):
        """A copy with ``changes`` applied (unknown names rejected as in ``from_kwargs``)."""
        _check_names(changes)
        return dataclasses.replace(self, **changes)

    def as_dict(self):
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


FIELDS = tuple(f.name for f in dataclasses.fields(ModelOptions))
# The options a training run takes from its user (recipes' flags, ``TrainConfig.options``); the others
# (classes, input shape and normalization, classifier head) follow from the data set and the use.
RUN_FIELDS = tuple(f.name for f in dataclasses.fields(ModelOptions) if "help" in f.metadata)


def help_text(name):
    """The command-line help of run option ``name``."""
    return next(f.metadata["help"] for f in dataclasses.fields(ModelOptions) if f.name == name)


def _check_names(options):
    unknown = sorted(set(options) - set(FIELDS))
    if unknown:
        raise ValueError(f"Unknown model option {unknown[0]!r}; accepted: {', '.join(FIELDS)}.")

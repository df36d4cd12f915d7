"""The training configuration: every knob of the paper's protocol, validated up front."""

import dataclasses
import json

from tfzoo import distribute
from tfzoo.data import AugmentConfig, get_spec
from tfzoo.data.folder import NAME as FOLDER
from tfzoo.data.folder import has_validation
from tfzoo.data.specs import as_image_size
from tfzoo.models.options import FIELDS as MODEL_FIELDS
from tfzoo.models.options import RUN_FIELDS, ModelOptions
from tfzoo.models.registry import resolve_options
from tfzoo.models.schemes import get_normalization
from tfzoo.precision import check_precision
from tfzoo.pretrained.loading import check_init_from
from tfzoo.training.optimizer import accumulation_steps
from tfzoo.training.schedules import SCHEDULES

# Section 5's ImageNet protocol (Tables 4-5), over TrainConfig's section 3 defaults: 90 epochs, the
# learning rate constant for 45 epochs then halved every 5, ghost batch normalization over 256.
IMAGENET_PROTOCOL = dict(epochs=90, hold_epochs=45, decay_every=5, ghost_batch_size=256, schedule="paper")


# The model a run trains unless told otherwise: the paper's ZeroInit, without normalization. Every other
# model option keeps ``ModelOptions``' default: one set of defaults, in models/options.py.
PAPER_OPTIONS = ModelOptions(normalization="none", init="zeroinit")


@dataclasses.dataclass
class TrainConfig:
    """One training run. Defaults are the protocol of "Batch normalization has multiple benefits"
    (section 3) for ZeroInit WRN-16-4 on CIFAR-10.

    ``options`` is the model's ``ModelOptions`` (its run options: ``RUN_FIELDS``; the classes and
    input shape follow from the data set). ``TrainConfig.create`` and ``replace`` take those options
    by name beside the training fields, and ``config.normalization`` reads ``config.options``'.
    """

    dataset: str = "cifar10"
    data_dir: str | None = None
    image_size: tuple | None = None  # (height, width) the images of dataset "folder" are resized to
    model: str = "wrn-16-4"
    options: ModelOptions = dataclasses.field(default_factory=lambda: PAPER_OPTIONS)
    batch_size: int = 64
    accumulate_ghost_batches: bool = True  # B/G micro-steps of G per update (the paper's way), or one step of B
    lr: float = 0.25
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    schedule: str = "paper"
    warmup_epochs: float = 0.0
    hold_epochs: float | None = None  # "paper" schedule: constant this long (default epochs / 2) ...
    decay_every: float | None = None  # ... then halved every this many epochs (default epochs / 20)
    epochs: int = 200
    max_train_examples: int | None = None
    validation_examples: int | None = None  # hold these out of the training split and evaluate on them
    validation: bool = False  # evaluate on the data set's own validation split (an image folder's val/)
    crop: str = "auto"  # "pad", "resized" (random-resized crop) or "auto" (AugmentConfig.crop)
    pad: int = 4
    padding: str = "zero"
    flip: bool | None = None
    cutout: int = 0
    mixup_alpha: float = 0.0
    eval_batch_size: int = 500
    seed: int = 0
    init_from: str | None = None  # a pretrained entry or a .keras file whose weights start the run
    log_signal: bool = False
    precision: str = "fp32"  # fp32, Keras mixed precision bf16 / fp16 (float32 variables and logits), or auto
    output_dir: str = "runs/cifar_wrn"
    strategy: str = "default"
    tpu: str | None = None
    virtual_cpu_devices: int | None = None

    def __post_init__(self):
        self.image_size = as_image_size(self.image_size)  # "32,24" from a flag, [32, 24] from a config.json

    @property
    def eval_split(self):
        """What the ``test_*`` metrics of this run are measured on: "validation" or "test"."""
        return "validation" if self.validation or self.validation_examples is not None else "test"

    def augment(self):
        return AugmentConfig(pad=self.pad, padding=self.padding, flip=self.flip, cutout=self.cutout,
                             mixup_alpha=self.mixup_alpha, crop=self.crop)

    @classmethod
    def create(cls, **values):
        """A ``TrainConfig`` from keyword values, where each run option (``normalization="batch_norm"``,
        ``ghost_batch_size=32``, ...) may stand beside the training fields or in ``options``
        (a ``ModelOptions`` or a dict). Unknown names: a ValueError naming the first."""
        return cls().replace(**values)

    @classmethod
    def from_dict(cls, values):
        """The ``TrainConfig`` a run's config.json records (``to_dict``), or one written before the
        options were nested (every run option a top-level key). Fields added since take their defaults
        (``crop`` takes "pad", the one crop there was); fields removed since are ignored."""
        known = {f.name for f in dataclasses.fields(cls)} | set(RUN_FIELDS)
        values = {k: v for k, v in values.items() if k in known}
        values.setdefault("crop", "pad")  # written before there was a choice: every run pad-cropped
        return cls.create(**values)

    def replace(self, **changes):
        """A copy with ``changes`` applied, run options by name among them (as ``create``)."""
        options = changes.pop("options", self.options)
        if isinstance(options, dict):
            options = self.options.replace(**options)
        moved = {k: changes.pop(k) for k in list(changes) if k in MODEL_FIELDS}
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"Unknown training option {unknown[0]!r}; accepted: the TrainConfig fields and "
                             f"the model options {', '.join(RUN_FIELDS)}.")
        return dataclasses.replace(self, options=options.replace(**moved), **changes)

    def __getattr__(self, name):  # config.normalization, config.init, ...: the model's run options
        if name in RUN_FIELDS:
            return getattr(self.options, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def model_options(self, spec):
        """The ``ModelOptions`` of this run's model on data set ``spec``: ``options`` with the classes
        and input shape of ``spec``; a run always trains the classifier on standardized images."""
        return self.options.replace(num_classes=spec.num_classes, input_shape=spec.image_shape)

    def validate(self):
        """Raises ValueError naming the first bad value and what is accepted; builds nothing big."""
        if not isinstance(self.options, ModelOptions):
            raise ValueError(f"options must be a ModelOptions. Received: options={self.options!r}")
        set_by_data = [name for name in MODEL_FIELDS if name not in RUN_FIELDS and
                       getattr(self.options, name) != getattr(ModelOptions(), name)]
        if set_by_data:
            raise ValueError(f"options.{set_by_data[0]} is set by the data set and the training, not the run; "
                             f"a run chooses only {', '.join(RUN_FIELDS)}. Received: "
                             f"{set_by_data[0]}={getattr(self.options, set_by_data[0])!r}")
        spec = get_spec(self.dataset, self.data_dir, self.image_size)
        resolve_options(self.model, self.model_options(spec))  # model and scheme errors, without building
        _positive_int("batch_size", self.batch_size)
        _positive_int("ghost_batch_size", self.ghost_batch_size)
        _positive_int("epochs", self.epochs)
        _positive_int("eval_batch_size", self.eval_batch_size)
        if self.max_train_examples is not None:
            _positive_int("max_train_examples", self.max_train_examples)
            if self.max_train_examples < self.batch_size:
                raise ValueError(
                    f"max_train_examples={self.max_train_examples} is smaller than batch_size={self.batch_size}: no full batch."
                )
        if self.init_from is not None:
            check_init_from(self.init_from)
        if self.validation_examples is not None:
            _positive_int("validation_examples", self.validation_examples)
            if spec.streaming:
                raise ValueError(f"validation_examples is not supported for the streamed dataset {self.dataset!r}; "
                                 "its validation split is already held out. Received: "
                                 f"validation_examples={self.validation_examples}")
        own = self.dataset == FOLDER and has_validation(self.data_dir)  # an image folder's val/ or validation/
        if own and self.validation_examples is not None:
            raise ValueError(f"validation_examples={self.validation_examples} would hold images out of train/, but "
                             f"{self.data_dir} has its own validation folder; accepted: validation=True (--validation) "
                             "to measure on it, or a folder without val/")
        if self.validation and not own and self.validation_examples is None:
            raise ValueError(f"validation=True needs a validation split, and dataset {self.dataset!r} has none of its "
                             "own; accepted: validation_examples=N (--validation_examples, N training examples held "
                             "out) or an image folder with val/<class>/")
        self.accumulation(num_replicas=1)
        if not (self.lr > 0):
            raise ValueError(f"lr must be > 0. Received: lr={self.lr}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1). Received: momentum={self.momentum}")
        if not self.weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0. Received: weight_decay={self.weight_decay}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1). Received: label_smoothing={self.label_smoothing}")
        check_precision(self.precision, allow_auto=True)
        if self.schedule not in SCHEDULES:
            raise ValueError(f"Unknown schedule {self.schedule!r}; accepted: {', '.join(SCHEDULES)}.")
        for name in ("hold_epochs", "decay_every"):
            value = getattr(self, name)
            if value is not None and not (value > 0 and self.schedule == "paper"):
                raise ValueError(f"{name} must be > 0 and needs schedule='paper'. Received: {name}={value}, schedule={self.schedule!r}")
        if not 0 <= self.warmup_epochs <= self.epochs:
            raise ValueError(f"warmup_epochs must be in [0, epochs]. Received: warmup_epochs={self.warmup_epochs}")
        self.augment().check_image_shape(spec.image_shape)
        distribute.check_options(self.strategy, self.tpu, self.virtual_cpu_devices)
        return spec

    def accumulation(self, num_replicas=1):
        """Ghost batches each replica accumulates per update: ``(B / replicas) / G`` when that is > 1,
        and 1 with ``accumulate_ghost_batches=False`` (one step of B / replicas, split by the layers).

        ``batch_size`` B is the global batch: each of the replicas gets B / replicas examples of
        it and splits them into ghost batches of G (see ``accumulation_steps``). Raises
        ValueError when B does not split that way.
        """
        batch, ghost, normalization = self.batch_size, self.ghost_batch_size, self.normalization
        statistics = get_normalization(normalization)
        if batch % num_replicas:
            raise ValueError(
                f"batch_size={batch} must be a multiple of the number of replicas, {num_replicas} "
                f"(strategy={self.strategy!r}): it is the global batch, split evenly over the replicas."
            )
        per_replica = batch // num_replicas
        name = f"batch_size={batch}" if num_replicas == 1 else (
            f"the per-replica batch {per_replica} (batch_size={batch} over {num_replicas} replicas)")
        if statistics.splits_batch and per_replica > ghost and per_replica % ghost:
            raise ValueError(f"{name} must be a multiple of ghost_batch_size={ghost} with normalization={normalization!r}.")
        if statistics.statistics == "ghost" and per_replica < ghost:
            raise ValueError(f"{name} is smaller than ghost_batch_size={ghost}.")
        return accumulation_steps(per_replica, ghost, normalization, self.accumulate_ghost_batches)

    def to_dict(self):
        """JSON-ready fields, ``options`` holding the run options (the rest follow from the data set)."""
        values = dataclasses.asdict(self)
        values["options"] = {name: values["options"][name] for name in RUN_FIELDS}
        return values

    def to_flat_dict(self):
        """``to_dict`` with the run options beside the training fields: what a resume or a search
        compares, one named value at a time."""
        values = self.to_dict()
        return {**values.pop("options"), **values}

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")

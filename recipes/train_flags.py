"""The training flags shared by every recipe: one absl flag per ``TrainConfig`` field and per run option
of its ``ModelOptions`` (those defined from the dataclass fields, help included).

Importing this module defines the flags. ``config_from_flags(model)`` turns them into a
``TrainConfig``; ``check_or_exit(config)`` prepares its run once (``tfzoo.training.prepare``:
validation, the tf.distribute strategy before TensorFlow initialises its devices, precision,
determinism) or exits 2 with one ``error:`` line; ``train_and_report`` trains that prepared run.
Recipes name the model themselves (``--depth/--width`` in cifar_wrn, ``--model`` in lr_search).
"""

import dataclasses
import types

from absl import flags

from recipes import cli
from recipes.cli import EXIT_BAD_FLAG, fail  # noqa: F401  (re-exported for the recipes)
from tfzoo.models.options import RUN_FIELDS, ModelOptions, help_text
from tfzoo.training import TrainConfig

FLAGS = flags.FLAGS
_DEFINE = {str: flags.DEFINE_string, float: flags.DEFINE_float, int: flags.DEFINE_integer, bool: flags.DEFINE_boolean}


def _define_model_flags():
    """One flag per run option of ``ModelOptions`` (its type, its help), defaulting to ``TrainConfig``'s
    model: a new model option becomes a flag of every recipe without touching this file."""
    default = TrainConfig().options
    for field in dataclasses.fields(ModelOptions):
        if field.name in RUN_FIELDS:
            kind = field.type
            if isinstance(kind, types.UnionType):  # float | None: a float flag that may stay unset
                kind = next(t for t in kind.__args__ if t is not type(None))
            _DEFINE[kind](field.name, getattr(default, field.name), help_text(field.name))


_define_model_flags()

flags.DEFINE_string("dataset", "cifar10", "cifar10, cifar100, svhn, mnist, fashion_mnist, imagenet2012 (streamed), "
                    "folder (your images: --data_dir=DIR with DIR/train/<class>/*, DIR/test/<class>/*) or tfds:NAME "
                    "(a TFDS data set you prepared).")
flags.DEFINE_string("data_dir", None, "Folder with the official release files (offline); else TFDS.")
flags.DEFINE_string("image_size", None, "H or H,W: with --dataset=folder, every image resized (aspect ratio kept) to "
                    "cover H x W and centre-cropped (default: the most common size of the training images).")
flags.DEFINE_integer("batch_size", 64, "Batch size B of one parameter update.")
flags.DEFINE_boolean("accumulate_ghost_batches", True, "With G < B: one update from B/G steps of G examples (the "
                     "paper's way; memory for G). --noaccumulate_ghost_batches: one step of B, the ghost BN layers "
                     "splitting it (the same statistics and gradient, faster where B fits in memory).")
flags.DEFINE_float("lr", 0.25, "Peak learning rate (2^-2, the paper's optimum for ZeroInit at batch 64).")
flags.DEFINE_float("momentum", 0.9, "Heavy-ball momentum.")
flags.DEFINE_boolean("nesterov", False, "Nesterov momentum.")
flags.DEFINE_float("weight_decay", 5e-4, "L2 coefficient: adds weight_decay/2 * sum(w^2) of the kernels to the loss.")
flags.DEFINE_float("label_smoothing", 0.0, "Label smoothing.")
flags.DEFINE_string("schedule", "paper", "paper, wrn, cosine or constant.")
flags.DEFINE_float("warmup_epochs", 0.0, "Linear warm-up epochs.")
flags.DEFINE_float("hold_epochs", None, "paper schedule: epochs at the peak learning rate (default: half the budget).")
flags.DEFINE_float("decay_every", None, "paper schedule: halve the learning rate every this many epochs (default: budget/20).")
flags.DEFINE_integer("epochs", 200, "Epoch budget.")
flags.DEFINE_integer("eval_batch_size", 500, "Batch size of evaluation (test set and the final training loss).")
flags.DEFINE_integer("max_train_examples", None, "Use only the first N training examples (quick runs).")
flags.DEFINE_integer("validation_examples", None, "Hold out N training examples (a fixed random draw) and report "
                     "the test_* metrics on them instead of the test set: for choosing hyper-parameters.")
flags.DEFINE_boolean("validation", False, "Report the test_* metrics on the data set's own validation split instead "
                     "of the test set: an image folder's val/ (or validation/) folder. Without one, use "
                     "--validation_examples.")
flags.DEFINE_string("crop", "auto", "Training crop: pad (pad and random crop back to size, the CIFAR crop), resized "
                    "(random-resized crop of 8-100 % of the area, aspect ratio 3/4-4/3, the ImageNet crop) or auto: "
                    "resized for images whose shorter side is at least 64 pixels, else pad.")
flags.DEFINE_integer("pad", 4, "--crop=pad: pad each side by this many pixels before the random crop back to size "
                     "(0 = no crop).")
flags.DEFINE_string("padding", "zero", "Crop padding: zero or reflect.")
flags.DEFINE_boolean("flip", None, "Random horizontal flips (default: the data set's: on for CIFAR, Fashion-MNIST, "
                     "your folders and TFDS data sets; off for digits, SVHN and MNIST). --noflip turns them off.")
flags.DEFINE_integer("cutout", 0, "Cutout square side (0 = off).")
flags.DEFINE_float("mixup_alpha", 0.0, "Mixup Beta(alpha, alpha) (0 = off).")
flags.DEFINE_boolean("log_signal", False, "Log each block's branch multiplier and activation variance on a fixed "
                     "batch of training images to <output_dir>/tensorboard/signal every epoch.")
flags.DEFINE_string("precision", "fp32", "fp32, or Keras mixed precision: bf16, or fp16 with loss scaling "
                    "(float32 variables and logits either way); auto: bf16 where the GPU, TPU or CPU computes in bf16 "
                    "natively (avx512_bf16/amx_bf16, aarch64 bf16, compute capability >= 8.0), else fp32. "
                    "results.json records what ran.")
flags.DEFINE_integer("seed", 0, "Seed of weights, data order, augmentation and dropout.")
flags.DEFINE_string("init_from", None, "Start from the weights of a pretrained model (tfzoo.list_models(pretrained=True)) "
                    "or a .keras file; a classifier with another number of classes starts fresh. With a pretrained "
                    "name, the architecture and scheme flags default to the entry's.")
flags.DEFINE_string("strategy", "default", "tf.distribute strategy: default, mirrored, multi_worker ($TF_CONFIG) or tpu.")
flags.DEFINE_string("tpu", None, "With --strategy=tpu: grpc://host:port or a Cloud TPU name (default: this TPU VM's).")
flags.DEFINE_integer("virtual_cpu_devices", None, "Split the CPU into N logical devices (mirrored training on one CPU).")


def config_from_flags(model, **overrides):
    """Every flag named like a ``TrainConfig`` field or a run option of its ``ModelOptions`` sets it
    (``model`` excepted: the recipe names it, e.g. from --depth/--width or its own --model);
    ``overrides`` win over flags."""
    fields = [f.name for f in dataclasses.fields(TrainConfig) if f.name not in ("model", "options")]
    values = {name: FLAGS[name].value for name in (*fields, *RUN_FIELDS) if name in FLAGS}
    values.update(overrides)
    return TrainConfig.create(model=model, **values)


def pretrained_defaults():
    """For ``--init_from`` naming a pretrained entry or a preset folder: (its model name, its value of each model
    option that is also a flag not given on the command line: normalization, init, dropout, ...); else (None, {}).
    The classes, input shape and normalization come from the data set trained on, the ghost batch from the flags."""
    from tfzoo import pretrained

    if FLAGS.init_from is None or not (FLAGS.init_from in pretrained.REGISTRY or
                                       pretrained.presets.is_preset(FLAGS.init_from)):
        return None, {}
    try:
        model, options = pretrained.preset_architecture(FLAGS.init_from)
    except pretrained.PretrainedError as error:
        fail(error)
    data_fields = ("num_classes", "input_shape", "input_normalization", "include_top", "pooling", "ghost_batch_size")
    values = {k: v for k, v in options.as_dict().items() if k not in data_fields}
    return model, {k: v for k, v in values.items() if k in FLAGS and not FLAGS[k].present}


def check_or_exit(config, check_lock=True):
    """Prepares ``config``'s run once (``tfzoo.training.prepare``: the configuration validated, its
    ``output_dir`` holding no other run and, with ``check_lock``, not in use by one, the
    tf.distribute strategy set up and the batch split over its replicas); returns the
    ``PreparedRun``, or exits 2 with one ``error:`` line."""
    from tfzoo.training import prepare

    try:
        return prepare(config, check_lock=check_lock)
    except ValueError as error:
        fail(error)


def train_and_report(config, *, export=None, summary=None):
    """The body of a training recipe: validate (exit 2), train, exit 3 on divergence; then, on the
    chief only, print ``summary(results)`` and the output paths, and export a SavedModel to ``export``."""
    import sys
    from pathlib import Path

    import keras

    from tfzoo.data import DataError
    from tfzoo.training import EXIT_DIVERGED, train
    from tfzoo.pretrained import PretrainedError
    from tfzoo.training.checkpoints import CheckpointError
    from tfzoo.training.lock import FolderInUse

    run = check_or_exit(config)
    if export and Path(export).exists():
        fail(f"--export={export} already exists; choose a new folder")
    if export and keras.backend.backend() != "tensorflow":
        fail(f"--export={export} writes a SavedModel and needs KERAS_BACKEND=tensorflow; on {keras.backend.backend()} "
             "leave it off and export model.keras with TensorFlow afterwards (python -m export.saved_model)")
    try:
        # The chief alone writes to output_dir: the other workers of a multi-worker job write nothing there.
        results = train(run, callbacks=[cli.flagfile_callback(config.output_dir)] if run.chief else [])
    except (DataError, CheckpointError, FolderInUse, PretrainedError) as error:
        fail(error)
    except OSError as error:  # a read-only or full output folder: every file there is whole, old or new
        fail(f"{error} (output_dir {config.output_dir}: fix this and run the same command again to resume)",
             cli.EXIT_FAILED)
    out = config.output_dir
    if results["diverged"]:
        at = results["diverged_at"]
        print(f"error: training diverged (NaN/inf loss) at epoch {at['epoch']}, step {at['step']}; "
              f"see {out}/results.json", file=sys.stderr)
        sys.exit(EXIT_DIVERGED)
    if not run.chief:
        return results  # a non-chief worker of a multi-worker job: the chief reports and exports
    print(f"{summary(results) if summary else ''} after {results['epochs']} epochs ({results['seconds']:.0f} s)\n"
          f"results: {out}/results.json  model: {out}/model.keras\n"
          f"curves: {out}/curves.png" + (f"  logs: tensorboard --logdir {out}/tensorboard"
                                          if results["machine"].get("backend", "tensorflow") == "tensorflow" else ""))
    if export:
        from tfzoo import export as exporter

        exporter.export(exporter.load_source(model=Path(out) / "model.keras"), export, "saved_model")
        print(f"SavedModel: {export} (signatures serving_default: uint8 images, serving_encoded: PNG/JPEG bytes)")
    return results

"""The fit loop: data -> model -> SGD with the paper's schedule -> checkpoints -> results."""

import contextlib
import dataclasses
import json
import os
import platform
import time
from pathlib import Path

import keras
import numpy as np

from tfzoo import analysis
from tfzoo import data as data_lib
from tfzoo import distribute
from tfzoo.data import numpy_pipeline
from tfzoo.lazy import LazyModule
from tfzoo.models import build_model
from tfzoo.precision import precision_scope, wrap_optimizer
from tfzoo.pretrained.loading import initialize_from
from tfzoo.training import checkpoints, lock, outputs
from tfzoo.training.determinism import onednn_enabled
from tfzoo.training.preparation import PreparedRun, check_resumable, prepare
from tfzoo.training.metrics import recipe_metrics
from tfzoo.training.optimizer import add_l2, make_optimizer
from tfzoo.training.schedules import EpochSchedule
from tfzoo.version import __version__

tf = LazyModule("tensorflow")  # used on the TensorFlow backend only

EXIT_DIVERGED = 3
STREAMING_TRAIN_LOSS_EXAMPLES = 50_000  # the training loss of a streamed data set (ImageNet) is measured on these


class Divergence(keras.callbacks.TerminateOnNaN):
    """Stops training at the first NaN/inf loss and remembers where it happened."""

    def __init__(self):
        super().__init__()
        self.at = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        super().on_batch_end(batch, logs)
        if self.model.stop_training and self.at is None:
            self.at = {"epoch": self._epoch + 1, "step": batch + 1}


class _Checkpoint(checkpoints.EpochCheckpoint):
    """Skips the checkpoint of an epoch that diverged, so a restart never resumes from NaNs."""

    def __init__(self, directory, divergence, **kwargs):
        super().__init__(directory, **kwargs)
        self.divergence = divergence

    def on_epoch_end(self, epoch, logs=None):
        if self.divergence.at is None:
            super().on_epoch_end(epoch, logs)


def machine():
    """The machine a result was measured on, for results.json and published tables."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        **_backend(),
        "keras": keras.__version__,
        "tfzoo": __version__,
        "onednn": onednn_enabled(),  # TF_ENABLE_ONEDNN_OPTS: other kernels, other numbers
    }


def _backend():
    """Keras's backend, its version and the devices it sees."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return {"backend": backend, "devices": [d.device_type for d in tf.config.list_logical_devices()],
                "tensorflow": tf.__version__}
    if backend == "jax":
        import jax

        return {"backend": backend, "devices": [d.platform.upper() for d in jax.devices()], "jax": jax.__version__}
    if backend == "torch":
        import torch

        gpus = ["GPU"] * torch.cuda.device_count()
        return {"backend": backend, "devices": ["CPU", *gpus], "torch": torch.__version__}
    return {"backend": backend}


def train(config, *, callbacks=(), verbose="auto"):
    """Trains one model as ``config`` says and writes its outputs to ``config.output_dir``.

    ``config`` is a ``TrainConfig``, or the ``PreparedRun`` that ``tfzoo.training.prepare`` made of
    one (a recipe prepares first, to report a bad configuration before anything starts).
    Resumes from the newest checkpoint in ``output_dir/checkpoints`` if there is one. Writes
    ``results.json`` (last, atomically), ``history.csv``, ``curves.png``, ``model.keras``
    and TensorBoard logs. Returns the results dictionary; ``results["diverged"]`` is True if
    the loss became NaN or infinite.

    Runs on ``config.strategy`` (``tfzoo.distribute``): ``batch_size`` is the global batch,
    split over the replicas, each accumulating ghost batches (``TrainConfig.accumulation``).
    In a multi-worker cluster only the chief writes to ``output_dir``; the other workers
    write to a temporary directory they delete, and all resume from the chief's checkpoints.
    """
    run = config if isinstance(config, PreparedRun) else prepare(config, check_lock=False)
    config, out = run.config, run.output_dir
    # Nothing is written before the data is read and checked: a run that fails on its input leaves
    # output_dir as it found it, and the corrected command is not refused.
    keras.utils.set_random_seed(config.seed)
    start_epoch, path = checkpoints.latest(out / "checkpoints")
    distribute.same_on_all_workers(run.strategy, start_epoch, "the checkpoint epoch to resume from")
    data = load_training_data(config, start_epoch)
    # A fresh run from --init_from loads and checks those weights before anything is written too.
    initial_weights = initial_weights_from(config, run.spec) if path is None and config.init_from else None
    fit = dict(callbacks=callbacks, verbose=verbose, initial_weights=initial_weights)
    if not run.chief:
        with distribute.writable_dir(out, run.chief) as write_dir:
            return _train(run, data, start_epoch, path, write_dir=Path(write_dir), **fit)
    with _owned(out):
        # No other run can write here now; one that did since the checks above may have moved on.
        check_resumable(out, config)
        if checkpoints.latest(out / "checkpoints", warn=False) != (start_epoch, path):
            start_epoch, path = checkpoints.latest(out / "checkpoints", warn=False)
            keras.utils.set_random_seed(config.seed)
            data = load_training_data(config, start_epoch)
        outputs.write_text_atomic(out / "config.json", config.to_json())
        (out / "results.json").unlink(missing_ok=True)
        return _train(run, data, start_epoch, path, write_dir=out, **fit)


def load_training_data(config, start_epoch=0):
    """The run's datasets (``tfzoo.data.training_datasets``), read and checked: ``DataError`` if they
    are missing or damaged, or hold less than one batch of training examples or no test example."""
    data = data_lib.training_datasets(
        config.dataset, config.data_dir, batch_size=config.batch_size, eval_batch_size=config.eval_batch_size,
        seed=config.seed, augment=config.augment(), start_epoch=start_epoch, max_train_examples=config.max_train_examples,
        validation_examples=config.validation_examples, validation=config.validation, image_size=config.image_size,
    )
    where = f"{config.dataset} (data_dir={config.data_dir})"
    if data.num_train < config.batch_size:
        raise data_lib.DataError(f"{where}: {data.num_train} training examples, fewer than batch_size={config.batch_size}")
    if data.num_test < 1:
        raise data_lib.DataError(f"{where}: no examples to evaluate on")
    return data


@contextlib.contextmanager
def _owned(out):
    """Creates ``out`` if needed and holds its lock (``tfzoo.training.lock``) for the block, deleting
    what killed writers left half-written there first. If the block fails before anything was
    written, a folder this call created is removed again."""
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        with lock.hold(out):
            outputs.remove_stale_temporaries(out)
            outputs.remove_stale_temporaries(out / "checkpoints")
            yield
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only if empty
        raise


def initial_weights_from(config, spec):
    """The weights a run with ``init_from`` starts from: the pretrained entry's or the ``.keras``
    file's, loaded by layer name into a float32 build of the run's model (a classifier of another
    size left as initialised). ``PretrainedError`` (one line) if they do not fit."""
    with precision_scope("fp32"):
        model = build_model(config.model, options=config.model_options(spec))
    initialize_from(model, config.init_from)
    return model.get_weights()


def _train(run, data, start_epoch, path, *, write_dir, callbacks, verbose, initial_weights):
    """``train`` after the checks and the data: reads checkpoints from ``run.output_dir``, writes to ``write_dir``."""
    config, strategy = run.config, run.strategy
    # One fit step per ghost batch with Keras's accumulation; under a strategy, where Keras's
    # accumulation cannot run, one fit step per update that accumulates inside the step.
    micro_steps = run.accumulation if distribute.is_default(strategy) else 1
    updates_per_epoch = data_lib.steps_per_epoch(data.num_train, config.batch_size)
    steps_per_epoch = updates_per_epoch * micro_steps
    model, history, torch_rng = _compiled_model(run, steps_per_epoch, micro_steps, path, start_epoch, initial_weights)
    divergence = Divergence()
    architecture = {"model": config.model, "options": config.model_options(run.spec).as_dict()}
    checkpoint = _Checkpoint(write_dir / "checkpoints", divergence, initial_history=history, torch_rng=torch_rng,
                             architecture=architecture)
    train_ds, test_ds = _replica_data(run, data, micro_steps)
    if config.log_signal:
        images, _ = next(iter(data.eval_train))  # un-augmented, normalized training images
        callbacks = [*callbacks, analysis.SignalLogger(str(write_dir / "tensorboard" / "signal"), images[: config.ghost_batch_size])]
    distribute.prepare_fit(model, strategy, train_ds, run.accumulation)
    if start_epoch < config.epochs:
        with _os_errors(write_dir):
            model.fit(
                train_ds,
                epochs=config.epochs,
                initial_epoch=start_epoch,
                steps_per_epoch=steps_per_epoch,
                validation_data=test_ds,
                shuffle=False,  # the dataset shuffles itself, by (seed, epoch)
                callbacks=[divergence, checkpoint, *_tensorboard(write_dir), *callbacks],
                verbose=verbose,
            )
    results = _run_record(run, data, model, start_epoch, updates_per_epoch, divergence, checkpoint)
    if divergence.at is None:
        train_eval_ds = data.eval_train
        if run.spec.streaming:  # a full pass over ImageNet's 1.28M training images would take as long as an epoch
            train_eval_ds = train_eval_ds.take(-(-STREAMING_TRAIN_LOSS_EXAMPLES // config.eval_batch_size))
        results.update(_final_metrics(model, test_ds, distribute.shard_by_example(train_eval_ds, strategy)))
        outputs.save_model_atomic(model, write_dir / "model.keras")
    results["seconds"] = round(time.time() - run.started, 2)
    results["seconds_training_total"] = round(sum(e.get("seconds", 0.0) for e in checkpoint.history), 2)
    outputs.write_history(checkpoint.history, write_dir / "history.csv")
    outputs.plot_curves(checkpoint.history, write_dir / "curves.png", title=f"{config.model} {config.normalization}/{config.init}")
    outputs.write_text_atomic(write_dir / "results.json", json.dumps(outputs.jsonable(results), indent=2, sort_keys=True))
    return results


def _compiled_model(run, steps_per_epoch, micro_steps, path, start_epoch, initial_weights):
    """(model, history, torch RNG state): the run's model built under its strategy and precision, with
    L2, SGD on the paper's schedule and the recipe's metrics, restored from checkpoint ``path`` or
    started from ``initial_weights`` (``--init_from``) when given."""
    config, spec = run.config, run.spec
    schedule = EpochSchedule(config.schedule, config.lr, config.epochs, steps_per_epoch, hold_epochs=config.hold_epochs,
                             decay_every=config.decay_every, warmup_epochs=config.warmup_epochs)
    history, torch_rng = [], None
    with distribute.scope(run.strategy):
        with precision_scope(run.precision):  # layers keep their dtype policy after the scope
            model = build_model(config.model, options=config.model_options(spec))
        add_l2(model, config.weight_decay)
        optimizer = make_optimizer(schedule, momentum=config.momentum, nesterov=config.nesterov, accumulation=micro_steps)
        model.compile(
            optimizer=wrap_optimizer(optimizer, run.precision),
            loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=config.label_smoothing),
            metrics=recipe_metrics(spec.num_classes),
        )
        # Built here, not inside the first traced train step: variables created there (these, and
        # metrics given by name) make TensorFlow trace the step a second time.
        model.optimizer.build(model.trainable_variables)
        if path is not None:
            restored = checkpoints.restore(model, path)
            history, torch_rng = restored["history"], restored.get("torch_rng")
            print(f"Resuming {run.output_dir} from epoch {start_epoch} ({path.name}).", flush=True)
        elif initial_weights is not None:
            model.set_weights(initial_weights)  # the same architecture: the same weights, in the same order
    return model, history, torch_rng


def _replica_data(run, data, micro_steps):
    """(training, test) datasets as the strategy's replicas read them: training batches split into
    ``micro_steps`` ghost batches for Keras's gradient accumulation."""
    train_ds = data.train
    if micro_steps > 1:
        size = run.config.batch_size // micro_steps
        train_ds = train_ds.rebatch(size) if keras.backend.backend() == "tensorflow" else numpy_pipeline.rebatch(train_ds, size)
    return distribute.shard_by_example(train_ds, run.strategy), distribute.shard_by_example(data.test, run.strategy)


def _tensorboard(write_dir):
    """TensorBoard's logs are written through TensorFlow: on the TensorFlow backend only (history.csv has every number)."""
    return [keras.callbacks.TensorBoard(str(write_dir / "tensorboard"))] if keras.backend.backend() == "tensorflow" else []


@contextlib.contextmanager
def _os_errors(write_dir):
    """TensorBoard's writer on a full or read-only disk fails as a TensorFlow op: raised as the OSError
    that every other write to the folder raises (the checkpoints written so far are whole)."""
    try:
        yield
    except (tf.errors.OpError if keras.backend.backend() == "tensorflow" else ()) as error:
        os_error = outputs.os_error_from(error, write_dir)
        if os_error is None:
            raise
        raise os_error from error


def _run_record(run, data, model, start_epoch, updates_per_epoch, divergence, checkpoint):
    """What results.json records of the run besides its final metrics and times."""
    config, strategy = run.config, run.strategy
    return {
        "model": config.model,
        "model_options": config.model_options(run.spec).as_dict(),  # what create_model builds it from
        "dataset": config.dataset,
        "diverged": divergence.at is not None,
        "diverged_at": divergence.at,
        "epochs": len(checkpoint.history),
        "resumed_from_epoch": start_epoch or None,
        "strategy": config.strategy,
        "bit_reproducible": run.reproducible,  # tfzoo.training.determinism
        "precision": run.precision,  # what ran; precision_requested: what the config asked (auto resolves)
        "precision_requested": config.precision,
        "num_replicas": strategy.num_replicas_in_sync,
        "per_replica_batch_size": config.batch_size // strategy.num_replicas_in_sync,
        "accumulation_steps": run.accumulation,
        "updates_per_epoch": updates_per_epoch,
        "num_train_examples": data.num_train,
        "num_test_examples": data.num_test,
        "dataset_spec": dataclasses.asdict(run.spec),  # classes and normalization, which exports need
        "eval_split": config.eval_split,  # "validation": the test_* metrics are on a validation split
        "parameters": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        "config": config.to_dict(),
        "machine": machine(),
    }


def _final_metrics(model, test_ds, train_ds):
    """Test metrics, and the training loss on un-augmented training data (``train_ds``) as "Batch
    normalization has multiple benefits" reports it: cross-entropy plus the L2 penalty, with dropout
    off."""
    test = model.evaluate(test_ds, return_dict=True, verbose=0)
    train = model.evaluate(train_ds, return_dict=True, verbose=0)
    l2 = float(sum(keras.ops.convert_to_numpy(loss) for loss in model.losses)) if model.losses else 0.0
    top5 = {"test_top5_accuracy": test["top5_accuracy"]} if "top5_accuracy" in test else {}
    return {
        **top5,
        "test_accuracy": test["accuracy"],
        "test_loss": test["cross_entropy"],
        "train_accuracy": train["accuracy"],
        "train_cross_entropy": train["cross_entropy"],
        "l2_penalty": l2,
        "train_loss": train["cross_entropy"] + l2,
    }


"""The fit loop: data -> model -> SGD with the paper's schedule -> checkpoints -> results."""

import json
import os
import platform
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import tfzoo
from tfzoo import data as data_lib
from tfzoo.training import checkpoints, outputs
from tfzoo.training.config import TrainConfig
from tfzoo.training.optimizer import accumulation_steps, add_l2, make_optimizer
from tfzoo.training.schedules import EpochSchedule

EXIT_DIVERGED = 3


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


def _check_resumable(output_dir, config):
    """Refuses to mix a new configuration into an output_dir that holds another run's checkpoints."""
    saved = Path(output_dir) / "config.json"
    if not saved.exists():
        return
    previous = json.loads(saved.read_text())
    changed = {k: (previous.get(k), v) for k, v in config.to_dict().items() if previous.get(k) != v and k != "output_dir"}
    if changed:
        key, (old, new) = sorted(changed.items())[0]
        raise ValueError(
            f"output_dir {output_dir} holds a run with {key}={old!r}, not {new!r}; "
            "use a new --output_dir or delete the old one."
        )


def machine():
    """The machine a result was measured on, for results.json and published tables."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "devices": [d.device_type for d in tf.config.list_logical_devices()],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tfzoo": tfzoo.__version__,
    }


def train(config: TrainConfig, *, callbacks=(), verbose="auto"):
    """Trains one model as ``config`` says and writes its outputs to ``config.output_dir``.

    Resumes from the newest checkpoint in ``output_dir/checkpoints`` if there is one. Writes
    ``results.json`` (last, atomically), ``history.csv``, ``curves.png``, ``model.keras``
    and TensorBoard logs. Returns the results dictionary; ``results["diverged"]`` is True if
    the loss became NaN or infinite.
    """
    started = time.time()
    spec = config.validate()
    out = Path(config.output_dir)
    _check_resumable(out, config)
    out.mkdir(parents=True, exist_ok=True)
    outputs.write_text_atomic(out / "config.json", config.to_json())
    (out / "results.json").unlink(missing_ok=True)

    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    train_x, train_y = data_lib.load_arrays(config.dataset, "train", config.data_dir, config.max_train_examples)
    test_x, test_y = data_lib.load_arrays(config.dataset, "test", config.data_dir)

    accumulation = accumulation_steps(config.batch_size, config.ghost_batch_size, config.normalization)
    updates_per_epoch = data_lib.steps_per_epoch(len(train_x), config.batch_size)
    steps_per_epoch = updates_per_epoch * accumulation
    model = tfzoo.create_model(config.model, **config.model_kwargs(spec))
    add_l2(model, config.weight_decay)
    schedule = EpochSchedule(config.schedule, config.lr, config.epochs, steps_per_epoch, warmup_epochs=config.warmup_epochs)
    model.compile(
        optimizer=make_optimizer(schedule, momentum=config.momentum, nesterov=config.nesterov, accumulation=accumulation),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=config.label_smoothing),
        metrics=["accuracy", keras.metrics.CategoricalCrossentropy(from_logits=True, name="cross_entropy")],
    )

    start_epoch, path = checkpoints.latest(out / "checkpoints")
    history = []
    if path is not None:
        model.optimizer.build(model.trainable_variables)
        history = checkpoints.restore(model, path)["history"]
        print(f"Resuming {out} from epoch {start_epoch} ({path.name}).", flush=True)

    divergence = Divergence()
    checkpoint = _Checkpoint(out / "checkpoints", divergence, initial_history=history)
    train_ds = data_lib.make_train_dataset(
        train_x, train_y, spec, batch_size=config.batch_size, seed=config.seed, augment=config.augment(), start_epoch=start_epoch
    )
    if accumulation > 1:
        train_ds = train_ds.rebatch(config.batch_size // accumulation)
    test_ds = data_lib.make_eval_dataset(test_x, test_y, spec, batch_size=config.eval_batch_size)
    if start_epoch < config.epochs:
        model.fit(
            train_ds,
            epochs=config.epochs,
            initial_epoch=start_epoch,
            steps_per_epoch=steps_per_epoch,
            validation_data=test_ds,
            shuffle=False,  # the dataset shuffles itself, by (seed, epoch)
            callbacks=[divergence, checkpoint, keras.callbacks.TensorBoard(str(out / "tensorboard")), *callbacks],
            verbose=verbose,
        )

    results = {
        "model": config.model,
        "dataset": config.dataset,
        "diverged": divergence.at is not None,
        "diverged_at": divergence.at,
        "epochs": len(checkpoint.history),
        "resumed_from_epoch": start_epoch or None,
        "num_replicas": tf.distribute.get_strategy().num_replicas_in_sync,
        "accumulation_steps": accumulation,
        "updates_per_epoch": updates_per_epoch,
        "num_train_examples": len(train_x),
        "num_test_examples": len(test_x),
        "parameters": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        "config": config.to_dict(),
        "machine": machine(),
    }
    if divergence.at is None:
        results.update(_final_metrics(model, spec, config, train_x, train_y, test_ds))
        outputs.save_model_atomic(model, out / "model.keras")
    results["seconds"] = round(time.time() - started, 2)
    results["seconds_training_total"] = round(sum(e.get("seconds", 0.0) for e in checkpoint.history), 2)
    outputs.write_history(checkpoint.history, out / "history.csv")
    outputs.plot_curves(checkpoint.history, out / "curves.png", title=f"{config.model} {config.normalization}/{config.init}")
    outputs.write_text_atomic(out / "results.json", json.dumps(outputs.jsonable(results), indent=2, sort_keys=True))
    return results


def _final_metrics(model, spec, config, train_x, train_y, test_ds):
    """Test metrics, and the training loss on un-augmented training data as ``001`` reports it:
    cross-entropy plus the L2 penalty, with dropout off."""
    test = model.evaluate(test_ds, return_dict=True, verbose=0)
    train_ds = data_lib.make_eval_dataset(train_x, train_y, spec, batch_size=config.eval_batch_size)
    train = model.evaluate(train_ds, return_dict=True, verbose=0)
    l2 = float(sum(np.asarray(loss) for loss in model.losses)) if model.losses else 0.0
    return {
        "test_accuracy": test["accuracy"],
        "test_loss": test["cross_entropy"],
        "train_accuracy": train["accuracy"],
        "train_cross_entropy": train["cross_entropy"],
        "l2_penalty": l2,
        "train_loss": train["cross_entropy"] + l2,
    }


"""TensorBoard HParams sessions of a learning-rate search: one per finished trial, so that
``tensorboard --logdir DIR`` shows the sweep as a table and as parallel coordinates.

Each trial is a run ``DIR/hparams/bs{B}_lr{e}_run{r}/`` holding the HParams plugin's session
summary (model, scheme, batch size, learning rate, its log2 exponent, run) and three scalars at
step 0: ``test_accuracy``, ``train_loss`` and ``diverged`` (1 or 0; a diverged trial has no
accuracy or loss, as in trials.csv). No experiment summary is written: TensorBoard infers the
columns from the sessions, so the searches of a whole paper experiment share one dashboard.

The summaries are written through TensorFlow, so only under ``KERAS_BACKEND=tensorflow``; on JAX or
PyTorch (where TensorFlow may be absent) a search writes none, as a training writes no TensorBoard logs.
"""

import shutil
from pathlib import Path

import keras

FOLDER = "hparams"
METRICS = ("test_accuracy", "train_loss", "diverged")


def session_values(config, spec):
    """The hyper-parameters of one trial, as the dashboard shows them."""
    return {
        "model": config.model, "scheme": f"{config.normalization}/{config.init}",
        "batch_size": spec.batch_size, "learning_rate": spec.lr, "lr_exponent": spec.lr_exponent, "run": spec.run,
    }


def available():
    """Whether sessions are written: on the TensorFlow backend only."""
    return keras.backend.backend() == "tensorflow"


def write_session(directory, config, result):
    """Writes the session of one finished trial (a ``TrialResult``), replacing an earlier one, and returns its
    folder; returns None off the TensorFlow backend, where nothing is written."""
    if not available():
        return None
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    run_dir = Path(directory) / FOLDER / result.spec.name
    shutil.rmtree(run_dir, ignore_errors=True)
    writer = tf.summary.create_file_writer(str(run_dir))
    try:
        with writer.as_default():
            hp.hparams(session_values(config, result.spec), trial_id=result.spec.name)
            tf.summary.scalar("diverged", float(result.diverged), step=0)
            if not result.diverged:
                tf.summary.scalar("test_accuracy", result.test_accuracy, step=0)
                tf.summary.scalar("train_loss", result.train_loss, step=0)
    finally:
        writer.close()
    return run_dir


def write_missing(directory, config, results):
    """Writes the sessions of ``results`` that have none yet (a search killed after recording a
    trial but before its session was written); returns how many it wrote (none off the TensorFlow backend)."""
    if not available():
        return 0
    missing = [r for r in results if not (Path(directory) / FOLDER / r.spec.name).is_dir()]
    for result in missing:
        write_session(directory, config, result)
    return len(missing)

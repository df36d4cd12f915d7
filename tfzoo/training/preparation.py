"""One preparation per run: the configuration checked once, and the strategy, precision,
determinism and output folder set up once, into the ``PreparedRun`` that the fit loop receives.

A recipe prepares first (``recipes.train_flags.check_or_exit``: any problem is one ``error:``
line before anything is read or written) and hands the result to ``tfzoo.training.train``;
``train(config)`` prepares by itself.
"""

import dataclasses
import json
import time
from pathlib import Path

import keras
from absl import logging

from tfzoo import distribute
from tfzoo.data import DatasetSpec
from tfzoo.lazy import LazyModule
from tfzoo.precision import cpu_flags, cpu_warning, gpu_capabilities, resolve_precision
from tfzoo.training import checkpoints, lock
from tfzoo.training.config import TrainConfig
from tfzoo.training.determinism import check_same_kernels, make_deterministic

tf = LazyModule("tensorflow")  # used on the TensorFlow backend only


@dataclasses.dataclass(frozen=True)
class PreparedRun:
    """A checked configuration and what was set up for it.

    spec: the data set's spec (shape, classes, normalization).
    strategy: the tf.distribute strategy (``tfzoo.distribute``).
    accumulation: ghost batches each replica accumulates per update (``TrainConfig.accumulation``).
    precision: what runs ("auto" resolved: bf16 where the hardware computes in it natively; for a
        run that resumes, the precision it started in).
    reproducible: whether op determinism is on (``tfzoo.training.determinism``).
    chief: whether this process writes ``output_dir`` (False on the other workers of a multi-worker job).
    started: ``time.time()`` when preparation began; the run's wall time counts from here.
    """

    config: TrainConfig
    spec: DatasetSpec
    strategy: object
    accumulation: int
    precision: str
    reproducible: bool
    chief: bool
    started: float

    @property
    def output_dir(self):
        return Path(self.config.output_dir)


def prepare(config, *, check_lock=True):
    """Checks ``config`` once and sets up its run. Raises ValueError (or its subclasses
    ``CheckpointError`` and ``FolderInUse``) naming the first problem; writes nothing.

    ``check_lock``: also fail now if another run holds ``output_dir`` (the chief takes the lock
    itself when it starts writing; a search that runs trials one after another skips this).
    """
    started = time.time()
    spec = config.validate()
    check_backend(config, spec)
    check_resumable(config.output_dir, config)  # another run's folder: refused before anything starts
    reproducible = make_deterministic(config.strategy)  # before the strategy starts TensorFlow's runtime
    strategy = distribute.make_strategy(config.strategy, config.tpu, config.virtual_cpu_devices)
    accumulation = config.accumulation(strategy.num_replicas_in_sync)
    # auto: bf16 where the GPUs, the TPU or this CPU compute in it natively (tfzoo.precision)
    precision = resolve_precision(config.precision, flags=cpu_flags(), gpu_capabilities=gpu_capabilities(),
                                  tpu=config.strategy == "tpu")
    if config.precision == "auto":  # decided when the run started: a resume elsewhere goes on in it, exactly
        precision = _resumed_precision(config.output_dir, precision)
    if not _has_gpu() and config.strategy != "tpu":
        warning = cpu_warning(precision, cpu_flags())
        if warning:
            logging.warning(warning)
    chief = distribute.is_chief(strategy)
    if check_lock and chief:
        lock.check_free(config.output_dir)  # a folder another run is writing to: fail before reading data
    return PreparedRun(config, spec, strategy, accumulation, precision, reproducible, chief, started)


def check_backend(config, spec):
    """Raises ValueError if ``config`` needs TensorFlow and Keras runs on another backend: training on JAX or PyTorch
    reads in-memory data sets (``tfzoo.data.numpy_pipeline``) on one device; streamed ImageNet and ``log_signal``'s
    TensorBoard summaries are TensorFlow's (the strategy is checked by ``TrainConfig.validate``)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return
    if spec.streaming:
        raise ValueError(f"dataset={config.dataset!r} is streamed through tf.data and needs KERAS_BACKEND=tensorflow; "
                         f"on {backend} the data sets held in memory train (every one but ImageNet)")
    if config.log_signal:
        raise ValueError(f"log_signal writes TensorBoard summaries through TensorFlow and needs "
                         f"KERAS_BACKEND=tensorflow; on {backend} leave it off")


def _has_gpu():
    if keras.backend.backend() == "tensorflow":
        return bool(tf.config.list_logical_devices("GPU"))
    return bool(gpu_capabilities())


def _resumed_precision(output_dir, resolved):
    """``resolved`` (what ``--precision=auto`` gives on this machine), unless ``output_dir`` holds a
    checkpoint trained in another precision: then that one, with one warning line. A run resumes
    exactly only in the precision it started in, and auto may resolve differently on another machine."""
    _, path = checkpoints.latest(Path(output_dir) / "checkpoints", warn=False)
    started = checkpoints.written_in_precision(path) if path is not None else None
    if started is None or started == resolved:
        return resolved
    logging.warning(f"output_dir {output_dir}: resuming in {started}, the precision --precision=auto chose when the run "
                    f"started (checkpoint {path.name}); on this machine auto gives {resolved}")
    return started


# Where a run is, not what it is: these may change when a run is resumed.
_LOCATION_FIELDS = ("output_dir", "tpu")


def same_data_dir(a, b):
    """Whether two ``data_dir`` values name one folder: ``x``, ``x/``, ``./x`` and its absolute path do."""
    if not a or not b:
        return not a and not b
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def check_resumable(output_dir, config):
    """Raises ValueError if ``output_dir`` holds a run with another configuration (``data_dir``
    compared as a resolved path), or checkpoints written with other CPU kernels
    (``determinism.check_same_kernels``); ``checkpoints.CheckpointError`` if every checkpoint there
    is damaged."""
    saved = Path(output_dir) / "config.json"
    if not saved.exists():
        return
    try:
        previous = TrainConfig.from_dict(json.loads(saved.read_text())).to_flat_dict()  # fields added since: defaults
    except (ValueError, TypeError, AttributeError) as error:
        raise ValueError(f"output_dir {output_dir}: {saved} is not a run's configuration ({error}); "
                         "use a new --output_dir or delete the old one.") from None
    changed = {k: (previous[k], v) for k, v in config.to_flat_dict().items() if previous[k] != v and k not in _LOCATION_FIELDS
               and not (k == "data_dir" and same_data_dir(previous[k], v))}
    if changed:
        key, (old, new) = sorted(changed.items())[0]
        raise ValueError(
            f"output_dir {output_dir} holds a run with {key}={old!r}, not {new!r}; "
            "use a new --output_dir or delete the old one."
        )
    _, path = checkpoints.latest(Path(output_dir) / "checkpoints", warn=False)
    if path is not None:
        check_same_kernels(checkpoints.written_with_onednn(path), f"output_dir {output_dir} (checkpoint {path.name})")

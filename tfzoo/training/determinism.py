"""Same seed, same numbers: TensorFlow's op determinism plus one inter-op thread.

``tf.config.experimental.enable_op_determinism`` makes each op deterministic, but TensorFlow still
runs a step's independent ops concurrently (inter-op parallelism), and on a CPU that alone changed
the last bits of a WRN-16-4 step from run to run: 6 steps, same seed, 3 different losses in 4
processes; with one inter-op thread, 4 identical. The price is measured in
``docs/performance/epyc_avx2.md`` B2 (WRN-16-4 on 2 CPU cores: about 20 % slower with
TensorFlow's default kernels, nothing measurable with oneDNN, ``TF_ENABLE_ONEDNN_OPTS=1``).

The thread count can only be set before TensorFlow's runtime starts (its first op), so
``make_deterministic`` is called by ``train`` and by the recipes before they make their strategy.
``$TF_NUM_INTEROP_THREADS``, if set, wins (``TF_NUM_INTEROP_THREADS=2`` buys the speed back and
gives up bit-reproducibility). Strategies other than the default keep TensorFlow's thread count:
their collective ops can block inter-op threads while they wait for the other replicas, and one
thread has not been tried there.

The kernels count too: oneDNN's CPU kernels (``$TF_ENABLE_ONEDNN_OPTS``; the recipes' default,
``tfzoo.cli.prefer_onednn``) round differently from TensorFlow's default ones, so a rerun or a
resumed run gives the same numbers only with the same kernels. ``onednn_enabled`` says which run;
checkpoints and search directories record it, and ``check_same_kernels`` refuses to go on with
the other ones.
"""

import os

import keras
from absl import logging

from tfzoo.lazy import LazyModule

tf = LazyModule("tensorflow")  # used on the TensorFlow backend only

ENV = "TF_NUM_INTEROP_THREADS"
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"
_KERNELS = {True: "oneDNN's CPU kernels", False: "TensorFlow's default CPU kernels"}


def make_deterministic(strategy="default"):
    """Enables op determinism and, for the default strategy, one inter-op thread.

    Returns True when a rerun with the same seed should give bit-identical numbers: one
    inter-op thread is in force (set here, or by ``$TF_NUM_INTEROP_THREADS=1``). Returns False,
    with a warning, when the runtime had already started with another count. On Keras's other backends (JAX,
    PyTorch) it sets nothing and returns None: bit-reproducibility is then not claimed (same seed, same numbers holds
    on a CPU there, tested on JAX and PyTorch; GPUs may reduce in another order from run to run).
    """
    if keras.backend.backend() != "tensorflow":
        return None
    tf.config.experimental.enable_op_determinism()
    if ENV in os.environ:
        return os.environ[ENV].strip() == "1"
    if strategy != "default":
        return False
    if tf.config.threading.get_inter_op_parallelism_threads() == 1:
        return True
    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)
        return True
    except RuntimeError:  # the runtime has started: its thread count is fixed
        logging.log_first_n(
            logging.WARNING,
            "TensorFlow's runtime started before tfzoo could set one inter-op thread, so a rerun may differ in the "
            f"last bits. Set {ENV}=1, or call tfzoo.training.make_deterministic() before any TensorFlow op.", 1)
        return False


def onednn_enabled():
    """Whether this TensorFlow runs oneDNN's CPU kernels (``$TF_ENABLE_ONEDNN_OPTS``, read when it
    starts); None if this TensorFlow cannot say, or Keras runs on another backend (TensorFlow's kernels unused)."""
    if keras.backend.backend() != "tensorflow":
        return None
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


def check_same_kernels(recorded, what):
    """Raises ValueError if ``recorded`` (an ``onednn_enabled()`` saved with ``what``) differs from
    this process's kernels; None on either side (not recorded, cannot say) passes."""
    now = onednn_enabled()
    if recorded is None or now is None or bool(recorded) == now:
        return
    raise ValueError(f"{what} was written with {_KERNELS[bool(recorded)]}, and this process runs {_KERNELS[now]}, "
                     f"which round differently; set {ONEDNN_ENV}={int(bool(recorded))} to go on with it, or use a new "
                     "--output_dir.")

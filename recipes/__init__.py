"""Runnable experiments: thin absl-flag CLIs over the tfzoo library.

Importing this package, which every ``python -m recipes.…``, ``export.…`` and ``bench.…`` does
before TensorFlow starts, makes oneDNN TensorFlow's CPU kernels (``TF_ENABLE_ONEDNN_OPTS=1``)
unless the variable is already set. TensorFlow turns them on by itself only on CPUs with
AVX512-VNNI, AMX and the like; on an AVX2 CPU they train the WRNs faster
(``docs/performance.md``) and stay bit-reproducible, with other numbers than TensorFlow's
default kernels (``TF_ENABLE_ONEDNN_OPTS=0`` gives those back; the commands of results made
with them say so). ``results.json`` records which ran (``machine.onednn``).
"""

import os
import sys

ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"


def prefer_onednn():
    """Sets ``$TF_ENABLE_ONEDNN_OPTS=1`` if it is unset and TensorFlow is not imported yet (it
    reads the variable once, at import). Returns whether TensorFlow will run oneDNN's kernels
    as far as the environment says (None: TensorFlow had already started without the variable)."""
    if ONEDNN_ENV not in os.environ and "tensorflow" not in sys.modules:
        os.environ[ONEDNN_ENV] = "1"
    if ONEDNN_ENV not in os.environ:
        return None
    return os.environ[ONEDNN_ENV].strip().lower() in ("1", "true")


prefer_onednn()

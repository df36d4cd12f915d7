"""make_deterministic: op determinism and one inter-op thread, each case in a fresh TensorFlow process
(the thread count can be set only before the runtime starts)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
import tensorflow as tf
from tensorflow.python.framework import config as tf_config
from tfzoo.training import make_deterministic
strategy, start_first = sys.argv[1], sys.argv[2] == "started"
if start_first:
    tf.constant(1.0) + 1.0  # the runtime starts with TensorFlow's default thread count
result = make_deterministic(strategy)
print(json.dumps({"result": result, "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
                  "op_determinism": tf_config.is_op_determinism_enabled()}))
"""


def _call(strategy="default", started=False, env_threads=None):
    env = {k: v for k, v in os.environ.items() if k != "TF_NUM_INTEROP_THREADS"}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    if env_threads is not None:
        env["TF_NUM_INTEROP_THREADS"] = env_threads
    child = subprocess.run([sys.executable, "-c", SCRIPT, strategy, "started" if started else "fresh"], cwd=REPO,
                           env=env, capture_output=True, text=True, timeout=300, check=False)
    assert child.returncode == 0, child.stderr[-2000:]
    return json.loads(child.stdout.strip().splitlines()[-1]), child.stderr


def test_fresh_process_gets_one_inter_op_thread():
    out, stderr = _call()
    assert out == {"result": True, "inter_op": 1, "op_determinism": True}
    assert "rerun may differ" not in stderr


def test_runtime_already_started_warns_and_says_not_reproducible():
    out, stderr = _call(started=True)
    assert out == {"result": False, "inter_op": 0, "op_determinism": True}
    assert "TF_NUM_INTEROP_THREADS=1" in stderr


@pytest.mark.parametrize("value, reproducible", [("1", True), ("2", False)])
def test_environment_variable_wins(value, reproducible):
    out, _ = _call(env_threads=value)
    assert out == {"result": reproducible, "inter_op": 0, "op_determinism": True}  # tfzoo left the count alone


def test_other_strategies_keep_tensorflows_threads():
    out, stderr = _call(strategy="mirrored")
    assert out == {"result": False, "inter_op": 0, "op_determinism": True}
    assert "rerun may differ" not in stderr

"""Training on Keras's other backends, JAX and PyTorch, with TensorFlow absent (a stand-in package raises on import):
the same fit loop, reading the data through ``tfzoo.data.numpy_pipeline``, resumes exactly after a kill, and what
needs TensorFlow is refused in one line before anything is written. ``recipes.lr_search`` runs there too, without
its TensorBoard HParams sessions."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import CIFAR10_SUBSET, REPO

_CHILD = """
import json, sys
import keras
from tfzoo.training import TrainConfig, train

def config(out, **overrides):
    # ZeroInit with classifier dropout and two ghost batches per update: dropout's random state and the
    # accumulation both have to resume exactly.
    return TrainConfig.create(dataset="cifar10", data_dir=sys.argv[1], model="wrn-10-1", normalization="none", init="zeroinit",
                       classifier_dropout=0.5, batch_size=64, ghost_batch_size=32, lr=0.05, epochs=3,
                       max_train_examples=512, eval_batch_size=512, output_dir=out, **overrides)

class Kill(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt("simulated kill")

try:
    train(config(sys.argv[2] + "/killed"), callbacks=[Kill()], verbose=0)
except KeyboardInterrupt:
    pass
resumed = train(config(sys.argv[2] + "/killed"), verbose=0)
straight = train(config(sys.argv[2] + "/straight"), verbose=0)
refused = []
for bad in (dict(strategy="mirrored"), dict(log_signal=True)):
    try:
        train(config(sys.argv[2] + "/refused", **bad), verbose=0)
    except ValueError as error:
        refused.append(str(error))
print(json.dumps({"resumed": resumed, "straight": straight, "refused": refused, "tf": "tensorflow" in sys.modules}))
"""


def _without_tensorflow(tmp_path, backend):
    """The environment of a child process on ``backend`` in which ``import tensorflow`` raises."""
    pytest.importorskip(backend, reason=f"{backend} is not installed (pip install -e .[jax,bench])")
    shim = tmp_path / "shim" / "tensorflow"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('no TensorFlow on this machine (test stand-in)')\n")
    return dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=os.pathsep.join([str(shim.parent), str(REPO)]))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_trains_and_resumes_exactly_without_tensorflow(tmp_path, backend):
    env = _without_tensorflow(tmp_path, backend)
    child = subprocess.run([sys.executable, "-c", _CHILD, str(CIFAR10_SUBSET), str(tmp_path)], capture_output=True,
                           text=True, env=env, cwd=tmp_path, timeout=900, check=False)
    assert child.returncode == 0, child.stderr[-3000:]
    out = json.loads(child.stdout.strip().splitlines()[-1])
    resumed, straight = out["resumed"], out["straight"]
    assert out["tf"] is False
    assert resumed["resumed_from_epoch"] == 2 and resumed["epochs"] == 3 and resumed["accumulation_steps"] == 2
    assert resumed["machine"]["backend"] == backend and resumed["bit_reproducible"] is None
    for key in ("test_accuracy", "test_loss", "train_loss", "l2_penalty"):
        assert resumed[key] == pytest.approx(straight[key], rel=1e-6), key
    assert straight["l2_penalty"] > 0 and straight["train_loss"] < 3.0
    run = tmp_path / "straight"
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "config.json", "curves.png", "history.csv",
                                                     "model.keras", "results.json"]  # no TensorBoard logs
    assert len((run / "history.csv").read_text().splitlines()) == 4  # a header and three epochs
    assert out["refused"][0].startswith("strategy='mirrored' is a tf.distribute strategy and needs "
                                        f"KERAS_BACKEND=tensorflow; on {backend} only strategy='default' runs")
    assert out["refused"][1].startswith("log_signal writes TensorBoard summaries through TensorFlow")
    assert not (tmp_path / "refused").exists()


@pytest.mark.slow
def test_lr_search_without_tensorflow(tmp_path):
    """A real search on JAX (one rate trains, one diverges), its summary, and no HParams sessions, which need
    TensorFlow; running it again re-runs nothing."""
    env = _without_tensorflow(tmp_path, "jax")
    out = tmp_path / "search"
    command = [sys.executable, "-m", "recipes.lr_search", "--model=wrn-10-1", "--normalization=none",
               "--init=standard", "--dataset=cifar10", f"--data_dir={CIFAR10_SUBSET}", "--epochs=1",
               "--max_train_examples=256", "--batch_sizes=64", "--lr_exponents=-4,8", "--runs=1", "--best=1",
               f"--output_dir={out}"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600, check=False)
    assert first.returncode == 0, first.stderr[-3000:]
    progress = [line for line in first.stdout.splitlines() if line.startswith("[")]
    assert len(progress) == 2 and progress[1].startswith("[2/2] batch 64, lr 2^8, run 0: diverged"), progress
    rows = (out / "trials.csv").read_text().splitlines()[1:]
    assert [row.split(",")[1:3] + row.split(",")[5:6] for row in rows] == [["0.0625", "0", "false"],
                                                                          ["256.0", "0", "true"]]
    trained = json.loads((out / "trials" / "bs64_lr-4_run0" / "results.json").read_text())
    assert trained["machine"]["backend"] == "jax" and 0 <= trained["test_accuracy"] <= 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["64"]["test_accuracy"]["lr_exponent"] == -4 and summary["64"]["test_accuracy"]["mean"] == \
        trained["test_accuracy"]
    assert not (out / "hparams").exists()
    again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    assert not [line for line in again.stdout.splitlines() if line.startswith("[")]  # no trial ran again

"""``tfzoo.load_model``: a run's model.keras loads in a fresh process that imported only tfzoo
(its optimizer holds tfzoo's learning-rate schedule, which plain keras.saving.load_model would
not know there), and predicts what the run's model predicts."""

import os
import subprocess
import sys

import numpy as np

from tests.conftest import REPO

_LOAD = """
import sys, numpy as np, tfzoo
model = tfzoo.load_model(sys.argv[1])
np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), verbose=0))
print(type(model.optimizer.learning_rate).__name__, model.name)
"""


def test_a_run_model_loads_in_a_fresh_process_and_predicts_the_same(tmp_path):
    from tfzoo.data import get_spec, load_arrays, normalize
    from tfzoo.training import TrainConfig, train

    train(TrainConfig.create(dataset="fashion_mnist", model="wrn-10-1", normalization="batch_norm", init="standard",
                      epochs=1, max_train_examples=64, batch_size=32, output_dir=str(tmp_path / "run")), verbose=0)
    images = np.asarray(normalize(load_arrays("fashion_mnist", "test", max_examples=16)[0], get_spec("fashion_mnist")))
    np.save(tmp_path / "x.npy", images)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    loaded = subprocess.run([sys.executable, "-c", _LOAD, str(tmp_path / "run" / "model.keras"), str(tmp_path / "x.npy"),
                             str(tmp_path / "y.npy")], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.split()[-1] == "wrn-10-1"
    from tfzoo.inference import load_model

    expected = load_model(tmp_path / "run" / "model.keras").predict(images, verbose=0)
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, atol=1e-6)
    # Without tfzoo's schedule registered, Keras cannot rebuild that optimizer: what load_model is for.
    plain = subprocess.run([sys.executable, "-c", "import keras, sys; keras.saving.load_model(sys.argv[1])",
                            str(tmp_path / "run" / "model.keras")], cwd=REPO, env=env, capture_output=True, text=True,
                           timeout=300)
    assert plain.returncode != 0 and "EpochSchedule" in plain.stderr

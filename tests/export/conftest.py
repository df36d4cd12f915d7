"""One small exported model shared by the export tests: a BN WRN-10-1 for Fashion-MNIST whose
weights and BN statistics are moved off their initial values, saved as a recipe run would."""

import json

import numpy as np
import pytest


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    import keras

    import tfzoo

    keras.utils.set_random_seed(3)
    model = tfzoo.create_model("wrn-10-1", normalization="batch_norm", init="standard", input_shape=(28, 28, 1))
    rng = np.random.RandomState(0)
    for w in model.weights:
        if "moving_variance" in w.path:
            w.assign(rng.uniform(0.5, 2.0, size=w.shape).astype("float32"))
        elif "moving_mean" in w.path or "beta" in w.path or "bias" in w.path:
            w.assign(rng.normal(0, 0.1, size=w.shape).astype("float32"))
    # Compiled as the recipe compiles it, so loading also needs the registered EpochSchedule.
    from tfzoo.training import EpochSchedule, make_optimizer

    model.compile(optimizer=make_optimizer(EpochSchedule("paper", 0.1, 2, 10)), loss="categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)
    path = tmp_path_factory.mktemp("run")
    model.save(path / "model.keras")
    (path / "config.json").write_text(json.dumps({"dataset": "fashion_mnist", "model": "wrn-10-1"}))
    (path / "results.json").write_text(json.dumps({"test_accuracy": 0.1, "epochs": 0}))
    return path


@pytest.fixture(scope="session")
def exported(run_dir):
    from tfzoo import export

    out = run_dir.parent / f"{run_dir.name}_saved_model"
    export.export(export.load_source(model=run_dir / "model.keras"), out, "saved_model")
    return out


@pytest.fixture(scope="session")
def test_images():
    from tfzoo.data import load_arrays

    return load_arrays("fashion_mnist", "test", max_examples=64)

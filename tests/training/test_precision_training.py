"""``TrainConfig(precision=...)`` (``--precision``): mixed-precision training through the real loop."""

import json

import numpy as np
import pytest

from tests.conftest import CIFAR10_SUBSET


@pytest.mark.slow
@pytest.mark.parametrize("precision, policy, compute", [("bf16", "mixed_bfloat16", "bfloat16"),
                                                         ("fp16", "mixed_float16", "float16")])
def test_mixed_precision_run_trains_and_saves(tmp_path, caplog, precision, policy, compute):
    import keras

    import tfzoo  # noqa: F401  (registers the layers for load_model)
    from tfzoo.training import TrainConfig, train

    config = TrainConfig(
        dataset="cifar10", data_dir=str(CIFAR10_SUBSET), model="wrn-10-1", normalization="batch_norm", init="standard",
        epochs=1, max_train_examples=128, batch_size=64, lr=0.05, precision=precision, output_dir=str(tmp_path / "run"),
    )
    results = train(config, verbose=0)
    from tfzoo.precision import cpu_flags, cpu_warning

    warning = cpu_warning(precision, cpu_flags())  # on this machine's AVX2 CPU: a warning for both
    assert (warning in caplog.text) if warning else ("arithmetic" not in caplog.text)
    assert not results["diverged"] and np.isfinite(results["train_loss"]) and 0 <= results["test_accuracy"] <= 1
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    conv = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    assert conv.dtype_policy.name == policy and conv.compute_dtype == compute
    assert all(w.dtype == "float32" for w in model.weights)
    logits = model(np.zeros((2, 32, 32, 3), "float32"), training=False)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    if precision == "fp16":
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["precision"] == precision

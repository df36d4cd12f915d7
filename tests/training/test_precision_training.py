"""``TrainConfig(precision=...)`` (``--precision``): mixed-precision training through the real loop,
and ``auto`` resolved from (mocked) CPU flags and recorded in results.json."""

import json

import numpy as np
import pytest

from tests.conftest import CIFAR10_SUBSET

AVX2_ONLY = {"fpu", "avx", "avx2", "fma", "f16c"}  # converts to 16 bits, computes in neither
NATIVE_BF16 = AVX2_ONLY | {"avx512f", "avx512_bf16", "amx_bf16"}


def _config(tmp_path, precision):
    from tfzoo.training import TrainConfig

    return TrainConfig.create(
        dataset="cifar10", data_dir=str(CIFAR10_SUBSET), model="wrn-10-1", normalization="batch_norm", init="standard",
        epochs=1, max_train_examples=128, batch_size=64, lr=0.05, precision=precision, output_dir=str(tmp_path / "run"),
    )


@pytest.mark.slow
@pytest.mark.parametrize("precision, policy, compute", [("bf16", "mixed_bfloat16", "bfloat16"),
                                                         ("fp16", "mixed_float16", "float16")])
def test_mixed_precision_run_trains_and_saves(tmp_path, caplog, monkeypatch, precision, policy, compute):
    import keras

    import tfzoo  # noqa: F401  (registers the layers for load_model)
    from tfzoo.training import preparation, train

    monkeypatch.setattr(preparation, "cpu_flags", lambda: AVX2_ONLY)  # a CPU without 16-bit arithmetic
    results = train(_config(tmp_path, precision), verbose=0)
    warnings = [r.getMessage() for r in caplog.records if "arithmetic" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith(f"--precision={precision} on a CPU without {precision}")
    assert "12.7x slower" in warnings[0] and "\n" not in warnings[0]
    assert results["precision"] == results["precision_requested"] == precision
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


@pytest.mark.slow
@pytest.mark.parametrize("flags, resolved, compute", [(NATIVE_BF16, "bf16", "bfloat16"), (AVX2_ONLY, "fp32", "float32")])
def test_auto_resolves_from_the_cpu_and_is_recorded(tmp_path, caplog, monkeypatch, flags, resolved, compute):
    import keras

    import tfzoo  # noqa: F401
    from tfzoo.training import preparation, train

    monkeypatch.setattr(preparation, "cpu_flags", lambda: flags)
    results = train(_config(tmp_path, "auto"), verbose=0)
    assert results["precision"] == resolved and results["precision_requested"] == "auto"
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert (saved["precision"], saved["precision_requested"], saved["config"]["precision"]) == (resolved, "auto", "auto")
    assert "arithmetic" not in caplog.text  # auto never picks a precision the CPU lacks
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    conv = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    assert conv.compute_dtype == compute and not results["diverged"]

"""Mixed precision: 16-bit activations, float32 variables and logits, loss scaling for fp16,
the tfzoo layers under mixed_bfloat16, and real training steps that reduce the loss."""

import keras
import numpy as np
import pytest

import tfzoo
from tests.conftest import CIFAR10_SUBSET
from tests.helpers import random_images
from tfzoo import precision
from tfzoo.layers import BatchNormalization, ScalarBias, ScalarMultiplier
from tfzoo.training.optimizer import add_l2, make_optimizer


def test_unknown_precision_names_the_accepted_ones():
    with pytest.raises(ValueError, match=r"'fp8'.*'fp32', 'bf16', 'fp16'"):
        precision.set_precision("fp8")


@pytest.mark.parametrize("name, flags, warns", [
    ("bf16", {"avx", "avx2", "fma", "f16c"}, True),      # an AVX2 AMD EPYC: converts, does not compute
    ("fp16", {"avx", "avx2", "f16c"}, True),
    ("bf16", {"avx", "avx512f", "avx512_bf16"}, False),
    ("fp16", {"avx", "amx_fp16"}, False),
    ("fp32", {"avx"}, False),
    ("bf16", None, False),                               # flags unknown (no /proc/cpuinfo)
    ("bf16", {"fp", "asimd", "bf16"}, False),            # not x86: not judged
])
def test_cpu_warning_for_16_bits_without_the_arithmetic(name, flags, warns):
    warning = precision.cpu_warning(name, flags)
    assert (warning is not None) is warns
    if warns:
        assert warning.startswith(f"--precision={name} on a CPU without {name} arithmetic") and "fp32" in warning


@pytest.mark.parametrize("name, flags, warns", [
    ("bf16", {"fp", "asimd", "asimdhp"}, True),          # aarch64 without FEAT_BF16 (e.g. Neoverse N1)
    ("bf16", {"fp", "asimd", "bf16", "i8mm"}, False),    # Neoverse V1/N2, Graviton 3
    ("fp16", {"fp", "asimd", "asimdhp"}, False),
])
def test_cpu_warning_on_aarch64(name, flags, warns):
    warning = precision.cpu_warning(name, flags)
    assert (warning is not None) is warns
    if warns:
        assert "none of bf16, svebf16" in warning and "12.7x slower" in warning and "\n" not in warning


@pytest.mark.parametrize("flags, gpus, tpu, expected", [
    ({"avx", "avx2", "fma", "f16c"}, (), False, "fp32"),                    # AVX2 only: converts, does not compute
    ({"avx", "avx512f", "avx512_bf16"}, (), False, "bf16"),                 # Cooper Lake, Zen 4
    ({"avx", "avx512f", "amx_bf16", "amx_tile"}, (), False, "bf16"),        # Sapphire Rapids
    ({"avx", "avx512f", "avx512_fp16"}, (), False, "fp32"),                 # fp16 arithmetic is not bf16
    ({"fp", "asimd", "bf16"}, (), False, "bf16"),                           # aarch64 with FEAT_BF16
    ({"fp", "asimd"}, (), False, "fp32"),
    (None, (), False, "fp32"),                                              # flags unknown: the safe choice
    ({"avx", "avx2"}, [(8, 0)], False, "bf16"),                             # A100: the GPU decides, not the CPU
    ({"avx", "amx_bf16"}, [(7, 0)], False, "fp32"),                         # V100: no bf16 arithmetic
    ({"avx", "avx2"}, [(9, 0), (7, 5)], False, "fp32"),                     # every GPU in use must have it
    ({"avx", "avx2"}, (), True, "bf16"),                                    # TPU
])
def test_auto_picks_bf16_where_the_hardware_computes_in_it(flags, gpus, tpu, expected):
    assert precision.resolve_precision("auto", flags=flags, gpu_capabilities=gpus, tpu=tpu) == expected


def test_explicit_precisions_are_kept_and_auto_needs_asking_for():
    for name in ("fp32", "bf16", "fp16"):  # an explicit choice is never overridden
        assert precision.resolve_precision(name, flags={"avx", "avx2"}, gpu_capabilities=[(9, 0)]) == name
    with pytest.raises(ValueError, match=r"'auto'.*accepted: 'fp32', 'bf16', 'fp16'\.$"):
        precision.check_precision("auto")
    assert precision.check_precision("auto", allow_auto=True) == "auto"
    with pytest.raises(ValueError, match=r"'bf32'.*'fp16', 'auto'"):
        precision.resolve_precision("bf32")
    assert precision.native_bf16({"avx512_bf16"}) and not precision.native_bf16(set())


def test_cpu_flags_reads_cpuinfo(tmp_path):
    (tmp_path / "cpuinfo").write_text("processor\t: 0\nmodel name\t: X\nflags\t\t: fpu avx avx2 fma\n")
    assert precision.cpu_flags(tmp_path / "cpuinfo") == {"fpu", "avx", "avx2", "fma"}
    (tmp_path / "arm").write_text("processor\t: 0\nFeatures\t: fp asimd bf16 svebf16\nCPU implementer\t: 0x41\n")
    assert precision.native_bf16(precision.cpu_flags(tmp_path / "arm"))
    assert precision.cpu_flags(tmp_path / "missing") is None


def test_scope_restores_the_policy_even_after_an_error():
    with pytest.raises(RuntimeError):
        with precision.precision_scope("bf16"):
            assert keras.config.dtype_policy().name == "mixed_bfloat16"
            raise RuntimeError
    assert keras.config.dtype_policy().name == "float32"


def test_only_fp16_gets_loss_scaling():
    sgd = make_optimizer(0.1)
    assert precision.wrap_optimizer(sgd, "fp32") is sgd
    assert precision.wrap_optimizer(sgd, "bf16") is sgd
    wrapped = precision.wrap_optimizer(sgd, "fp16")
    assert isinstance(wrapped, keras.optimizers.LossScaleOptimizer) and wrapped.inner_optimizer is sgd
    assert precision.wrap_optimizer(wrapped, "fp16") is wrapped


@pytest.mark.parametrize("name, dtype", [("bf16", "bfloat16"), ("fp16", "float16"), ("fp32", "float32")])
def test_activations_logits_and_variables(name, dtype):
    with precision.precision_scope(name):
        model = tfzoo.create_model("wrn-10-1")
    assert precision.precision_of(model) == name
    probe = keras.Model(model.input, [model.get_layer("stage2_block1_branch_relu1").output, model.output])
    activations, logits = probe(random_images(4), training=True)
    assert keras.backend.standardize_dtype(activations.dtype) == dtype
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert model.get_layer("classifier").compute_dtype == "float32"
    assert {v.dtype for v in model.weights} == {"float32"}
    assert np.isfinite(np.asarray(logits)).all()


def test_fp32_classifier_is_unchanged():
    model = tfzoo.create_model("wrn-10-1")
    assert model.get_layer("classifier").get_config()["dtype"]["config"]["name"] == "float32"


@pytest.mark.parametrize("normalization, init", [("batch_norm", "standard"), ("ghost_batch_norm", "zeroinit"),
                                                 ("none", "fixup")])
def test_tfzoo_layers_under_mixed_bfloat16(normalization, init):
    with precision.precision_scope("bf16"):
        model = tfzoo.create_model("wrn-10-1", normalization=normalization, init=init, ghost_batch_size=4,
                                   classifier_dropout=0.0)
    custom = [l for l in model.layers if isinstance(l, (BatchNormalization, ScalarMultiplier, ScalarBias))]
    assert custom and all(l.compute_dtype == "bfloat16" and l.variable_dtype == "float32" for l in custom)
    rng = np.random.RandomState(0)
    for w in model.weights:  # off the (partly zero) initial values, so every layer contributes
        w.assign(np.asarray(w) + rng.uniform(0.05, 0.2, size=w.shape).astype("float32"))
    images = random_images(8)
    reference = np.asarray(model(images, training=False))
    logits = np.asarray(model(images, training=True))
    assert np.isfinite(logits).all() and np.abs(logits).max() > 0
    if normalization != "none":  # batch or ghost statistics, not the moving ones, in training
        assert not np.allclose(logits, reference)
    for layer in custom:
        assert all(w.dtype == "float32" for w in layer.weights)
        if isinstance(layer, BatchNormalization):  # moving statistics left their initial 0 / 1 (ghost BN too)
            assert np.abs(np.asarray(layer.moving_mean)).max() > 0
            assert np.isfinite(np.asarray(layer.moving_variance)).all()
    # float32 logits match a float32 twin with the same weights to bfloat16 accuracy
    twin = tfzoo.create_model("wrn-10-1", normalization=normalization, init=init, ghost_batch_size=4,
                              classifier_dropout=0.0)
    twin.set_weights(model.get_weights())
    expected = np.asarray(twin(images, training=False))
    np.testing.assert_allclose(np.asarray(model(images, training=False)), expected, atol=0.05 * np.abs(expected).max())


@pytest.fixture(scope="module")
def cifar_batches():
    """Two batches of 32 real CIFAR-10 training images, normalized as the recipe normalizes them."""
    from tfzoo.data import get_spec, load_arrays, normalize

    images, labels = load_arrays("cifar10", "train", data_dir=CIFAR10_SUBSET, max_examples=64)
    x = np.asarray(normalize(images, get_spec("cifar10")))
    y = np.eye(10, dtype="float32")[labels]
    return [(x[:32], y[:32]), (x[32:], y[32:])]


@pytest.mark.parametrize("name", ["bf16", "fp16"])
def test_mixed_precision_training_reduces_the_loss_on_real_data(name, cifar_batches):
    with precision.precision_scope(name):
        model = tfzoo.create_model("wrn-10-1")
    add_l2(model, 5e-4)
    model.compile(optimizer=precision.wrap_optimizer(make_optimizer(0.1), name),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    losses = [float(model.train_on_batch(*cifar_batches[step % 2])) for step in range(12)]
    assert np.isfinite(losses).all()
    assert np.mean(losses[-2:]) < 0.8 * np.mean(losses[:2]), losses
    assert {v.dtype for v in model.trainable_weights} == {"float32"}
    if name == "fp16":
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        assert np.isfinite(float(model.optimizer.dynamic_scale)) and float(model.optimizer.dynamic_scale) >= 1

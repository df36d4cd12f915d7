"""Training precision: float32, or Keras mixed precision in bfloat16 or float16.

``fp32`` computes and stores everything in float32. ``bf16`` and ``fp16`` are Keras's
``mixed_bfloat16`` and ``mixed_float16`` policies (Micikevicius et al. 2018): layers compute
in 16 bits while variables stay float32, and the classifier keeps float32 logits
(``models.blocks.classifier_head``), so the softmax and the loss are float32. float16's narrow
exponent needs dynamic loss scaling (``wrap_optimizer``); bfloat16 has float32's range and
does not. The policy is global Keras state read when layers are built: build the model inside
``precision_scope`` (or after ``set_precision``).

``auto`` (``resolve_precision``) picks bf16 where the hardware computes in it natively (a GPU of
compute capability 8.0 or newer, a TPU, a CPU with ``native_bf16`` flags) and fp32 elsewhere;
fp32 stays the default, as in Keras and timm, so that published numbers do not move with the
machine. On a CPU without 16-bit arithmetic the mixed policies only add casts and run slower
than fp32 (``docs/performance.md``); ``cpu_warning`` says so before training starts.
"""

import contextlib

import keras

PRECISIONS = ("fp32", "bf16", "fp16")
REQUESTS = (*PRECISIONS, "auto")  # what --precision accepts; auto resolves to one of PRECISIONS
POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}
COMPUTE_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}
# /proc/cpuinfo flags of CPUs that compute in 16 bits (not just convert, as x86's f16c does):
# x86 ("flags") and aarch64 ("Features": FEAT_BF16, SVE's BF16, half-precision SIMD).
ARITHMETIC_FLAGS = {"bf16": ("avx512_bf16", "amx_bf16"), "fp16": ("avx512_fp16", "amx_fp16")}
AARCH64_ARITHMETIC_FLAGS = {"bf16": ("bf16", "svebf16"), "fp16": ("asimdhp",)}
GPU_BF16_CAPABILITY = (8, 0)  # NVIDIA Ampere and newer compute in bf16


def check_precision(precision, allow_auto=False):
    """Returns ``precision`` if it is one of ``PRECISIONS`` (or ``auto``, if allowed), else raises
    ValueError naming it and what is accepted."""
    accepted = REQUESTS if allow_auto else PRECISIONS
    if precision not in accepted:
        raise ValueError(f"Unknown precision {precision!r}; accepted: {', '.join(map(repr, accepted))}.")
    return precision


def native_bf16(flags):
    """Whether a CPU with ``flags`` (``cpu_flags()``; None: unknown) computes in bf16 natively."""
    wanted = ARITHMETIC_FLAGS["bf16"] + AARCH64_ARITHMETIC_FLAGS["bf16"]
    return bool(flags) and any(flag in flags for flag in wanted)


def resolve_precision(requested, *, flags=None, gpu_capabilities=(), tpu=False):
    """The precision to train in: ``requested`` itself unless it is ``auto``, which gives bf16 on
    GPUs that all have compute capability >= 8.0 (``gpu_capabilities``: (major, minor) pairs of
    the GPUs in use), on a TPU, or, without either, on a CPU whose ``flags`` say ``native_bf16``;
    fp32 everywhere else."""
    if check_precision(requested, allow_auto=True) != "auto":
        return requested
    if gpu_capabilities:
        native = all(tuple(c) >= GPU_BF16_CAPABILITY for c in gpu_capabilities)
    else:
        native = tpu or native_bf16(flags)
    return "bf16" if native else "fp32"


def gpu_capabilities():
    """(major, minor) compute capabilities of the active backend's GPUs; empty without GPUs."""
    if keras.backend.backend() == "jax":
        import jax

        return [tuple(int(p) for p in str(d.compute_capability).split(".")[:2])
                for d in jax.devices() if d.platform == "gpu" and hasattr(d, "compute_capability")]
    if keras.backend.backend() == "torch":
        import torch

        return [tuple(torch.cuda.get_device_capability(i)) for i in range(torch.cuda.device_count())]
    if keras.backend.backend() != "tensorflow":
        return []
    import tensorflow as tf

    details = [tf.config.experimental.get_device_details(gpu) for gpu in tf.config.list_physical_devices("GPU")]
    return [tuple(d["compute_capability"]) for d in details if "compute_capability" in d]


def policy_name(precision):
    """The Keras dtype policy of a precision: ``"float32"``, ``"mixed_bfloat16"`` or ``"mixed_float16"``."""
    return POLICIES[check_precision(precision)]


def set_precision(precision):
    """Sets the global Keras dtype policy for ``precision``; returns the previous policy's name.

    Only layers built afterwards follow it; a model built before keeps its own policy.
    """
    policy = policy_name(precision)
    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy(policy)
    return previous


@contextlib.contextmanager
def precision_scope(precision):
    """``with precision_scope("bf16"): model = create_model(...)``; restores the previous policy."""
    previous = set_precision(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def wrap_optimizer(optimizer, precision):
    """fp16: ``keras.optimizers.LossScaleOptimizer`` around ``optimizer`` (dynamic loss scaling,
    starting at 2^15, halved on a non-finite gradient, doubled after 2000 finite steps);
    fp32 and bf16: ``optimizer`` unchanged."""
    if check_precision(precision) != "fp16" or isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)


def precision_of(model):
    """The precision a model was built with, read from its layers' policies (its Conv/Dense
    layers compute in 16 bits under a mixed policy; the float32 classifier is ignored)."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            for precision, dtype in COMPUTE_DTYPES.items():
                if layer.compute_dtype == dtype:
                    return precision
            break
    raise ValueError(f"cannot tell the precision of model {model.name!r}: no float32/16 convolution found")


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The first CPU's feature flags from ``cpuinfo``; None where it cannot be read (not Linux)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("flags", "Features"):
                    return set(value.split())
    except OSError:
        pass
    return None


def cpu_warning(precision, flags):
    """A one-line warning when ``precision`` is 16-bit and a CPU with ``flags`` (``cpu_flags()``)
    has no arithmetic for it; None otherwise, and when the flags are unknown or neither x86's
    nor aarch64's."""
    if check_precision(precision) == "fp32" or not flags:
        return None
    if "avx" in flags:
        wanted = ARITHMETIC_FLAGS[precision]
    elif "asimd" in flags:
        wanted = AARCH64_ARITHMETIC_FLAGS[precision]
    else:
        return None
    if any(flag in flags for flag in wanted):
        return None
    return (f"--precision={precision} on a CPU without {precision} arithmetic (none of {', '.join(wanted)}): the "
            "mixed policy only adds casts, and bf16 ran 12.7x slower than fp32 on such a CPU (docs/performance.md); "
            "train in fp32 here, or pass --precision=auto")

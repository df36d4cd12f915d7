"""Training precision: float32, or Keras mixed precision in bfloat16 or float16.

``fp32`` computes and stores everything in float32. ``bf16`` and ``fp16`` are Keras's
``mixed_bfloat16`` and ``mixed_float16`` policies (Micikevicius et al. 2018): layers compute
in 16 bits while variables stay float32, and the classifier keeps float32 logits
(``models.blocks.classifier_head``), so the softmax and the loss are float32. float16's narrow
exponent needs dynamic loss scaling (``wrap_optimizer``); bfloat16 has float32's range and
does not. The policy is global Keras state read when layers are built: build the model inside
``precision_scope`` (or after ``set_precision``).

On a CPU without 16-bit arithmetic the mixed policies only add casts: the recipe's bf16
WRN-16-4 step was 12.7x slower than fp32 on an AVX2 CPU (``docs/results/performance.md``);
``cpu_warning`` says so before training starts.
"""

import contextlib

import keras

PRECISIONS = ("fp32", "bf16", "fp16")
POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}
COMPUTE_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}
# /proc/cpuinfo flags of x86 CPUs that compute in 16 bits (not just convert, as f16c does).
ARITHMETIC_FLAGS = {"bf16": ("avx512_bf16", "amx_bf16"), "fp16": ("avx512_fp16", "amx_fp16")}


def check_precision(precision):
    """Returns ``precision`` if it is one of ``PRECISIONS``, else raises ValueError naming it."""
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}; accepted: {', '.join(map(repr, PRECISIONS))}.")
    return precision


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
    has no arithmetic for it; None otherwise, and when the flags are unknown or not x86's."""
    if check_precision(precision) == "fp32" or not flags or "avx" not in flags:
        return None
    if any(flag in flags for flag in ARITHMETIC_FLAGS[precision]):
        return None
    return (f"--precision={precision} on a CPU without {precision} arithmetic (none of "
            f"{', '.join(ARITHMETIC_FLAGS[precision])}): the mixed policy only adds casts, and bf16 ran 12.7x slower "
            "than fp32 on such a CPU (docs/results/performance.md); train in fp32 here")

"""How long the trials of an experiment still to run should take on this machine (2 CPU cores).

Calibrated for WRNs on CIFAR-sized images only; other models (ResNet-50 on ImageNet) get no
estimate rather than a wrong one.
"""

from tfzoo.models.schemes import NORMALIZATIONS

# Measured here with tfzoo.training.train on 2 CPU cores (TensorFlow 2.21, Keras 3.15): training on
# one example of WRN-d-k costs PER_EXAMPLE * n * k^1.5 s (n = (d - 4) / 6 blocks per stage: WRN-10-1
# ~1.5 ms, WRN-16-1 ~3 ms, WRN-100-1 ~20 ms), x BN_FACTOR with (ghost) batch norm, plus STEP per
# update; evaluating one EVAL_FRACTION of that; building and tracing BUILD + PER_BLOCK per block.
CALIBRATION = "measured on WRN-10-1, WRN-16-1, WRN-100-1 at batch 2 to 256 with other jobs running; +-30 %"
PER_EXAMPLE, BN_FACTOR, STEP, EVAL_FRACTION, BUILD, PER_BLOCK = 1.3e-3, 1.8, 0.015, 0.4, 3.0, 0.55


def trial_seconds(search, epochs, sizes):
    """Seconds one trial of ``search`` (a WRN) should take here (less if it diverges): build, epochs
    of updates and evaluation on the test set, the final evaluation of both sets."""
    n = (search.depth - 4) // 6
    normalized = NORMALIZATIONS[search.condition.normalization].normalized
    example = PER_EXAMPLE * n * search.width**1.5 * (BN_FACTOR if normalized else 1.0)
    train = (sizes["train"] // search.batch_size) * (STEP + search.batch_size * example)
    evaluate = EVAL_FRACTION * example
    return BUILD + PER_BLOCK * 3 * n + epochs * (train + sizes["test"] * evaluate) + sum(sizes.values()) * evaluate


def describe_seconds(seconds):
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400 / 365:.1f} years" if seconds > 365 * 86400 else f"{seconds / 86400:.0f} days"


def describe(pending, epochs, sizes):
    """The "estimated time: ..." line for the searches of the trials still to run (one entry per trial)."""
    if any(not s.model.startswith("wrn-") for s in pending):
        return "estimated time: none (the estimate is calibrated for WRNs on CIFAR-sized images only)"
    seconds = sum(trial_seconds(s, epochs, sizes) for s in pending)
    return f"estimated time: {describe_seconds(seconds)} on 2 quiet CPU cores ({CALIBRATION})"

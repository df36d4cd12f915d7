"""Weight initialisers for the schemes: He normal, its Fixup rescaling, and zeros."""

import keras


def he_normal(scale=1.0, seed=None):
    """He et al. (2015) normal init, ``std = scale * sqrt(2 / fan_in)`` (untruncated)."""
    return keras.initializers.VarianceScaling(
        scale=2.0 * scale * scale, mode="fan_in", distribution="untruncated_normal", seed=seed
    )


def fixup_scale(num_branches, convs_per_branch):
    """Fixup's factor ``L^(-1/(2m-2))`` for L residual branches of m layers ("Batch normalization has
    multiple benefits", section 2)."""
    if num_branches < 1 or convs_per_branch < 2:
        raise ValueError(
            "fixup_scale needs num_branches >= 1 and convs_per_branch >= 2. "
            f"Received: num_branches={num_branches}, convs_per_branch={convs_per_branch}"
        )
    return float(num_branches) ** (-1.0 / (2 * convs_per_branch - 2))


def zeros():
    """Zero init: Fixup's classifier and last convolution of each residual branch."""
    return keras.initializers.Zeros()

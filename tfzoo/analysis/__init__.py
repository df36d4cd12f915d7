"""Analyses of models at and during training: signal propagation through residual blocks.

``measure(model, images)`` gives the variance of the residual stream after every block and of
every branch; ``compare_schemes`` does it for BN, no normalization and ZeroInit at
initialisation; ``SignalLogger`` logs it (and the branch multipliers) to TensorBoard each epoch.
Finished runs side by side (``recipes.compare_runs``) are in ``tfzoo.analysis.runs``.
"""

from tfzoo.analysis.signal import (SCHEMES, Signal, channel_variance, compare_schemes, measure, multipliers,
                                   residual_blocks, signal_model)

__all__ = [
    "SCHEMES", "Signal", "SignalLogger", "channel_variance", "compare_schemes", "measure", "multipliers",
    "residual_blocks", "signal_model",
]


def __getattr__(name):
    # The callback writes TensorBoard summaries with TensorFlow; imported on first use only.
    if name == "SignalLogger":
        from tfzoo.analysis.callbacks import SignalLogger  # TensorBoard's writer: TensorFlow, on first use only

        return SignalLogger
    raise AttributeError(f"module 'tfzoo.analysis' has no attribute {name!r}")

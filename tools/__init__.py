"""Investigation tools behind docs/performance.md: not part of the benchmarks users run.

- ``python -m tools.kernel_time``: a training step's oneDNN kernels, timed by oneDNN itself, in
  Keras and PyTorch side by side (where the fp32 step's time goes).
- ``python -m tools.batch_norm``: one training-mode BN layer, forward and backward, in each
  implementation (why tfzoo's BN takes TensorFlow's fused kernel).
- ``bash tools/gpu_wheels.sh``: the Keras wheels that ``bench.gpu_figures`` needs on a GPU machine
  without a package registry (``make gpu-wheels``).

They run from a clone (they are not installed) and may import ``bench`` and ``tfzoo``; nothing
imports them.
"""

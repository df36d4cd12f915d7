"""Developer tools: the investigations behind docs/performance.md and small utilities; not benchmarks users run.

- ``python -m tools.kernel_time``: a training step's oneDNN kernels, timed by oneDNN itself, in
  Keras and PyTorch side by side (where the fp32 step's time goes).
- ``python -m tools.op_profile``: the Keras step's time per TensorFlow op type, from TensorFlow's profiler.
- ``python -m tools.batch_norm``: one training-mode BN layer, forward and backward, in each
  implementation (why tfzoo's BN takes TensorFlow's fused kernel).
- ``python -m tools.conv_grad``: one 3x3 convolution's weight gradient, TensorFlow's kernel against
  two matmul forms and PyTorch's (where the bf16 gap to PyTorch is). ``layer_timing`` holds what it
  and ``batch_norm`` share.
- ``python -m tools.image_folder``: a few classes of a built-in data set written as an image folder,
  a small task for ``--dataset=folder`` and fine-tuning (docs/pretrained.md).
- ``bash tools/carry.sh RUN``: a training run's resumable state, carried between sessions
  (carry/README.md).
- ``bash tools/gpu_wheels.sh``: the Keras wheels that ``bench.gpu_figures`` needs on a GPU machine
  without a package registry (``make gpu-wheels``).

They run from a clone (they are not installed) and may import ``bench`` and ``tfzoo``; the library,
the recipes and the benchmarks never import them (tests do).
"""

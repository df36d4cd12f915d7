"""A 3x3 convolution's weight gradient at WRN-16-4's shapes: TensorFlow's kernel, two matmul forms, PyTorch's kernel.

    python -m tools.conv_grad --precision=bf16               # every implementation, WRN-16-4's shapes at batch 64
    python -m tools.conv_grad --impl=tf_conv,torch --shapes=128x16x16x32x32 --repeats=50

``tools.kernel_time`` found the bf16 gap between a Keras and a PyTorch training step in one
oneDNN kernel, the weight gradient of the convolutions (``docs/performance/xeon_amx.md`` C9),
which each framework runs from its own bundled oneDNN release. This times that kernel alone,
``dW = conv_backprop_filter(x, dy)`` for a 3x3 kernel, stride 1, SAME padding, per shape, for

- ``tf_conv``: TensorFlow's ``Conv2DBackpropFilter``, what a Keras ``Conv2D``'s gradient runs;
- ``tf_patches``: the same gradient as one matmul, ``patches(x)^T dy`` (``tf.image.extract_patches``:
  every 3x3 neighbourhood copied out, 9x the input's memory);
- ``tf_taps``: nine matmuls, one per kernel tap, ``shift(x)^T dy`` over the padded input;
- ``torch``: PyTorch's ``convolution_backward`` on channels-last tensors, in its own process.

The matmul forms are what a custom gradient inside a layer could use instead of TensorFlow's
kernel (oneDNN's matmul runs on AMX too); they compute the same ``dW`` (tested). TensorFlow runs
as the recipes do (oneDNN unless ``TF_ENABLE_ONEDNN_OPTS`` says otherwise, one inter-op thread).
Shapes are ``NxHxWxCxO`` (input NHWC, O output channels). Figures are the median of ``--repeats``
timed calls after 3 warm-up ones, with the CPU's model and flags, and each implementation's time
as a multiple of ``tf_conv``'s (``time_vs_tf_conv``, below 1 is faster); the last output line is JSON.
When a TensorFlow release bundles a newer oneDNN, this is the quick check of whether the kernel
caught up.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for


import numpy as np

from bench import common
from tools.layer_timing import add_torch, flag_parser, median_ms, parse, parse_shape, report

SHAPES = ("64x32x32x64x64", "64x16x16x128x128", "64x8x8x256x256", "64x32x32x16x64")  # WRN-16-4's 3x3 convs, batch 64
IMPLS = ("tf_conv", "tf_patches", "tf_taps", "torch")
KERNEL = 3


def random_pair(shape):
    """The input ``x`` (NHWC) and the upstream gradient ``dy`` (NHWO), float32, the same every call."""
    n, h, w, c, o = shape
    rng = np.random.RandomState(0)
    return rng.normal(size=(n, h, w, c)).astype("float32"), rng.normal(size=(n, h, w, o)).astype("float32")


def tf_grad(impl, shape, precision="fp32"):
    """A call that computes ``dW`` (``3 x 3 x C x O``, float32 numpy) the way ``impl`` does, on TensorFlow."""
    import tensorflow as tf

    n, h, w, c, o = shape
    dtype = tf.bfloat16 if precision == "bf16" else tf.float32
    x, dy = (tf.cast(tf.constant(a), dtype) for a in random_pair(shape))
    pad = KERNEL // 2

    @tf.function
    def conv():
        return tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=[KERNEL, KERNEL, c, o], out_backprop=dy,
                                               strides=[1, 1, 1, 1], padding="SAME")

    @tf.function
    def patches():
        cols = tf.image.extract_patches(x, [1, KERNEL, KERNEL, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME")
        grad = tf.matmul(tf.reshape(cols, [-1, KERNEL * KERNEL * c]), tf.reshape(dy, [-1, o]), transpose_a=True)
        return tf.reshape(grad, [KERNEL, KERNEL, c, o])  # extract_patches orders each patch (row, column, channel)

    @tf.function
    def taps():
        padded = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
        flat_dy = tf.reshape(dy, [-1, o])
        grads = [tf.matmul(tf.reshape(padded[:, i:i + h, j:j + w, :], [-1, c]), flat_dy, transpose_a=True)
                 for i in range(KERNEL) for j in range(KERNEL)]
        return tf.reshape(tf.stack(grads), [KERNEL, KERNEL, c, o])

    fn = {"tf_conv": conv, "tf_patches": patches, "tf_taps": taps}[impl]
    return lambda: tf.cast(fn(), tf.float32).numpy()


def torch_grad(shape, precision="fp32"):
    """The same ``dW`` by PyTorch's ``convolution_backward`` (channels-last), as ``3 x 3 x C x O`` numpy."""
    import torch

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    x, dy = (torch.from_numpy(a).to(dtype).permute(0, 3, 1, 2) for a in random_pair(shape))  # NCHW views of NHWC
    weight = torch.zeros(shape[4], shape[3], KERNEL, KERNEL, dtype=dtype).contiguous(memory_format=torch.channels_last)
    pad = KERNEL // 2

    def grad():
        dw = torch.ops.aten.convolution_backward(dy, x, weight, None, [1, 1], [pad, pad], [1, 1], False, [0, 0], 1,
                                                 [False, True, False])[1]
        return dw.float().permute(2, 3, 1, 0).numpy()  # OIHW -> HWIO, Keras's kernel layout

    return grad


def measure(impls, shapes, repeats, precision="fp32"):
    """``{impl: {shape: median ms}}`` for the TensorFlow implementations, in this process."""
    if any(impl != "torch" for impl in impls):
        from tfzoo.training.determinism import make_deterministic

        make_deterministic()
    return {impl: {s: median_ms(tf_grad(impl, parse_shape(s), precision), repeats) for s in shapes}
            for impl in impls if impl != "torch"}


def main(argv=None):
    layout = "NxHxWxCxO"
    parser = flag_parser("python -m tools.conv_grad", __doc__.split("\n")[0], IMPLS, SHAPES, layout)
    args, impls, shapes = parse(parser, argv, IMPLS, layout)
    result = {"ms": measure(impls, shapes, args.repeats, args.precision), "repeats": args.repeats,
              "precision": args.precision, "cpu": common.cpu_info()}
    add_torch(result, parser, "tools.conv_grad", impls, shapes, args, torch_grad)
    if "tf_conv" in result["ms"]:
        result["time_vs_tf_conv"] = {impl: {s: round(ms / result["ms"]["tf_conv"][s], 3) for s, ms in by_shape.items()}
                                  for impl, by_shape in result["ms"].items() if impl != "tf_conv"}
    return report(result, shapes, width=10)


if __name__ == "__main__":
    main()

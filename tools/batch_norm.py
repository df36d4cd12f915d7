"""One training-mode BN layer, forward and backward, at WRN-16-4's shapes: where Keras's BN step time goes.

    python -m tools.batch_norm                     # Keras, tfzoo, TensorFlow's fused kernel, PyTorch (child process)
    python -m tools.batch_norm --impl=keras --shapes=64x32x32x64
    python -m tools.batch_norm --impl=ghost,ghost_ops,tfzoo --shapes=128x28x28x32 --ghost_batch_size=64 --precision=bf16

The step-level profile (``docs/performance/epyc_avx2.md`` A3) put the gap between Keras and PyTorch
with BN in BN's element-wise kernels. This times that directly: ``y = BN(x)`` in training mode
and the gradient of ``sum(y * u)`` (``u`` a fixed random upstream gradient; ``sum(y * y)`` would
be constant) with respect to ``x``, gamma and beta, for

- ``keras``: ``keras.layers.BatchNormalization``, differentiated by autodiff (built from
  ``keras.ops``: ``tf.nn.moments`` and ``tf.nn.batch_normalization`` on TensorFlow), in a
  ``tf.function``; what the models used until ``tfzoo.layers.BatchNormalization``;
- ``tfzoo``: ``tfzoo.layers.BatchNormalization`` as the models use it: on TensorFlow, the fused
  kernel through the layer (``fused_normalize``);
- ``tfzoo_ops``: the same layer held to its ``keras.ops`` path, BN's backward pass written out
  (``normalize``; what JAX runs, and what TensorFlow ran before the fused path);
- ``tf_fused``: TensorFlow's fused kernel (``FusedBatchNormV3``) called directly;
- ``ghost``: ``tfzoo.layers.GhostBatchNormalization`` over ghost batches of ``--ghost_batch_size``
  as the models use it (on TensorFlow, the fused kernel once per ghost batch); ``ghost_ops``: the
  same layer held to its ``keras.ops`` path (what it ran before the fused path);
- ``torch``: ``torch.nn.functional.batch_norm`` (one fused kernel each way), in its own process.

TensorFlow runs as the recipes do (oneDNN unless ``TF_ENABLE_ONEDNN_OPTS`` says otherwise, op
determinism, one inter-op thread). ``--precision=bf16`` runs the layers under Keras's
``mixed_bfloat16`` on bf16 inputs (``tf_fused``: bf16 inputs, float32 statistics; ``torch``: bf16
inputs and float32 weights). Figures are the median of ``--repeats`` timed calls after 3
warm-up ones; the last output line is JSON.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

import sys

import numpy as np

from tools.layer_timing import add_torch, flag_parser, median_ms, parse, parse_shape, report

SHAPES = ("64x32x32x64", "64x16x16x128", "64x8x8x256")  # WRN-16-4's three stages at batch 64 (NHWC)
IMPLS = ("keras", "tfzoo", "tfzoo_ops", "tf_fused", "ghost", "ghost_ops", "torch")
EPSILON = 1e-5


def random_pair(shape):
    """The input ``x`` and the upstream gradient ``u``, both float32 NHWC, the same every call."""
    rng = np.random.RandomState(0)
    return rng.normal(size=shape).astype("float32"), rng.normal(size=shape).astype("float32")


def tf_step(impl, shape, precision="fp32", ghost_batch_size=32):
    """A call that runs one forward and backward pass of ``impl`` on TensorFlow; it returns the
    gradient with respect to ``x`` (the same random ``x`` for every implementation)."""
    import keras
    import tensorflow as tf

    dtype = tf.bfloat16 if precision == "bf16" else tf.float32
    x, u = (tf.cast(tf.constant(a), dtype) for a in random_pair(shape))
    if impl in ("keras", "tfzoo", "tfzoo_ops", "ghost", "ghost_ops"):
        from tfzoo.layers import BatchNormalization, GhostBatchNormalization

        class OpsBatchNormalization(BatchNormalization):
            def _fused(self, inputs):  # the keras.ops path on every backend
                return False

        class OpsGhostBatchNormalization(GhostBatchNormalization):
            def _fused(self, inputs):
                return False

        policy = "mixed_bfloat16" if precision == "bf16" else "float32"
        if impl.startswith("ghost"):
            cls = GhostBatchNormalization if impl == "ghost" else OpsGhostBatchNormalization
            layer = cls(ghost_batch_size, epsilon=EPSILON, dtype=policy)
        else:
            layer = {"keras": keras.layers.BatchNormalization, "tfzoo": BatchNormalization,
                     "tfzoo_ops": OpsBatchNormalization}[impl](epsilon=EPSILON, dtype=policy)
        layer.build(shape)
        weights = layer.trainable_weights

        def forward(x):
            return layer(x, training=True)
    else:
        gamma, beta = tf.Variable(tf.ones(shape[-1:])), tf.Variable(tf.zeros(shape[-1:]))
        weights = [gamma, beta]

        def forward(x):
            return tf.compat.v1.nn.fused_batch_norm(x, gamma, beta, epsilon=EPSILON, is_training=True)[0]

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = forward(x)
            loss = tf.reduce_sum(tf.cast(y, tf.float32) * tf.cast(u, tf.float32))
        return tape.gradient(loss, [x, *weights])

    return lambda: step(x)[0].numpy()


def torch_step(shape, precision="fp32"):
    """The same pass with ``F.batch_norm`` on a channels-last tensor; returns the gradient (NHWC)."""
    import torch
    import torch.nn.functional as F

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    x, u = (torch.from_numpy(a).to(dtype).permute(0, 3, 1, 2) for a in random_pair(shape))  # NCHW views of NHWC
    x.requires_grad_(True)  # torch's channels_last layout
    gamma, beta = torch.ones(shape[-1], requires_grad=True), torch.zeros(shape[-1], requires_grad=True)

    def step():
        y = F.batch_norm(x, None, None, gamma, beta, training=True, eps=EPSILON)
        (y * u).sum().backward()
        dx = x.grad.permute(0, 2, 3, 1)  # NHWC again, a view
        x.grad = gamma.grad = beta.grad = None
        return dx

    return step


def measure(impls, shapes, repeats, precision="fp32", ghost_batch_size=32):
    """``{impl: {shape: median ms}}`` for the TensorFlow implementations, in this process."""
    if any(impl != "torch" for impl in impls):
        from tfzoo.training.determinism import make_deterministic

        make_deterministic()
        import keras

        keras.utils.set_random_seed(0)
    return {impl: {s: median_ms(tf_step(impl, parse_shape(s), precision, ghost_batch_size), repeats) for s in shapes}
            for impl in impls if impl != "torch"}


def main(argv=None):
    layout = "NxHxWxC"
    parser = flag_parser("python -m tools.batch_norm", __doc__.split("\n")[0], IMPLS, SHAPES, layout)
    parser.add_argument("--ghost_batch_size", type=int, default=32, help="ghost, ghost_ops: examples per ghost batch")
    args, impls, shapes = parse(parser, argv, IMPLS, layout)
    if any(i.startswith("ghost") for i in impls):
        bad = [s for s in shapes if args.ghost_batch_size < 1 or parse_shape(s)[0] % args.ghost_batch_size]
        if bad:
            parser.error(f"--ghost_batch_size={args.ghost_batch_size} does not divide the batch of {bad[0]}; "
                         "accepted: a divisor of every shape's N")
    result = {"ms": measure(impls, shapes, args.repeats, args.precision, args.ghost_batch_size),
              "repeats": args.repeats, "precision": args.precision, "ghost_batch_size": args.ghost_batch_size}
    add_torch(result, parser, "tools.batch_norm", impls, shapes, args, torch_step)
    if "keras" in result["ms"]:
        result["over_keras"] = {impl: {s: round(result["ms"]["keras"][s] / ms, 3) for s, ms in by_shape.items()}
                                for impl, by_shape in result["ms"].items() if impl != "keras"}
    if "tensorflow" in sys.modules:
        from tfzoo.training.determinism import onednn_enabled

        result["onednn"] = onednn_enabled()
    return report(result, shapes, width=9)


if __name__ == "__main__":
    main()

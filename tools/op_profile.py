"""Where a compiled Keras training step's time goes, op by op, from TensorFlow's own profiler.

    python -m tools.op_profile --model=wrn-16-4 --normalization=none --init=zeroinit --precision=bf16 --threads=1

Builds the recipe's train step as ``bench.train_throughput`` times it (``keras_run``: the same
model, L2, optimizer, metrics, op determinism and one inter-op thread, on a fixed batch), takes
``--warmup`` untimed steps, then records ``--steps`` steps with ``tf.profiler.experimental`` and
sums the trace's op events by op type (``_MklNativeFusedConv2D``, ``Relu``, ``Mul``, ...): the
milliseconds each type takes per step, and its share of the step. ``docs/performance/`` (C1,
C4, D2) reads these tables: the convolutions are oneDNN's and the same in PyTorch
(``tools.kernel_time``), the rest is what the model code and the framework add.

The trace is written under ``--logdir`` (a temporary folder, removed afterwards, unless given:
then it stays for TensorBoard's profile plugin). The last output line is JSON.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

import glob
import os
import tempfile
import time
from collections import defaultdict

from bench import common, train_flags
from bench.cli import FlagParser

# Op events of the step itself: the executor's compute threads, not the Python-side function call
# events ("__inference_...", "Run") that enclose them.
COMPUTE_LINE_PREFIX = "tf_Compute"


def op_type(event_name):
    """The op type of a TensorFlow trace event named ``"op_name:OpType"``; None for any other event
    (the executor's and thread pool's own, named ``"ExecutorState::Process"`` and the like)."""
    if "::" in event_name:
        return None
    name, sep, kind = event_name.rpartition(":")
    return kind if sep and name and kind and " " not in kind else None


def sum_ops(xspace):
    """``{op type: total ms}`` over the compute lines of an ``XSpace`` (the profiler's trace)."""
    totals = defaultdict(float)
    for plane in xspace.planes:
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            if not line.name.startswith(COMPUTE_LINE_PREFIX):
                continue
            for event in line.events:
                kind = op_type(names.get(event.metadata_id, ""))
                if kind:
                    totals[kind] += event.duration_ps / 1e9
    return dict(totals)


def read_trace(logdir):
    """The newest ``.xplane.pb`` under ``logdir``, parsed."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    paths = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True), key=os.path.getmtime)
    if not paths:
        raise RuntimeError(f"the profiler wrote no trace under {logdir}")
    xspace = xplane_pb2.XSpace()
    with open(paths[-1], "rb") as f:
        xspace.ParseFromString(f.read())
    return xspace


def parse_args(argv=None):
    parser = FlagParser("python -m tools.op_profile", __doc__.split("\n")[0])
    add = parser.add_argument
    train_flags.add_model_flags(add)
    add("--precision", default="fp32", choices=("fp32", "bf16", "fp16"))
    add("--steps", type=int, default=3, help="profiled steps")
    add("--warmup", type=int, default=3, help="untimed steps first (tracing, oneDNN's primitive caches)")
    add("--threads", type=int, default=0, help="TensorFlow's intra-op threads (0: its default)")
    add("--image_size", type=int, default=32)
    add("--channels", type=int, default=3)
    add("--top", type=int, default=15, help="op types printed (the JSON has them all)")
    add("--logdir", default=None, help="keep the trace here (default: a temporary folder, removed)")
    add("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 0 or args.threads < 0 or args.top < 1:
        parser.error(f"--steps and --top must be >= 1, --warmup and --threads >= 0. Received: --steps={args.steps} "
                     f"--warmup={args.warmup} --threads={args.threads} --top={args.top}")
    import keras

    if keras.backend.backend() != "tensorflow":
        parser.error(f"tools.op_profile reads TensorFlow's profiler: it needs KERAS_BACKEND=tensorflow. "
                     f"Received: KERAS_BACKEND={keras.backend.backend()}")
    forwarded = [f"--{name}={getattr(args, name)}" for name in (
        "model", "normalization", "init", "batch_size", "ghost_batch_size", "precision", "threads", "image_size",
        "channels", "seed", "accumulate_ghost_batches")]
    return args, train_flags.parse_args(forwarded)  # validated as bench.train_throughput validates them


def profile(run_args, steps, warmup, logdir):
    """(step ms, ``{op type: ms per step}``) of ``steps`` profiled steps after ``warmup`` others."""
    import tensorflow as tf

    from bench.train_throughput import keras_run

    run = keras_run(run_args, run_args.precision, run_args.normalization, run_args.init)
    for _ in range(warmup):
        run.step()
    tf.profiler.experimental.start(logdir)
    try:
        started = time.perf_counter()
        for _ in range(steps):
            run.step()
        step_ms = 1e3 * (time.perf_counter() - started) / steps
    finally:
        tf.profiler.experimental.stop()
    return step_ms, {kind: ms / steps for kind, ms in sum_ops(read_trace(logdir)).items()}


def main(argv=None):
    args, run_args = parse_args(argv)
    if args.threads:
        common.set_threads(args.threads)
    if args.logdir:
        step_ms, ops = profile(run_args, args.steps, args.warmup, args.logdir)
    else:
        with tempfile.TemporaryDirectory(prefix="tfzoo-op-profile-") as logdir:
            step_ms, ops = profile(run_args, args.steps, args.warmup, logdir)
    ops_ms = sum(ops.values())
    print(f"{args.model} {args.normalization}/{args.init} {args.precision}, batch {args.batch_size}: step "
          f"{step_ms:.1f} ms (profiled), ops {ops_ms:.1f} ms per step")
    for kind, ms in sorted(ops.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"    {kind:44s} {ms:8.1f} ms  {100 * ms / step_ms:5.1f} %")
    output = dict(model=args.model, normalization=args.normalization, init=args.init, precision=args.precision,
                  batch_size=args.batch_size, steps=args.steps, warmup_steps=args.warmup, threads=args.threads,
                  step_ms=round(step_ms, 2), ops_ms=round(ops_ms, 2),
                  ops={k: round(v, 3) for k, v in sorted(ops.items(), key=lambda kv: -kv[1])})
    output.update(common.environment())
    return common.print_result(output)


if __name__ == "__main__":
    main()

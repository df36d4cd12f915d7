"""A training step's oneDNN kernels, timed by oneDNN itself, in Keras and in PyTorch side by side.

    python -m tools.kernel_time --model=wrn-16-4 --normalization=batch_norm --batch_size=64 --steps=10
    python -m tools.kernel_time --normalization=none --init=zeroinit --precision=bf16 --threads=1

Keras on TensorFlow (with oneDNN's CPU kernels, as the recipes run it) and PyTorch eager both
hand their convolutions and matmuls to oneDNN. With ``ONEDNN_VERBOSE=1`` oneDNN prints one line
per kernel it executes: its kind, implementation, direction and wall time. This runs
``bench.train_throughput``'s two steps (``--run=keras,...`` and ``--run=torch,...``) in child
processes with that set, both alive at once and asked for one step each in turn (as
``--interleave=step``), and sums each step's kernel lines. So a step splits into
``onednn_ms`` (the same library's kernels in both frameworks) and ``other_ms`` (everything else:
BN, ReLU, additions, the optimizer, the framework's own overhead), and ``bound`` says what the
Keras step would need for the 1.05x PyTorch target (``TARGET``) given its kernels. Each kind is
also split by oneDNN implementation (``jit_bf16:avx512_core_bf16``, ``brg_conv_fwd:...``), which
tells a slower kernel apart from a different one: the two frameworks bundle their own oneDNN
releases (``ONEDNN_VERBOSE=1`` prints each one's version when it starts).

Figures are medians over the paired steps. Printing a line per kernel costs a little, so the
step times here are slightly above ``bench.train_throughput``'s; the last output line is JSON.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

import os
import statistics
from collections import defaultdict

from bench import common, interleave, train_flags, train_throughput
from bench.cli import FlagParser
from bench.train_plan import run_name, torch_unavailable
from tfzoo.cli import ONEDNN_ENV

VERBOSE_ENV = {"ONEDNN_VERBOSE": "1"}
PREFIXES = ("onednn_verbose", "dnnl_verbose")
TARGET = 1.05  # issues 8 and 24: Keras >= 1.05x PyTorch at the same precision


def parse_exec(line):
    """``(kind, implementation, direction, problem, ms)`` of one oneDNN verbose line that reports a
    primitive's execution (``onednn_verbose,v1,primitive,exec,cpu,convolution,jit:avx2,
    backward_weights,...,mb64_ic64oc64_...,53.9``); None for any other line."""
    fields = line.strip().split(",")
    if fields[0] not in PREFIXES or "exec" not in fields[:5] or "graph" in fields[:4]:
        return None
    at = fields.index("exec")
    if len(fields) < at + 6:
        return None
    try:
        ms = float(fields[-1])
    except ValueError:
        return None
    return fields[at + 2], fields[at + 3], fields[at + 4], fields[-2], ms


def summarize_step(lines):
    """``{"onednn_ms", "by_kind": {"convolution backward_weights": ms, ...}, "count_by_kind", "kernels"}`` of one
    step's output lines."""
    by_kind, counts, by_impl = defaultdict(float), defaultdict(int), defaultdict(float)
    for line in lines:
        record = parse_exec(line)
        if record:
            kind, implementation, direction, _, ms = record
            name = f"{kind} {direction}" if direction != "undef" else kind
            by_kind[name] += ms
            counts[name] += 1
            by_impl[f"{name} {implementation}"] += ms
    return {"onednn_ms": sum(by_kind.values()), "by_kind": dict(by_kind), "count_by_kind": dict(counts),
            "by_implementation": dict(by_impl), "kernels": sum(counts.values())}


def summarize_run(steps):
    """One run's medians over its steps (``summarize_step``'s, with ``step_ms`` and ``other_ms``):
    ``step_ms``, ``onednn_ms``, ``other_ms`` and ``by_kind``; the most kernels of any step per kind."""
    kinds = sorted({kind for step in steps for kind in step["by_kind"]})
    implementations = sorted({impl for step in steps for impl in step.get("by_implementation", {})})

    def median(key):
        return round(statistics.median(s[key] for s in steps), 1)

    return {"step_ms": median("step_ms"), "onednn_ms": median("onednn_ms"), "other_ms": median("other_ms"),
            "kernels_per_step": max(s["kernels"] for s in steps),
            "by_kind": {k: round(statistics.median(s["by_kind"].get(k, 0.0) for s in steps), 1) for k in kinds},
            "count_by_kind": {k: max(s["count_by_kind"].get(k, 0) for s in steps) for k in kinds},
            "by_implementation": {k: round(statistics.median(s["by_implementation"].get(k, 0.0) for s in steps), 1)
                                  for k in implementations},
            "steps": len(steps)}


def paired(keras, torch):
    """Ratios over the paired steps (medians of the step-by-step ratios) and the fp32 target's
    bound: the most time Keras may spend outside oneDNN's kernels for a step ``TARGET`` x faster
    than PyTorch's, with its kernels as they are."""
    def median_ratio(key):
        return round(statistics.median(k_[key] / t_[key] for k_, t_ in zip(keras["per_step"], torch["per_step"])), 3)

    k, t = keras["summary"], torch["summary"]
    allowed = t["step_ms"] / TARGET - k["onednn_ms"]
    return {
        "onednn_keras_over_torch": median_ratio("onednn_ms"),
        "other_keras_over_torch": median_ratio("other_ms"),
        "speed_keras_over_torch": round(statistics.median(
            t_["step_ms"] / k_["step_ms"] for k_, t_ in zip(keras["per_step"], torch["per_step"])), 3),
        "bound": {"target": TARGET, "keras_other_ms_allowed": round(allowed, 1), "keras_other_ms": k["other_ms"],
                  "torch_other_ms": t["other_ms"]},
    }


def parse_args(argv=None):
    parser = FlagParser("python -m tools.kernel_time", __doc__.split("\n")[0])
    add = parser.add_argument
    train_flags.add_model_flags(add)
    add("--steps", type=int, default=10, help="paired timed steps")
    add("--warmup", type=int, default=3, help="untimed steps first")
    add("--image_size", type=int, default=32)
    add("--seed", type=int, default=0)
    add("--precision", default="fp32", choices=("fp32", "bf16"),
        help="both frameworks' precision: fp32, or bf16 (Keras mixed_bfloat16, PyTorch autocast)")
    add("--threads", type=int, default=0, help="intra-op threads of each framework (0: their defaults)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 0:
        parser.error(f"--steps must be >= 1 and --warmup >= 0. Received: --steps={args.steps} --warmup={args.warmup}")
    if torch_unavailable():
        parser.error(torch_unavailable())
    import keras

    if keras.backend.backend() != "tensorflow":
        parser.error(f"tools.kernel_time times TensorFlow's oneDNN kernels: it needs KERAS_BACKEND=tensorflow. "
                     f"Received: KERAS_BACKEND={keras.backend.backend()}")
    forwarded = [f"--{name}={getattr(args, name)}" for name in (
        "model", "normalization", "init", "batch_size", "ghost_batch_size", "steps", "warmup", "image_size", "seed",
        "precision", "threads", "accumulate_ghost_batches")]
    return args, train_flags.parse_args(forwarded)  # validates them as train_throughput does


def time_kernels(run_args, keys):
    """``{key: {"summary", "per_step"}}`` of the runs ``keys``, alive at once in child processes
    with oneDNN's verbose lines on, timed one step each in turn (``bench.interleave``)."""
    names = [run_name(key) for key in keys]
    lines = {name: [[] for _ in range(run_args.steps)] for name in names}
    timed = interleave.time_interleaved(
        names, [train_throughput.child_argv(run_args, key) for key in keys],
        [dict(train_throughput.child_env(key), **VERBOSE_ENV) for key in keys], run_args.steps, os.getcwd(),
        on_line=lambda name, i, line: lines[name][i].append(line))
    out = {}
    for key, name in zip(keys, names):
        steps = []
        for step_lines, seconds in zip(lines[name], timed[name][1]):
            kernels = summarize_step(step_lines)
            steps.append(dict(kernels, step_ms=1e3 * seconds, other_ms=1e3 * seconds - kernels["onednn_ms"]))
        if not any(s["kernels"] for s in steps):
            raise RuntimeError(f"{name} printed no oneDNN kernel lines: it does not run oneDNN's kernels "
                               f"(TensorFlow needs {ONEDNN_ENV}=1)")
        result = train_throughput.child_result(key, timed[name][0])  # checks the child's TensorFlow kernels
        out[key] = {"summary": dict(summarize_run(steps), parameters=result["parameters"]), "per_step": steps}
    return out


def main(argv=None):
    args, run_args = parse_args(argv)
    keys = [("keras", args.precision, args.normalization, args.init, "onednn"),
            ("torch", args.precision, args.normalization, args.init, "-")]
    runs = time_kernels(run_args, keys)
    for key in keys:
        s = runs[key]["summary"]
        print(f"{run_name(key):42s} step {s['step_ms']:7.1f} ms = oneDNN {s['onednn_ms']:7.1f} + other "
              f"{s['other_ms']:6.1f} ms ({s['kernels_per_step']} kernels)")
        for kind, ms in sorted(s["by_kind"].items(), key=lambda kv: -kv[1]):
            print(f"    {kind:36s} {ms:7.1f} ms")
            for impl, impl_ms in sorted(s["by_implementation"].items(), key=lambda kv: -kv[1]):
                if impl.startswith(kind + " ") and impl_ms >= 0.5:
                    print(f"        {impl[len(kind) + 1:]:32s} {impl_ms:7.1f} ms")
    ratios = paired(*(runs[key] for key in keys))
    bound = ratios["bound"]
    print(f"oneDNN time keras/torch {ratios['onednn_keras_over_torch']:.3f}, other keras/torch "
          f"{ratios['other_keras_over_torch']:.3f}, speed keras/torch {ratios['speed_keras_over_torch']:.3f}; for "
          f"{TARGET}x PyTorch Keras may spend {bound['keras_other_ms_allowed']:.0f} ms outside oneDNN "
          f"(it spends {bound['keras_other_ms']:.0f}, PyTorch {bound['torch_other_ms']:.0f})")
    output = dict(model=args.model, normalization=args.normalization, init=args.init, precision=args.precision,
                  threads=args.threads, batch_size=args.batch_size,
                  steps=args.steps, warmup_steps=args.warmup, runs={run_name(k): runs[k]["summary"] for k in keys},
                  **ratios)
    output.update(common.environment())
    output["onednn"] = True  # the keras child's kernels (checked by time_kernels), whatever this process runs
    output["env"] = dict(output["env"], **{ONEDNN_ENV: "1"}, **VERBOSE_ENV)
    return common.print_result(output)


if __name__ == "__main__":
    main()

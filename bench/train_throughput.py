"""Training throughput of the recipes' compiled Keras train step, side by side with PyTorch eager.

    python -m bench.train_throughput --model=wrn-16-4 --normalization=batch_norm --init=standard \\
        --batch_size=64 --steps=15 --precision=fp32            # or bf16, fp16; --torch adds the twin
    python -m bench.train_throughput --compare --model=wrn-16-4 --batch_size=64 --steps=15
    python -m bench.train_throughput --torch --model=wrn-16-4 --steps=40 --interleave=step   # paired steps
    python -m bench.train_throughput --targets --model=wrn-16-4 --batch_size=64 --steps=30 --interleave=step
    KERAS_BACKEND=jax python -m bench.train_throughput --model=wrn-16-4 --precision=fp32

A step is one parameter update of ``batch_size`` images, exactly as ``tfzoo.training.train``
compiles it: SGD with momentum 0.9, L2 through ``add_l2``, cross-entropy from float32 logits,
the recipe's metrics, and Keras gradient accumulation over ghost batches where the recipe
accumulates (ghost BN or no normalization with ``ghost_batch_size < batch_size``), and on
TensorFlow the recipe's op determinism with one inter-op thread (``--deterministic=false``:
TensorFlow's default threads, not bit-reproducible). Inputs are
a fixed batch of standard-normal images (what normalized images look like), so the input
pipeline is not timed here (``bench.pipeline_throughput`` is). Steps are timed after
``--warmup`` untimed ones (tracing, compilation). With more than one run (``--torch``,
``--compare``) each run gets a fresh Python process of its own, one after another (order
reversed on every other of ``--rounds``): TensorFlow's, XLA's and PyTorch's thread pools then
never compete inside one process (interleaved in one process, PyTorch ran several times slower).
``--interleave=step`` keeps all runs alive at once, each in its own process, and times them one
step each in turn (``bench.interleave``), so that every ratio is also measured step by step
(``paired_ratios``), which the host's slow drift does not move.
On TensorFlow, ``--tf_kernels`` picks the CPU kernels: ``onednn`` (what the recipes run,
``tfzoo.cli.prefer_onednn``) or ``default`` (TensorFlow's own, ``TF_ENABLE_ONEDNN_OPTS=0``);
``auto`` is whatever this process's environment gives. A run whose kernels differ from the
ones this process runs is timed in a child process with the variable set.
FLOPs are the model's conv/dense multiply-adds x 2 as a direct convolution computes them:
``gflops_per_image`` is the forward pass, training is counted as 3 x forward
(``train_gflops_per_image``), ``achieved_gflops`` = training FLOPs x images/s, and
``fraction_of_peak`` divides it by the matmul peak of the run's precision (``bench.peak``:
fp32, or bf16 for 16-bit runs). Above 100 % the kernels did fewer multiplications than a direct
convolution (Winograd, FFT), and the output says so.
PyTorch runs eager in ``channels_last`` (``--torch_memory_format``), its faster CPU layout
for these convolutions, and at bf16 under ``torch.autocast`` (bf16 convolutions, float32
weights): the peer of Keras's ``mixed_bfloat16``. Every keras/torch ratio is at equal precision.
``--compare`` times keras and torch in fp32 and bf16 for the chosen model, then BN vs ghost BN
vs none/ZeroInit in both frameworks (none/ZeroInit in bf16 too), the input pipeline and the
peak, and prints their ratios; on TensorFlow it also times keras fp32 with the other kernels.
``--targets`` times what issue 24's acceptance needs (keras and torch, BN and none/ZeroInit,
fp32, and bf16 where the CPU computes in it natively) and prints each target with its ratio
and whether it is met. The output records the CPU's model and flags. The last line is JSON.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

import json
import math
import os
import subprocess
import sys

import numpy as np

from bench import common, interleave
from bench import flops as flops_lib
from bench.train_flags import parse_args
from bench.train_plan import (TF_KERNELS, TORCH_PRECISIONS, check_targets, kernels_in_force, plan, ratios,
                              ratios_by_round, ratios_by_step, run_name, torch_unavailable)
from tfzoo.cli import ONEDNN_ENV


OVER_PEAK = ("over 100 % of the matmul peak: direct-convolution FLOPs are counted, and the kernels did fewer "
             "multiplications (Winograd or similar)")


class Run:
    """One configuration to time: calling it performs one parameter update and records its loss."""

    def __init__(self, framework, precision, normalization, init, step, gflops_per_image, parameters, info):
        self.framework, self.precision = framework, precision
        self.normalization, self.init, self.step = normalization, init, step
        self.gflops_per_image, self.parameters, self.info = gflops_per_image, parameters, info
        self.losses = []

    def __call__(self):
        self.losses.append(self.step())

    def result(self, times, batch_size):
        """FLOPs, losses, timing summary and the raw step times (``times_s``)."""
        out = dict(
            framework=self.framework, precision=self.precision, normalization=self.normalization, init=self.init,
            parameters=self.parameters, gflops_per_image=round(self.gflops_per_image, 4),
            train_gflops_per_image=round(flops_lib.TRAIN_FLOPS_PER_FORWARD * self.gflops_per_image, 4),
            loss_first=round(self.losses[0], 4), loss_last=round(self.losses[-1], 4),
            finite=bool(all(math.isfinite(x) for x in self.losses)), **self.info,
        )
        return with_timing(out, times, batch_size)


def with_timing(result, times, batch_size, peak=None):
    """``result`` with the summary of ``times``, achieved training GFLOP/s and (given the matmul
    ``peak``) their fraction of it: the bf16 peak for 16-bit runs, the fp32 peak otherwise."""
    out = dict(result, **common.summarize(times, batch_size), times_s=[round(t, 6) for t in times])
    out["achieved_gflops"] = round(out["train_gflops_per_image"] * out["images_per_second"], 2)
    if peak:
        key = "bf16_gflops" if out["precision"] in ("bf16", "fp16") else "fp32_gflops"
        out["fraction_of_peak"] = round(out["achieved_gflops"] / peak[key], 3)
        out["peak_gflops"] = peak[key]
        if out["fraction_of_peak"] > 1:
            out["fraction_of_peak_note"] = OVER_PEAK
    return out


def synthetic_batch(batch_size, input_shape, num_classes, seed):
    """Standard-normal images [B, H, W, C] and integer labels, fixed for the whole run."""
    rng = np.random.RandomState(seed)
    images = rng.normal(size=(batch_size, *input_shape)).astype("float32")
    return images, rng.randint(0, num_classes, size=batch_size)


def keras_run(args, precision, normalization, init):
    """The recipe's compiled train step (``tfzoo.training.loop.train``) on a fixed batch."""
    import keras

    import tfzoo
    from tfzoo.precision import precision_scope, wrap_optimizer
    from tfzoo.training.metrics import recipe_metrics
    from tfzoo.training.optimizer import accumulation_steps, add_l2, make_optimizer

    reproducible = None
    if keras.backend.backend() == "tensorflow" and args.deterministic:
        from tfzoo.training.determinism import make_deterministic

        reproducible = make_deterministic()  # as tfzoo.training.train: op determinism, one inter-op thread
    keras.utils.set_random_seed(args.seed)
    options = dict(normalization=normalization, init=init, num_classes=args.num_classes,
                   input_shape=args.input_shape, ghost_batch_size=args.ghost_batch_size)
    with precision_scope(precision):
        model = tfzoo.create_model(args.model, **options)
    add_l2(model, args.weight_decay)
    accumulation = accumulation_steps(args.batch_size, args.ghost_batch_size, normalization,
                                      args.accumulate_ghost_batches)
    optimizer = make_optimizer(args.lr, momentum=0.9, accumulation=accumulation)
    model.compile(
        optimizer=wrap_optimizer(optimizer, precision),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=recipe_metrics(args.num_classes),
        jit_compile=args.jit_compile,
    )
    model.optimizer.build(model.trainable_variables)  # as tfzoo.training.train does: not in the first traced step
    images, labels = synthetic_batch(args.batch_size, args.input_shape, args.num_classes, args.seed)
    micro = args.batch_size // accumulation
    batches = [(keras.ops.convert_to_tensor(images[i:i + micro]),
                keras.ops.convert_to_tensor(np.eye(args.num_classes, dtype="float32")[labels[i:i + micro]]))
               for i in range(0, args.batch_size, micro)]

    def step():
        for x, y in batches:
            logs = model.train_on_batch(x, y, return_dict=True)  # returns numbers: the step has finished
        # the cross-entropy, as the PyTorch twin reports it ("loss" adds the L2 penalty, which the twin leaves out)
        return float(np.ravel(logs.get("cross_entropy", logs["loss"]))[0])

    info = {"accumulation_steps": accumulation, "jit_compile": args.jit_compile, "bit_reproducible": reproducible,
            "logits_dtype": model.output.dtype, "optimizer": type(model.optimizer).__name__}
    parameters = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return Run("keras", precision, normalization, init, step, flops_lib.forward_flops(model) / 1e9,
               parameters, info)


def torch_run(args, precision, normalization, init):
    """The same WRN and update in PyTorch eager (``bench.torch_wrn``) on the same fixed batch."""
    import torch

    from bench import torch_wrn
    from tfzoo.training.optimizer import accumulation_steps

    if precision not in TORCH_PRECISIONS:
        raise ValueError(f"the PyTorch twin runs in {' or '.join(TORCH_PRECISIONS)} (autocast). "
                         f"Received: precision={precision!r}")
    torch.manual_seed(args.seed)
    device = torch_device(args.torch_device)
    model = create_torch_twin(args.model, normalization=normalization, init=init, num_classes=args.num_classes,
                              input_shape=args.input_shape, ghost_batch_size=args.ghost_batch_size).to(device)
    accumulation = accumulation_steps(args.batch_size, args.ghost_batch_size, normalization,
                                      args.accumulate_ghost_batches)
    step = torch_wrn.make_train_step(model, lr=args.lr, weight_decay=args.weight_decay, accumulation=accumulation,
                                     channels_last=args.torch_memory_format == "channels_last",
                                     bf16=precision == "bf16")
    images, labels = synthetic_batch(args.batch_size, args.input_shape, args.num_classes, args.seed)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous().to(device)
    y = torch.from_numpy(labels).long().to(device)
    info = {"accumulation_steps": accumulation, "threads": torch.get_num_threads(), "device": str(device),
            "memory_format": args.torch_memory_format, "autocast": "bfloat16" if precision == "bf16" else None}
    return Run("torch", precision, normalization, init,
               lambda: step(x, y), torch_wrn.forward_flops(model, args.input_shape) / 1e9,
               torch_wrn.parameter_counts(model)[0], info)


def create_torch_twin(name, **options):
    """The PyTorch twin of ``tfzoo.create_model(name, **options)``: ``bench.torch_wrn`` for WRNs,
    ``bench.torch_resnet`` for ResNet-V1; the same layers, parameter count and FLOPs (tested)."""
    if name.startswith("resnet"):
        from bench import torch_resnet

        return torch_resnet.create_torch_resnet(name, **options)
    from bench import torch_wrn

    return torch_wrn.create_torch_model(name, **options)


def torch_device(name):
    """The PyTorch device of ``--torch_device``: ``auto`` is the GPU where PyTorch sees one (the step's
    ``loss.item()`` waits for it, so the timing holds), else the CPU."""
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)  # cuda without a GPU: refused by parse_args


def time_run(args, key):
    """Builds and times one (framework, precision, normalization, init, kernels) run in this process."""
    framework, precision, normalization, init, kernels = key
    run = (keras_run if framework == "keras" else torch_run)(args, precision, normalization, init)
    if args.serve:  # a child of time_step_by_step: one timed step per request
        times = interleave.serve(run, args.warmup)
    else:
        times = common.time_calls(run, steps=args.steps, warmup=args.warmup)
    return dict(run.result(times, args.batch_size), kernels=kernels)


def child_argv(args, key):
    """The command line that times ``key`` in a child process (``--run=...``)."""
    shared = [f"--{name}={getattr(args, name)}" for name in (
        "model", "batch_size", "ghost_batch_size", "steps", "warmup", "lr", "weight_decay", "num_classes",
        "image_size", "channels", "threads", "seed", "torch_memory_format", "torch_device")]
    shared += [f"--jit_compile={str(args.jit_compile).lower()}", f"--deterministic={str(args.deterministic).lower()}",
               f"--accumulate_ghost_batches={str(args.accumulate_ghost_batches).lower()}", "--peak_size=0"]
    return [sys.executable, "-m", "bench.train_throughput", *shared, f"--run={','.join(key[:4])}"]


def child_env(key):
    """This process's environment, the repository on ``PYTHONPATH``, ``TF_ENABLE_ONEDNN_OPTS`` for ``key``'s kernels."""
    if key[4] in TF_KERNELS:
        return common.child_env(**{ONEDNN_ENV: "1" if key[4] == "onednn" else "0"})
    return common.child_env()


def child_result(key, line):
    """A child's JSON result line, checked to have run the key's kernels."""
    result = json.loads(line)
    if result["kernels"] != key[4]:
        raise RuntimeError(f"{run_name(key)} ran TensorFlow's {result['kernels']} kernels")
    return result


def time_in_subprocesses(args, keys):
    """``{key: result}`` with every run timed in a fresh process, ``--rounds`` times, the step
    times of all rounds pooled; ``round_step_ms`` is each round's median."""
    results, times, rounds = {}, {key: [] for key in keys}, {key: [] for key in keys}
    for round_ in range(args.rounds):
        for key in keys if round_ % 2 == 0 else keys[::-1]:
            print(f"timing {run_name(key)} (round {round_ + 1} of {args.rounds}) ...", flush=True)
            child = subprocess.run(child_argv(args, key), capture_output=True, text=True, env=child_env(key),
                                   cwd=os.getcwd(), check=False)
            if child.returncode:
                raise RuntimeError(f"{run_name(key)} failed (exit {child.returncode}):\n{child.stderr[-3000:]}")
            results[key] = child_result(key, child.stdout.strip().splitlines()[-1])
            times[key] += results[key]["times_s"]
            rounds[key].append(results[key]["step_ms"])
    return {key: dict(with_timing(results[key], times[key], args.batch_size), round_step_ms=rounds[key])
            for key in keys}


def time_step_by_step(args, keys):
    """``{key: result}`` with all runs alive at once in child processes, timed one step each in
    turn (``bench.interleave``); ``times_s[i]`` of all runs are the i-th, paired steps."""
    names = [run_name(key) for key in keys]
    out = interleave.time_interleaved(names, [child_argv(args, key) for key in keys], [child_env(key) for key in keys],
                                      args.steps, os.getcwd())
    return {key: with_timing(child_result(key, out[name][0]), out[name][1], args.batch_size)
            for key, name in zip(keys, names)}


def pipeline_ratio(args, train_images_per_second):
    """Augmented CIFAR-10 images/s of ``tfzoo.data.make_train_dataset`` over what training consumes."""
    from bench import pipeline_throughput
    from tfzoo.data import DataError

    try:
        result = pipeline_throughput.measure("cifar10", args.data_dir, batch_size=args.batch_size, batches=100)
    except DataError as error:  # reported, not fatal: the CIFAR-10 files may be elsewhere
        return {"error": str(error)}
    result["over_training"] = round(result["images_per_second"] / train_images_per_second, 2)
    return result


def main(argv=None):
    """Runs the benchmark; prints a table, then the JSON result as the last line, and returns it."""
    args = parse_args(argv)
    if args.threads:
        common.set_threads(args.threads)
    keys = plan(args)
    if args.run:  # a child of time_in_subprocesses: this run's result only
        return common.print_result(time_run(args, keys[0]))
    cpu = common.cpu_info()
    print(f"CPU: {cpu['cpu']} ({cpu['cpu_count']} logical), flags: {' '.join(cpu['cpu_flags']) or '-'}; "
          f"native bf16: {'yes' if args.native_bf16 else 'no'}", flush=True)
    if len(keys) == 1 and keys[0][4] == kernels_in_force():
        results = {keys[0]: time_run(args, keys[0])}
    elif args.interleave == "step":
        results = time_step_by_step(args, keys)
    else:
        results = time_in_subprocesses(args, keys)
    peak = None
    if args.peak_size:
        from bench import peak as peak_lib

        peak = peak_lib.measure(args.peak_size, repeats=10, torch=not torch_unavailable())  # best of 10: noisy host
        results = {key: with_timing(r, r["times_s"], args.batch_size, peak) for key, r in results.items()}
        print(f"matmul peak ({args.peak_size}^2, the faster framework): fp32 {peak['fp32_gflops']} GFLOP/s, "
              f"bf16 {peak['bf16_gflops']} GFLOP/s")
    for key, r in results.items():
        of_peak = f" ({r['fraction_of_peak']:.0%} of the {r['precision']} peak" if peak else ""
        if peak:
            over = r["fraction_of_peak"] > 1
            of_peak += "; over 100 %: fewer multiplications than direct convolution)" if over else ")"
        print(f"{run_name(key):42s} {r['step_ms']:9.1f} ms/step {r['images_per_second']:8.1f} img/s "
              f"{r['achieved_gflops']:7.1f} GFLOP/s" + of_peak)
    main_run = results[keys[0]]
    output = dict(main_run, model=args.model, batch_size=args.batch_size, ghost_batch_size=args.ghost_batch_size,
                  steps=args.steps, warmup_steps=args.warmup, rounds=args.rounds, threads=args.threads or "default",
                  flops_convention="gflops_per_image: forward conv+dense MACs x 2 (direct convolution); "
                                   "training counted as 3 x forward",
                  peak=peak, ratios=ratios(results, args), **common.environment(),
                  tensorflow_imported="tensorflow" in sys.modules)
    if main_run["kernels"] in TF_KERNELS:  # it may have run in a child process with the other kernels
        output["onednn"] = main_run["kernels"] == "onednn"
        output["env"] = dict(output["env"], **{ONEDNN_ENV: "1" if output["onednn"] else "0"})
    if len(results) > 1:
        output["runs"] = {run_name(key): r for key, r in results.items()}
        output["ratios_by_round"] = ratios_by_round(results, args)
        output["interleave"] = args.interleave
        if args.interleave == "step":
            output["paired_ratios"] = interleave.paired(ratios_by_step(results, args))
    output["native_bf16"] = args.native_bf16
    if (args.compare or args.torch or args.targets) and torch_unavailable():
        output["torch_skipped"] = torch_unavailable()
    if args.compare:
        output["pipeline"] = pipeline_ratio(args, main_run["images_per_second"])
        print(f"input pipeline: {output['pipeline'].get('images_per_second')} img/s, "
              f"{output['pipeline'].get('over_training')} x what keras fp32 training consumes")
    for key, value in output["ratios"].items():
        by_round, by_step = output.get("ratios_by_round", {}).get(key), output.get("paired_ratios", {}).get(key)
        note = f"  (rounds: {', '.join(f'{v:.3f}' for v in by_round)})" if by_round else ""
        if by_step:
            note = f"  (step by step: median {by_step['median']:.3f}, quartiles {by_step['q1']:.3f}-{by_step['q3']:.3f})"
        print(f"{key:42s} {value:.3f}{note}")
    if args.targets:
        output["targets"] = check_targets(output["ratios"], output.get("paired_ratios"))
        for t in output["targets"]:
            verdict = "met" if t["met"] else "NOT met"
            print(f"target {t['target']:44s} {t['value']:.3f} >= {t['at_least']:.2f}: {verdict}")
        if not args.native_bf16:
            print("target bf16: not timed, this CPU has no native bf16 (avx512_bf16, amx_bf16, aarch64 bf16)")
    return common.print_result(output)


def run():
    """The console script ``tfzoo-bench`` (setup.cfg): ``main`` without returning its result as an exit code."""
    main()


if __name__ == "__main__":
    main()

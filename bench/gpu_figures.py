"""Issue 8's GPU figures in one prepared run: WRN-16-4 and ResNet-50 training throughput on JAX.

Made for a machine with a GPU and JAX but no TensorFlow (the one the ``device`` tool lends):

    make gpu-wheels      # here, once: keras, namex and optree for Python 3.12 into .whl/ (2.9 MB)
    # there, in the repository root, with .whl carried:
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \\
        .whl/*.whl && PYTHONPATH=/tmp/site:. KERAS_BACKEND=jax python3 -m bench.gpu_figures --output_dir=$OUT

It measures the bf16 and fp32 matmul peak (``bench.peak``), then times each figure of
``FIGURES`` with ``bench.train_throughput`` in a fresh process (XLA compiles each model once
per process): the recipe's train step, mixed bf16 or fp32, BN, ghost BN or none/ZeroInit. Figures run
most-wanted first; one that fails is recorded with its error and the others still run, and
the figures that would start after ``--budget_s`` are recorded as skipped, so a run cut short
keeps what it measured. After every figure ``gpu_figures.json`` (all results, the machine, the
ratios) and ``gpu_figures.md`` (the table) are rewritten in ``--output_dir`` through a temporary file.
``--smoke`` shrinks every figure (``SMOKE_NOTE``) to check the whole run on a CPU (2 minutes on 2
cores). On JAX, fp32 matmuls on a GPU run at XLA's default
precision (TF32 tensor cores on NVIDIA), as Keras trains.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.cli import FlagParser
from bench.common import child_env
from tfzoo.training.outputs import write_text_atomic  # imports Keras, but starts no JAX backend: children get the GPU

REPO = Path(__file__).resolve().parents[1]
WRN = dict(model="wrn-16-4", image_size=32, num_classes=10, batch_size=64)
RESNET = dict(model="resnet50_v1", image_size=224, num_classes=1000, batch_size=256)
ZEROINIT = dict(normalization="none", init="zeroinit")
# The paper's batch normalization at large batches: statistics over ghost batches of 64 ("Batch normalization has
# multiple benefits", section 2), here in one step whose layers split the batch (no accumulation).
GHOST64 = dict(normalization="ghost_batch_norm", ghost_batch_size=64, accumulate_ghost_batches=False)

# The PyTorch twin of a figure (bench.torch_wrn, eager, channels_last, torch.autocast in bf16) on the same GPU.
TORCH = dict(framework="torch")

# (name, train_throughput flags); most wanted first: the issue asks for WRN-16-4 and ResNet-50 in bf16, and the
# same against PyTorch on that GPU (the twins: bench.torch_wrn, bench.torch_resnet).
FIGURES = (
    ("wrn-16-4 bf16 bn b64", dict(WRN, precision="bf16")),
    ("resnet50_v1 bf16 bn b256", dict(RESNET, precision="bf16")),
    ("torch wrn-16-4 bf16 bn b64", dict(WRN, precision="bf16", **TORCH)),
    ("wrn-16-4 fp32 bn b64", dict(WRN, precision="fp32")),
    ("wrn-16-4 bf16 zeroinit b64", dict(WRN, precision="bf16", **ZEROINIT)),
    ("torch wrn-16-4 bf16 zeroinit b64", dict(WRN, precision="bf16", **ZEROINIT, **TORCH)),
    ("wrn-16-4 bf16 bn b1024", dict(WRN, precision="bf16", batch_size=1024)),
    ("torch wrn-16-4 bf16 bn b1024", dict(WRN, precision="bf16", batch_size=1024, **TORCH)),
    ("resnet50_v1 bf16 zeroinit b256", dict(RESNET, precision="bf16", **ZEROINIT)),
    ("resnet50_v1 fp32 bn b256", dict(RESNET, precision="fp32")),
    ("wrn-16-4 bf16 gbn64 b1024", dict(WRN, precision="bf16", batch_size=1024, **GHOST64)),
    ("torch resnet50_v1 bf16 bn b256", dict(RESNET, precision="bf16", **TORCH)),
    ("torch resnet50_v1 bf16 zeroinit b256", dict(RESNET, precision="bf16", **ZEROINIT, **TORCH)),
)
# (ratio name, numerator figure, denominator figure): speed = images/s over images/s
RATIOS = (
    ("wrn-16-4 bf16 bn b64: keras / torch", "wrn-16-4 bf16 bn b64", "torch wrn-16-4 bf16 bn b64"),
    ("wrn-16-4 bf16 zeroinit b64: keras / torch", "wrn-16-4 bf16 zeroinit b64", "torch wrn-16-4 bf16 zeroinit b64"),
    ("wrn-16-4 bf16 bn b1024: keras / torch", "wrn-16-4 bf16 bn b1024", "torch wrn-16-4 bf16 bn b1024"),
    ("resnet50_v1 bf16 bn b256: keras / torch", "resnet50_v1 bf16 bn b256", "torch resnet50_v1 bf16 bn b256"),
    ("resnet50_v1 bf16 zeroinit b256: keras / torch", "resnet50_v1 bf16 zeroinit b256",
     "torch resnet50_v1 bf16 zeroinit b256"),
    ("wrn-16-4 bf16: zeroinit / bn", "wrn-16-4 bf16 zeroinit b64", "wrn-16-4 bf16 bn b64"),
    ("resnet50_v1 bf16: zeroinit / bn", "resnet50_v1 bf16 zeroinit b256", "resnet50_v1 bf16 bn b256"),
    ("wrn-16-4 bn b64: bf16 / fp32", "wrn-16-4 bf16 bn b64", "wrn-16-4 fp32 bn b64"),
    ("resnet50_v1 bn b256: bf16 / fp32", "resnet50_v1 bf16 bn b256", "resnet50_v1 fp32 bn b256"),
    ("wrn-16-4 bf16 bn: b1024 / b64", "wrn-16-4 bf16 bn b1024", "wrn-16-4 bf16 bn b64"),
    ("wrn-16-4 bf16 b1024: gbn64 / bn", "wrn-16-4 bf16 gbn64 b1024", "wrn-16-4 bf16 bn b1024"),
)
SMOKE = {"wrn-16-4": "wrn-16-1", "resnet50_v1": "resnet18_v1"}
SMOKE_NOTE = "WRN-16-1 and ResNet-18 at 32x32, batch 8, one step, a 64x64 matmul peak"
MACHINE = ("backend", "keras", "jax", "python", "cpu", "cpu_count", "accelerator", "env")
KEPT = ("framework", "device", "step_ms", "step_ms_min", "images_per_second", "achieved_gflops", "gflops_per_image",
        "parameters", "loss_first", "loss_last", "finite", "accumulation_steps", "logits_dtype")


def figure_flags(flags, steps, warmup, smoke=False):
    """``bench.train_throughput`` arguments of one figure (``--smoke``: a tiny stand-in). A figure without ghost
    batch norm takes one batch per update (no accumulation); ghost batch norm's layers split the batch themselves.
    A PyTorch figure times the twin alone (``--run=torch,...``) on the GPU PyTorch sees."""
    flags = dict(flags)
    framework = flags.pop("framework", "keras")
    if smoke:
        ghost = 4 if flags.get("normalization") == "ghost_batch_norm" else 8
        flags.update(model=SMOKE[flags["model"]], image_size=32, num_classes=10, batch_size=8, ghost_batch_size=ghost)
        steps, warmup = 1, 1
    flags.setdefault("ghost_batch_size", flags["batch_size"])
    args = [f"--{key}={str(value).lower() if isinstance(value, bool) else value}" for key, value in flags.items()]
    if framework == "torch":
        run = ",".join((framework, flags["precision"], flags.get("normalization", "batch_norm"),
                        flags.get("init", "standard")))
        args.append(f"--run={run}")
    return args + [f"--steps={steps}", f"--warmup={warmup}", "--peak_size=0"]


def run_child(module, args, timeout_s):
    """``(json of the last stdout line, None)`` or ``(None, one-line error)`` of ``python -m module``."""
    try:
        child = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=child_env(),
                               cwd=REPO, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout_s:.0f} s"
    if child.returncode:
        tail = [line for line in child.stderr.strip().splitlines() if line.strip()][-1:] or ["(no output)"]
        return None, f"exit {child.returncode}: {tail[0][:300]}"
    return json.loads(child.stdout.strip().splitlines()[-1]), None


def summarize(name, args, result, peak):
    """The table row of one figure: kept timing fields, training TFLOP/s and the fraction of the
    matmul peak in the figure's precision."""
    row = {key: result[key] for key in KEPT if key in result}
    row["achieved_tflops"] = round(result["achieved_gflops"] / 1e3, 3)
    peak_key = "bf16_gflops" if "bf16" in name else "fp32_gflops"
    if peak and peak.get(peak_key):
        row["fraction_of_peak"] = round(result["achieved_gflops"] / peak[peak_key], 4)
    backend = f"KERAS_BACKEND={os.environ['KERAS_BACKEND']} " if os.environ.get("KERAS_BACKEND") else ""
    return dict(name=name, command=f"{backend}python -m bench.train_throughput " + " ".join(args), **row)


def ratios(figures):
    """Speed ratios (images/s over images/s) of the figure pairs in ``RATIOS`` that both ran."""
    speed = {f["name"]: f["images_per_second"] for f in figures if "images_per_second" in f}
    return {name: round(speed[a] / speed[b], 3) for name, a, b in RATIOS if a in speed and b in speed}


def table(report):
    """Markdown table of ``report``'s figures, then its ratios."""
    lines = [f"Smoke run ({SMOKE_NOTE}): not the named models' figures.", ""] if report["smoke"] else []
    lines += ["| figure | ms/step (median) | images/s | training TFLOP/s | of the matmul peak |",
             "| --- | --- | --- | --- | --- |"]
    for f in report["figures"]:
        if "error" in f or "skipped" in f:
            lines.append(f"| {f['name']} | {f.get('error') or f.get('skipped')} | | | |")
            continue
        share = f"{f['fraction_of_peak']:.0%}" if "fraction_of_peak" in f else "–"
        lines.append(f"| {f['name']} | {f['step_ms']:.1f} | {f['images_per_second']:.0f} | "
                     f"{f['achieved_tflops']:.1f} | {share} |")
    lines += [""] + [f"- {name}: {value:.3f}" for name, value in report["ratios"].items()]
    return "\n".join(lines) + "\n"


def parse_args(argv=None):
    parser = FlagParser("python -m bench.gpu_figures", __doc__.split("\n")[0])
    names = [name for name, _ in FIGURES]
    parser.add_argument("--output_dir", required=True, help="folder for gpu_figures.json and gpu_figures.md")
    parser.add_argument("--only", default="", help="comma-separated figure names (default: all): " + "; ".join(names))
    parser.add_argument("--steps", type=int, default=40, help="timed steps per figure")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (XLA compiles in the first)")
    parser.add_argument("--budget_s", type=float, default=420.0, help="no figure starts after this many seconds")
    parser.add_argument("--peak_size", type=int, default=8192, help="matmul side for the peak (0: skip)")
    parser.add_argument("--smoke", action="store_true", help="tiny stand-ins, one step: checks the run on a CPU")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in args.only if name not in names]
    if unknown:
        parser.error(f"--only: unknown figure {unknown[0]!r}; accepted: {', '.join(names)}")
    if args.steps < 1 or args.warmup < 1 or args.budget_s <= 0 or args.peak_size < 0:
        parser.error("--steps and --warmup must be >= 1, --budget_s > 0 and --peak_size >= 0. "
                     f"Received: {args.steps}, {args.warmup}, {args.budget_s}, {args.peak_size}")
    return args


def main(argv=None):
    """Runs the peak and the figures; returns the report written to ``--output_dir``."""
    args = parse_args(argv)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    report = {"machine": {}, "peak": None, "figures": [], "ratios": {}, "smoke": args.smoke}

    def save():
        report["ratios"] = ratios(report["figures"])
        report["wall_s"] = round(time.monotonic() - start, 1)
        write_text_atomic(out / "gpu_figures.json", json.dumps(report, indent=1, sort_keys=True) + "\n")
        write_text_atomic(out / "gpu_figures.md", table(report))

    if args.peak_size:
        size = 64 if args.smoke else args.peak_size
        # JAX's matmul on the accelerator; bench.peak's PyTorch figure is a CPU matmul, left out here
        report["peak"], error = run_child("bench.peak", [f"--size={size}", "--repeats=10", "--torch=false"],
                                          args.budget_s)
        if error:
            report["peak"] = {"error": error}
        print(f"matmul peak: {report['peak']}", flush=True)
    chosen = [(name, flags) for name, flags in FIGURES if not args.only or name in args.only]
    for name, flags in chosen:
        left = args.budget_s - (time.monotonic() - start)
        child_args = figure_flags(flags, args.steps, args.warmup, args.smoke)
        if left < 10:
            report["figures"].append({"name": name, "skipped": f"--budget_s={args.budget_s:g} spent"})
            continue
        print(f"timing {name} ...", flush=True)
        began = time.monotonic()
        result, error = run_child("bench.train_throughput", child_args, left)
        if error:
            figure = {"name": name, "error": error}
        else:
            figure = summarize(name, child_args, result, report["peak"])
            report["machine"] = report["machine"] or {key: result[key] for key in MACHINE if key in result}
        figure["wall_s"] = round(time.monotonic() - began, 1)
        report["figures"].append(figure)
        done = error or f"{figure['step_ms']} ms/step, {figure['images_per_second']} img/s"
        print(f"  {done}", flush=True)
        save()
    save()
    print(table(report), end="")
    return report


if __name__ == "__main__":
    main()

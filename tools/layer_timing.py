"""What ``tools.batch_norm`` and ``tools.conv_grad`` share: one layer's pass timed at given shapes, per implementation.

Both take ``--impl`` (comma-separated implementations), ``--shapes`` (comma-separated ``AxBx...``
sizes), ``--repeats`` and ``--precision``, time each TensorFlow implementation in their own process
and PyTorch's in a child process of its own (TensorFlow's and PyTorch's thread pools never share a
process), and report the median milliseconds of ``--repeats`` calls after 3 warm-up ones.
"""

import json
import statistics
import subprocess
import sys

from bench import common
from bench.cli import FlagParser
from bench.train_plan import torch_unavailable


def median_ms(fn, repeats):
    """The median wall time of ``repeats`` calls of ``fn`` after 3 untimed ones, in ms."""
    return round(1e3 * statistics.median(common.time_calls(fn, steps=repeats, warmup=3)), 3)


def parse_shape(text):
    return tuple(int(part) for part in text.split("x"))


def flag_parser(prog, description, impls, shapes, layout):
    """A ``FlagParser`` with the four shared flags; ``layout`` names the sizes of a shape (``NxHxWxC``)."""
    parser = FlagParser(prog, description)
    parser.add_argument("--impl", default=",".join(impls), help=f"comma-separated, of {', '.join(impls)}")
    parser.add_argument("--shapes", default=",".join(shapes), help=f"comma-separated {layout}")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    return parser


def parse(parser, argv, impls, layout):
    """``(args, implementations, shapes)`` of ``argv``; a bad implementation, shape or repeat count is
    ``parser.error`` naming it (exit 2)."""
    args = parser.parse_args(argv)
    chosen = [i.strip() for i in args.impl.split(",") if i.strip()]
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    for impl in chosen:
        if impl not in impls:
            parser.error(f"--impl: unknown {impl!r}; accepted: {', '.join(impls)}")
    size = len(layout.split("x"))
    for shape in shapes:
        parts = shape.split("x")
        if len(parts) != size or not all(p.isdigit() and int(p) > 0 for p in parts):
            parser.error(f"--shapes: {shape!r} is not {layout} with positive integers")
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1. Received: {args.repeats}")
    return args, chosen, shapes


def torch_child(module, shapes, repeats, precision, *extra):
    """``{shape: ms}`` of ``python -m MODULE --impl=torch ...``, PyTorch's figures from a process of their own."""
    child = subprocess.run([sys.executable, "-m", module, "--impl=torch", f"--shapes={','.join(shapes)}",
                            f"--repeats={repeats}", f"--precision={precision}", *extra], capture_output=True,
                           text=True, env=common.child_env(), check=False)
    if child.returncode:
        raise RuntimeError(f"the torch run failed (exit {child.returncode}):\n{child.stderr[-2000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])["ms"]["torch"]


def add_torch(result, parser, module, impls, shapes, args, torch_call):
    """PyTorch's figures, ``result["ms"]["torch"]``, when ``--impl`` names ``torch``: measured here with
    ``torch_call(shape, precision)`` (a call to time) in the torch-only process (``--impl=torch``, which also records
    PyTorch's thread count), else by ``python -m MODULE --impl=torch`` in a process of its own. Without PyTorch:
    ``result["torch_skipped"]`` says why, or, when torch is all that was asked for, ``parser.error``."""
    if "torch" not in impls:
        return
    missing = torch_unavailable()
    if missing:
        if impls == ["torch"]:
            parser.error(f"--impl=torch: {missing}")
        result["torch_skipped"] = missing
    elif impls == ["torch"]:
        import torch

        result["ms"]["torch"] = {s: median_ms(torch_call(parse_shape(s), args.precision), args.repeats) for s in shapes}
        result["torch_threads"] = torch.get_num_threads()
    else:
        result["ms"]["torch"] = torch_child(module, shapes, args.repeats, args.precision)


def report(result, shapes, width):
    """Prints one line per implementation (its ms at each shape), then ``result`` as JSON; returns ``result``."""
    for impl, by_shape in result["ms"].items():
        print(f"{impl:{width}s} " + "  ".join(f"{s}: {by_shape[s]:7.2f} ms" for s in shapes))
    print(json.dumps(result, sort_keys=True), flush=True)
    return result

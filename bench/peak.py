"""The machine's matmul peak: GFLOP/s of a large square matmul in float32 and bfloat16.

    python -m bench.peak --size=2048 --repeats=5

Runs on the active Keras backend (TensorFlow by default, JAX with ``KERAS_BACKEND=jax``) with
``keras.ops.matmul``, and with ``torch.matmul`` where PyTorch is installed; the best of
``repeats`` timed products after one warm-up. ``fp32_gflops`` and ``bf16_gflops`` are the
faster of the two frameworks (``keras_*``, ``torch_*``): the two may reach a CPU's bf16 units
(AMX, AVX512-BF16) differently, and the peak is what the machine can do. A matmul is the most
favourable dense kernel there is, so ``achieved / peak`` says how close a model's training step
comes to it. Prints JSON as its last line.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

import json
import time

import numpy as np

from bench.cli import FlagParser

DTYPES = ("float32", "bfloat16")


def matmul_gflops(size=2048, dtype="float32", repeats=5):
    """GFLOP/s (2 n^3 per product) of the best of ``repeats`` ``[n, n] @ [n, n]`` products."""
    from keras import ops

    rng = np.random.RandomState(0)
    a = ops.cast(ops.convert_to_tensor(rng.normal(size=(size, size)).astype("float32")), dtype)
    b = ops.cast(ops.convert_to_tensor(rng.normal(size=(size, size)).astype("float32")), dtype)
    _sync(ops.matmul(a, b))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        _sync(ops.matmul(a, b))
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best / 1e9


def torch_matmul_gflops(size=2048, dtype="float32", repeats=5):
    """``matmul_gflops`` with ``torch.matmul`` on the CPU; None where PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.randn(size, size, generator=generator).to(getattr(torch, dtype)) for _ in range(2))
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best / 1e9


def _sync(x):
    """Waits for an asynchronously dispatched result (JAX) by reading one element back."""
    from keras import ops

    return float(ops.convert_to_numpy(ops.cast(x[0, 0], "float32")))


def measure(size=2048, repeats=5, torch=True):
    """``{"fp32_gflops": ..., "bf16_gflops": ..., "matmul_size": n, ...}``: per precision the faster
    of the active backend (``keras_*_gflops``) and, with ``torch``, PyTorch (``torch_*_gflops``)."""
    import keras

    out = {"backend": keras.backend.backend(), "matmul_size": size}
    for short, dtype in (("fp32", "float32"), ("bf16", "bfloat16")):
        figures = {"keras": matmul_gflops(size, dtype, repeats),
                   "torch": torch_matmul_gflops(size, dtype, repeats) if torch else None}
        for framework, value in figures.items():
            if value is not None:
                out[f"{framework}_{short}_gflops"] = round(value, 1)
        out[f"{short}_gflops"] = round(max(v for v in figures.values() if v is not None), 1)
    return out


def main(argv=None):
    parser = FlagParser("python -m bench.peak", __doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=2048, help="matrix side n (2 n^3 FLOPs a product)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--torch", default=True, boolean=True, help="also PyTorch's matmul")
    args = parser.parse_args(argv)
    result = measure(args.size, args.repeats, torch=args.torch)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

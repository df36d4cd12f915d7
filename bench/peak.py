"""The machine's matmul peak: GFLOP/s of a large square matmul in float32 and bfloat16.

    python -m bench.peak --size=2048 --repeats=5

Runs on the active Keras backend (TensorFlow by default, JAX with ``KERAS_BACKEND=jax``) with
``keras.ops.matmul``; the best of ``repeats`` timed products after one warm-up. A matmul is
the most favourable dense kernel there is, so ``achieved / peak`` says how close a model's
training step comes to what the machine can do. Prints JSON as its last line.
"""

import argparse
import json
import time

import numpy as np

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


def _sync(x):
    """Waits for an asynchronously dispatched result (JAX) by reading one element back."""
    from keras import ops

    return float(ops.convert_to_numpy(ops.cast(x[0, 0], "float32")))


def measure(size=2048, repeats=5):
    """``{"fp32_gflops": ..., "bf16_gflops": ..., "matmul_size": n}`` on the active backend."""
    import keras

    return {
        "backend": keras.backend.backend(),
        "matmul_size": size,
        "fp32_gflops": round(matmul_gflops(size, "float32", repeats), 1),
        "bf16_gflops": round(matmul_gflops(size, "bfloat16", repeats), 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.peak", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=2048, help="matrix side n (2 n^3 FLOPs a product)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    result = measure(args.size, args.repeats)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

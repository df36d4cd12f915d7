"""What every benchmark shares: interleaved timing, summary statistics, the machine, the JSON last line."""

import json
import os
import platform
import statistics
import sys
import time

from tfzoo.cli import ONEDNN_ENV

# CPU features that decide how fast fp32/bf16/fp16 convolutions and matmuls can run.
CPU_FEATURES = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "avx512_vnni", "avx_vnni", "amx_bf16",
                "amx_tile", "amx_fp16", "f16c")


def cpu_info():
    """Model name, logical CPUs and the relevant ``/proc/cpuinfo`` flags (empty off Linux)."""
    from tfzoo.precision import cpu_flags

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.partition(":")[2].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    flags = cpu_flags() or set()
    return {"cpu": model, "cpu_count": os.cpu_count(), "cpu_flags": [f for f in CPU_FEATURES if f in flags]}


def environment():
    """Backend, library versions and the thread/oneDNN settings in force, for the JSON result."""
    import keras

    info = {"backend": keras.backend.backend(), "keras": keras.__version__, "python": platform.python_version()}
    for module in ("tensorflow", "jax", "torch"):
        if module in sys.modules:
            info[module] = getattr(sys.modules[module], "__version__", "?")
    if "tensorflow" in sys.modules:
        from tfzoo.training.determinism import onednn_enabled

        info["onednn"] = onednn_enabled()  # TF_ENABLE_ONEDNN_OPTS, read when TensorFlow starts
    if info["backend"] == "jax":
        import jax

        info["accelerator"] = sorted({f"{d.platform}: {d.device_kind}" for d in jax.devices()})
    names = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "XLA_FLAGS",
             "XLA_PYTHON_CLIENT_PREALLOCATE")
    if info["backend"] == "tensorflow" or "tensorflow" in sys.modules:  # every program sets it at start; TF reads it
        names = (ONEDNN_ENV, *names)
    info["env"] = {k: os.environ[k] for k in names if k in os.environ}
    info["load_average"] = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {**cpu_info(), **info}


def child_env(**extra):
    """This process's environment for a ``python -m bench.…`` child: the repository first on
    ``PYTHONPATH`` (the child finds ``bench`` and ``tfzoo`` from any working directory), plus ``extra``."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")])), **extra)


def set_threads(threads):
    """Intra-op threads for TensorFlow (if it is the backend) and PyTorch (if installed); call
    before any TensorFlow op runs. JAX's CPU threads are set with ``XLA_FLAGS`` instead."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)  # inter-op: see --deterministic
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(threads)


def time_calls(fn, *, steps, warmup):
    """Seconds of each of ``steps`` calls of ``fn()`` after ``warmup`` untimed calls.

    ``fn`` must return only once its work is done (read a number back from the device).
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def summarize(times, images_per_call):
    """Median/mean/min call time in ms and images per second at the median."""
    median = statistics.median(times)
    return {
        "step_ms": round(1e3 * median, 2),
        "step_ms_mean": round(1e3 * statistics.fmean(times), 2),
        "step_ms_min": round(1e3 * min(times), 2),
        "images_per_second": round(images_per_call / median, 2),
    }


def print_result(result):
    """Prints ``result`` as one JSON line, the last line of the benchmark's output."""
    print(json.dumps(result, sort_keys=True), flush=True)
    return result

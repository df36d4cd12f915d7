"""What ``bench.train_throughput`` times and how it compares the runs: run keys, the plan of an
invocation, run names, and the speed ratios between runs (pooled, and round by round).

A run is a key ``(framework, precision, normalization, init, kernels)``; ``kernels`` is
TensorFlow's CPU kernels for keras on TensorFlow (``TF_KERNELS``), ``-`` otherwise.
"""

import importlib.util

NORMALIZATION_RUNS = (("batch_norm", "standard"), ("ghost_batch_norm", "standard"), ("none", "zeroinit"))
TF_KERNELS = ("onednn", "default")  # TF_ENABLE_ONEDNN_OPTS=1 / 0; "-": not TensorFlow (torch, keras on JAX)


def torch_unavailable():
    """None if torch is installed, else the reason (shown instead of the torch figures)."""
    if importlib.util.find_spec("torch") is None:
        return "torch is not installed; pip install torch (see setup.cfg's bench extra)"
    return None


def kernels_in_force():
    """``onednn`` or ``default``: the CPU kernels of this process's TensorFlow; ``-`` on another backend."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return "-"
    from tfzoo.training.determinism import onednn_enabled

    return "onednn" if onednn_enabled() else "default"


def plan(args):
    """The (framework, precision, normalization, init, kernels) runs this invocation times, without
    duplicates, the main run first; ``kernels`` is one of ``TF_KERNELS`` for keras on TensorFlow, else ``-``."""
    if args.run:
        return [(*args.run.split(","), kernels_in_force() if args.run.startswith("keras") else "-")]
    if args.tf_kernels == "auto":
        kernels = [kernels_in_force()]
    else:
        kernels = list(TF_KERNELS) if args.tf_kernels == "both" else [args.tf_kernels]
    if args.compare and kernels[0] in TF_KERNELS:  # the fp32 step with TensorFlow's other CPU kernels too
        kernels = list(dict.fromkeys([kernels[0], *TF_KERNELS]))

    def key(framework, precision, normalization=args.normalization, init=args.init, kernels=kernels[0]):
        return framework, precision, normalization, init, kernels if framework == "keras" else "-"

    runs = [key("keras", args.precision)] + [key("keras", args.precision, kernels=k) for k in kernels[1:]]
    if args.compare:
        runs = [key("keras", "fp32")] + [key("keras", "fp32", kernels=k) for k in kernels[1:]]
        runs += [key("keras", "bf16"), key("torch", "fp32")]
        runs += [key(fw, "fp32", n, i) for n, i in NORMALIZATION_RUNS for fw in ("keras", "torch")]
    elif args.torch:
        runs.append(key("torch", "fp32"))
    if torch_unavailable():
        runs = [r for r in runs if r[0] != "torch"]
    return list(dict.fromkeys(runs))


def run_name(key):
    """``keras_fp32_batch_norm_standard_onednn``, ``torch_fp32_batch_norm_standard``."""
    return "_".join(part for part in key if part != "-")


def ratios(results, args):
    """Speed ratios between runs of this invocation (images/s over images/s)."""
    main_kernels = next(iter(results))[4]

    def ips(framework, precision, normalization=args.normalization, init=args.init, kernels=main_kernels):
        run = results.get((framework, precision, normalization, init, kernels if framework == "keras" else "-"))
        return run["images_per_second"] if run else None

    def ratio(a, b):
        return round(a / b, 3) if a and b else None

    out = {
        "keras_fp32_over_torch_fp32": ratio(ips("keras", "fp32"), ips("torch", "fp32")),
        "keras_bf16_over_torch_fp32": ratio(ips("keras", "bf16"), ips("torch", "fp32")),
        "keras_bf16_over_keras_fp32": ratio(ips("keras", "bf16"), ips("keras", "fp32")),
        f"keras_{args.precision}_over_torch_fp32": ratio(ips("keras", args.precision), ips("torch", "fp32")),
    }
    if main_kernels in TF_KERNELS:
        other = TF_KERNELS[1 - TF_KERNELS.index(main_kernels)]
        out[f"keras_fp32_{other}_over_torch_fp32"] = ratio(ips("keras", "fp32", kernels=other), ips("torch", "fp32"))
        out["keras_fp32_onednn_over_default"] = ratio(ips("keras", "fp32", kernels="onednn"),
                                                      ips("keras", "fp32", kernels="default"))
    for framework in ("keras", "torch"):
        bn = ips(framework, "fp32", "batch_norm", "standard")
        for normalization, init in NORMALIZATION_RUNS[1:]:
            key = f"{framework}_{normalization}_{init}_over_batch_norm"
            out[key] = ratio(ips(framework, "fp32", normalization, init), bn)
    return {k: v for k, v in out.items() if v is not None}


def ratios_by_round(results, args):
    """Each ratio of ``ratios`` computed round by round (from each round's median step), which
    shows how far the host's noise moves it; empty with one round."""
    rounds = min(len(r.get("round_step_ms", ())) for r in results.values())
    if rounds < 2:
        return {}
    return _ratio_series([{key: args.batch_size / (r["round_step_ms"][i] / 1e3) for key, r in results.items()}
                          for i in range(rounds)], args)


def ratios_by_step(results, args):
    """Each ratio of ``ratios`` computed from the i-th step of every run (``--interleave=step``,
    where those steps were timed one after another): ``{name: [ratio of step 0, ...]}``."""
    steps = min(len(r["times_s"]) for r in results.values())
    return _ratio_series([{key: args.batch_size / r["times_s"][i] for key, r in results.items()}
                          for i in range(steps)], args)


def _ratio_series(speeds, args):
    """``{ratio name: [its value at each index]}`` of a list of ``{key: images/s}``."""
    per_index = [ratios({key: {"images_per_second": ips} for key, ips in speed.items()}, args) for speed in speeds]
    return {name: [values.get(name) for values in per_index] for name in per_index[0]} if per_index else {}

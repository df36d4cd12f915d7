"""What ``bench.train_throughput`` times and how it compares the runs: run keys, the plan of an
invocation, run names, and the speed ratios between runs (pooled, and round by round).

A run is a key ``(framework, precision, normalization, init, kernels)``; ``kernels`` is
TensorFlow's CPU kernels for keras on TensorFlow (``TF_KERNELS``), ``-`` otherwise.
"""

import importlib.util

NORMALIZATION_RUNS = (("batch_norm", "standard"), ("ghost_batch_norm", "standard"), ("none", "zeroinit"))
TF_KERNELS = ("onednn", "default")  # TF_ENABLE_ONEDNN_OPTS=1 / 0; "-": not TensorFlow (torch, keras on JAX)
TORCH_PRECISIONS = ("fp32", "bf16")  # PyTorch's peer of Keras's mixed_bfloat16: torch.autocast in bfloat16
# Issue 24's acceptance targets: (what, ratio name, at least); the bf16 ones only on a CPU with native bf16.
TARGETS = (
    ("fp32, BN: keras / torch", "keras_fp32_over_torch_fp32", 1.0),
    ("fp32, none/ZeroInit: keras / torch", "keras_fp32_none_zeroinit_over_torch_fp32", 1.05),
    ("bf16, BN: keras / torch autocast", "keras_bf16_over_torch_bf16", 1.05),
    ("bf16, none/ZeroInit: keras / torch autocast", "keras_bf16_none_zeroinit_over_torch_bf16", 1.05),
    ("BN: keras bf16 / keras fp32", "keras_bf16_over_keras_fp32", 1.5),
)


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
    if args.targets:  # BN and none/ZeroInit, keras and torch, fp32 and (with native bf16) bf16
        precisions = ("fp32", "bf16") if args.native_bf16 else ("fp32",)
        runs = [key(fw, p, n, i) for n, i in (NORMALIZATION_RUNS[0], NORMALIZATION_RUNS[2])
                for p in precisions for fw in ("keras", "torch")]
    elif args.compare:
        runs = [key("keras", "fp32")] + [key("keras", "fp32", kernels=k) for k in kernels[1:]]
        runs += [key("keras", "bf16"), key("torch", "fp32"), key("torch", "bf16")]
        runs += [key(fw, "fp32", n, i) for n, i in NORMALIZATION_RUNS for fw in ("keras", "torch")]
        runs += [key(fw, "bf16", "none", "zeroinit") for fw in ("keras", "torch")]
    elif args.torch:
        runs.append(key("torch", args.precision))
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

    out = {}  # keras over torch at equal precision (torch bf16: autocast), and bf16 over fp32 in each framework
    for precision in TORCH_PRECISIONS:
        out[f"keras_{precision}_over_torch_{precision}"] = ratio(ips("keras", precision), ips("torch", precision))
    for framework in ("keras", "torch"):
        out[f"{framework}_bf16_over_{framework}_fp32"] = ratio(ips(framework, "bf16"), ips(framework, "fp32"))
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
    if (args.normalization, args.init) == NORMALIZATION_RUNS[0]:  # the main runs have BN: none/ZeroInit beside them
        for precision in TORCH_PRECISIONS:
            out[f"keras_{precision}_none_zeroinit_over_torch_{precision}"] = ratio(
                ips("keras", precision, "none", "zeroinit"), ips("torch", precision, "none", "zeroinit"))
    return {k: v for k, v in out.items() if v is not None}


def check_targets(ratios_, paired=None):
    """``TARGETS`` against this invocation's ratios: ``[{target, ratio, value, at_least, met}]``
    for those it measured. ``value`` is the median of the paired per-step ratios where there are
    any (``--interleave=step``), else the pooled ratio."""
    out = []
    for what, name, at_least in TARGETS:
        value = (paired or {}).get(name, {}).get("median", ratios_.get(name))
        if value is not None:
            out.append({"target": what, "ratio": name, "value": round(value, 3), "at_least": at_least,
                        "met": value >= at_least})
    return out


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

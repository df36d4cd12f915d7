"""bench.interleave (``--interleave=step``): the serving protocol, paired ratios, and a real interleaved run."""

import io
import os
import sys

import pytest

from bench import interleave, train_plan, train_throughput
from tests.bench.test_bench_cli import TINY


def test_serve_times_one_call_per_step_line_and_stops_at_anything_else():
    calls = []
    stdout = io.StringIO()
    times = interleave.serve(lambda: calls.append(1), warmup=2, stdin=io.StringIO("step\nstep\ndone\nstep\n"),
                             stdout=stdout)
    assert len(calls) == 4 and len(times) == 2  # 2 warm-up calls, then the 2 steps before "done"
    lines = stdout.getvalue().splitlines()
    assert lines[0] == interleave.READY and [float(line[len(interleave.STEP):]) for line in lines[1:]] == [
        round(t, 6) for t in times]


def test_paired_ratios_are_the_median_and_quartiles_of_the_steps():
    results = {("keras", "fp32", "batch_norm", "standard", "onednn"): {"times_s": [1.0, 2.0, 1.0, 1.0, 4.0]},
               ("torch", "fp32", "batch_norm", "standard", "-"): {"times_s": [2.0, 2.0, 1.0, 2.0, 2.0]}}
    per_step = train_plan.ratios_by_step(results, train_throughput.parse_args(["--torch"]))
    assert per_step["keras_fp32_over_torch_fp32"] == [2.0, 1.0, 1.0, 2.0, 0.5]
    assert interleave.paired(per_step)["keras_fp32_over_torch_fp32"] == {"median": 1.0, "q1": 1.0, "q3": 2.0,
                                                                         "steps": 5}
    assert interleave.paired({"one step": [1.5]}) == {}


def test_children_do_not_preallocate_gpu_memory_unless_told(tmp_path):
    code = ("import os, sys\nprint('interleave:ready', flush=True)\nsys.stdin.readline()\n"
            "print(os.environ['XLA_PYTHON_CLIENT_PREALLOCATE'], flush=True)")
    out = interleave.time_interleaved(["default", "told"], [[sys.executable, "-c", code]] * 2,
                                      [None, dict(os.environ, XLA_PYTHON_CLIENT_PREALLOCATE="true")], steps=0,
                                      cwd=tmp_path)
    assert out == {"default": ("false", []), "told": ("true", [])}


def test_a_child_that_dies_names_itself_and_shows_its_stderr(tmp_path):
    code = "import sys; sys.stderr.write('no model for you'); sys.exit(3)"
    with pytest.raises(RuntimeError, match=r"(?s)broken ended \(exit 3\).*no model for you"):
        interleave.time_interleaved(["broken"], [[sys.executable, "-c", code]], [None], steps=1, cwd=tmp_path)


@pytest.mark.parametrize("argv", [["--interleave=step", "--rounds=2"], ["--serve"], ["--interleave=round"]])
def test_bad_interleave_flags_exit_2(argv):
    with pytest.raises(SystemExit) as exit_info:
        train_throughput.parse_args(argv)
    assert exit_info.value.code == 2


@pytest.mark.slow
def test_step_by_step_run_pairs_every_step():
    other = "default" if train_plan.kernels_in_force() == "onednn" else "onednn"
    result = train_throughput.main([*TINY, "--steps=3", "--peak_size=0", "--tf_kernels=both", "--interleave=step"])
    runs = result["runs"]
    assert result["interleave"] == "step" and len(runs) == 2
    assert all(len(run["times_s"]) == 3 and run["finite"] and run["parameters"] == 77_850 for run in runs.values())
    assert runs[f"keras_fp32_batch_norm_standard_{other}"]["kernels"] == other
    paired = result["paired_ratios"]["keras_fp32_onednn_over_default"]
    onednn, default = (runs[f"keras_fp32_batch_norm_standard_{k}"]["times_s"] for k in ("onednn", "default"))
    assert paired["steps"] == 3 and paired["median"] == pytest.approx(
        sorted(d / o for o, d in zip(onednn, default))[1], abs=2e-3)
    # the same seed in both: the same losses up to the kernels' rounding
    losses = [run["loss_last"] for run in runs.values()]
    assert losses[0] == pytest.approx(losses[1], rel=1e-3)

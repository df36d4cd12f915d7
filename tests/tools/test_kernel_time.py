"""tools.kernel_time: oneDNN's verbose lines parsed and summed, the target's bound, and a real run of both twins."""

import os
import subprocess
import sys

import pytest

from tfzoo.precision import cpu_flags, native_bf16
from tools import kernel_time
from tests.conftest import REPO

# Lines as oneDNN 3 prints them with ONEDNN_VERBOSE=1 (TensorFlow 2.21 and torch 2.13 here).
BWD_W = ("onednn_verbose,v1,primitive,exec,cpu,convolution,jit:avx2,backward_weights,src:f32::blocked:acdb::f0 "
         "wei:f32:a:blocked:ABcd8b8a::f0 bia:undef::undef::: dst:f32::blocked:acdb::f0,,alg:convolution_direct,"
         "mb64_ic256oc256_ih8oh8kh3sh1dh0ph1_iw8ow8kw3sw1dw0pw1,53.9331")
FWD = ("onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_fwd:avx2,forward_training,src:f32::blocked:acdb::f0 "
       "wei:f32:ap:blocked:Acdb24a::f0 bia:undef::undef::: dst:f32::blocked:acdb::f0,attr-scratchpad:user,"
       "alg:convolution_direct,mb1_ic64oc64_ih32oh32kh3sh1dh0ph1_iw32ow32kw3sw1dw0pw1,1.08203")
REORDER = ("onednn_verbose,v1,primitive,exec,cpu,reorder,jit:uni,undef,src:f32::blocked:cdba::f0 "
           "dst:f32::blocked:Acdb16a::f0,,,16x3x3x3,0.0131836")
OLD = ("dnnl_verbose,exec,cpu,convolution,jit:avx2,forward_training,src_f32::blocked:aBcd8b:f0 wei_f32::blocked:"
       "ABcd8b8a:f0,,alg:convolution_direct,mb2_ic16oc16_ih8oh8kh3sh1dh0ph1_iw8ow8kw3sw1dw0pw1,0.5")
OTHER = ["onednn_verbose,v1,info,graph,backend,0:dnnl_backend",
         "onednn_verbose,v1,graph,info,template:operation,engine,partition_id,partition_kind,op_names,exec_time",
         "onednn_verbose,v1,primitive,info,template:operation,engine,primitive,implementation,prop_kind,exec_time",
         "interleave:step_s=1.5", "I0000 port.cc:153] oneDNN custom operations are on.", ""]


def test_exec_lines_parse_into_kind_implementation_direction_problem_and_ms():
    assert kernel_time.parse_exec(BWD_W) == ("convolution", "jit:avx2", "backward_weights",
                                             "mb64_ic256oc256_ih8oh8kh3sh1dh0ph1_iw8ow8kw3sw1dw0pw1", 53.9331)
    assert kernel_time.parse_exec(REORDER) == ("reorder", "jit:uni", "undef", "16x3x3x3", 0.0131836)
    assert kernel_time.parse_exec(OLD)[:3] == ("convolution", "jit:avx2", "forward_training")  # oneDNN 2's format
    assert [kernel_time.parse_exec(line) for line in OTHER] == [None] * len(OTHER)


def test_a_step_sums_its_kernels_by_kind_and_a_run_takes_medians():
    step = kernel_time.summarize_step([BWD_W, FWD, REORDER, BWD_W, *OTHER])
    assert step["by_kind"] == pytest.approx({"convolution backward_weights": 2 * 53.9331,
                                             "convolution forward_training": 1.08203, "reorder": 0.0131836})
    assert step["count_by_kind"] == {"convolution backward_weights": 2, "convolution forward_training": 1,
                                     "reorder": 1}
    assert step["kernels"] == 4 and step["onednn_ms"] == pytest.approx(2 * 53.9331 + 1.08203 + 0.0131836)
    assert step["by_implementation"] == pytest.approx({"convolution backward_weights jit:avx2": 2 * 53.9331,
                                                       "convolution forward_training brg_conv_fwd:avx2": 1.08203,
                                                       "reorder jit:uni": 0.0131836})
    steps = [dict(onednn_ms=o, step_ms=t, other_ms=t - o, kernels=1, by_kind={"convolution": o},
                  count_by_kind={"convolution": 1}) for o, t in ((80, 100), (90, 130), (85, 105))]
    run = kernel_time.summarize_run(steps)
    assert (run["step_ms"], run["onednn_ms"], run["other_ms"]) == (105, 85, 20)  # medians each, not 105 - 85
    assert run["by_kind"] == {"convolution": 85} and run["steps"] == 3
    for step, ms in zip(steps, (80, 90, 85)):
        step["by_implementation"] = {"convolution jit:avx2": ms - 10, "convolution gemm:jit": 10}
    assert kernel_time.summarize_run(steps)["by_implementation"] == {"convolution jit:avx2": 75,
                                                                     "convolution gemm:jit": 10}


def test_the_bound_is_what_keras_may_spend_outside_onednn_for_the_target():
    def run(onednn, step):
        per_step = [{"onednn_ms": onednn, "other_ms": step - onednn, "step_ms": step}] * 3
        return {"per_step": per_step, "summary": {"onednn_ms": onednn, "other_ms": step - onednn, "step_ms": step}}

    out = kernel_time.paired(run(1400.0, 1600.0), run(1450.0, 1680.0))
    assert out["onednn_keras_over_torch"] == pytest.approx(1400 / 1450, abs=1e-3)
    assert out["other_keras_over_torch"] == pytest.approx(200 / 230, abs=1e-3)
    assert out["speed_keras_over_torch"] == pytest.approx(1680 / 1600, abs=1e-3)
    assert out["bound"] == {"target": 1.05, "keras_other_ms_allowed": 200.0, "keras_other_ms": 200.0,
                            "torch_other_ms": 230.0}  # 1680 / 1.05 = 1600 = 1400 + 200: just at the target


NATIVE_BF16 = native_bf16(cpu_flags())


@pytest.mark.parametrize("precision, flags", [
    ("fp32", []),
    pytest.param("bf16", ["--precision=bf16", "--threads=1"], marks=pytest.mark.skipif(
        not NATIVE_BF16, reason="TensorFlow runs oneDNN's bf16 convolutions only where the CPU computes in bf16")),
])
def test_both_twins_run_the_same_convolutions_through_onednn(capsys, precision, flags):
    result = kernel_time.main(["--model=wrn-10-1", "--image_size=8", "--batch_size=8", "--ghost_batch_size=8",
                               "--steps=2", "--warmup=1", *flags])
    runs = result["runs"]
    keras_run = runs[f"keras_{precision}_batch_norm_standard_onednn"]
    torch_run = runs[f"torch_{precision}_batch_norm_standard"]
    for run in (keras_run, torch_run):
        assert 0 < run["onednn_ms"] < run["step_ms"] and run["steps"] == 2
        assert run["other_ms"] == pytest.approx(run["step_ms"] - run["onednn_ms"], abs=max(1.0, 0.5 * run["step_ms"]))
    # WRN-10-1: 9 convolutions (the stem, 2 in each of 3 blocks, 2 projection shortcuts), in both frameworks
    for direction in ("forward_training", "backward_weights"):
        name = f"convolution {direction}"
        assert keras_run["count_by_kind"][name] == torch_run["count_by_kind"][name] == 9, name
    assert keras_run["parameters"] == torch_run["parameters"] == 77_850  # the same WRN (test_bench_cli)
    assert result["bound"]["target"] == kernel_time.TARGET and result["onednn"] is True
    assert result["precision"] == precision and result["threads"] == (1 if flags else 0)
    for run in (keras_run, torch_run):  # every implementation is filed under a kind the step ran
        kinds = {impl.rsplit(" ", 1)[0] for impl in run["by_implementation"]}
        assert kinds == set(run["by_kind"]), (kinds, run["by_kind"])
    assert "oneDNN time keras/torch" in capsys.readouterr().out


@pytest.mark.parametrize("flag, env, message", [("--steps=0", {}, "--steps=0"),
                                                ("--steps=1", {"KERAS_BACKEND": "jax"}, "KERAS_BACKEND=jax")])
def test_bad_input_exits_non_zero_with_the_value(flag, env, message):
    child = subprocess.run([sys.executable, "-m", "tools.kernel_time", flag], capture_output=True, text=True,
                           cwd=REPO, env=dict(os.environ, **env), check=False)
    assert child.returncode == 2 and message in child.stderr.strip().splitlines()[-1]


def test_the_ghost_batch_flags_reach_the_timed_runs():
    pytest.importorskip("torch", reason="tools.kernel_time times both twins (pip install torch)")
    _, run_args = kernel_time.parse_args(["--normalization=ghost_batch_norm", "--batch_size=16", "--ghost_batch_size=8",
                                          "--noaccumulate_ghost_batches"])
    assert (run_args.accumulate_ghost_batches, run_args.ghost_batch_size) == (False, 8)

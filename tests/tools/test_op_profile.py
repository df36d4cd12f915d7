"""tools.op_profile: trace events summed by op type, and a real profiled step."""

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tools import op_profile


def test_event_names_give_their_op_type():
    assert op_profile.op_type("stage1_block1_branch_conv1/Conv2D:_MklNativeFusedConv2D") == "_MklNativeFusedConv2D"
    assert op_profile.op_type("gradient_tape/relu/ReluGrad:ReluGrad") == "ReluGrad"
    for not_an_op in ("__inference_one_step_on_data_2292", "Run", "ExecutorState::Process",
                       "ThreadpoolListener::Record", ":Relu", "a:", "x: y z"):
        assert op_profile.op_type(not_an_op) is None, not_an_op


def test_compute_lines_are_summed_by_op_type_and_the_rest_ignored():
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    plane = space.planes.add()
    for key, name in ((1, "a/Conv2D:_MklNativeFusedConv2D"), (2, "b/Relu:Relu"), (3, "__inference_step_1")):
        plane.event_metadata[key].name = name
    compute, python = plane.lines.add(), plane.lines.add()
    compute.name, python.name = "tf_Compute/123", "python"
    for metadata_id, ms in ((1, 30.0), (2, 2.5), (1, 10.0), (3, 99.0)):
        compute.events.add(metadata_id=metadata_id, duration_ps=int(ms * 1e9))
    python.events.add(metadata_id=1, duration_ps=int(500 * 1e9))  # the enclosing call, not an op of the step
    assert op_profile.sum_ops(space) == pytest.approx({"_MklNativeFusedConv2D": 40.0, "Relu": 2.5})


def test_a_profiled_step_is_mostly_its_convolutions(capsys):
    result = op_profile.main(["--model=wrn-10-1", "--image_size=8", "--batch_size=8", "--ghost_batch_size=8",
                              "--steps=2", "--warmup=1", "--normalization=none", "--init=zeroinit"])
    ops = result["ops"]
    convolutions = sum(ms for kind, ms in ops.items() if "Conv2D" in kind)
    assert convolutions > 0 and any("Backprop" in kind for kind in ops), sorted(ops)
    assert "Mul" in ops  # ZeroInit's scalar multipliers (and L2, SGD)
    assert 0 < result["ops_ms"] == pytest.approx(sum(ops.values()), abs=0.1)
    assert result["ops_ms"] < 1.5 * result["step_ms"]  # per step: the ops of 2 steps divided by 2
    assert (result["precision"], result["steps"], result["model"]) == ("fp32", 2, "wrn-10-1")
    assert "ms per step" in capsys.readouterr().out


@pytest.mark.parametrize("flag, message", [("--steps=0", "--steps=0"), ("--precision=fp64", "fp64")])
def test_bad_input_exits_non_zero_with_the_value(flag, message):
    child = subprocess.run([sys.executable, "-m", "tools.op_profile", flag], capture_output=True, text=True,
                           cwd=REPO, env=dict(os.environ), check=False)
    assert child.returncode == 2 and message in child.stderr.strip().splitlines()[-1], child.stderr[-500:]


def test_the_ghost_batch_flags_reach_the_profiled_step():
    argv = ["--normalization=ghost_batch_norm", "--batch_size=16", "--ghost_batch_size=8"]
    assert op_profile.parse_args(argv)[1].accumulate_ghost_batches is True
    _, run_args = op_profile.parse_args([*argv, "--noaccumulate_ghost_batches"])
    assert (run_args.accumulate_ghost_batches, run_args.ghost_batch_size) == (False, 8)

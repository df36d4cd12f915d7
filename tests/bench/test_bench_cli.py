"""The benchmark CLIs: last-line JSON with the promised keys, numbers that add up, real data."""

import json
import os
import subprocess
import sys

import pytest

from bench import inference, pipeline_throughput, train_plan, train_throughput
from tests.conftest import CIFAR10_SUBSET, REPO

TINY = ["--model=wrn-10-1", "--batch_size=16", "--steps=2", "--warmup=1", "--peak_size=128"]


def last_json_line(capsys):
    lines = capsys.readouterr().out.strip().splitlines()
    return json.loads(lines[-1])


def test_train_throughput_prints_its_numbers_as_json(capsys):
    returned = train_throughput.main(TINY)
    result = last_json_line(capsys)
    assert result == json.loads(json.dumps(returned, sort_keys=True))
    for key in ("images_per_second", "step_ms", "gflops_per_image", "achieved_gflops", "train_gflops_per_image"):
        assert result[key] > 0, key
    assert result["gflops_per_image"] == pytest.approx(0.025003264, abs=1e-4)  # test_flops: 25,003,264 FLOPs
    assert result["images_per_second"] == pytest.approx(16 / (result["step_ms"] / 1e3), rel=1e-3)
    assert result["achieved_gflops"] == pytest.approx(3 * 0.025003264 * result["images_per_second"], rel=1e-2)
    assert result["parameters"] == 77_850 and result["finite"] and result["precision"] == "fp32"
    assert result["peak"]["fp32_gflops"] > 0 and result["fraction_of_peak"] > 0
    assert result["backend"] == "tensorflow" and result["logits_dtype"] == "float32"


def test_ghost_batches_accumulate_as_the_recipe_does(capsys):
    result = train_throughput.main([*TINY, "--normalization=ghost_batch_norm", "--ghost_batch_size=8",
                                    "--peak_size=0", "--steps=1", "--precision=bf16"])
    assert result["accumulation_steps"] == 2 and result["peak"] is None
    assert result["logits_dtype"] == "float32" and result["precision"] == "bf16"


def test_reported_loss_is_the_cross_entropy_without_l2(capsys):
    """loss_first / loss_last are the cross-entropy, as the PyTorch twin reports it: the first step's (before any
    update, the same seed: the same weights) does not move with the L2 coefficient."""
    losses = [train_throughput.main([*TINY, "--peak_size=0", "--steps=1", "--warmup=0", f"--weight_decay={wd}"])
              for wd in (0.0, 0.5)]
    assert losses[0]["loss_first"] == pytest.approx(losses[1]["loss_first"], rel=1e-4)
    assert losses[0]["loss_first"] > 0


@pytest.mark.slow
def test_side_by_side_with_torch(capsys):
    pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    result = train_throughput.main([*TINY, "--torch", "--peak_size=0", "--steps=1"])
    keras_run = result["runs"][f"keras_fp32_batch_norm_standard_{result['kernels']}"]
    torch_run = result["runs"]["torch_fp32_batch_norm_standard"]
    assert torch_run["parameters"] == keras_run["parameters"] == 77_850
    assert torch_run["gflops_per_image"] == keras_run["gflops_per_image"]
    assert keras_run["bit_reproducible"] is True  # a fresh process: the recipe's one inter-op thread
    expected = round(keras_run["images_per_second"] / torch_run["images_per_second"], 3)
    assert result["ratios"]["keras_fp32_over_torch_fp32"] == expected


def test_compare_times_both_tensorflow_kernels():
    keys = train_plan.plan(train_throughput.parse_args(["--compare", "--tf_kernels=onednn"]))
    assert keys[:2] == [("keras", "fp32", "batch_norm", "standard", kernels) for kernels in ("onednn", "default")]
    both = train_plan.plan(train_throughput.parse_args(["--torch", "--tf_kernels=both"]))
    assert both == [keys[0], keys[1], ("torch", "fp32", "batch_norm", "standard", "-")]
    keys = keys[:1] + keys[2:] + keys[1:2]  # the other kernels' run last, to test ratios() whatever the order
    assert ("torch", "fp32", "batch_norm", "standard", "-") in keys and len(keys) == len(set(keys)) == 11
    assert ("torch", "bf16", "none", "zeroinit", "-") in keys  # the bf16 peer: torch.autocast
    results = {key: {"images_per_second": 10.0} for key in keys}
    results[keys[-1]] = {"images_per_second": 8.0}
    results[("torch", "fp32", "batch_norm", "standard", "-")] = {"images_per_second": 5.0}
    ratios = train_plan.ratios(results, train_throughput.parse_args(["--compare"]))
    assert ratios["keras_fp32_onednn_over_default"] == 1.25 and ratios["keras_fp32_over_torch_fp32"] == 2.0
    assert ratios["keras_fp32_default_over_torch_fp32"] == 1.6
    by_round = {key: {"round_step_ms": [100.0, 200.0]} for key in keys}
    by_round[keys[-1]] = {"round_step_ms": [125.0, 100.0]}  # slower, then faster than oneDNN
    assert train_plan.ratios_by_round(by_round, train_throughput.parse_args(["--compare"]))[
        "keras_fp32_onednn_over_default"] == [1.25, 0.5]
    assert train_plan.run_name(keys[-1]) == "keras_fp32_batch_norm_standard_default"
    assert train_plan.run_name(keys[2]) == "torch_fp32_batch_norm_standard"


@pytest.mark.parametrize("native, runs", [(True, 8), (False, 4)])
def test_targets_plan_and_verdicts(native, runs):
    """--targets times keras and torch, BN and none/ZeroInit, fp32 and (on a native-bf16 CPU) bf16;
    each ratio is at equal precision and each target is judged on the paired median where there is one."""
    args = train_throughput.parse_args(["--targets", "--tf_kernels=onednn"])
    args.native_bf16 = native
    keys = train_plan.plan(args)
    assert len(keys) == len(set(keys)) == runs and {k[1] for k in keys} == ({"fp32", "bf16"} if native else {"fp32"})
    assert {(k[0], k[2], k[3]) for k in keys} == {(fw, n, i) for fw in ("keras", "torch")
                                                  for n, i in (("batch_norm", "standard"), ("none", "zeroinit"))}
    speed = {("keras", "fp32", "batch_norm"): 100.0, ("torch", "fp32", "batch_norm"): 98.0,
             ("keras", "fp32", "none"): 120.0, ("torch", "fp32", "none"): 110.0,
             ("keras", "bf16", "batch_norm"): 160.0, ("torch", "bf16", "batch_norm"): 150.0,
             ("keras", "bf16", "none"): 180.0, ("torch", "bf16", "none"): 190.0}
    results = {k: {"images_per_second": speed[k[0], k[1], k[2]]} for k in keys}
    ratios = train_plan.ratios(results, args)
    assert ratios["keras_fp32_over_torch_fp32"] == round(100 / 98, 3)
    assert ratios["keras_fp32_none_zeroinit_over_torch_fp32"] == round(120 / 110, 3)
    assert "keras_bf16_over_torch_fp32" not in ratios  # never across precisions
    verdicts = {t["ratio"]: t for t in train_plan.check_targets(ratios)}
    assert verdicts["keras_fp32_over_torch_fp32"]["met"] and verdicts["keras_fp32_none_zeroinit_over_torch_fp32"]["met"]
    if native:
        assert ratios["keras_bf16_over_keras_fp32"] == 1.6 and ratios["torch_bf16_over_torch_fp32"] == round(150 / 98, 3)
        assert verdicts["keras_bf16_over_torch_bf16"]["met"] and verdicts["keras_bf16_over_keras_fp32"]["met"]
        assert not verdicts["keras_bf16_none_zeroinit_over_torch_bf16"]["met"]  # 180 / 190
        assert len(verdicts) == 5
    else:
        assert len(verdicts) == 2
    paired = {"keras_fp32_over_torch_fp32": {"median": 0.97}}  # paired steps outrank the pooled ratio
    assert not {t["ratio"]: t for t in train_plan.check_targets(ratios, paired)}["keras_fp32_over_torch_fp32"]["met"]


def test_fraction_of_peak_over_100_percent_says_why():
    result = {"precision": "bf16", "train_gflops_per_image": 1.0}
    slow = train_throughput.with_timing(result, [1.0, 1.0], 100, {"fp32_gflops": 50.0, "bf16_gflops": 400.0})
    assert slow["fraction_of_peak"] == 0.25 and slow["peak_gflops"] == 400.0 and "fraction_of_peak_note" not in slow
    fast = train_throughput.with_timing(dict(result, precision="fp32"), [1.0], 100, {"fp32_gflops": 50.0,
                                                                                   "bf16_gflops": 400.0})
    assert fast["fraction_of_peak"] == 2.0 and "direct-convolution FLOPs" in fast["fraction_of_peak_note"]


def test_peak_is_the_faster_framework_per_precision():
    pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    from bench import peak

    result = peak.measure(128, repeats=1)
    for precision in ("fp32", "bf16"):
        both = [result[f"keras_{precision}_gflops"], result[f"torch_{precision}_gflops"]]
        assert min(both) > 0 and result[f"{precision}_gflops"] == max(both)
    assert "torch_fp32_gflops" not in peak.measure(64, repeats=1, torch=False)


def test_other_kernels_run_in_a_child_process(capsys):
    other = "default" if train_plan.kernels_in_force() == "onednn" else "onednn"
    result = train_throughput.main([*TINY, f"--tf_kernels={other}", "--peak_size=0", "--steps=1"])
    assert result["kernels"] == other and result["onednn"] is (other == "onednn")
    assert result["env"]["TF_ENABLE_ONEDNN_OPTS"] == ("1" if other == "onednn" else "0")
    assert "runs" not in result and len(result["times_s"]) == 1


@pytest.mark.parametrize("argv", [["--steps=0"], ["--precision=fp8"], ["--normalization=layer_norm"],
                                  ["--run=keras,fp32,batch_norm"], ["--run=mxnet,fp32,batch_norm,standard"],
                                  ["--deterministic=maybe"], ["--tf_kernels=mkl"], ["--torch", "--precision=fp16"],
                                  ["--run=torch,fp16,batch_norm,standard"], ["--targets", "--compare"],
                                  ["--targets", "--normalization=none", "--init=zeroinit"],
                                  ["--normalization=ghost_batch_norm", "--batch_size=48"], ["--torch_device=tpu"]])
def test_bad_flags_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_throughput.parse_args(argv)
    error = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(error) == 1 and error[0].startswith("error: "), error


def test_torch_device_cuda_without_a_gpu_is_one_error_line(capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU that PyTorch sees")
    with pytest.raises(SystemExit) as exit_info:
        train_throughput.parse_args(["--torch", "--torch_device=cuda"])
    error = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and error == [
        "error: --torch_device=cuda: PyTorch sees no GPU here; accepted: auto (the GPU where there is one, else the CPU) "
        "or cpu"]
    assert str(train_throughput.torch_device("auto")) == "cpu"


def test_benchmark_flags_follow_the_tfzoo_convention(tmp_path, capsys):
    """absl flags: real booleans, --flagfile, --help; a stray argument is one error line."""
    args = train_throughput.parse_args(["--nodeterministic", "--torch", "--steps=4"])
    assert args.deterministic is False and args.torch is True and args.steps == 4
    assert train_throughput.parse_args(["--deterministic=false"]).deterministic is False
    assert train_throughput.parse_args([]).deterministic is True  # a fresh parser each call: nothing carries over
    flagfile = tmp_path / "bench.flags"
    flagfile.write_text("--model=wrn-10-1\n--batch_size=8\n")
    args = train_throughput.parse_args([f"--flagfile={flagfile}", "--steps=2"])
    assert (args.model, args.batch_size, args.steps) == ("wrn-10-1", 8, 2)
    with pytest.raises(SystemExit) as exit_info:
        train_throughput.parse_args(["--help"])
    assert exit_info.value.code == 0 and "--ghost_batch_size" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        pipeline_throughput.main(["wrn-16-4"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip() == "error: python -m bench.pipeline_throughput takes --flags only. Received: 'wrn-16-4'"


def test_pipeline_throughput_on_real_cifar10(capsys):
    result = pipeline_throughput.main([f"--data_dir={CIFAR10_SUBSET}", "--batches=5", "--warmup=1",
                                       "--train_images_per_second=10"])
    assert last_json_line(capsys) == json.loads(json.dumps(result, sort_keys=True))
    assert result["num_train_examples"] == 320 and result["image_shape"] == [32, 32, 3]
    assert result["batch_dtype"] == "float32" and result["images_per_second"] > 0
    assert result["over_training"] == pytest.approx(result["images_per_second"] / 10, rel=1e-2)


def test_inference_savedmodel_agrees_with_torch(capsys):
    pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    result = inference.main(["--model=wrn-10-1", "--batch_size=4", "--runs=2"])
    assert result["batch1_latency_ms"] > 0 and result["batch4_images_per_second"] > 0
    assert result["torch_eager"]["batch1_latency_ms"] > 0
    # the SavedModel (uint8 in, normalization and softmax inside) and the torch twin with the same weights
    assert result["max_abs_probability_difference_vs_torch"] < 1e-5


@pytest.mark.slow
def test_train_throughput_under_jax():
    pytest.importorskip("jax", reason="jax is not installed (pip install -e .[jax])")
    code = (
        "import json, sys\n"
        "import tfzoo\n"
        "from tfzoo.precision import precision_scope\n"
        "from bench import flops, peak\n"
        "with precision_scope('bf16'):\n"
        "    model = tfzoo.create_model('wrn-10-1')\n"
        "print(json.dumps({'tensorflow': 'tensorflow' in sys.modules, 'flops': flops.forward_flops(model),\n"
        "                  'logits': model.output.dtype, 'peak': peak.measure(64, repeats=1)['fp32_gflops']}))\n"
        "from bench import train_throughput\n"
        f"train_throughput.main({[*TINY, '--steps=1', '--peak_size=64']!r})\n"
    )
    env = dict(os.environ, KERAS_BACKEND="jax")
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, check=False)
    assert child.returncode == 0, child.stderr[-2000:]
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    models_only, result = json.loads(lines[0]), json.loads(lines[-1])
    # the model, precision, FLOP and peak code runs on JAX without importing TensorFlow
    assert models_only == {"tensorflow": False, "flops": 25_003_264, "logits": "float32", "peak": models_only["peak"]}
    assert models_only["peak"] > 0
    assert result["backend"] == "jax" and result["peak"]["backend"] == "jax"
    assert result["images_per_second"] > 0 and result["finite"] and result["parameters"] == 77_850

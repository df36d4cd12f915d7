"""bench.gpu_figures, the prepared GPU run: its plan, its report, and a smoke run on JAX without TensorFlow."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from bench import gpu_figures
from tests.conftest import REPO

PAIR = "wrn-16-4 bf16 bn b64,wrn-16-4 bf16 zeroinit b64"
GHOST = "wrn-16-4 bf16 gbn64 b1024"
TORCH_BN = "torch wrn-16-4 bf16 bn b64"


def test_every_ratio_names_two_figures_and_every_model_has_a_smoke_stand_in():
    names = [name for name, _ in gpu_figures.FIGURES]
    assert len(set(names)) == len(names) and names[:2] == ["wrn-16-4 bf16 bn b64", "resnet50_v1 bf16 bn b256"]
    for _, a, b in gpu_figures.RATIOS:
        assert a in names and b in names
    assert {flags["model"] for _, flags in gpu_figures.FIGURES} == set(gpu_figures.SMOKE)
    for name, flags in gpu_figures.FIGURES:  # every PyTorch figure has its Keras figure, and a ratio to it
        if name.startswith("torch "):
            assert name[len("torch "):] in names and flags["model"].startswith(("wrn-", "resnet50_v1"))
            assert any(b == name and a == name[len("torch "):] for _, a, b in gpu_figures.RATIOS)


def test_a_torch_figure_times_the_twin_alone_at_the_same_settings():
    args = gpu_figures.figure_flags(dict(gpu_figures.FIGURES)["torch wrn-16-4 bf16 zeroinit b64"], steps=40, warmup=5)
    keras_args = gpu_figures.figure_flags(dict(gpu_figures.FIGURES)["wrn-16-4 bf16 zeroinit b64"], steps=40, warmup=5)
    assert "--run=torch,bf16,none,zeroinit" in args and [a for a in args if not a.startswith("--run=")] == keras_args
    assert not any(a.startswith("--run=") for a in keras_args)


def test_figure_flags_take_one_batch_per_update():
    flags = dict(gpu_figures.RESNET, precision="bf16", normalization="none", init="zeroinit")
    args = gpu_figures.figure_flags(flags, steps=40, warmup=5)
    assert "--model=resnet50_v1" in args and "--image_size=224" in args and "--num_classes=1000" in args
    assert "--batch_size=256" in args and "--ghost_batch_size=256" in args and "--steps=40" in args
    smoke = gpu_figures.figure_flags(flags, steps=40, warmup=5, smoke=True)
    assert "--model=resnet18_v1" in smoke and "--image_size=32" in smoke and "--batch_size=8" in smoke
    assert "--steps=1" in smoke and "--normalization=none" in smoke and "--init=zeroinit" in smoke


def test_the_ghost_batch_norm_figure_keeps_its_ghost_batch_in_one_step():
    flags = dict(gpu_figures.FIGURES)[GHOST]
    args = gpu_figures.figure_flags(flags, steps=40, warmup=5)
    assert "--batch_size=1024" in args and "--ghost_batch_size=64" in args
    assert "--normalization=ghost_batch_norm" in args and "--accumulate_ghost_batches=false" in args
    smoke = gpu_figures.figure_flags(flags, steps=40, warmup=5, smoke=True)
    assert "--batch_size=8" in smoke and "--ghost_batch_size=4" in smoke  # two ghost batches, as at full size


def test_ratios_and_table_cover_errors_and_skips():
    figures = [
        {"name": "wrn-16-4 bf16 bn b64", "images_per_second": 400.0, "step_ms": 160.0, "achieved_tflops": 0.9,
         "fraction_of_peak": 0.25},
        {"name": "wrn-16-4 bf16 zeroinit b64", "images_per_second": 560.0, "step_ms": 114.3, "achieved_tflops": 1.3},
        {"name": "resnet50_v1 bf16 bn b256", "error": "exit 1: RESOURCE_EXHAUSTED"},
        {"name": "wrn-16-4 fp32 bn b64", "skipped": "--budget_s=1 spent"},
    ]
    report = {"figures": figures, "ratios": gpu_figures.ratios(figures), "smoke": False}
    assert report["ratios"] == {"wrn-16-4 bf16: zeroinit / bn": 1.4}
    lines = gpu_figures.table(report).splitlines()
    assert lines[2] == "| wrn-16-4 bf16 bn b64 | 160.0 | 400 | 0.9 | 25% |"
    assert lines[3] == "| wrn-16-4 bf16 zeroinit b64 | 114.3 | 560 | 1.3 | – |"
    assert "RESOURCE_EXHAUSTED" in lines[4] and "spent" in lines[5] and lines[-1] == "- wrn-16-4 bf16: zeroinit / bn: 1.400"


def test_bad_flags_name_the_value_and_what_is_accepted(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        gpu_figures.main([f"--output_dir={tmp_path}", "--only=wrn-16-4 bf16 b64"])
    assert exit_.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "'wrn-16-4 bf16 b64'" in error and "wrn-16-4 bf16 bn b64" in error
    assert list(tmp_path.iterdir()) == []


def test_a_failing_child_gives_one_line_not_a_traceback():
    result, error = gpu_figures.run_child("bench.peak", ["--size=big"], timeout_s=120)
    assert result is None and error.startswith("exit 2: ") and "flag --size=big: invalid literal for int()" in error


def test_a_spent_budget_skips_the_figures_and_still_writes_the_report(tmp_path):
    report = gpu_figures.main([f"--output_dir={tmp_path}", "--budget_s=0.01", f"--only={PAIR}"])
    assert report["peak"] == {"error": "timed out after 0 s"}
    assert [f.get("skipped") for f in report["figures"]] == ["--budget_s=0.01 spent"] * 2
    assert json.loads((tmp_path / "gpu_figures.json").read_text())["figures"] == report["figures"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpu_figures.json", "gpu_figures.md"]


@pytest.mark.slow
def test_smoke_run_on_jax_without_tensorflow(tmp_path):
    """As on the GPU machine: JAX, and an import of TensorFlow fails (a stand-in package raises)."""
    pytest.importorskip("jax", reason="jax is not installed (pip install -e .[jax])")
    shim = tmp_path / "shim" / "tensorflow"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('no TensorFlow on this machine (test stand-in)')\n")
    out = tmp_path / "out"
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=str(shim.parent))
    command = [sys.executable, "-m", "bench.gpu_figures", f"--output_dir={out}", "--smoke",
               f"--only={PAIR},{TORCH_BN},{GHOST}"]
    child = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, check=False, timeout=600)
    assert child.returncode == 0, child.stderr[-2000:]
    report = json.loads((out / "gpu_figures.json").read_text())
    assert report["smoke"] and report["machine"]["backend"] == "jax" and "tensorflow" not in report["machine"]
    assert report["machine"]["accelerator"] == ["cpu: cpu"] and report["peak"]["bf16_gflops"] > 0
    assert "torch_bf16_gflops" not in report["peak"]  # the peak is JAX's on the device, not PyTorch's CPU matmul
    assert "TF_ENABLE_ONEDNN_OPTS" not in report["machine"]["env"]  # a TensorFlow setting: not recorded on JAX
    bn, torch_bn, zeroinit, ghost = report["figures"]
    if importlib.util.find_spec("torch"):  # PyTorch is a bench extra: where it is installed, its twin ran on this CPU
        assert torch_bn["framework"] == "torch" and torch_bn["device"] == "cpu" and torch_bn["finite"]
        assert torch_bn["parameters"] == bn["parameters"] and "--run=torch,bf16,batch_norm,standard" in torch_bn["command"]
        assert report["ratios"]["wrn-16-4 bf16 bn b64: keras / torch"] == pytest.approx(
            bn["images_per_second"] / torch_bn["images_per_second"], rel=1e-2)
    assert ghost["name"] == GHOST and ghost["accumulation_steps"] == 1 and ghost["finite"]
    assert ghost["parameters"] == bn["parameters"]  # the same layers: ghost BN keeps one set of statistics
    assert bn["name"] == "wrn-16-4 bf16 bn b64" and "--model=wrn-16-1" in bn["command"]
    assert bn["command"].startswith("KERAS_BACKEND=jax python -m bench.train_throughput ")
    assert (bn["parameters"], zeroinit["parameters"]) == (175_066, 174_704)  # WRN-16-1 with BN; without, ZeroInit
    for figure in (bn, zeroinit):
        assert figure["finite"] and figure["images_per_second"] > 0 and figure["logits_dtype"] == "float32"
        assert figure["achieved_tflops"] == pytest.approx(figure["achieved_gflops"] / 1e3, abs=1e-3)
    ratio = report["ratios"]["wrn-16-4 bf16: zeroinit / bn"]
    assert ratio == pytest.approx(zeroinit["images_per_second"] / bn["images_per_second"], rel=1e-2)
    assert (out / "gpu_figures.md").read_text().startswith("Smoke run (")
    assert "wrn-16-4 bf16 zeroinit b64" in child.stdout

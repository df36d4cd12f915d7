"""recipes.imagenet_resnet end to end on SYNTHETIC data: TFDS's ``mock_data`` serves random-noise
JPEGs with random labels in place of ImageNet (no ImageNet image exists on this machine), so this
checks the protocol and the plumbing, not accuracy."""

import json

import pytest

from tests.cli_cases import assert_one_error
from tests.recipes.mock_imagenet import run_on_mock_imagenet


def _run(tmp_path, *flags):
    return run_on_mock_imagenet(tmp_path, "from recipes import imagenet_resnet; imagenet_resnet.run(sys.argv)",
                                f"--output_dir={tmp_path / 'out'}", *flags)


@pytest.mark.slow
def test_section5_protocol_on_synthetic_imagenet(tmp_path):
    result = _run(tmp_path, "--depth=18", "--version=v2", "--normalization=none", "--init=zeroinit", "--batch_size=8",
                  "--ghost_batch_size=4", "--epochs=2", "--max_train_examples=16", "--eval_batch_size=8")
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    config = results["config"]
    assert results["model"] == "resnet18_v2" and results["dataset"] == "imagenet2012"
    assert (config["hold_epochs"], config["decay_every"], config["lr"]) == (45, 5, pytest.approx(0.1 * 8 / 256))
    assert results["accumulation_steps"] == 2 and results["updates_per_epoch"] == 2 and results["epochs"] == 2
    assert results["num_train_examples"] == 16 and results["num_test_examples"] == 16
    assert 0 <= results["test_accuracy"] <= results["test_top5_accuracy"] <= 1
    assert f"top-5 {results['test_top5_accuracy']:.4f} on 16 validation images" in result.stdout


def test_defaults_are_section5(monkeypatch):
    from absl import flags

    from recipes import imagenet_resnet

    assert imagenet_resnet.SECTION5_DEFAULTS["epochs"] == 90
    assert (imagenet_resnet.SECTION5_DEFAULTS["hold_epochs"], imagenet_resnet.SECTION5_DEFAULTS["decay_every"]) == (45, 5)
    assert imagenet_resnet.SECTION5_DEFAULTS["ghost_batch_size"] == 256
    from tfzoo.training import lr_at_epoch

    lrs = [lr_at_epoch("paper", 0.4, e, 90, hold_epochs=45, decay_every=5) for e in (0, 44.9, 45, 49.9, 50, 89.9)]
    assert lrs == [0.4, 0.4, 0.2, 0.2, 0.1, 0.4 * 0.5 ** 9]
    assert flags.FLAGS["version"].default == "v2"


@pytest.mark.parametrize("flag, message", [
    ("--version=v3", "resnet50_v3"),
    ("--depth=42", "resnet42_v2"),
    ("--decay_every=0", "decay_every must be > 0"),
])
def test_bad_flags_exit_2(tmp_path, flag, message):
    result = _run(tmp_path, flag)
    assert_one_error(result, message)
    assert not (tmp_path / "out").exists()

"""One preparation per run (``tfzoo.training.prepare``): the configuration is checked once, the
strategy, precision and determinism are set up once, and the loop trains what was prepared."""

import json

import pytest

from tests.conftest import CIFAR10_SUBSET
from tfzoo.training import PreparedRun, TrainConfig, prepare, train


def _config(tmp_path, **overrides):
    return TrainConfig.create(**{**dict(dataset="cifar10", data_dir=str(CIFAR10_SUBSET), model="wrn-10-1", normalization="none",
                                 init="zeroinit", batch_size=32, ghost_batch_size=16, lr=0.05, epochs=1,
                                 max_train_examples=64, eval_batch_size=128, output_dir=str(tmp_path / "run")),
                          **overrides})


def test_a_prepared_run_is_validated_once_and_trained_as_prepared(tmp_path, monkeypatch):
    calls = []
    validate = TrainConfig.validate
    monkeypatch.setattr(TrainConfig, "validate", lambda self: calls.append(self) or validate(self))
    run = prepare(_config(tmp_path))
    assert isinstance(run, PreparedRun) and run.chief and run.accumulation == 2
    assert run.precision == "fp32" and run.spec.num_classes == 10 and run.spec.image_shape == (32, 32, 3)
    assert not (tmp_path / "run").exists()  # preparing writes nothing
    results = train(run, verbose=0)
    assert len(calls) == 1  # train took the prepared run as it was: no second validation
    assert (results["precision"], results["accumulation_steps"], results["bit_reproducible"]) == (
        run.precision, run.accumulation, run.reproducible)
    assert results["epochs"] == 1 and json.loads((tmp_path / "run" / "config.json").read_text())["lr"] == 0.05
    # A plain TrainConfig prepares by itself (a second run of the same command resumes: nothing left to train).
    again = train(_config(tmp_path), verbose=0)
    assert len(calls) == 2 and again["test_accuracy"] == results["test_accuracy"]


@pytest.mark.parametrize("overrides, message", [
    (dict(lr=-1.0), r"lr must be > 0\. Received: lr=-1\.0"),
    (dict(normalization="layer_norm"), r"Unknown normalization 'layer_norm'; accepted: 'batch_norm'"),
    (dict(batch_size=40), r"batch_size=40 must be a multiple of ghost_batch_size=16"),
])
def test_a_bad_configuration_is_refused_before_anything_is_set_up(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        prepare(_config(tmp_path, **overrides))
    assert not (tmp_path / "run").exists()


def test_a_folder_of_another_run_is_refused_and_left_alone(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    saved = json.dumps({**_config(tmp_path).to_dict(), "lr": 0.5})
    (folder / "config.json").write_text(saved)
    with pytest.raises(ValueError, match=r"holds a run with lr=0\.5, not 0\.05"):
        prepare(_config(tmp_path))
    assert [p.name for p in folder.iterdir()] == ["config.json"] and (folder / "config.json").read_text() == saved


def test_auto_precision_is_decided_when_the_run_starts_and_kept_when_it_resumes(tmp_path, monkeypatch, caplog):
    from tfzoo.training import checkpoints, preparation

    config = _config(tmp_path, precision="auto")
    monkeypatch.setattr(preparation, "cpu_flags", lambda: {"avx512f", "avx512_bf16"})  # a CPU computing in bf16
    results = train(prepare(config), verbose=0)
    assert (results["precision"], results["precision_requested"]) == ("bf16", "auto")
    _, path = checkpoints.latest(tmp_path / "run" / "checkpoints")
    assert checkpoints.written_in_precision(path) == "bf16"
    # The same command on a CPU without bf16: auto would give fp32, but the run goes on in bf16, as it started.
    monkeypatch.setattr(preparation, "cpu_flags", lambda: {"avx2", "fma"})
    with caplog.at_level("WARNING"):
        assert prepare(config).precision == "bf16"
    assert "resuming in bf16, the precision --precision=auto chose when the run started" in caplog.text
    assert "on this machine auto gives fp32" in caplog.text
    assert prepare(_config(tmp_path, precision="auto", output_dir=str(tmp_path / "new"))).precision == "fp32"

"""The keras-tuner grid oracle, without training: each trial handed out once, in order, and a
reloaded search (a killed process) resumes: the running trial first, no finished one again,
failed ones retried; a diverged trial completes (no NaN, no retry)."""

import json

import pytest

from tfzoo.search import Grid, TrialSpec
from tfzoo.search.tuner import LRSearchTuner, format_result, trial_result
from tfzoo.training import TrainConfig

GRID = Grid((16, 64), (-2, 8), runs=2)
CONFIG = TrainConfig.create(model="wrn-10-1", normalization="none", init="standard", epochs=1, seed=5)


def _finish(oracle, trial, metrics, status="COMPLETED"):
    oracle.update_trial(trial.trial_id, metrics)
    trial.status = status
    oracle.end_trial(trial)


def _spec(trial):
    return TrialSpec(**trial.hyperparameters.values)


def test_every_trial_once_in_grid_order_then_stop(tmp_path, capsys):
    oracle = LRSearchTuner(CONFIG, GRID, tmp_path).oracle
    handed = []
    while (trial := oracle.create_trial("tuner0")).status == "RUNNING":
        handed.append(_spec(trial))
        _finish(oracle, trial, {"test_accuracy": 0.5, "train_loss": 1.25, "diverged": 0.0, "seconds": 2.0})
    assert trial.status == "STOPPED"
    assert handed == GRID.trials() and oracle.pending() == []
    assert [r.spec for r in oracle.results()] == GRID.trials()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "[1/8] batch 16, lr 2^-2, run 0: test accuracy 0.5000, train loss 1.2500 (2.0 s)"
    assert lines[-1].startswith("[8/8] batch 64, lr 2^8, run 1:")


def test_a_search_on_held_out_training_examples_calls_its_accuracy_validation(tmp_path, capsys):
    config = TrainConfig.create(model="wrn-10-1", normalization="none", init="standard", epochs=1, seed=5,
                         validation_examples=100)
    oracle = LRSearchTuner(config, GRID, tmp_path).oracle
    _finish(oracle, oracle.create_trial("tuner0"), {"test_accuracy": 0.5, "train_loss": 1.25, "diverged": 0.0,
                                                     "seconds": 2.0})
    assert capsys.readouterr().out.splitlines() == [
        "[1/8] batch 16, lr 2^-2, run 0: validation accuracy 0.5000, train loss 1.2500 (2.0 s)"]


def test_trial_configs_set_batch_lr_seed_and_folder(tmp_path):
    tuner = LRSearchTuner(CONFIG, GRID, tmp_path)
    config = tuner.trial_config(TrialSpec(64, -2, 1))
    assert (config.batch_size, config.lr, config.seed) == (64, 0.25, 6)
    assert config.output_dir == str(tmp_path / "trials" / "bs64_lr-2_run1")
    assert config.epochs == 1 and config.normalization == "none" and config.model == "wrn-10-1"


def test_a_diverged_trial_completes_without_nan(tmp_path):
    oracle = LRSearchTuner(CONFIG, GRID, tmp_path).oracle
    trial = oracle.create_trial("tuner0")
    _finish(oracle, trial, {"test_accuracy": 0.0, "diverged": 1.0, "seconds": 1.5})
    assert oracle.trials[trial.trial_id].status == "COMPLETED"  # not INVALID: not retried
    result = trial_result(oracle.trials[trial.trial_id])
    assert (result.test_accuracy, result.train_loss, result.diverged) == (None, None, True)
    assert format_result(result) == "batch 16, lr 2^-2, run 0: diverged (1.5 s)"
    saved = (tmp_path / "keras_tuner" / f"trial_{trial.trial_id}" / "trial.json").read_text()
    json.loads(saved, parse_constant=pytest.fail)  # strict JSON
    assert oracle.create_trial("tuner0").hyperparameters.values == TrialSpec(16, -2, 1).values()


def test_reload_resumes_the_running_trial_and_retries_failed_ones(tmp_path):
    oracle = LRSearchTuner(CONFIG, GRID, tmp_path).oracle
    done = oracle.create_trial("tuner0")
    _finish(oracle, done, {"test_accuracy": 0.5, "train_loss": 1.0, "diverged": 0.0, "seconds": 1.0})
    failed = oracle.create_trial("tuner0")
    failed.message = "Traceback ...\nMemoryError: out of memory"
    _finish(oracle, failed, {"test_accuracy": 0.5, "diverged": 0.0, "seconds": 1.0}, status="INVALID")
    assert oracle.trials[failed.trial_id].status == "FAILED"  # no retries within one invocation
    running = oracle.create_trial("tuner0")  # then the process is killed

    # A new process (another tuner id, as when a single-process search is resumed as a chief).
    resumed = LRSearchTuner(CONFIG, GRID, tmp_path).oracle
    assert {r.spec for r in resumed.results()} == {_spec(done)}
    first, second = resumed.create_trial("tuner0"), resumed.create_trial("tuner1")
    assert {first.trial_id, second.trial_id} == {running.trial_id, failed.trial_id}
    for trial in (first, second):
        _finish(resumed, trial, {"test_accuracy": 0.25, "train_loss": 2.0, "diverged": 0.0, "seconds": 1.0})
    handed = []
    while (trial := resumed.create_trial("tuner0")).status == "RUNNING":
        handed.append(_spec(trial))
        _finish(resumed, trial, {"test_accuracy": 0.5, "train_loss": 1.0, "diverged": 0.0, "seconds": 1.0})
    assert handed == GRID.trials()[3:]  # nothing finished is handed out again
    assert [r.spec for r in resumed.results()] == GRID.trials() and len(resumed.trials) == len(GRID)
    leftovers = [p.name for p in (tmp_path / "keras_tuner").rglob("*") if ".tmp" in p.name]
    assert leftovers == []  # state files are written atomically


def _fake_train(config, verbose=0):
    """Stands in for tfzoo.training.train: writes a checkpoint, returns a finished run's results."""
    from pathlib import Path

    checkpoints = Path(config.output_dir) / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "epoch_0001.keras").write_bytes(b"state")
    return {"test_accuracy": 0.5 + config.lr / 1000, "train_loss": 1.0, "diverged": config.lr > 100, "seconds": 1.0}


class _Killed(BaseException):
    """A kill -9 landing at a chosen line (keras-tuner catches Exception, not this)."""


def test_a_finished_trial_is_recorded_before_its_checkpoints_are_deleted(tmp_path, monkeypatch):
    from tfzoo.search import tuner as tuner_module

    monkeypatch.setattr(tuner_module, "train", _fake_train)
    seen = []

    def killed_while_deleting(trial_dir):
        seen.append(trial_dir)
        raise _Killed

    monkeypatch.setattr(tuner_module, "delete_checkpoints", killed_while_deleting)
    with pytest.raises(_Killed):
        LRSearchTuner(CONFIG, GRID, tmp_path).search(verbose=0)
    first = GRID.trials()[0]
    assert seen == [str(tmp_path / "trials" / first.name)]
    assert (tmp_path / "trials" / first.name / "checkpoints" / "epoch_0001.keras").is_file()  # killed before deleting

    monkeypatch.undo()  # a new process after the kill: the finished trial is done, the next one comes next
    resumed = LRSearchTuner(CONFIG, GRID, tmp_path).oracle
    assert [r.spec for r in resumed.results()] == [first]
    assert resumed.results()[0].test_accuracy == pytest.approx(0.5 + first.lr / 1000)
    assert _spec(resumed.create_trial("tuner0")) == GRID.trials()[1]


def test_a_search_deletes_checkpoints_and_writes_hparams_sessions(tmp_path, monkeypatch):
    from tfzoo.search import tuner as tuner_module
    from tfzoo.search.tuner import run_search

    monkeypatch.setattr(tuner_module, "train", _fake_train)
    results = run_search(CONFIG, GRID, tmp_path)
    assert [r.spec for r in results] == GRID.trials()
    assert sum(r.diverged for r in results) == 4  # lr 2^8 = 256 > 100
    assert list((tmp_path / "trials").glob("*/checkpoints")) == []
    from tests.search.test_hparams import _read

    sessions = _read(tmp_path / "hparams")  # as TensorBoard's HParams plugin reads them
    assert sorted(sessions) == sorted(s.name for s in GRID.trials())
    values, metrics = sessions["bs64_lr-2_run1"]
    assert (values["batch_size"], values["learning_rate"], values["scheme"]) == (64.0, 0.25, "none/standard")
    assert metrics == pytest.approx({"test_accuracy": 0.50025, "train_loss": 1.0, "diverged": 0.0})
    assert sessions["bs16_lr8_run0"][1] == {"diverged": 1.0}

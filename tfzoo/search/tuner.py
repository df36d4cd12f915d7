"""The learning-rate search on keras-tuner: a resumable grid oracle and a tuner whose trials call
``tfzoo.training.train`` (the paper's section 3: batch sizes x log2 learning rates x n runs).

keras-tuner keeps the search state in ``DIR/keras_tuner/`` (the oracle and one ``trial.json`` per
trial), so the same command finishes what is missing and re-runs nothing; each trial trains into
``DIR/trials/bs{B}_lr{e}_run{r}/``, where ``train`` resumes a killed run from its checkpoint.
With ``KERASTUNER_TUNER_ID``/``KERASTUNER_ORACLE_IP``/``KERASTUNER_ORACLE_PORT`` set, a ``chief``
serves the oracle over gRPC and workers run the trials (keras-tuner's distributed mode).
"""

import dataclasses
import json
import os
import shutil
import sys
from pathlib import Path

import keras_tuner
from keras_tuner.engine import base_tuner

from tfzoo.data import DataError
from tfzoo.search import hparams, report
from tfzoo.search.grid import TrialSpec
from tfzoo.search.summary import TrialResult, summarize
from tfzoo.training import outputs, train

PROJECT = "keras_tuner"
_COMPLETED = keras_tuner.engine.trial.TrialStatus.COMPLETED
_FAILED = keras_tuner.engine.trial.TrialStatus.FAILED
_RUNNING = keras_tuner.engine.trial.TrialStatus.RUNNING
_STOPPED = keras_tuner.engine.trial.TrialStatus.STOPPED


class GridOracle(keras_tuner.oracles.GridSearchOracle):
    """Hands out every trial of ``grid`` once, in ``grid.trials()`` order.

    ``GridSearchOracle`` does not save where it is in the grid, so a reloaded one stops or fails
    (keras-team/keras-tuner#1055); this one finds the next trial from the tried-values hashes the
    base ``Oracle`` saves. Trials that raised (not diverged: those complete) are retried by the
    next invocation. State files are written atomically. Prints one line per finished trial.
    """

    def __init__(self, grid, eval_split="test"):
        space = keras_tuner.HyperParameters()
        space.Choice("batch_size", list(grid.batch_sizes))
        space.Choice("lr_exponent", list(grid.lr_exponents))
        space.Choice("run", list(range(grid.runs)))
        super().__init__(
            objective=keras_tuner.Objective("test_accuracy", "max"),
            hyperparameters=space,
            allow_new_entries=False,
            tune_new_entries=False,
            seed=1,
        )
        self.grid = grid
        self.eval_split = eval_split  # what the progress lines call the accuracy: "test" or "validation"
        self.verbose = 0  # keras-tuner's trial tables; end_trial prints one line instead

    def populate_space(self, trial_id):
        for spec in self.grid.trials():
            if self._compute_values_hash(spec.values()) not in self._tried_so_far:
                return {"status": _RUNNING, "values": spec.values()}
        return {"status": _STOPPED, "values": None}  # the grid is fixed: nothing to wait for

    @keras_tuner.synchronized
    def end_trial(self, trial):
        super().end_trial(trial)
        trial = self.trials[trial.trial_id]
        done = len(self.results())
        if trial.status == _COMPLETED:
            print(f"[{done}/{len(self.grid)}] {format_result(trial_result(trial), self.eval_split)}", flush=True)
        elif trial.status == _FAILED:
            error = (trial.message or "").strip().splitlines()[-1:] or ["unknown error"]
            spec = TrialSpec(**trial.hyperparameters.values)
            print(f"[{done}/{len(self.grid)}] {spec.name} failed: {error[0]}", file=sys.stderr, flush=True)

    def reload(self):
        super().reload()
        for trial_id, trial in self.trials.items():
            if trial.status == _FAILED and trial_id not in self._retry_queue:
                self._retry_queue.append(trial_id)

    def results(self):
        """TrialResults of the completed trials, in grid order."""
        return sorted((trial_result(t) for t in self.trials.values() if t.status == _COMPLETED), key=lambda r: r.spec)

    def pending(self):
        """Trials of the grid without a completed result."""
        done = {r.spec for r in self.results()}
        return [spec for spec in self.grid.trials() if spec not in done]

    def save(self):
        outputs.write_text_atomic(os.path.join(self._project_dir, "oracle.json"), json.dumps(self.get_state()))

    def _save_trial(self, trial):
        path = os.path.join(self._get_trial_dir(trial.trial_id), "trial.json")
        outputs.write_text_atomic(path, json.dumps(trial.get_state()))


class LRSearchTuner(base_tuner.BaseTuner):
    """Runs one trial as one ``train(config)``: the grid sets batch_size, lr = 2^e and seed + run.

    Reports ``test_accuracy``, ``train_loss``, ``diverged`` (0/1) and ``seconds`` to the oracle.
    A diverged run is a completed trial, not a failure to retry: its ``train_loss`` is left out
    and its ``test_accuracy`` reported as 0 (no NaN reaches the oracle or its JSON), the worst,
    as in the paper.
    """

    def __init__(self, base_config, grid, directory):
        self.base_config = base_config
        self.directory_path = Path(directory)
        self._reloaded = False
        super().__init__(oracle=GridOracle(grid, base_config.eval_split), directory=str(directory), project_name=PROJECT)
        oracle_file = self.directory_path / PROJECT / "oracle.json"
        if not self._reloaded and not self._is_worker() and oracle_file.exists():
            # Another tuner id ran this project before (e.g. a single process, now a chief).
            self.oracle.reload()

    @property
    def is_worker(self):
        return self._is_worker()

    def trial_config(self, spec):
        return dataclasses.replace(
            self.base_config,
            batch_size=spec.batch_size,
            lr=spec.lr,
            seed=spec.seed(self.base_config.seed),
            output_dir=str(self.directory_path / "trials" / spec.name),
        )

    def run_trial(self, trial, verbose=0):
        import keras

        spec = TrialSpec(**trial.hyperparameters.values)
        config = self.trial_config(spec)
        try:
            results = train(config, verbose=verbose)
        except DataError as error:  # the same for every trial: stop, do not fail them one by one
            raise keras_tuner.errors.FatalError(str(error)) from error
        finally:
            keras.backend.clear_session()
        result = TrialResult.from_train_results(spec, results)
        if self._is_worker():
            print(f"[{self.tuner_id}] {format_result(result, self.base_config.eval_split)}", flush=True)
        metrics = {"test_accuracy": 0.0 if result.diverged else result.test_accuracy,
                   "diverged": float(result.diverged), "seconds": result.seconds}
        if not result.diverged:
            metrics["train_loss"] = result.train_loss
        return metrics

    def on_trial_end(self, trial):
        """Records the trial with the oracle (``trial.json``, ``oracle.json``) first; only then, for a
        completed trial, writes its HParams session and deletes its checkpoints. A kill between the
        two leaves a recorded trial with spare checkpoints, never a finished trial that is trained
        again because its record was lost."""
        super().on_trial_end(trial)
        recorded = self.oracle.get_trial(trial.trial_id)  # on a worker: the chief's record, over gRPC
        if recorded.status != _COMPLETED:
            return
        spec = TrialSpec(**recorded.hyperparameters.values)
        hparams.write_session(self.directory_path, self.base_config, trial_result(recorded))
        delete_checkpoints(self.trial_config(spec).output_dir)

    def save(self):
        if not self._is_worker():
            self.oracle.save()
        outputs.write_text_atomic(self._get_tuner_fname(), json.dumps(self.get_state()))

    def reload(self):
        self._reloaded = True
        super().reload()


def delete_checkpoints(trial_dir):
    """A finished trial is never resumed: its checkpoints (model and optimizer state) only fill the disk."""
    shutil.rmtree(Path(trial_dir) / "checkpoints", ignore_errors=True)


def trial_result(trial):
    """The TrialResult a completed keras-tuner trial recorded."""
    metrics = trial.metrics
    diverged = bool(metrics.get_last_value("diverged"))
    loss = float(metrics.get_last_value("train_loss")) if metrics.exists("train_loss") else None
    return TrialResult(
        TrialSpec(**trial.hyperparameters.values),
        None if diverged else float(metrics.get_last_value("test_accuracy")),
        None if diverged else loss,
        diverged,
        float(metrics.get_last_value("seconds")),
    )


def format_result(result, eval_split="test"):
    """One progress line: batch size, learning rate, run, accuracy, loss, seconds. ``eval_split`` names what the
    accuracy was measured on: "validation" when the search holds examples out of the training set."""
    s = result.spec
    head = f"batch {s.batch_size}, lr 2^{s.lr_exponent}, run {s.run}:"
    if result.diverged:
        return f"{head} diverged ({result.seconds:.1f} s)"
    return f"{head} {eval_split} accuracy {result.test_accuracy:.4f}, train loss {result.train_loss:.4f} ({result.seconds:.1f} s)"


def run_search(base_config, grid, directory):
    """Runs the trials of ``grid`` that ``directory`` has no result for (all of them at first).

    Returns the TrialResults of every completed trial, or None on a distributed worker (the
    chief holds the results). A chief or single process with nothing left returns at once.
    """
    tuner = LRSearchTuner(base_config, grid, directory)
    if tuner.is_worker:
        tuner.search(verbose=0)
        return None
    if tuner.oracle.pending():
        tuner.search(verbose=0)
    return tuner.oracle.results()


def search_and_report(base_config, grid, directory, identity, best, *, is_worker=False):
    """One learning-rate search with its files: ``search.json`` (not on a worker), the missing trials,
    then ``trials.csv`` and the summaries (``report.write_outputs``). Returns (results, summary), or
    None on a distributed worker. Raises keras_tuner.errors.FatalError if the data cannot be read."""
    if not is_worker:
        report.write_search(directory, identity)
    results = run_search(base_config, grid, directory)
    if results is None:
        return None
    hparams.write_missing(directory, base_config, results)
    summary = summarize(results, grid, best)
    report.write_outputs(directory, results, summary, identity, best)
    return results, summary

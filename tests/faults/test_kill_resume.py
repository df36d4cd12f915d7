"""kill -9 at precise points of a real run, a full disk, a damaged checkpoint and a second run into a
busy folder: each ends with one clear line, a usable folder, and, once resumed, the same final
numbers as an undisturbed run.

Every run is ``python -m tests.faults.inject FAULT recipes.cifar_wrn ...`` (tests/faults/inject.py:
the fault is injected by the test launcher, tfzoo has no hook for it) on 128 Fashion-MNIST images,
WRN-10-1, 2 epochs of 4 steps.
"""

import csv
import json
import shutil
import signal
import time

import pytest

from tests.faults.conftest import launch, run, tiny_run_flags, wait

KILLED = -signal.SIGKILL
NUMBERS = ("test_accuracy", "test_loss", "train_loss", "train_cross_entropy", "l2_penalty", "epochs")

pytestmark = pytest.mark.slow


def _numbers(folder):
    results = json.loads((folder / "results.json").read_text())
    with open(folder / "history.csv", newline="") as f:
        history = [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]
    return {k: results[k] for k in NUMBERS}, history


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "tensorboard" not in p.parts)


def _errors(result):
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


@pytest.fixture(scope="module")
def runs(tiny_fashion, tmp_path_factory):
    """Every run of this module, two at a time where they do not depend on each other:

    - ``reference``: an undisturbed run, paused mid-epoch 1 (holding its folder) while ``second``,
      the same command into the same folder, runs;
    - one folder (``chain``) through every fault in turn, each run resuming what the one before left;
    - ``damaged``: a copy of the chain's folder before its last run, with the newest checkpoint cut
      to 0 bytes, resumed alongside the chain's last run.

    Returns {name: (CompletedProcess, files afterwards)} and the folders.
    """
    root = tmp_path_factory.mktemp("faults")
    reference, out, damaged, go = root / "reference", root / "chain", root / "damaged", root / "go"
    flags = tiny_run_flags(tiny_fashion, out)
    runs = {}
    first = launch(f"wait_mid_epoch:1:2:{go}", *tiny_run_flags(tiny_fashion, reference))
    chain = iter(("enospc_tensorboard:1", "kill_mid_epoch:2:2", "enospc:epoch_0002.keras", "kill_writing:epoch_0002.keras",
                  "kill_before:results.json"))
    step = next(chain)
    runs[step] = (run(step, *flags), _files(out))
    deadline = time.time() + 300
    while not go.with_name("go.waiting").exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    holder = (reference / ".lock").read_text().strip() if (reference / ".lock").exists() else None
    runs["second"] = (run("none", *tiny_run_flags(tiny_fashion, reference)), holder)
    go.touch()
    for step in chain:
        runs[step] = (run(step, *flags), _files(out))
    runs["reference"] = (wait(first), _files(reference))
    shutil.copytree(out, damaged)
    (damaged / "checkpoints" / "epoch_0002.keras").write_bytes(b"")
    last = launch("none", *flags)
    runs["damaged"] = (run("none", *tiny_run_flags(tiny_fashion, damaged)), _files(damaged))
    runs["last"] = (wait(last), _files(out))
    return runs, reference, out, damaged


def test_second_run_into_a_busy_folder_exits_2_naming_the_holder(runs):
    runs, reference, _, _ = runs
    (first, files), (second, holder) = runs["reference"], runs["second"]
    assert first.returncode == 0, first.stderr[-2000:]
    assert holder is not None and holder.startswith("pid ") and " on " in holder and " since " in holder
    assert second.returncode == 2, second.stderr[-2000:]
    assert _errors(second) == [f"error: output_dir {reference} is in use by another run: {holder} "
                               f"({reference / '.lock'}); wait for it to end, or use another output_dir"]
    assert "Traceback" not in second.stderr
    assert ".lock" not in files and not [name for name in files if ".tmp" in name]  # released, nothing left over
    assert "results.json" in files


def test_kill_mid_epoch_leaves_the_last_checkpoint(runs):
    steps = runs[0]
    result, files = steps["kill_mid_epoch:2:2"]
    assert result.returncode == KILLED, result.stderr[-2000:]
    assert "checkpoints/epoch_0001.json" in files and "checkpoints/epoch_0002.keras" not in files
    assert "results.json" not in files and "config.json" in files


def test_full_disk_is_one_error_line_and_loses_nothing(runs):
    steps = runs[0]
    result, files = steps["enospc:epoch_0002.keras"]
    assert result.returncode == 1, result.stderr[-2000:]
    [line] = _errors(result)
    assert "No space left on device" in line and "run the same command again to resume" in line
    assert "Traceback" not in result.stderr
    assert "Resuming" in result.stdout and "from epoch 1" in result.stdout
    assert not [name for name in files if ".tmp" in name]  # the failed write removed its temporary file
    assert "checkpoints/epoch_0001.keras" in files and "checkpoints/epoch_0002.keras" not in files


def test_full_disk_under_tensorboard_is_one_error_line(runs):
    """TensorBoard's writer fails as a TensorFlow op, not as an OSError: the same one line all the same."""
    steps = runs[0]
    result, files = steps["enospc_tensorboard:1"]
    assert result.returncode == 1, result.stderr[-2000:]
    [line] = _errors(result)
    assert line.startswith("error: [Errno 28] No space left on device: ") and "/tensorboard/train/events." in line
    assert "run the same command again to resume" in line and "Traceback" not in result.stderr
    assert "checkpoints/epoch_0001.keras" in files and "checkpoints/epoch_0002.keras" not in files
    assert ".lock" not in files and not [name for name in files if ".tmp" in name]


def test_kill_mid_checkpoint_write_leaves_only_a_temporary_file(runs):
    steps = runs[0]
    result, files = steps["kill_writing:epoch_0002.keras"]
    assert result.returncode == KILLED, result.stderr[-2000:]
    temporary = [name for name in files if name.startswith("checkpoints/.epoch_0002.keras.")]
    assert len(temporary) == 1 and temporary[0].endswith(".tmp.keras")
    assert "checkpoints/epoch_0002.keras" not in files


def test_kill_mid_results_write(runs):
    steps = runs[0]
    result, files = steps["kill_before:results.json"]
    assert result.returncode == KILLED, result.stderr[-2000:]
    assert "checkpoints/epoch_0002.json" in files and "results.json" not in files
    assert [name for name in files if name.startswith(".results.json.")]
    assert not [name for name in files if name.startswith("checkpoints/.")]  # the killed write's leftover, cleaned


def test_resumed_after_every_fault_ends_with_the_undisturbed_numbers(runs):
    steps, reference, out, _ = runs
    result, files = steps["last"]
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"Resuming {out} from epoch 2" in result.stdout
    assert _numbers(out) == _numbers(reference)
    assert not [name for name in files if ".tmp" in name or name == ".lock"]


def test_damaged_latest_checkpoint_falls_back_to_the_previous_one(runs):
    steps, reference, _, damaged = runs
    result, _ = steps["damaged"]
    assert result.returncode == 0, result.stderr[-2000:]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: damaged checkpoint")]
    assert warnings == [f"warning: damaged checkpoint {damaged / 'checkpoints' / 'epoch_0002.keras'} (0 bytes); "
                        "resuming from epoch_0001.keras instead"]
    assert f"Resuming {damaged} from epoch 1" in result.stdout
    assert _numbers(damaged) == _numbers(reference)

"""The run folder's guarantees without training: the lock, atomic files under unique names, damaged
checkpoints skipped with a warning, ``data_dir`` compared as a resolved path."""

import json
import os
import subprocess
import sys
import threading
import zipfile

import pytest

from tests.conftest import REPO
from tfzoo.training import checkpoints, lock, outputs
from tfzoo.training.config import TrainConfig
from tfzoo.training.preparation import check_resumable


@pytest.fixture(autouse=True)
def _fixed_seed():
    """Overrides the suite-wide Keras seed and ``clear_session``: nothing here builds a model."""
    yield


# --- the lock -----------------------------------------------------------------------------------

_HOLD = """
import sys, time
from tfzoo.training import lock
with lock.hold(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def other_process_holds(tmp_path):
    """A child process holding ``tmp_path``'s lock; killed (-9) at the end of the test unless already."""
    child = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True,
                             env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert child.stdout.readline().strip() == "held"
    yield child
    child.kill()
    child.wait()


def test_second_holder_is_refused_naming_the_first(tmp_path, other_process_holds):
    found = lock.holder(tmp_path)
    assert found.startswith(f"pid {other_process_holds.pid} on ") and " since " in found
    with pytest.raises(lock.FolderInUse) as info:
        with lock.hold(tmp_path):
            pass
    assert str(info.value) == (f"output_dir {tmp_path} is in use by another run: {found} ({tmp_path / '.lock'}); "
                               "wait for it to end, or use another output_dir")
    with pytest.raises(lock.FolderInUse, match="in use by another run: pid"):
        lock.check_free(tmp_path)


def test_a_killed_holder_leaves_no_stale_lock(tmp_path, other_process_holds):
    other_process_holds.kill()  # kill -9: no clean-up ran, the file stays, the kernel dropped the lock
    other_process_holds.wait()
    assert (tmp_path / ".lock").exists() and lock.holder(tmp_path) is None
    with lock.hold(tmp_path):
        assert lock.holder(tmp_path).startswith(f"pid {os.getpid()} on ")  # flock locks per open file
    assert not (tmp_path / ".lock").exists()


def test_hold_records_this_process_and_removes_the_file(tmp_path):
    with lock.hold(tmp_path):
        assert (tmp_path / ".lock").read_text().startswith(f"pid {os.getpid()} on ")
    assert list(tmp_path.iterdir()) == [] and lock.holder(tmp_path) is None


# --- atomic files -------------------------------------------------------------------------------


def test_concurrent_writers_of_one_file_never_share_a_temporary(tmp_path):
    """Two writers of one name (two runs into one folder before the lock) each write a whole file."""
    target, errors = tmp_path / "results.json", []

    def write(text):
        try:
            for _ in range(200):
                outputs.write_text_atomic(target, text)
        except Exception as error:  # collected: an exception in a thread does not fail the test by itself
            errors.append(error)

    threads = [threading.Thread(target=write, args=(c * 10_000,)) for c in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and target.read_text() in ("a" * 10_000, "b" * 10_000)
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "history.csv"
    outputs.write_text_atomic(target, "old")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outputs.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        outputs.write_history([{"epoch": 1, "loss": 0.5}], target)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["history.csv"]


def test_tensorflow_write_errors_under_the_folder_become_os_errors(tmp_path):
    """TensorBoard's event writer fails as a TensorFlow op: its file errors under the run folder become the
    OSError every other write raises; anything else (out of memory, another folder) stays as it was."""
    import tensorflow as tf

    events = tmp_path / "tensorboard" / "train" / "events.out.tfevents.1.vm.2.0.v2"

    def op_error(cls, text):  # the message format TensorFlow gives a failed WriteSummary
        return cls(None, None, "{{function_node __wrapped__WriteSummary_device_/job:localhost/replica:0/task:0/device:CPU:0}} "
                   f"{text}\n\tFailed to flush 11 events to {events}\n\tCould not flush events file. [Op:WriteSummary]")

    full = outputs.os_error_from(op_error(tf.errors.ResourceExhaustedError, f"{events}; No space left on device"), tmp_path)
    assert isinstance(full, OSError) and full.errno == 28 and full.filename == str(events)
    assert str(full) == f"[Errno 28] No space left on device: '{events}'"
    read_only = outputs.os_error_from(op_error(tf.errors.FailedPreconditionError, f"{events}; Read-only file system"),
                                      tmp_path / "tensorboard")
    assert read_only.errno == 30
    assert outputs.os_error_from(op_error(tf.errors.ResourceExhaustedError, f"{events}; No space left on device"),
                                 tmp_path / "elsewhere") is None
    assert outputs.os_error_from(tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[64]"),
                                 tmp_path) is None


def test_stale_temporaries_of_old_and_new_names_are_removed(tmp_path):
    names = [".epoch_0001.tmp.keras", ".results.json.tmp", ".curves.tmp.png", ".model.keras.99.ab12cd34.tmp.keras",
             ".results.json.99.ab12cd34.tmp"]
    kept = ["epoch_0001.keras", "results.json", ".lock", "notes.tmp"]
    for name in names + kept:
        (tmp_path / name).write_text("x")
    outputs.remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)


# --- damaged checkpoints ------------------------------------------------------------------------


def _checkpoint(directory, epoch, keras_bytes=None, state=None):
    """A checkpoint's two files: a zip with model.weights.h5 (as Keras writes it) and its state."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"epoch_{epoch:04d}.keras"
    if keras_bytes is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("config.json", "{}")
            archive.writestr("model.weights.h5", bytes(range(256)) * 40)
    else:
        path.write_bytes(keras_bytes)
    state = state if state is not None else json.dumps({"epoch": epoch, "history": [{}] * epoch, "seed_states": []})
    path.with_suffix(".json").write_text(state)
    return path


def _truncated_zip(directory, epoch):
    whole = _checkpoint(directory / "whole", epoch).read_bytes()
    return whole[: len(whole) // 2]


@pytest.mark.parametrize("damage, reason", [
    (dict(keras_bytes=b""), "(0 bytes)"),
    ("truncated zip", "(BadZipFile: File is not a zip file ("),
    (dict(state='{"epoch": 2, "hist'), "epoch_0002.json (JSONDecodeError: "),
    (dict(state=""), "epoch_0002.json (0 bytes)"),
    (dict(state='{"epoch": 1, "history": [], "seed_states": []}'), "epoch_0002.json (holds the state of epoch 1, not 2)"),
])
def test_damaged_latest_checkpoint_falls_back_with_a_warning(tmp_path, capsys, damage, reason):
    directory = tmp_path / "checkpoints"
    good = _checkpoint(directory, 1)
    kwargs = dict(keras_bytes=_truncated_zip(tmp_path, 2)) if damage == "truncated zip" else damage
    _checkpoint(directory, 2, **kwargs)
    assert checkpoints.latest(directory) == (1, good)
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"warning: damaged checkpoint {directory}/epoch_0002.") and reason in line
    assert line.endswith("; resuming from epoch_0001.keras instead")
    assert checkpoints.latest(directory, warn=False) == (1, good) and capsys.readouterr().err == ""


def test_no_intact_checkpoint_is_one_error_naming_the_newest(tmp_path):
    directory = tmp_path / "checkpoints"
    _checkpoint(directory, 1, keras_bytes=b"")
    _checkpoint(directory, 2, state="{")
    with pytest.raises(checkpoints.CheckpointError) as info:
        checkpoints.latest(directory)
    assert str(info.value).startswith(f"damaged checkpoint {directory}/epoch_0002.json (JSONDecodeError: ")
    assert f"and no earlier checkpoint in {directory} is intact; delete {directory} to start the run over" in str(info.value)


def test_unfinished_checkpoint_is_skipped_silently(tmp_path, capsys):
    """A kill between the ``.keras`` and its ``.json`` leaves an unfinished checkpoint: not damage."""
    directory = tmp_path / "checkpoints"
    good = _checkpoint(directory, 1)
    (directory / "epoch_0002.keras").write_bytes(b"PK")
    assert checkpoints.latest(directory) == (1, good) and capsys.readouterr().err == ""


# --- the configuration of a folder --------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["{d}/", "{d}", "{d}/../{name}", "./{rel}"])
def test_data_dir_is_compared_as_a_resolved_path(tmp_path, monkeypatch, spelling):
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.chdir(tmp_path)
    config = TrainConfig.create(data_dir=str(data), output_dir=str(tmp_path / "run"))
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(config.to_json())
    again = TrainConfig.create(data_dir=spelling.format(d=data, name="data", rel="data"), output_dir=config.output_dir)
    check_resumable(config.output_dir, again)
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(ValueError, match=f"holds a run with data_dir='{data}', not '{other}'"):
        check_resumable(config.output_dir, TrainConfig.create(data_dir=str(other), output_dir=config.output_dir))

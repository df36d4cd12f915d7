"""Per-epoch checkpoints that make a killed run resume exactly where it stopped.

A checkpoint is ``epoch_NNNN.keras`` (weights and optimizer state) and ``epoch_NNNN.json`` (the
history, dropout RNG states, CPU kernels), the ``.json`` written last: a ``.keras`` without its
``.json`` is an unfinished checkpoint and is skipped. A damaged one (a zero-byte or truncated
``.keras``, an unreadable ``.json``: a full disk, a copy cut short) is skipped with a warning naming
the file, and the run resumes from the newest intact one; if none is intact, ``CheckpointError``.
"""

import json
import re
import sys
import time
import zipfile
from pathlib import Path

import keras
import numpy as np

from tfzoo.precision import precision_of
from tfzoo.training.determinism import onednn_enabled
from tfzoo.training.outputs import save_model_atomic, write_text_atomic

_NAME = re.compile(r"^epoch_(\d{4,})\.keras$")


def _seed_generators(model):
    return [layer.seed_generator for layer in model.layers if getattr(layer, "seed_generator", None) is not None]


class CheckpointError(ValueError):
    """Every checkpoint of a run is damaged: nothing to resume from. The message names the file."""


def _complete(directory):
    """[(epoch, path)] of the checkpoints in ``directory`` that have their ``.json``, newest first."""
    found = []
    if Path(directory).is_dir():
        for path in Path(directory).iterdir():
            match = _NAME.match(path.name)
            if match and path.with_suffix(".json").exists():
                found.append((int(match.group(1)), path))
    return sorted(found, reverse=True)


def damage(path, epoch=None):
    """Why the checkpoint ``path`` cannot be resumed from ("FILE (reason)"), or None if it is intact.

    Reads the ``.json`` and checks the ``.keras`` zip's directory and CRCs (one read of the file),
    without building a model.
    """
    path = Path(path)
    state_path = path.with_suffix(".json")
    try:
        state = json.loads(state_path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return f"{state_path} ({_reason(error, state_path)})"
    if not (isinstance(state, dict) and isinstance(state.get("history"), list)
            and isinstance(state.get("seed_states"), list) and isinstance(state.get("epoch"), int)):
        return f"{state_path} (no epoch, history and seed_states in it)"
    if epoch is not None and state["epoch"] != epoch:
        return f"{state_path} (holds the state of epoch {state['epoch']}, not {epoch})"
    try:
        with zipfile.ZipFile(path) as archive:
            if "model.weights.h5" not in archive.namelist():
                return f"{path} (no model.weights.h5 inside)"
            bad = archive.testzip()
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as error:
        return f"{path} ({_reason(error, path)})"
    return f"{path} ({bad} fails its CRC check)" if bad else None


def _reason(error, path):
    size = path.stat().st_size if path.is_file() else None
    if size == 0:
        return "0 bytes"
    text = " ".join(str(error).split())[:200]
    return f"{type(error).__name__}: {text} ({size} bytes)" if size is not None else f"{type(error).__name__}: {text}"


def latest(directory, warn=True):
    """(epoch, path) of the newest intact checkpoint in ``directory``, or (0, None) if there is none.

    Damaged ones newer than it are skipped with one warning line each on stderr (``warn``);
    CheckpointError if there are checkpoints and every one is damaged.
    """
    damaged = []
    for epoch, path in _complete(directory):
        reason = damage(path, epoch)
        if reason is None:
            if warn:
                for skipped in damaged:
                    print(f"warning: damaged checkpoint {skipped}; resuming from {path.name} instead",
                          file=sys.stderr, flush=True)
            return epoch, path
        damaged.append(reason)
    if damaged:
        raise CheckpointError(
            f"damaged checkpoint {damaged[0]}, and no earlier checkpoint in {directory} is intact; "
            f"delete {directory} to start the run over"
        )
    return 0, None


def written_with_onednn(path):
    """Whether the checkpoint at ``path`` was written with oneDNN's kernels; None if it does not say."""
    return json.loads(Path(path).with_suffix(".json").read_text()).get("onednn")


def written_in_precision(path):
    """The precision (``fp32``, ``bf16``, ``fp16``) the checkpoint at ``path`` was trained in; None if
    it does not say (written before checkpoints recorded it)."""
    return json.loads(Path(path).with_suffix(".json").read_text()).get("precision")


def restore(model, path):
    """Loads weights, optimizer state and dropout RNG states saved by ``EpochCheckpoint``."""
    try:
        model.load_weights(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:  # damage ``damage`` cannot see
        reason = f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"
        raise CheckpointError(f"checkpoint {path} cannot be loaded ({reason}); delete it to resume from the one "
                              "before") from None
    state = json.loads(Path(path).with_suffix(".json").read_text())
    generators = _seed_generators(model)
    if len(generators) != len(state["seed_states"]):
        raise ValueError(f"checkpoint {path} does not match this model: {len(state['seed_states'])} dropout states, expected {len(generators)}")
    for generator, value in zip(generators, state["seed_states"]):
        generator.state.assign(np.asarray(value, dtype=generator.state.dtype))
    return state


def _torch_rng():
    """PyTorch's global random states, CPU and CUDA, on the torch backend: Keras's torch dropout with no seed of its
    own draws from them, not from its ``SeedGenerator``, so a run resumes exactly only with them restored (at its
    first step: starting ``fit`` draws from them too, for its data loader)."""
    if keras.backend.backend() != "torch":
        return {}
    import torch

    return {"torch_rng": {"cpu": torch.get_rng_state().tolist(),
                          "cuda": [s.tolist() for s in torch.cuda.get_rng_state_all()]}}


def _set_torch_rng(saved):
    import torch

    torch.set_rng_state(torch.tensor(saved["cpu"], dtype=torch.uint8))
    if len(saved["cuda"]) == torch.cuda.device_count():  # the same GPUs; elsewhere their draws start afresh
        torch.cuda.set_rng_state_all([torch.tensor(s, dtype=torch.uint8) for s in saved["cuda"]])


class EpochCheckpoint(keras.callbacks.Callback):
    """At each epoch end writes ``epoch_NNNN.keras`` (weights + optimizer) and ``.json`` (history so far, dropout RNG
    states, on PyTorch also its global ones, the CPU kernels, the precision), each to a unique temporary name, fsynced,
    then renamed (``outputs.save_model_atomic``); keeps the last ``keep``. The ``.json`` is written
    last, so its presence marks a complete checkpoint."""

    def __init__(self, directory, keep=2, initial_history=None, torch_rng=None, architecture=None):
        """``initial_history`` and ``torch_rng``: what ``restore`` read, for a run that resumes;
        ``architecture``: {"model": name, "options": ModelOptions fields}, recorded in each ``.json``."""
        super().__init__()
        self.architecture = architecture
        self.directory = Path(directory)
        self.keep = keep
        self.history = list(initial_history or [])
        self._torch_rng = torch_rng

    def on_train_batch_begin(self, batch, logs=None):
        if self._torch_rng is not None and keras.backend.backend() == "torch":
            _set_torch_rng(self._torch_rng)
        self._torch_rng = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.time()
        self._lr = float(np.asarray(self.model.optimizer.learning_rate))  # the rate this epoch starts with

    def on_epoch_end(self, epoch, logs=None):
        self.directory.mkdir(parents=True, exist_ok=True)
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        row["lr"] = self._lr
        row["seconds"] = round(time.time() - self._started, 3)
        self.history.append(row)
        path = self.directory / f"epoch_{epoch + 1:04d}.keras"
        save_model_atomic(self.model, path)
        state = {
            "epoch": epoch + 1,
            "history": self.history,
            "seed_states": [np.asarray(g.state).tolist() for g in _seed_generators(self.model)],
            "onednn": onednn_enabled(),  # a resumed run must use the same kernels (loop.check_resumable)
            "precision": precision_of(self.model),  # and, with --precision=auto, the same precision (prepare)
            **({"architecture": self.architecture} if self.architecture else {}),
            **_torch_rng(),
        }
        write_text_atomic(path.with_suffix(".json"), json.dumps(state))
        self._prune()

    def _prune(self):
        epochs = sorted(int(_NAME.match(p.name).group(1)) for p in self.directory.iterdir() if _NAME.match(p.name))
        for old in epochs[: -self.keep]:
            for suffix in (".json", ".keras"):
                (self.directory / f"epoch_{old:04d}{suffix}").unlink(missing_ok=True)


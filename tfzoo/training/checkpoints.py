"""Per-epoch checkpoints that make a killed run resume exactly where it stopped."""

import json
import re
import time
from pathlib import Path

import keras
import numpy as np

from tfzoo.training.determinism import onednn_enabled
from tfzoo.training.outputs import save_model_atomic, write_text_atomic

_NAME = re.compile(r"^epoch_(\d{4,})\.keras$")


def _seed_generators(model):
    return [layer.seed_generator for layer in model.layers if getattr(layer, "seed_generator", None) is not None]


def latest(directory):
    """(epoch, path) of the newest complete checkpoint in ``directory``, or (0, None)."""
    found = []
    if Path(directory).is_dir():
        for path in Path(directory).iterdir():
            match = _NAME.match(path.name)
            if match and path.with_suffix(".json").exists():
                found.append((int(match.group(1)), path))
    return max(found) if found else (0, None)


def written_with_onednn(path):
    """Whether the checkpoint at ``path`` was written with oneDNN's kernels; None if it does not say."""
    return json.loads(Path(path).with_suffix(".json").read_text()).get("onednn")


def restore(model, path):
    """Loads weights, optimizer state and dropout RNG states saved by ``EpochCheckpoint``."""
    model.load_weights(path)
    state = json.loads(Path(path).with_suffix(".json").read_text())
    generators = _seed_generators(model)
    if len(generators) != len(state["seed_states"]):
        raise ValueError(f"checkpoint {path} does not match this model: {len(state['seed_states'])} dropout states, expected {len(generators)}")
    for generator, value in zip(generators, state["seed_states"]):
        generator.state.assign(np.asarray(value, dtype=generator.state.dtype))
    return state


class EpochCheckpoint(keras.callbacks.Callback):
    """At each epoch end writes ``epoch_NNNN.keras`` (weights + optimizer) and ``.json``
    (history so far, dropout RNG states, the CPU kernels), each to a temporary name then renamed; keeps the
    last ``keep``. The ``.json`` is written last, so its presence marks a complete checkpoint."""

    def __init__(self, directory, keep=2, initial_history=None):
        super().__init__()
        self.directory = Path(directory)
        self.keep = keep
        self.history = list(initial_history or [])

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
        }
        write_text_atomic(path.with_suffix(".json"), json.dumps(state))
        self._prune()

    def _prune(self):
        epochs = sorted(int(_NAME.match(p.name).group(1)) for p in self.directory.iterdir() if _NAME.match(p.name))
        for old in epochs[: -self.keep]:
            for suffix in (".json", ".keras"):
                (self.directory / f"epoch_{old:04d}{suffix}").unlink(missing_ok=True)


"""Runs a recipe with a fault injected at one precise point: ``python -m tests.faults.inject FAULT MODULE ARGS...``.

The hook lives here, in the test launcher, and nowhere in tfzoo: before the recipe starts, this
wraps the functions the fault is about (in ``tfzoo.training.outputs``, the one module that
renames files into place, and ``tfzoo.training.loop.Divergence``, called after every batch).
FAULT is one of:

- ``none``: run undisturbed;
- ``kill_mid_epoch:E:S``: SIGKILL right after step S of epoch E;
- ``wait_mid_epoch:E:S:PATH``: right after step S of epoch E, create ``PATH.waiting`` and wait until
  ``PATH`` exists (the test's signal to go on): a run paused while it holds its folder;
- ``kill_writing:NAME``: when ``NAME`` (``epoch_0002.keras``) is about to be renamed into place, cut
  its temporary file to half its size and SIGKILL: a kill in the middle of writing it;
- ``kill_before:NAME``: SIGKILL when ``NAME`` is about to be renamed into place (its temporary file
  complete): e.g. ``epoch_0002.json`` (the ``.keras`` is in place, the ``.json`` not) or ``results.json``;
- ``enospc:NAME``: the write of ``NAME`` fails with ENOSPC (No space left on device), as on a full disk;
- ``enospc_tensorboard:E``: TensorBoard's event writer fails at the end of epoch E with the error TensorFlow
  raises on a full disk (a ``ResourceExhaustedError`` naming the event file), after that epoch's checkpoint.
"""

import errno
import os
import signal
import sys
import time
from pathlib import Path


class _Os:
    """``os`` for tfzoo.training.outputs only, with ``replace`` wrapped."""

    def __init__(self, on_replace):
        self._on_replace = on_replace

    def __getattr__(self, name):
        return getattr(os, name)

    def replace(self, src, dst):
        self._on_replace(Path(src), Path(dst))
        return os.replace(src, dst)


def _kill():
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install(fault):
    """Wraps the functions ``fault`` is about (see the module docstring)."""
    kind, _, arg = fault.partition(":")
    if kind == "none":
        return
    if kind in ("kill_mid_epoch", "wait_mid_epoch"):
        from tfzoo.training import loop

        epoch, step, *signal_path = arg.split(":", 2)
        original = loop.Divergence.on_batch_end

        def on_batch_end(self, batch, logs=None):
            original(self, batch, logs)
            if (self._epoch + 1, batch + 1) != (int(epoch), int(step)):
                return
            if kind == "kill_mid_epoch":
                _kill()
            go = Path(signal_path[0])
            go.with_name(go.name + ".waiting").touch()
            deadline = time.time() + 600
            while not go.exists() and time.time() < deadline:
                time.sleep(0.05)

        loop.Divergence.on_batch_end = on_batch_end
        return
    if kind == "enospc_tensorboard":
        import keras
        import tensorflow as tf

        original_epoch_end = keras.callbacks.TensorBoard.on_epoch_end

        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == int(arg):  # TensorFlow's own message for this failure (WriteSummary on a full tmpfs)
                path = os.path.join(self.log_dir, "train", f"events.out.tfevents.0.host.{os.getpid()}.0.v2")
                raise tf.errors.ResourceExhaustedError(None, None, (
                    "{{function_node __wrapped__WriteSummary_device_/job:localhost/replica:0/task:0/device:CPU:0}} "
                    f"{path}; No space left on device\n\tFailed to flush 3 events to {path}\n\t"
                    "Could not flush events file. [Op:WriteSummary]"))
            return original_epoch_end(self, epoch, logs)

        keras.callbacks.TensorBoard.on_epoch_end = on_epoch_end
        return
    from tfzoo.training import outputs

    def on_replace(src, dst):
        if dst.name != arg:
            return
        if kind == "kill_writing":
            os.truncate(src, src.stat().st_size // 2)
            _kill()
        elif kind == "kill_before":
            _kill()
        elif kind == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(src))

    if kind not in ("kill_writing", "kill_before", "enospc"):
        raise SystemExit(f"unknown fault {fault!r}")
    outputs.os = _Os(on_replace)


def main():
    fault, module, *args = sys.argv[1:]
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # the recipes' default, set before TensorFlow starts
    import importlib

    from recipes import cli

    recipe = importlib.import_module(module)
    install(fault)
    cli.run(recipe.main, argv=[recipe.__file__, *args])


if __name__ == "__main__":
    main()

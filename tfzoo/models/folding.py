"""Weights saved before the residual multiplier was folded into the branch's last convolution.

Models now carry SkipInit's, ZeroInit's and Fixup's branch multiplier inside the convolution it
follows (``ScaledConv2D``); models built before kept it as a ``ScalarMultiplier`` layer after the
convolution. The two compute the same function, but Keras 3 weight files address a layer by its
class and position (``layers/scalar_multiplier_3/vars/0``), so an older file does not load into a
model built today. ``load_weights`` loads such a file into the model built as before
(``fold_multiplier=False``) and copies the weights across by layer name (``tfzoo.transfer``).
A training run begun before resumes in the layout it began in (``training/loop.py``), so that it
goes on exactly as it started.
"""

import io
import zipfile
from pathlib import Path

SEPARATE = "scalar_multiplier"  # Keras's key for a ScalarMultiplier layer in a weights file (class name, snake case)


def _layer_keys(path):
    """The top-level layer keys (``conv2d_3``, ``scalar_multiplier``, ...) of a ``.weights.h5`` file or
    of the weights inside a ``.keras`` file."""
    import h5py

    source = Path(path)
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            source = io.BytesIO(archive.read("model.weights.h5"))
    with h5py.File(source, "r") as f:
        return list(f["layers"].keys()) if "layers" in f else []


def saved_unfolded(model, path):
    """Whether the weights at ``path`` hold more ``ScalarMultiplier`` layers than ``model`` has,
    while ``model`` folds multipliers into ``ScaledConv2D`` layers: a file saved before the fold."""
    from tfzoo.layers import ScalarMultiplier, ScaledConv2D

    if not any(isinstance(layer, ScaledConv2D) for layer in model.layers):
        return False
    in_file = sum(key == SEPARATE or key.startswith(SEPARATE + "_") for key in _layer_keys(path))
    return in_file > sum(isinstance(layer, ScalarMultiplier) for layer in model.layers)


def load_weights(model, path, build_unfolded):
    """``model.load_weights(path)``; a file saved before the fold goes into ``build_unfolded()`` (the
    same model with ``fold_multiplier=False``) and from there into ``model`` by layer name."""
    if not saved_unfolded(model, path):
        model.load_weights(path)
        return
    from tfzoo.transfer import transfer_weights

    source = build_unfolded()
    source.load_weights(path)
    transfer_weights(source, model)

"""Signal propagation at initialisation: the scale of the residual stream, block by block.

A residual network computes ``x_{l+1} = x_l + f_l(x_l)``. At initialisation:

* without normalization and with He-initialised convolutions, each branch roughly keeps the
  second moment of its input, so the stream's variance grows exponentially with depth;
* with batch normalization each branch sees a normalized input and adds about 1, so the
  variance grows linearly with the blocks of a stage: the skip path dominates (He et al.
  2016b; De & Smith 2020);
* with SkipInit/ZeroInit the branch multiplier is 0, every block is the identity and the
  stream keeps its input's scale ("Batch normalization has multiple benefits", section 4:
  "Modification 1 makes the residual blocks linear at initialization"), which is why both train
  1000-layer WRNs (Table 2).

Blocks are found by their stable layer names (``models/blocks.py``): ``stage{s}_block{b}_add``
merges the shortcut (first input) and the branch (second input); the block's output is that
merge, or ``_out_relu`` after it in ResNet-V1. Statistics are numpy; the forward pass is a
Keras ``stateless_call``, so BN's moving averages are left as they were, on any backend.
"""

import dataclasses
import re

import keras
import numpy as np

import tfzoo

# (label, normalization, init): the three pictures behind the paper's depth tables.
SCHEMES = (
    ("batch_norm", "batch_norm", "standard"),
    ("none", "none", "standard"),
    ("zeroinit", "none", "zeroinit"),
)
_BLOCK = re.compile(r"^(stage\d+_block\d+)_add$")
# A branch's multiplier: its own layer, or folded into the branch's last convolution (ScaledConv2D).
_MULTIPLIER = re.compile(r"^(stage\d+_block\d+)_branch_(multiplier|conv\d+)$")


@dataclasses.dataclass(frozen=True)
class Signal:
    """Activation statistics of one model on one batch.

    ``blocks``: block names in order. ``input_variance``: the stream entering the first block
    (the stem's output). ``variance[l]`` / ``branch_variance[l]``: the stream after block l
    and the branch block l adds to it. A variance is the per-channel variance over batch and
    positions, averaged over channels (what BN normalizes).
    """

    blocks: tuple
    input_variance: float
    variance: np.ndarray
    branch_variance: np.ndarray

    def to_dict(self):
        return {
            "blocks": list(self.blocks),
            "input_variance": self.input_variance,
            "variance": self.variance.tolist(),
            "branch_variance": self.branch_variance.tolist(),
        }


def residual_blocks(model):
    """Names of the model's residual blocks (``stage2_block3``, ...) in order of depth."""
    names = [match.group(1) for layer in model.layers if (match := _BLOCK.match(layer.name))]
    if not names:
        raise ValueError(f"model {model.name!r} has no residual blocks: no layer named 'stage{{s}}_block{{b}}_add'")
    return names


def signal_model(model):
    """A Keras model from ``model``'s input to ``[stem output, (stream, branch) for each block]``."""
    layers = {layer.name: layer for layer in model.layers}
    stem = [layer for layer in model.layers if layer.name.startswith("stem_")]
    if not stem:
        raise ValueError(f"model {model.name!r} has no stem layer (a layer named 'stem_*')")
    outputs = [stem[-1].output]
    for block in residual_blocks(model):
        merge = layers[f"{block}_add"]
        out = layers.get(f"{block}_out_relu", merge)  # ResNet-V1: a ReLU after the merge
        outputs += [out.output, merge.input[1]]
    return keras.Model(model.input, outputs, name=f"{model.name}_signal")


def channel_variance(x):
    """Per-channel variance over all other axes, averaged over channels, in float64."""
    x = np.asarray(x, dtype=np.float64)
    return float(x.reshape(-1, x.shape[-1]).var(axis=0).mean())


def measure(model, images, *, training=True, probe=None):
    """``Signal`` of ``model`` on ``images`` (float32, normalized like the training data).

    ``training=True`` uses batch statistics in BN, as a training step does. ``probe``: a
    ``signal_model(model)`` built once, for repeated calls (a callback).
    """
    probe = probe or signal_model(model)
    outputs, _ = probe.stateless_call(
        [v.value for v in probe.trainable_variables],
        [v.value for v in probe.non_trainable_variables],
        images,
        training=training,
    )
    variances = [channel_variance(x) for x in outputs]
    return Signal(
        blocks=tuple(residual_blocks(model)),
        input_variance=variances[0],
        variance=np.array(variances[1::2]),
        branch_variance=np.array(variances[2::2]),
    )


def multipliers(model):
    """``{block: value}`` of every residual branch's scalar multiplier (SkipInit, ZeroInit, Fixup)."""
    found = {}
    for layer in model.layers:
        if (match := _MULTIPLIER.match(layer.name)) and hasattr(layer, "multiplier"):
            found[match.group(1)] = float(np.asarray(layer.multiplier.value))
    return found


def compare_schemes(model_name, images, *, seed=0, schemes=SCHEMES, **model_options):
    """``{label: Signal}``: ``model_name`` built fresh (seed ``seed``) under each (label,
    normalization, init) of ``schemes`` and measured on ``images`` at initialisation."""
    results = {}
    for label, normalization, init in schemes:
        keras.utils.set_random_seed(seed)
        model = tfzoo.create_model(model_name, normalization=normalization, init=init, **model_options)
        results[label] = measure(model, images)
    return results

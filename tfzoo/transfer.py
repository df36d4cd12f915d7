"""Weights from one model into another by layer name: what ``create_model(pretrained=...)`` and
``--init_from`` do, with the two differences fine-tuning needs.

- A classifier of another number of classes stays as initialised (``skip``, ``replace``).
- A first convolution trained on another number of input channels (a grayscale model started on
  RGB images, or the reverse) is adapted as timm's ``adapt_input_conv`` does: 3 -> 1 sums the
  kernel over its input channels; otherwise the kernel is tiled over the new channels and scaled
  by old / new, so that an image whose channels are all equal gives the pretrained response.
"""

import sys

import numpy as np


def adapt_input_channels(kernel, channels):
    """``kernel`` [H, W, C_in, C_out] adapted to ``channels`` input channels (see the module docstring)."""
    old = kernel.shape[2]
    if old == channels:
        return kernel
    if old == 3 and channels == 1:
        return kernel.sum(axis=2, keepdims=True)
    tiled = np.tile(kernel, (1, 1, -(-channels // old), 1))[:, :, :channels]
    return tiled * (old / channels)


def transfer_weights(source, target, skip=(), replace=(), adapt_channels=(), error=ValueError):
    """Copies the weights of every layer of ``target`` from the layer of the same name in
    ``source``, except the layers named in ``skip``, and those named in ``replace`` whose shapes
    differ; a layer named in ``adapt_channels`` whose kernel differs only in its input channels
    is adapted (``adapt_input_channels``), which is printed on one line. Returns the names left
    as they were that hold weights. Raises ``error`` (one line) if any other layer is missing or
    its weight shapes differ."""
    skipped = []
    for layer in target.layers:
        if not layer.weights:
            continue
        if layer.name in skip:
            skipped.append(layer.name)
            continue
        try:
            weights = source.get_layer(layer.name).get_weights()
        except ValueError:
            raise error(f"layer {layer.name!r} of {target.name} has no counterpart in {source.name}") from None
        shapes = [tuple(w.shape) for w in layer.get_weights()]
        got = [tuple(w.shape) for w in weights]
        if layer.name in replace and got != shapes:
            skipped.append(layer.name)
            continue
        if layer.name in adapt_channels and got != shapes and _differ_in_input_channels(got, shapes):
            print(f"tfzoo: {layer.name}: adapted from {got[0][2]} to {shapes[0][2]} input channels", file=sys.stderr)
            weights = [adapt_input_channels(weights[0], shapes[0][2]), *weights[1:]]
            got = shapes
        if got != shapes:
            raise error(f"layer {layer.name!r}: weights of shapes {shapes} in {target.name}, {got} in {source.name}")
        layer.set_weights(weights)
    return skipped


def _differ_in_input_channels(got, wanted):
    """Whether two weight-shape lists differ only in the first kernel's input channels (axis 2)."""
    if len(got) != len(wanted) or len(got[0]) != 4 or got[1:] != wanted[1:]:
        return False
    return got[0][:2] == wanted[0][:2] and got[0][3] == wanted[0][3]

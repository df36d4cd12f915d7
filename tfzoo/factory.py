"""``create_model`` and ``list_models``: one factory above the architectures (``tfzoo.models``) and the
pretrained zoo (``tfzoo.pretrained``), as timm's ``create_model`` is, so that neither imports the other's user.

    tfzoo.create_model("wrn-16-4", normalization="none", init="zeroinit")     # fresh weights
    tfzoo.create_model(pretrained="wrn-16-2-bn-fashion_mnist")                 # a zoo name ...
    tfzoo.create_model(pretrained="my-model/", num_classes=3)                  # ... or a preset folder
"""

from tfzoo import pretrained
from tfzoo.models import registry


def create_model(name=None, *, pretrained=None, options=None, **overrides):
    """A model: the architecture ``name`` with fresh weights, or a pretrained one.

    ``name`` and ``overrides`` (normalization, init, num_classes, input_shape, dropout, ...; or ``options``, a
    ``ModelOptions`` holding them at once) are ``tfzoo.models.build_model``'s, which documents each.

    ``pretrained``: a name from ``list_models(pretrained=True)`` (its archive verified by sha256 before it is
    read) or a preset folder written by ``save_preset``. The model takes pixels 0..255 (the input normalization
    is inside it) and returns logits; it takes only ``num_classes`` (a fresh classifier when it differs from the
    preset's), ``include_top`` and ``pooling`` (``tfzoo.pretrained.create_pretrained``). ``name``, if given
    too, must be the preset's architecture.
    """
    if pretrained is None:
        if name is None:
            raise ValueError("create_model needs a model name or pretrained=NAME_OR_FOLDER. Received: name=None, "
                             "pretrained=None")
        return registry.build_model(name, options=options, **overrides)
    if options is not None:
        raise ValueError("create_model(pretrained=...) takes its options from the preset. Received: "
                         "options=ModelOptions(...)")
    return _pretrained.create_pretrained(pretrained, model=name, **overrides)


def list_models(pretrained=False):
    """Registered architecture names (any other ``wrn-{d}-{k}`` also builds); with ``pretrained=True``, the names of
    the zoo's pretrained models."""
    return _pretrained.names() if pretrained else registry.list_models()


_pretrained = pretrained  # the module, under a name that create_model's ``pretrained`` argument does not hide

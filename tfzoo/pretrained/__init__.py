"""Pretrained models: the zoo's registry of presets, each archive verified by sha256 before it is read.

    import tfzoo
    tfzoo.list_models(pretrained=True)             # the zoo's names
    model = tfzoo.create_model(pretrained=NAME)    # Keras model: 0..255 pixels in, logits out
    model = tfzoo.create_model(pretrained=NAME, num_classes=3)                 # fresh classifier
    features = tfzoo.create_model(pretrained=NAME, include_top=False, pooling="avg")
    tfzoo.save_preset(model, "my-model/")          # and back: tfzoo.create_model(pretrained="my-model/")
    tfzoo.pretrained.info(NAME).test_accuracy
    serving = tfzoo.pretrained.load(NAME)          # its SavedModel, for serving (TensorFlow)

One module per job: ``registry`` (the entries and their cards), ``fetch`` (package files and downloads, sha256,
the cache), ``presets`` (the folder format: save, read, load, archive), ``loading`` (a name or folder -> a Keras
model, ``--init_from``), ``zoo`` (the shipped entries, as data). ``load`` and ``measure_test_accuracy`` are
exports, built by ``tfzoo.export.cached``: named here for the user, imported only when used.
"""

from tfzoo.lazy import lazy_exports
from tfzoo.pretrained import zoo  # noqa: F401  (registers the shipped entries)
from tfzoo.pretrained.fetch import cache_path, fetch_verified
from tfzoo.pretrained.loading import (check_init_from, create_pretrained, initialize_from, opened, preset_architecture,
                                      preset_metadata)
from tfzoo.pretrained.presets import PresetError, load_preset, preset_archive, read_preset, save_preset
from tfzoo.pretrained.registry import REGISTRY, PretrainedError, PretrainedModel, info, names, register

__all__ = ["REGISTRY", "PresetError", "PretrainedError", "PretrainedModel", "cache_path", "check_init_from",
           "create_pretrained", "fetch_verified", "info", "initialize_from", "load", "load_preset",
           "measure_test_accuracy", "names", "opened", "preset_archive", "preset_architecture", "preset_metadata",
           "read_preset", "register", "save_preset"]

__getattr__, __dir__ = lazy_exports(__name__, {"load": "tfzoo.export.cached",
                                               "measure_test_accuracy": "tfzoo.export.cached"})

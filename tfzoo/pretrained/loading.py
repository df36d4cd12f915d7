"""A zoo name or a preset folder -> a Keras model: what ``create_model(pretrained=...)`` and ``--init_from`` do.

A zoo entry's archive is fetched and checked by sha256 (``fetch.py``), its three preset files are read out of it
into a temporary folder, and the model is built from config.json and given model.weights.h5 (``presets.py``); a
preset folder is loaded as it is. Neither executes anything it reads.
"""

import contextlib
import sys
import tempfile
import zipfile
from pathlib import Path

import keras

from tfzoo.pretrained import presets
from tfzoo.pretrained.fetch import fetch_verified
from tfzoo.pretrained.registry import REGISTRY, PretrainedError, info, names
from tfzoo.transfer import transfer_weights


@contextlib.contextmanager
def opened(name_or_folder, cache_dir=None):
    """The preset folder of a zoo name (its verified archive, unpacked into a temporary folder for the ``with``
    block) or a preset folder itself."""
    if name_or_folder in REGISTRY:
        entry = info(name_or_folder)
        data = fetch_verified(entry, cache_dir)
        with tempfile.TemporaryDirectory(prefix=f"tfzoo-{entry.name}-") as tmp:
            yield presets.unpack_preset(data, tmp, what=f"archive of {entry.name}")
        return
    folder = Path(name_or_folder).expanduser()
    if presets.is_preset(folder) or any((folder / name).is_file() for name in presets.FILES):
        presets.read_preset(folder)  # a folder with some preset files: the error names what it lacks
        yield folder
        return
    raise PretrainedError(f"pretrained={str(name_or_folder)!r} is neither a pretrained model ({', '.join(names())}) "
                          "nor a preset folder (config.json, model.weights.h5, metadata.json: tfzoo.save_preset)")


def create_pretrained(name_or_folder, *, model=None, num_classes=None, include_top=True, pooling=None,
                      cache_dir=None, **options):
    """The Keras model of a zoo entry or preset folder (what ``create_model(pretrained=...)`` returns).

    It takes pixels on the 0..255 scale (uint8 or float; the preset's input normalization is its first layer)
    and returns logits. ``num_classes`` other than the preset's keeps every weight but the classifier, which is
    new and printed on one line; ``include_top=False`` with ``pooling`` None, "avg" or "max" is the feature
    extractor of ``keras.applications``. Raises ``PretrainedError`` (one line) for an unknown name, an option
    the preset fixes, a damaged archive or a preset that does not load.
    """
    if options:
        raise PretrainedError(
            f"create_model(pretrained={str(name_or_folder)!r}) takes only num_classes, include_top and pooling: the "
            f"architecture and scheme come from the preset. Received: "
            f"{', '.join(f'{k}={v!r}' for k, v in sorted(options.items()))}")
    with opened(name_or_folder, cache_dir) as folder:
        built = presets.read_preset(folder)[0]
        if model is not None and model != built:
            raise PretrainedError(f"pretrained model {str(name_or_folder)!r} is a {built}. Received: name={model!r}")
        return presets.load_preset(folder, num_classes=num_classes, include_top=include_top, pooling=pooling)


def preset_architecture(name_or_folder, cache_dir=None):
    """(model name, ``ModelOptions``) of a zoo entry or preset folder, read from its config.json."""
    with opened(name_or_folder, cache_dir) as folder:
        return presets.read_preset(folder)[:2]


def preset_metadata(name_or_folder, cache_dir=None):
    """The metadata.json (model card) of a zoo entry or preset folder."""
    with opened(name_or_folder, cache_dir) as folder:
        return presets.read_preset(folder)[2]


def check_init_from(value):
    """Raises ``PretrainedError`` unless ``value`` names a pretrained entry, a preset folder or an existing
    ``.keras`` file (a zip archive holding a Keras model's config.json)."""
    if value in REGISTRY or presets.is_preset(value):
        return
    path = Path(value).expanduser()
    if not path.is_file():
        raise PretrainedError(f"init_from={value!r} is neither a pretrained model ({', '.join(names())}), a preset "
                              "folder nor an existing .keras file")
    try:
        with zipfile.ZipFile(path) as archive:
            if "config.json" not in archive.namelist():
                raise zipfile.BadZipFile("no config.json")
    except (zipfile.BadZipFile, OSError) as error:
        raise PretrainedError(f"init_from={value} is not a Keras model file (.keras): {error}") from None


def initialize_from(model, init_from, cache_dir=None):
    """Loads into ``model`` the weights of a pretrained entry, a preset folder or a ``.keras`` file, layer by layer
    by name; a classifier of another shape stays as initialised (fine-tuning on new classes) and a first
    convolution trained on other input channels is adapted, each printed on one line. Raises
    ``PretrainedError`` if anything else differs."""
    check_init_from(init_from)
    if init_from in REGISTRY or presets.is_preset(init_from):
        with opened(init_from, cache_dir) as folder:
            source = presets.load_preset(folder)
    else:
        try:
            source = keras.saving.load_model(Path(init_from).expanduser(), compile=False)
        except Exception as error:  # Keras raises many types for a file it cannot rebuild
            raise PretrainedError(f"init_from={init_from} cannot be loaded as a Keras model: "
                                  f"{type(error).__name__}: {' '.join(str(error).split())[:300]}") from None
    kept = transfer_weights(source, model, replace=("classifier",), adapt_channels=("stem_conv",),
                            error=PretrainedError)
    fresh = f"; kept the new {', '.join(kept)} ({model.output.shape[-1]} classes)" if kept else ""
    print(f"tfzoo: initialised {model.name} from {init_from}: every other weight loaded{fresh}", file=sys.stderr)

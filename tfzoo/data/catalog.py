"""Every data set by name: the built-in ones (``specs.SPECS``), a user's image folders (``folder``) and
prepared TFDS data sets (``tfds:NAME``), whose descriptions are read from their data.

Above ``specs``, ``folder`` and ``tfds_source``, which import only ``specs``: no import cycle.
"""

from tfzoo.data.folder import folder_spec
from tfzoo.data.specs import SPECS, DataError, check_image_size
from tfzoo.data.tfds_source import tfds_spec

USER_DATASETS = ("folder", "tfds:NAME")  # read from the user's data: their spec comes from it


def list_datasets():
    """Names accepted by ``get_spec`` and ``load_arrays``, sorted; also ``folder`` (a user's
    image folders, ``folder.py``) and ``tfds:NAME`` (a prepared TFDS data set, ``tfds_source.py``)."""
    return sorted(SPECS)


def get_spec(name, data_dir=None, image_size=None):
    """The ``DatasetSpec`` called ``name``; ``DataError`` naming the accepted names otherwise.

    ``folder`` and ``tfds:NAME`` are described by their data, read from ``data_dir``. ``image_size``
    (height, width) resizes a user's image folder (``folder.py``); other data sets have their own
    size, which it may only repeat.
    """
    if name == "folder":
        return folder_spec(data_dir, image_size)
    if isinstance(name, str) and name.startswith("tfds:"):
        spec = tfds_spec(name, data_dir)
    elif name not in SPECS:
        raise DataError(f"unknown dataset {name!r}; accepted: {', '.join([*list_datasets(), *USER_DATASETS])}")
    else:
        spec = SPECS[name]
    check_native_size(spec, image_size)
    return spec


def check_native_size(spec, image_size):
    """``DataError`` unless ``image_size`` is None or ``spec``'s own (height, width): only a user's image
    folder is resized."""
    size = check_image_size(image_size)
    if size is not None and size != tuple(spec.image_shape[:2]):
        raise DataError(f"image_size={size[0]},{size[1]} resizes dataset 'folder' only; {spec.name} images are "
                        f"{spec.image_shape[0]} x {spec.image_shape[1]}")

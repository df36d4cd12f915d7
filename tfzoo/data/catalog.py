"""Every data set by name: the built-in ones (``specs.SPECS``), a user's image folders (``folder``) and
prepared TFDS data sets (``tfds:NAME``), whose descriptions are read from their data.

Above ``specs``, ``folder`` and ``tfds_source``, which import only ``specs``: no import cycle.
"""

from tfzoo.data.folder import folder_spec
from tfzoo.data.specs import SPECS, DataError
from tfzoo.data.tfds_source import tfds_spec

USER_DATASETS = ("folder", "tfds:NAME")  # read from the user's data: their spec comes from it


def list_datasets():
    """Names accepted by ``get_spec`` and ``load_arrays``, sorted; also ``folder`` (a user's
    image folders, ``folder.py``) and ``tfds:NAME`` (a prepared TFDS data set, ``tfds_source.py``)."""
    return sorted(SPECS)


def get_spec(name, data_dir=None):
    """The ``DatasetSpec`` called ``name``; ``DataError`` naming the accepted names otherwise.

    ``folder`` and ``tfds:NAME`` are described by their data, read from ``data_dir``.
    """
    if name == "folder":
        return folder_spec(data_dir)
    if isinstance(name, str) and name.startswith("tfds:"):
        return tfds_spec(name, data_dir)
    if name not in SPECS:
        raise DataError(f"unknown dataset {name!r}; accepted: {', '.join([*list_datasets(), *USER_DATASETS])}")
    return SPECS[name]

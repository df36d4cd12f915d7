"""Reader for the IDX files of MNIST and Fashion-MNIST (gzipped or not).

An IDX file is a big-endian header, magic ``2051`` (uint8, 3 dims) for images or
``2049`` (uint8, 1 dim) for labels, one uint32 per dimension, then the raw bytes.
"""

import gzip
import zlib

import numpy as np

from tfzoo.data.specs import DataError, check_arrays

_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049


def read_idx_pair(paths, spec, max_examples=None):
    """Images uint8 [N, H, W, 1] and labels int64 [N] from ``(images_path, labels_path)``."""
    images_path, labels_path = paths
    images = _read_idx(images_path, _IMAGES_MAGIC, ndim=3)[..., np.newaxis]
    labels = _read_idx(labels_path, _LABELS_MAGIC, ndim=1).astype(np.int64)
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    check_arrays(images, labels, spec, f"{images_path} + {labels_path}")
    return images[:max_examples].copy(), labels[:max_examples]


def _read_idx(path, magic, ndim):
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            content = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: truncated or corrupt file ({e})") from None
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise DataError(f"{path}: {len(content)} bytes, too short for an IDX header")
    found_magic, *dims = np.frombuffer(content, dtype=">u4", count=1 + ndim).tolist()
    if found_magic != magic:
        raise DataError(f"{path}: IDX magic {found_magic}, expected {magic}")
    expected = int(np.prod(dims))
    if len(content) - header_size != expected:
        raise DataError(
            f"{path}: header says {' x '.join(map(str, dims))} = {expected} bytes of data, "
            f"found {len(content) - header_size} (truncated or corrupt)"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(dims)

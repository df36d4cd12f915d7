"""Reader for the IDX files of MNIST and Fashion-MNIST (gzipped or not).

An IDX file is a big-endian header, magic ``2051`` (uint8, 3 dims) for images or
``2049`` (uint8, 1 dim) for labels, one uint32 per dimension, then the raw bytes.
"""

import gzip
import math
import os
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
    header_size = 4 + 4 * ndim
    gzipped = str(path).endswith(".gz")
    try:
        with (gzip.open if gzipped else open)(path, "rb") as f:
            header = f.read(header_size)
            if len(header) < header_size:
                raise DataError(f"{path}: {len(header)} bytes, too short for an IDX header")
            found_magic, *dims = np.frombuffer(header, dtype=">u4").tolist()
            if found_magic != magic:
                raise DataError(f"{path}: IDX magic {found_magic}, expected {magic}")
            expected = math.prod(dims)  # Python integers: no int64 overflow
            if not gzipped and os.fstat(f.fileno()).st_size - header_size != expected:
                found = os.fstat(f.fileno()).st_size - header_size
                raise DataError(f"{path}: header says {' x '.join(map(str, dims))} = {expected} bytes of data, "
                                f"found {found} (truncated or corrupt)")
            content = _read_at_most(f, expected + 1)  # a gzip stream's true length shows only as it inflates
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: truncated or corrupt file ({e})") from None
    if len(content) != expected:
        raise DataError(
            f"{path}: header says {' x '.join(map(str, dims))} = {expected} bytes of data, "
            f"found {len(content) if len(content) <= expected else 'more'} (truncated or corrupt)"
        )
    return np.frombuffer(content, dtype=np.uint8).reshape(dims)


def _read_at_most(f, limit, chunk=1 << 22):
    """Up to ``limit`` bytes of ``f``, read in chunks: memory grows with the data, not with ``limit``."""
    parts, size = [], 0
    while size < limit:
        part = f.read(min(chunk, limit - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)

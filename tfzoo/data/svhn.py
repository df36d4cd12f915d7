"""Reader for the official SVHN cropped-digit files ``train_32x32.mat`` / ``test_32x32.mat``.

Each holds ``X`` (uint8, 32 x 32 x 3 x N) and ``y`` (N x 1, digits 1..10 where 10 is
the digit 0). Reading them needs scipy.
"""

import numpy as np

from tfzoo.data.specs import DataError, check_arrays


def read_mat(paths, spec, max_examples=None):
    """Images uint8 [N, 32, 32, 3] and labels int64 [N] (0..9) from one ``*_32x32.mat``."""
    (path,) = paths
    try:
        import scipy.io
    except ImportError:
        raise DataError(f"{path}: reading SVHN .mat files needs scipy (pip install scipy)") from None
    try:
        mat = scipy.io.loadmat(path, variable_names=("X", "y"))
    except Exception as e:  # scipy raises several unrelated types for damaged files
        raise DataError(f"{path}: truncated or corrupt .mat file ({type(e).__name__}: {e})") from None
    if "X" not in mat or "y" not in mat:
        raise DataError(f"{path}: expected variables 'X' and 'y', found {sorted(k for k in mat if k[0] != '_')}")
    x, y = mat["X"], mat["y"]
    if x.ndim != 4 or x.shape[:3] != spec.image_shape:
        raise DataError(f"{path}: 'X' must be 32 x 32 x 3 x N, got {' x '.join(map(str, x.shape))}")
    labels = y.reshape(-1).astype(np.int64)
    if len(labels) != x.shape[3]:
        raise DataError(f"{path}: {x.shape[3]} images but {len(labels)} labels")
    if len(labels) and (labels.min() < 1 or labels.max() > 10):
        raise DataError(f"{path}: 'y' must hold 1..10, found {labels.min()}..{labels.max()}")
    labels = labels % 10
    images = np.ascontiguousarray(np.transpose(x[..., :max_examples], (3, 0, 1, 2)))
    labels = labels[:max_examples]
    check_arrays(images, labels, spec, path)
    return images, labels

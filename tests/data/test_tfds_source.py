"""``--dataset=tfds:NAME``: a TFDS data set the user prepared, described by its builder and images.

TFDS's own ``mock_data`` stands in for a prepared copy (random images with the real builder's
features), since nothing is downloaded here; the errors are those of a real, unprepared folder."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tfzoo.data import DataError, get_spec, load_arrays
from tfzoo.data import tfds_source


@pytest.fixture(autouse=True)
def _fresh_cache():
    tfds_source._read.cache_clear()
    yield
    tfds_source._read.cache_clear()


def test_spec_and_arrays_come_from_the_builder_and_its_images():
    with tfds.testing.mock_data(num_examples=40):
        spec = get_spec("tfds:mnist")
        train_x, train_y = load_arrays("tfds:mnist", "train")
        test_x, _ = load_arrays("tfds:mnist", "test", max_examples=7)
    assert spec.num_classes == 10 and spec.class_names == tuple(str(d) for d in range(10))
    assert spec.image_shape == (28, 28, 1) and spec.tfds_name == "mnist"
    assert train_x.shape == (40, 28, 28, 1) and train_x.dtype == np.uint8 and train_y.dtype == np.int64
    assert test_x.shape == (7, 28, 28, 1)
    assert spec.mean == pytest.approx((train_x.mean(),), abs=1e-3)
    assert spec.std == pytest.approx((train_x.std(),), abs=1e-3)


@pytest.mark.parametrize("name, message", [
    ("tfds:", "names no TFDS data set"),
    ("tfds:no_such_dataset_xyz", "TFDS has no data set 'no_such_dataset_xyz'"),
    ("tfds:mnist", "is not prepared in"),
])
def test_unknown_or_unprepared_data_sets_are_one_line_errors(tmp_path, name, message):
    with pytest.raises(DataError, match=message) as raised:
        get_spec(name, tmp_path)
    assert "\n" not in str(raised.value)

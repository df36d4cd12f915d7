"""ImageNet streaming source: the manual-download check, crops, and the pipelines end to end.

The end-to-end tests run on SYNTHETIC data: TFDS's ``mock_data`` serves random-noise JPEGs of
random sizes (5 to 50 pixels a side) with random labels in place of ImageNet records; the
crop tests encode synthetic gradient images. No ImageNet image is read here.
"""

import tarfile
import time
from unittest import mock

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tfzoo.data import (AugmentConfig, DataError, get_spec, imagenet_builder, imagenet_num_examples, load_arrays,
                        load_class_names, make_imagenet_eval_dataset, make_imagenet_train_dataset, normalize, training_datasets)
from tfzoo.data import imagenet

SPEC = get_spec("imagenet2012")
NUM_SYNTHETIC = 16


def _batches(dataset, count=None):
    return [(x.numpy(), y.numpy()) for x, y in (dataset if count is None else dataset.take(count))]


def _gradient_jpeg(height, width, gray=False):
    """A synthetic image whose pixels encode their position, JPEG-encoded at full quality."""
    rows = np.linspace(0, 255, height)[:, None] * np.ones((1, width))
    cols = np.ones((height, 1)) * np.linspace(0, 255, width)[None, :]
    channels = [(rows + cols) / 2] * 3 if gray else [rows, cols, (rows + cols) / 2]
    return tf.io.encode_jpeg(np.stack(channels, axis=-1).astype(np.uint8), quality=100)


@pytest.fixture
def synthetic_imagenet(tmp_path):
    """TFDS mocked with NUM_SYNTHETIC random JPEGs per split; empty placeholder tars in tmp_path so
    that the manual-download check passes; ``download_and_prepare`` recorded, not run."""
    for name in imagenet.MANUAL_FILES:
        (tmp_path / name).write_bytes(b"")
    with tfds.testing.mock_data(num_examples=NUM_SYNTHETIC):
        with mock.patch("tensorflow_datasets.core.dataset_builder.DatasetBuilder.download_and_prepare",
                        autospec=True) as prepare:
            yield imagenet_builder(tmp_path), prepare, tmp_path


def test_missing_manual_download_is_one_quick_line(tmp_path):
    started = time.monotonic()
    with pytest.raises(DataError) as info:
        imagenet_builder(tmp_path)
    message = str(info.value)
    assert time.monotonic() - started < 10  # no network wait: nothing is fetched
    assert "\n" not in message
    assert message.startswith(f"imagenet2012 is not prepared in {tmp_path} and the manual download is not there")
    assert "ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar" in message
    (tmp_path / "ILSVRC2012_img_val.tar").write_bytes(b"")
    with pytest.raises(DataError, match="missing: ILSVRC2012_img_train.tar$"):
        training_datasets("imagenet2012", tmp_path, batch_size=8, eval_batch_size=8, seed=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ILSVRC2012_img_val.tar"]  # nothing written
    with pytest.raises(DataError, match="is a file"):
        imagenet_builder(tmp_path / "ILSVRC2012_img_val.tar")


def test_not_an_in_memory_dataset():
    with pytest.raises(DataError, match="imagenet2012 does not fit in memory .*make_imagenet_train_dataset"):
        load_arrays("imagenet2012", "train", data_dir="/nonexistent")
    assert load_class_names("imagenet2012")[:2] == ("n01440764", "n01443537")  # tench, goldfish


def test_synthetic_manual_dir_is_passed_to_tfds(synthetic_imagenet):
    _, prepare, folder = synthetic_imagenet
    (call,) = prepare.call_args_list
    config = call.kwargs["download_config"]
    assert config.manual_dir == str(folder) and config.try_download_gcs is False


def test_failed_preparation_is_one_line(tmp_path):
    for name in imagenet.MANUAL_FILES:
        (tmp_path / name).write_bytes(b"")
    with mock.patch("tensorflow_datasets.core.dataset_builder.DatasetBuilder.download_and_prepare",
                    side_effect=tarfile.ReadError("empty file\nat offset 0")):
        with pytest.raises(DataError) as info:
            imagenet_builder(tmp_path)
    assert str(info.value) == (f"preparing imagenet2012 from {tmp_path} into {tmp_path} failed: "
                               "ReadError: empty file at offset 0")


def test_synthetic_train_batches(synthetic_imagenet):
    builder, _, _ = synthetic_imagenet
    stored_labels = np.array([label for _, label in imagenet._records(builder, "train", None).as_numpy_iterator()])
    assert imagenet_num_examples(builder, "train") == NUM_SYNTHETIC
    batches = _batches(make_imagenet_train_dataset(builder, batch_size=8, seed=0, num_epochs=2))
    assert len(batches) == 2 * NUM_SYNTHETIC // 8
    x, y = batches[0]
    assert x.shape == (8, 224, 224, 3) and x.dtype == np.float32
    assert y.shape == (8, 1000) and y.dtype == np.float32
    assert set(np.unique(y)) == {0.0, 1.0} and (y.sum(axis=1) == 1).all()
    pixels = np.concatenate([b[0] for b in batches]) * np.float32(SPEC.std) + np.float32(SPEC.mean)
    assert pixels.min() > -1 and pixels.max() < 256  # normalized from 0..255
    first, second = ([b[1].argmax(axis=1) for b in batches[i:i + 2]] for i in (0, 2))
    first, second = np.concatenate(first), np.concatenate(second)
    # One window holds every record: each epoch is a permutation of them, a new one each epoch.
    assert sorted(first) == sorted(second) == sorted(stored_labels)
    assert first.tolist() != second.tolist()


def test_synthetic_seed_determines_the_stream(synthetic_imagenet):
    builder, _, _ = synthetic_imagenet
    kwargs = dict(batch_size=4, augment=AugmentConfig(cutout=40, mixup_alpha=0.4), shuffle_window=10)

    def stream(seed, count=None, **more):
        return _batches(make_imagenet_train_dataset(builder, seed=seed, **kwargs, **more), count)

    steps = NUM_SYNTHETIC // 4
    first, again = stream(3, num_epochs=2), stream(3, num_epochs=2)
    other, resumed = stream(4, count=1), stream(3, start_epoch=1, num_epochs=1)
    assert len(first) == 2 * steps and len(resumed) == steps
    for (x1, y1), (x2, y2) in zip(first, again):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(first[0][0], other[0][0])
    for (x1, y1), (x2, y2) in zip(first[steps:], resumed):  # start_epoch=1 is the tail of the stream
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)


def test_synthetic_eval_is_the_deterministic_center_crop(synthetic_imagenet):
    builder, _, _ = synthetic_imagenet
    dataset = make_imagenet_eval_dataset(builder, batch_size=6)
    batches, again = _batches(dataset), _batches(dataset)
    assert [x.shape for x, _ in batches] == [(6, 224, 224, 3), (6, 224, 224, 3), (4, 224, 224, 3)]
    for (x1, y1), (x2, y2) in zip(batches, again):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    jpeg, label = next(imagenet._records(builder, "test", None).as_numpy_iterator())
    expected = normalize(imagenet.decode_center_crop(jpeg), SPEC).numpy()
    np.testing.assert_allclose(batches[0][0][0], expected, rtol=1e-5, atol=1e-5)
    assert batches[0][1][0].argmax() == label


def test_synthetic_training_datasets(synthetic_imagenet):
    _, _, folder = synthetic_imagenet
    data = training_datasets("imagenet2012", folder, batch_size=8, eval_batch_size=12, seed=0)
    assert (data.num_train, data.num_test) == (NUM_SYNTHETIC, NUM_SYNTHETIC)
    x, y = next(iter(data.train))
    assert x.shape == (8, 224, 224, 3) and y.shape == (8, 1000)
    assert [x.shape[0] for x, _ in data.eval_train] == [12, 4]
    assert [y.shape for _, y in data.test] == [(12, 1000), (4, 1000)]


@pytest.mark.parametrize("gray", [True, False])
def test_eval_crop_equals_resize_256_then_center_224(gray):
    """On a synthetic 64 x 96 image: as if the shorter side were resized to 256 and the centre 224 kept.

    Exact inside; on the outer two output pixels bilinear reads no pixel beyond the crop.
    In colour, JPEG's chroma upsampling differs slightly where only the crop is decoded.
    """
    jpeg = _gradient_jpeg(64, 96, gray=gray)
    resized = tf.image.resize(tf.io.decode_jpeg(jpeg, channels=3), [256, 384], method="bilinear")
    expected = resized[16:240, 80:304].numpy()
    got = imagenet.decode_center_crop(jpeg).numpy()
    assert got.shape == (224, 224, 3) and got.dtype == np.float32
    difference = np.abs(got - expected)
    if gray:
        np.testing.assert_allclose(got[2:-2, 2:-2], expected[2:-2, 2:-2], atol=1e-3)
        assert difference.max() < 2.5
    else:
        assert difference.mean() < 0.05 and difference.max() < 4


def test_random_crop_windows_on_a_synthetic_image():
    """Inception-style crops: 8-100 % of the area, aspect 3/4-4/3, inside the image, spread out."""
    jpeg = _gradient_jpeg(120, 160)
    windows = np.array([imagenet.random_crop_window(jpeg, tf.constant([seed, 1])).numpy() for seed in range(300)])
    top, left, height, width = windows.T
    assert (top >= 0).all() and (left >= 0).all() and (top + height <= 120).all() and (left + width <= 160).all()
    area = height * width / (120 * 160)
    aspect = width / height
    whole = (height == 120) & (width == 160)  # the fallback after ten failed tries
    assert area.min() >= 0.08 - 0.01 and area[~whole].max() <= 1.0
    assert (aspect[~whole] >= 0.75 - 0.03).all() and (aspect[~whole] <= 4 / 3 + 0.03).all()
    assert area.min() < 0.15 and area.max() > 0.85 and 0.25 < np.median(area) < 0.6
    assert len({tuple(w) for w in windows}) > 250  # a new crop per seed
    again = imagenet.random_crop_window(jpeg, tf.constant([7, 1])).numpy()
    np.testing.assert_array_equal(again, windows[7])

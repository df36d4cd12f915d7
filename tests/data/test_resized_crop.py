"""The random-resized crop of large images (``AugmentConfig.crop``): the rule that chooses it, its boxes (the
Inception ranges, the first try that fits, the whole image when none does), the crop itself pixel by pixel in
TensorFlow and NumPy, and the training streams that use it: deterministic, resumable, the same from a folder held
in memory and from one streamed."""

import dataclasses
import math

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfzoo.data import AugmentConfig, get_spec, load_arrays, make_train_dataset, numpy_pipeline, training_datasets
from tfzoo.data import augment as aug
from tfzoo.data import folder as folder_lib
from tfzoo.data import folder_stream, image_decode
from tfzoo.training import TrainConfig

CIFAR = get_spec("cifar10")


def test_the_rule_resized_from_64_pixels_on_the_shorter_side_else_pad():
    auto = AugmentConfig()
    assert auto.crop_mode((32, 32, 3)) == "pad" and auto.crop_mode((63, 500, 3)) == "pad"
    assert auto.crop_mode((64, 64, 3)) == "resized" and auto.crop_mode((224, 160, 3)) == "resized"
    assert AugmentConfig(pad=0).crop_mode((32, 32, 3)) == "none"
    assert AugmentConfig(crop="pad").crop_mode((224, 224, 3)) == "pad"
    assert AugmentConfig(crop="resized", pad=0).crop_mode((28, 28, 1)) == "resized"
    # Reflect padding of 28 cannot apply to 28 x 28 images, but a resized crop does not pad.
    AugmentConfig(crop="resized", pad=28, padding="reflect").check_image_shape((28, 28, 1))
    with pytest.raises(ValueError, match="reflect padding needs pad < 28"):
        AugmentConfig(crop="pad", pad=28, padding="reflect").check_image_shape((28, 28, 1))


def _pixel_sizes(boxes, height, width):
    """(crop height, crop width, top, left) in pixels of normalized boxes."""
    y1, x1, y2, x2 = (boxes[:, i] for i in range(4))
    return ((y2 - y1) * (height - 1) + 1, (x2 - x1) * (width - 1) + 1, y1 * (height - 1), x1 * (width - 1))


def test_boxes_follow_the_inception_ranges():
    height, width = 64, 96
    uniforms = np.random.default_rng(0).random((4000, aug.BOX_UNIFORMS), dtype=np.float32)
    boxes = aug.resized_crop_boxes(np, uniforms, (height, width, 3))
    assert boxes.shape == (4000, 4) and boxes.dtype == np.float32
    h, w, top, left = _pixel_sizes(boxes, height, width)
    np.testing.assert_allclose([h, w, top, left], np.round([h, w, top, left]), atol=1e-3)  # whole pixels
    assert (top >= -1e-3).all() and (left >= -1e-3).all()
    assert (top + h <= height + 1e-3).all() and (left + w <= width + 1e-3).all()
    area = h * w / (height * width)
    # Rounding to whole pixels moves the area and the aspect ratio a little past the drawn ranges; at aspect ratio
    # <= 4/3 the largest crop of a 64 x 96 image is 64 x 85, 88.5 % of it.
    assert area.min() >= 0.075 and area.max() <= 0.886 and area.min() < 0.09 and area.max() > 0.85
    assert (w / h).min() >= 0.73 and (w / h).max() <= 1.37
    assert (w / h).min() < 0.76 and (w / h).max() > 1.31
    assert top.std() > 5 and left.std() > 5  # placed anywhere, not centred


def test_the_first_try_that_fits_wins_and_the_whole_image_when_none_does():
    uniforms = np.full((1, aug.BOX_UNIFORMS), 0.999, np.float32)  # every try: the whole area at aspect 4/3
    uniforms[0, -2:] = 0.5
    whole = aug.resized_crop_boxes(np, uniforms, (64, 64, 3))
    np.testing.assert_allclose(whole, [[0, 0, 1, 1]], atol=1e-6)
    uniforms[0, 6:8] = 0.0, 0.5  # try 3: 8 % of the area, aspect ratio 1: 18 x 18 pixels
    uniforms[0, 8:10] = 0.0, 0.0  # try 4 fits too, but comes later
    h, w, top, left = _pixel_sizes(aug.resized_crop_boxes(np, uniforms, (64, 64, 3)), 64, 64)
    area = 0.08 * 64 * 64
    assert (round(h[0]), round(w[0])) == (round(math.sqrt(area)),) * 2 == (18, 18)
    assert round(top[0]) == round(left[0]) == math.floor(0.5 * (64 - 18 + 1))


def test_tensorflow_and_numpy_give_the_same_boxes_and_crops():
    uniforms = np.random.default_rng(1).random((64, aug.BOX_UNIFORMS), dtype=np.float32)
    ours = aug.resized_crop_boxes(tf, tf.constant(uniforms), (72, 48, 3)).numpy()
    np.testing.assert_allclose(ours, aug.resized_crop_boxes(np, uniforms, (72, 48, 3)), atol=1e-6)
    images = np.random.default_rng(2).integers(0, 256, (64, 72, 48, 3)).astype(np.float32)
    np.testing.assert_allclose(aug.resized_crop(tf.constant(images), tf.constant(ours)).numpy(),
                               numpy_pipeline.resized_crop(images, ours), atol=0.01)


def test_a_crop_samples_its_box_evenly_and_the_whole_box_is_the_image():
    """Pixel (i, j) of a crop of box (y1, x1, y2, x2) reads the image at row y1 * (H - 1) + i * (y2 - y1) and column
    x1 * (W - 1) + j * (x2 - x1), bilinearly: on an image whose pixels hold 1000 * row + column, exactly that."""
    height, width = 40, 30
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    image = (1000.0 * rows + cols).astype(np.float32)[None, :, :, None]
    boxes = np.array([[10 / 39, 3 / 29, 30 / 39, 24 / 29]], np.float32)
    expected_rows = 10 + np.arange(height) * 20 / 39
    expected_cols = 3 + np.arange(width) * 21 / 29
    expected = 1000 * expected_rows[:, None] + expected_cols[None, :]
    for crop in (aug.resized_crop(tf.constant(image), tf.constant(boxes)).numpy(),
                 numpy_pipeline.resized_crop(image, boxes)):
        np.testing.assert_allclose(crop[0, :, :, 0], expected, rtol=1e-5, atol=0.02)
    whole = np.array([[0, 0, 1, 1]], np.float32)
    np.testing.assert_allclose(aug.resized_crop(tf.constant(image), whole).numpy(), image, atol=1e-3)
    np.testing.assert_allclose(numpy_pipeline.resized_crop(image, whole), image, atol=1e-3)


@pytest.fixture(scope="module")
def large(cifar_train):
    """Real CIFAR-10 training images of the fixture, doubled to 64 x 64, and their spec."""
    images, labels = cifar_train
    images = np.repeat(np.repeat(images[:96], 2, axis=1), 2, axis=2)
    return images, labels[:96], dataclasses.replace(CIFAR, image_shape=(64, 64, 3))


def _take(dataset, n):
    return [np.asarray(x) for x, _ in dataset.take(n)]


def test_the_training_stream_of_large_images_is_resized_crops_and_resumes(large):
    images, labels, spec = large
    kwargs = dict(batch_size=16, seed=5, augment=AugmentConfig(flip=False))
    stream = _take(make_train_dataset(images, labels, spec, **kwargs), 12)  # two epochs of 6 steps
    assert stream[0].shape == (16, 64, 64, 3)
    again = _take(make_train_dataset(images, labels, spec, **kwargs), 12)
    for a, b in zip(stream, again):
        np.testing.assert_array_equal(a, b)
    resumed = _take(make_train_dataset(images, labels, spec, start_epoch=1, **kwargs), 6)
    for a, b in zip(resumed, stream[6:]):
        np.testing.assert_array_equal(a, b)
    padded = _take(make_train_dataset(images, labels, spec, batch_size=16, seed=5,
                                      augment=AugmentConfig(flip=False, crop="pad")), 1)[0]
    # A pad crop keeps the scale: every pixel of an image of 2 x 2 blocks has a horizontal neighbour of its value
    # (at one parity of columns); a resized crop of 8-100 % of the area zooms in, bilinearly, and breaks the blocks.
    def blocks(x):
        return np.median([max(np.mean(np.isclose(image[:, p:62:2], image[:, p + 1:63:2])) for p in (0, 1))
                          for image in x])
    assert blocks(padded) > 0.99 and blocks(stream[0]) < 0.6
    batches = numpy_pipeline.train_batches(images, labels, spec, num_epochs=1, **kwargs)
    first = next(batches)[0]
    assert first.shape == (16, 64, 64, 3) and blocks(first) < 0.6


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Real CIFAR-10 training images of the fixture upscaled to 96 x 80 PNG files: 3 classes, 12 train, 4 test."""
    from tests.conftest import REPO

    root = tmp_path_factory.mktemp("large_photos")
    images, labels = load_arrays("cifar10", "train", REPO / "tests/fixtures/cifar10/cifar-10-batches-py")
    for label in (1, 4, 8):
        for i, index in enumerate(np.flatnonzero(labels == label)[:16]):
            path = root / ("train" if i < 12 else "test") / f"class{label}" / f"{index:04d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[index]).resize((80, 96), Image.Resampling.BICUBIC).save(path)
    return root


def test_a_crop_from_the_file_keeps_its_full_resolution():
    """``crop_resized`` maps a box on the fitted image to the decoded one: the whole box is the fitted image (to
    Pillow's rounding), and a box over 16 x 16 fitted pixels of a 256 x 300 photo fitted to 64 x 64 (a quarter of
    its scale, centred 5 fitted columns in) is the 64 x 64 photo pixels under it, exactly: detail that the
    fitted image, and a crop of it, no longer hold."""
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (96, 80, 3)).astype(np.uint8)
    whole = image_decode.crop_resized(photo, (64, 64), (0, 0, 1, 1))
    assert np.abs(whole.astype(int) - image_decode.cover_and_centre_crop(photo, (64, 64))).max() <= 1
    photo = rng.integers(0, 256, (256, 300, 3)).astype(np.uint8)
    crop = image_decode.crop_resized(photo, (64, 64), (8 / 63, 8 / 63, 23 / 63, 23 / 63))
    np.testing.assert_array_equal(crop, photo[32:96, 52:116])
    gray = image_decode.crop_resized(photo[..., :1], (32, 24), (0.1, 0.2, 0.6, 0.9))
    assert gray.shape == (32, 24, 1) and gray.dtype == np.uint8


def test_a_folder_at_image_size_64_streams_the_same_resized_crops(photos, monkeypatch):
    config = TrainConfig.create(dataset="folder", data_dir=str(photos), image_size="64", model="wrn-10-1")
    spec = config.validate()
    assert spec.image_shape == (64, 64, 3) and config.augment().crop_mode(spec.image_shape) == "resized"
    kwargs = dict(batch_size=12, eval_batch_size=12, seed=2, augment=config.augment(), image_size=(64, 64))
    crops = []
    real = folder_stream.load_crop
    monkeypatch.setattr(folder_stream, "load_crop", lambda *args: crops.append(args[-1]) or real(*args))
    memory = training_datasets("folder", photos, **kwargs)
    memory_batches = _take(memory.train, 4)
    # Cut from the files although the folder fits in memory: one crop per example, of the drawn boxes.
    assert len(crops) >= 4 * 12 and len({tuple(box) for box in crops}) == len(crops)
    monkeypatch.setenv(folder_lib.CACHE_ENV, "0")
    stream = training_datasets("folder", photos, **kwargs)
    for a, b in zip(_take(stream.train, 4), memory_batches):
        np.testing.assert_array_equal(a, b)
    resumed = training_datasets("folder", photos, start_epoch=1, **kwargs)  # 36 images: 3 steps an epoch
    for a, b in zip(_take(resumed.train, 1), memory_batches[3:]):
        np.testing.assert_array_equal(a, b)
    crops.clear()  # the NumPy stream (JAX, PyTorch) cuts them from the files too
    images, labels = folder_lib.folder_split(photos, "train", (64, 64), streamed=True)
    first = next(numpy_pipeline.train_batches(images, labels, spec, batch_size=12, seed=2, augment=config.augment()))
    assert first[0].shape == (12, 64, 64, 3) and len(crops) == 12


def test_a_config_json_from_before_the_choice_keeps_the_pad_crop():
    config = TrainConfig.create(dataset="folder", image_size=(64, 64))
    assert config.crop == "auto" and config.to_dict()["crop"] == "auto"
    assert TrainConfig.from_dict(config.to_dict()).crop == "auto"
    old = {k: v for k, v in config.to_dict().items() if k != "crop"}
    assert TrainConfig.from_dict(old).crop == "pad"

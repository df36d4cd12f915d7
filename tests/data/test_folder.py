"""``--dataset=folder``: a user's image folders, read with their classes, size, channels and
statistics; and ``--validation_examples``, a held-out split of the training set."""

import json
import re

import numpy as np
import pytest
import tensorflow as tf

from tfzoo.data import DataError, get_spec, load_arrays, training_datasets
from tfzoo.data.training_data import split_validation

FASHION = {5: "sandal", 7: "sneaker", 9: "ankle_boot"}


def _write(path, image, fmt="png"):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = tf.io.encode_png(image) if fmt == "png" else tf.io.encode_jpeg(image, quality=100)
    tf.io.write_file(str(path), data)


@pytest.fixture(scope="module")
def shoes(tmp_path_factory):
    """Real Fashion-MNIST test images of three classes as PNG folders: 12 train and 6 test each."""
    root = tmp_path_factory.mktemp("shoes")
    images, labels = load_arrays("fashion_mnist", "test", max_examples=400)
    written = {"train": [], "test": []}
    for label, name in FASHION.items():
        picked = np.flatnonzero(labels == label)[:18]
        for i, index in enumerate(picked):
            split = "train" if i < 12 else "test"
            _write(root / split / name / f"{index:04d}.png", images[index])
            written[split].append((name, images[index]))
    (root / "train" / "README.txt").write_text("not an image, ignored")
    return root, written


def test_classes_shape_and_statistics_come_from_the_images(shoes):
    root, written = shoes
    spec = get_spec("folder", root)
    assert spec.class_names == ("ankle_boot", "sandal", "sneaker")  # sorted folder names
    assert spec.num_classes == 3 and spec.image_shape == (28, 28, 1)
    pixels = np.stack([image for _, image in written["train"]]).astype(np.float64)
    assert spec.mean == pytest.approx((pixels.mean(),), abs=1e-3)
    assert spec.std == pytest.approx((pixels.std(),), abs=1e-3)
    images, labels = load_arrays("folder", "train", root)
    assert images.shape == (36, 28, 28, 1) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [12, 12, 12]
    # Label i is the i-th sorted class name, and the pixels are the files' own.
    for index, name in enumerate(spec.class_names):
        loaded = sorted(image.tobytes() for image in images[labels == index])
        assert loaded == sorted(image.tobytes() for n, image in written["train"] if n == name)
    test_images, test_labels = load_arrays("folder", "test", root, max_examples=5)
    assert test_images.shape == (5, 28, 28, 1) and len(test_labels) == 5


def test_the_first_examples_of_a_folder_hold_every_class(shoes):
    # Files are listed round-robin over the classes, so --max_train_examples=N keeps every class in
    # proportion (listed class by class, the first 12 would all be ankle boots).
    root, _ = shoes
    _, labels = load_arrays("folder", "train", root, max_examples=9)
    assert labels.tolist() == [0, 1, 2] * 3


def test_mixed_sizes_and_colour_are_resized_to_the_common_size(tmp_path):
    rng = np.random.RandomState(0)
    for i in range(3):
        _write(tmp_path / "train" / "a" / f"{i}.png", rng.randint(0, 256, (20, 24, 3), np.uint8))
        _write(tmp_path / "train" / "b" / f"{i}.jpg", rng.randint(0, 256, (20, 24, 1), np.uint8), fmt="jpeg")
    _write(tmp_path / "train" / "b" / "odd.png", rng.randint(0, 256, (40, 12, 1), np.uint8))
    _write(tmp_path / "test" / "a" / "0.png", rng.randint(0, 256, (10, 10, 3), np.uint8))
    spec = get_spec("folder", tmp_path)
    assert spec.image_shape == (20, 24, 3) and len(spec.mean) == 3
    images, labels = load_arrays("folder", "train", tmp_path)
    assert images.shape == (7, 20, 24, 3) and labels.tolist() == [0, 1, 0, 1, 0, 1, 1]  # classes interleaved
    gray = images[labels == 1][0]
    np.testing.assert_array_equal(gray[..., 0], gray[..., 2])  # grayscale repeated over RGB
    assert load_arrays("folder", "test", tmp_path)[0].shape == (1, 20, 24, 3)


@pytest.mark.parametrize("layout, message", [
    ({}, "has no train/ folder"),
    ({"train/a/x.png": None, "test/a/y.png": None}, "holds one class ('a')"),
    ({"train/a/x.png": None, "train/b/x.png": None}, "has no test/ folder"),
    ({"train/a/x.png": None, "train/b/x.png": None, "test/c/y.png": None}, "test has classes that train/ lacks: c"),
    ({"train/a/x.png": None, "train/b/x.png": b"\x89PNG garbage", "test/a/y.png": None}, "1 broken image file in "),
])
def test_unusable_folders_are_one_line_data_errors(tmp_path, layout, message):
    (tmp_path / "test").mkdir() if layout == {} else None
    for relative, content in layout.items():
        if content is None:
            _write(tmp_path / relative, np.zeros((8, 8, 1), np.uint8))
        else:
            (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / relative).write_bytes(content)
    with pytest.raises(DataError, match=re.escape(message)) as raised:
        get_spec("folder", tmp_path)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("data_dir, message", [(None, "needs --data_dir"), ("/no/such/folder", "does not exist")])
def test_a_missing_folder_is_a_data_error(data_dir, message):
    with pytest.raises(DataError, match=message):
        load_arrays("folder", "train", data_dir)


def test_validation_split_is_fixed_disjoint_and_replaces_the_test_set():
    images, labels = load_arrays("fashion_mnist", "train", max_examples=1000)
    (train_x, train_y), (val_x, val_y) = split_validation(images, labels, 200)
    assert len(train_x) == 800 and len(val_x) == 200
    rows = {image.tobytes() for image in train_x}
    assert not any(image.tobytes() in rows for image in val_x)  # no example in both
    again = split_validation(images, labels, 200)[1][0]
    np.testing.assert_array_equal(val_x, again)  # the same draw every time, whatever the run's seed
    data = training_datasets("fashion_mnist", batch_size=50, eval_batch_size=100, seed=3, max_train_examples=None,
                             validation_examples=10_000)
    assert (data.num_train, data.num_test) == (50_000, 10_000)
    with pytest.raises(DataError, match="leaves no training example"):
        split_validation(images, labels, 1000)


def test_image_size_resizes_every_image_to_cover_and_centre_crops(tmp_path):
    """``image_size`` (``--image_size``): each image resized, aspect ratio kept, to cover H x W, then its
    centre kept; the size travels with the run's configuration into the model (and so its preset)."""
    from tfzoo.data.image_decode import cover_and_centre_crop
    from tfzoo.training import TrainConfig

    wide = np.zeros((20, 40, 3), np.uint8)
    wide[:, 6:34] = 200  # bright over the centre 20 x 20 and 4 columns beyond, black margins left and right
    _write(tmp_path / "train" / "a" / "wide.png", wide)
    _write(tmp_path / "train" / "b" / "tall.png", np.full((30, 10, 3), 90, np.uint8))
    _write(tmp_path / "test" / "a" / "small.png", np.full((5, 5, 3), 40, np.uint8))
    spec = get_spec("folder", tmp_path, image_size=(10, 10))
    assert spec.image_shape == (10, 10, 3)
    images, labels = load_arrays("folder", "train", tmp_path, image_size=(10, 10))
    assert images.shape == (2, 10, 10, 3) and labels.tolist() == [0, 1]
    np.testing.assert_array_equal(images[0], np.full((10, 10, 3), 200, np.uint8))  # 20 x 40 -> 10 x 20, centre
    np.testing.assert_array_equal(images[1], np.full((10, 10, 3), 90, np.uint8))
    assert np.array_equal(load_arrays("folder", "test", tmp_path, image_size=(10, 10))[0][0],
                          np.full((10, 10, 3), 40, np.uint8))  # 5 x 5 enlarged
    assert cover_and_centre_crop(wide, (20, 40)) is wide
    assert get_spec("folder", tmp_path).image_shape == (20, 40, 3)  # without it: the most common size (a tie: first)
    config = TrainConfig.create(dataset="folder", data_dir=str(tmp_path), image_size="12,8", model="wrn-10-1",
                                batch_size=2, ghost_batch_size=2)
    assert config.image_size == (12, 8) and config.model_options(config.validate()).input_shape == (12, 8, 3)
    assert TrainConfig.from_dict(json.loads(config.to_json())) == config


@pytest.mark.parametrize("name, image_size, message", [
    ("folder", (0, 8), "image_size must be H or (H, W), positive integers. Received: image_size=(0, 8)"),
    ("folder", "big", "image_size must be H or (H, W), positive integers. Received: image_size='big'"),
    ("fashion_mnist", (32, 32), "image_size=32,32 resizes dataset 'folder' only; fashion_mnist images are 28 x 28"),
])
def test_a_bad_image_size_is_named(tmp_path, name, image_size, message):
    _write(tmp_path / "train" / "a" / "x.png", np.zeros((8, 8, 1), np.uint8))
    _write(tmp_path / "train" / "b" / "x.png", np.zeros((8, 8, 1), np.uint8))
    _write(tmp_path / "test" / "a" / "x.png", np.zeros((8, 8, 1), np.uint8))
    with pytest.raises(DataError, match=re.escape(message)):
        get_spec(name, tmp_path if name == "folder" else None, image_size=image_size)

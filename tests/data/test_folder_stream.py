"""A large image folder streamed from its files (``folder_stream.FolderImages``): the same spec, the same batches
and the same resumed stream as the same folder held in memory, on tf.data and in NumPy, nothing decoded before a
batch asks for it."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfzoo.data import AugmentConfig, get_spec, load_arrays, numpy_pipeline, training_datasets
from tfzoo.data import folder as folder_lib
from tfzoo.data import folder_stream
from tfzoo.data.folder import folder_split


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Real CIFAR-10 training images of the repository's fixture (official pixels), 3 classes, as PNG files of three
    sizes (32 x 32, 40 x 32 upscaled and 24 x 24 downscaled): 16 train and 6 test per class."""
    from tests.conftest import REPO

    root = tmp_path_factory.mktemp("photos")
    images, labels = load_arrays("cifar10", "train", REPO / "tests/fixtures/cifar10/cifar-10-batches-py")
    for label in (0, 3, 6):
        for i, index in enumerate(np.flatnonzero(labels == label)[:22]):
            image = Image.fromarray(images[index])
            if i % 3 == 1:
                image = image.resize((32, 40))
            elif i % 3 == 2:
                image = image.resize((24, 24))
            split = "train" if i < 16 else "test"
            path = root / split / f"class{label}" / f"{index:04d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            image.save(path)
    return root


@pytest.fixture
def streamed(monkeypatch):
    """Every folder streamed, whatever its size."""
    monkeypatch.setenv(folder_lib.CACHE_ENV, "0")


def test_a_folder_above_the_cache_size_is_streamed_with_the_same_spec_and_pixels(photos, monkeypatch):
    in_memory = folder_split(photos, "train")
    spec = get_spec("folder", photos)
    assert isinstance(in_memory[0], np.ndarray) and in_memory[0].shape == (48, 32, 32, 3)
    monkeypatch.setenv(folder_lib.CACHE_ENV, str(48 * 32 * 32 * 3 * 1.3 / 2**20))  # train fits, train + test not
    images, labels = folder_split(photos, "train")
    assert isinstance(images, folder_stream.FolderImages) and images.shape == (48, 32, 32, 3)
    assert get_spec("folder", photos) == spec
    np.testing.assert_array_equal(labels, in_memory[1])
    np.testing.assert_array_equal(images[:], in_memory[0])
    np.testing.assert_array_equal(images[5], in_memory[0][5])
    rows = np.array([[3, 1], [7, 7]])
    np.testing.assert_array_equal(images[rows], in_memory[0][rows])
    mask = labels == 1
    np.testing.assert_array_equal(images.subset(mask)[:], in_memory[0][mask])
    assert images[np.array([], np.int64)].shape == (0, 32, 32, 3)
    monkeypatch.setenv(folder_lib.CACHE_ENV, "lots")
    with pytest.raises(ValueError, match="TFZOO_FOLDER_CACHE_MB=lots is not a size; accepted: a number of MiB >= 0"):
        folder_split(photos, "train")


def test_pixel_stats_are_exact_sums_over_the_first_images():
    images = np.random.default_rng(0).integers(0, 256, (300, 4, 5, 3), dtype=np.uint8)
    mean, std = folder_stream.pixel_stats(images)
    pixels = images.reshape(-1, 3).astype(np.float64)
    assert mean == tuple(round(v, 3) for v in pixels.mean(0)) and std == tuple(round(v, 3) for v in pixels.std(0))
    assert folder_stream.pixel_stats(images, limit=10) == folder_stream.pixel_stats(images[:10])


def _take(dataset, n):
    return [tuple(np.asarray(t) for t in batch) for batch in dataset.take(n)]


@pytest.mark.parametrize("validation_examples", [None, 12])
def test_streamed_batches_are_the_in_memory_batches_and_resume_alike(photos, monkeypatch, validation_examples):
    kwargs = dict(batch_size=8, eval_batch_size=10, seed=3, augment=AugmentConfig(pad=4, cutout=8),
                  validation_examples=validation_examples, max_train_examples=30)
    memory = training_datasets("folder", photos, **kwargs)
    monkeypatch.setenv(folder_lib.CACHE_ENV, "0")
    stream = training_datasets("folder", photos, **kwargs)
    assert (stream.num_train, stream.num_test) == (memory.num_train, memory.num_test) == (
        30, 12 if validation_examples else 18)
    for ours, theirs in zip(_take(stream.train, 8), _take(memory.train, 8)):  # two epochs of 3 steps, and more
        np.testing.assert_array_equal(ours[0], theirs[0])
        np.testing.assert_array_equal(ours[1], theirs[1])
    for name in ("eval_train", "test"):
        ours, theirs = _take(getattr(stream, name), 100), _take(getattr(memory, name), 100)
        assert len(ours) == len(theirs) == (3 if name == "eval_train" else 2)
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1], b[1])
    resumed = training_datasets("folder", photos, start_epoch=1, **kwargs)  # epoch 1 on: the tail of the stream
    for ours, theirs in zip(_take(resumed.train, 3), _take(stream.train, 6)[3:]):
        np.testing.assert_array_equal(ours[0], theirs[0])


def test_the_numpy_streams_read_streamed_images_as_arrays(photos, streamed):
    images, labels = folder_split(photos, "train")
    spec = get_spec("folder", photos)
    arrays = images[:]
    augment = AugmentConfig(pad=4, cutout=8, mixup_alpha=0.2)
    ours = numpy_pipeline.train_batches(images, labels, spec, batch_size=16, seed=1, augment=augment, num_epochs=2)
    theirs = numpy_pipeline.train_batches(arrays, labels, spec, batch_size=16, seed=1, augment=augment, num_epochs=2)
    for (x, y), (x2, y2) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)
    evaluated = numpy_pipeline.EvalBatches(images, labels, spec, batch_size=20)
    assert len(evaluated) == 3
    np.testing.assert_array_equal(evaluated[2][0], numpy_pipeline.normalize(arrays[40:], spec))


def test_nothing_is_decoded_before_a_batch_asks(photos, streamed, monkeypatch):
    decoded = []
    real = folder_stream.load_image
    monkeypatch.setattr(folder_stream, "load_image", lambda *args: decoded.append(args[1].name) or real(*args))
    folder_lib._read.cache_clear()
    data = training_datasets("folder", photos, batch_size=8, eval_batch_size=10, seed=0, validation_examples=12)
    statistics = len(decoded)
    assert statistics == 48  # the normalization's pass over the training images, once
    assert isinstance(data.train, tf.data.Dataset) and len(decoded) == statistics
    next(iter(data.train))
    assert statistics + 8 <= len(decoded) <= statistics + 8 * 8  # one batch, and what tf.data prefetched


_EXIT = """
import sys
from tfzoo.training import make_deterministic
make_deterministic()  # as a run: op determinism, one inter-op thread
from tfzoo.data import training_datasets
iterator = iter(training_datasets("folder", sys.argv[1], batch_size=8, eval_batch_size=8, seed=0).train)
next(iterator), next(iterator)
print("read two batches", flush=True)
"""  # and exits holding the iterator, tf.data's threads still reading ahead


def test_a_program_that_exits_holding_a_streamed_iterator_exits(photos):
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    env = dict(os.environ, **{folder_lib.CACHE_ENV: "0"}, TF_CPP_MIN_LOG_LEVEL="3")
    # Without the exit gate (folder_stream.guarded_reader) this hung in the interpreter's finalization.
    done = subprocess.run([sys.executable, "-c", _EXIT, str(photos)], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "read two batches" in done.stdout, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "RuntimeError" not in done.stderr

"""An image folder read in place from a .zip or an uncompressed .tar (``tfzoo.data.image_files``): the same
spec and arrays as the folder, one top folder allowed, compressed tars and broken members named; and
``load_labelled``, one split labelled by a model's class names."""

import io
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

from tfzoo.data import DataError, get_spec, load_arrays
from tfzoo.data.folder import load_labelled


def _png(image):
    out = io.BytesIO()
    Image.fromarray(image[..., 0]).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Real Fashion-MNIST test images of three classes (10 train, 4 test each) as a folder, the same files in a
    zip (inside one top folder, deflated) and in an uncompressed tar (at its root)."""
    root = tmp_path_factory.mktemp("photos")
    images, labels = load_arrays("fashion_mnist", "test", max_examples=300)
    files = {}
    for label, name in ((5, "sandal"), (7, "sneaker"), (9, "boot")):
        for i, index in enumerate(np.flatnonzero(labels == label)[:14]):
            files[f"{'train' if i < 10 else 'test'}/{name}/{index:04d}.png"] = _png(images[index])
    folder = root / "folder"
    for relative, data in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)
    with zipfile.ZipFile(root / "photos.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for relative, data in sorted(files.items(), reverse=True):  # member order does not matter
            z.writestr(f"photos/{relative}", data)
        z.writestr("photos/train/notes.txt", "not an image, ignored")
    with tarfile.open(root / "photos.tar", "w") as t:
        for relative, data in files.items():
            info = tarfile.TarInfo(relative)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return root, files


@pytest.mark.parametrize("archive", ["photos.zip", "photos.tar"])
def test_an_archive_reads_as_its_folder(photos, archive):
    root, _ = photos
    assert get_spec("folder", root / archive) == get_spec("folder", root / "folder")
    assert get_spec("folder", root / archive).class_names == ("boot", "sandal", "sneaker")
    for split in ("train", "test"):
        images, labels = load_arrays("folder", split, root / archive)
        expected_images, expected_labels = load_arrays("folder", split, root / "folder")
        assert images.shape == (30 if split == "train" else 12, 28, 28, 1)
        np.testing.assert_array_equal(images, expected_images)
        np.testing.assert_array_equal(labels, expected_labels)


@pytest.mark.parametrize("archive", ["photos.zip", "photos.tar"])
def test_an_archive_streams_the_batches_of_its_folder(photos, monkeypatch, archive):
    from tfzoo.data import training_datasets
    from tfzoo.data.folder import CACHE_ENV

    kwargs = dict(batch_size=6, eval_batch_size=7, seed=2)
    expected = [np.asarray(x) for x, _ in training_datasets("folder", photos[0] / "folder", **kwargs).train.take(10)]
    monkeypatch.setenv(CACHE_ENV, "0")  # streamed: members read by tf.data's threads at once
    streamed = [np.asarray(x) for x, _ in training_datasets("folder", photos[0] / archive, **kwargs).train.take(10)]
    for ours, theirs in zip(streamed, expected, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_load_labelled_reads_one_split_with_the_models_classes(photos, tmp_path):
    root, files = photos
    test_only = tmp_path / "test_only.zip"
    with zipfile.ZipFile(test_only, "w") as z:
        for relative, data in files.items():
            if relative.startswith("test/") and "/boot/" not in relative:
                z.writestr(f"top/{relative}", data)
    images, labels = load_labelled(test_only, "test", ("boot", "sandal", "sneaker"), (28, 28, 1))
    assert images.shape == (8, 28, 28, 1) and labels.tolist() == [1, 2] * 4  # no boots: classes 1 and 2 interleaved
    expected_images, expected_labels = load_arrays("folder", "test", root / "folder")
    np.testing.assert_array_equal(images, expected_images[expected_labels > 0])
    rgb, _ = load_labelled(test_only, "test", ("boot", "sandal", "sneaker"), (32, 32, 3))
    assert rgb.shape == (8, 32, 32, 3) and np.array_equal(rgb[..., 0], rgb[..., 2])
    with pytest.raises(DataError, match=r"has classes the model was not trained on: sneaker; accepted: a, sandal"):
        load_labelled(test_only, "test", ("a", "sandal"), (28, 28, 1))


def test_archive_errors_name_the_problem(photos, tmp_path):
    root, files = photos
    (tmp_path / "photos.tar.gz").write_bytes(b"")
    with pytest.raises(DataError, match=r"photos.tar.gz is a compressed tar, which cannot be read in place; "
                                        r"accepted: a folder, a .zip or an uncompressed .tar"):
        get_spec("folder", tmp_path / "photos.tar.gz")
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"bad.zip is not a readable zip archive"):
        get_spec("folder", tmp_path / "bad.zip")
    (tmp_path / "photos.rar").write_bytes(b"x")
    with pytest.raises(DataError, match=r"photos.rar is neither a folder nor a .zip or .tar archive"):
        get_spec("folder", tmp_path / "photos.rar")
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as z:
        for relative, data in files.items():
            z.writestr(relative, data[:40] if relative.startswith("test/boot/") else data)
    with pytest.raises(DataError, match=r"4 broken image files in .*broken.zip: .*broken.zip:test/boot/\d+.png "
                                        r"\(not an image: cannot identify image file\); "):
        get_spec("folder", broken)
    with zipfile.ZipFile(tmp_path / "no_test.zip", "w") as z:
        z.writestr("train/a/x.png", files[next(iter(files))])
    with pytest.raises(DataError, match=r"no_test.zip has no test/ folder"):
        get_spec("folder", tmp_path / "no_test.zip")

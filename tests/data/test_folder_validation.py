"""An image folder's own validation split, ``DIR/val/<class>/`` (or ``validation/``): read beside train/ and
test/, from a folder or an archive, in memory or streamed, as the ``test`` set of ``--validation`` runs; and the
one-line errors of the ways to get it wrong."""

import re
import zipfile

import numpy as np
import pytest

from tfzoo.data import DataError, get_spec, load_arrays, training_datasets
from tfzoo.training import TrainConfig
from tools import image_folder


@pytest.fixture(scope="module")
def shoes(tmp_path_factory):
    """Real Fashion-MNIST test images of three footwear classes: 8 train, 4 test and 3 val images each, written
    by ``tools.image_folder --val_per_class``; and the same folder without its val/."""
    root = tmp_path_factory.mktemp("val")
    with_val = image_folder.main(["--classes=sandal,sneaker,ankle_boot", "--per_class=8", "--test_per_class=4",
                                  "--val_per_class=3", f"--output={root / 'with_val'}"])
    without = image_folder.main(["--classes=sandal,sneaker,ankle_boot", "--per_class=8", "--test_per_class=4",
                                 f"--output={root / 'without'}"])
    return with_val, without


def test_val_is_read_beside_train_and_test_and_changes_nothing_else(shoes):
    with_val, without = shoes
    assert sorted(p.name for p in with_val.iterdir()) == ["test", "train", "val"]
    assert get_spec("folder", with_val) == get_spec("folder", without)  # classes, size and statistics from train/
    images, labels = load_arrays("folder", "validation", with_val)
    assert images.shape == (9, 28, 28, 1) and np.bincount(labels).tolist() == [3, 3, 3]
    # The val/ images are the 13th-15th of each class in the release's order: none is a train/ or test/ image.
    seen = {image.tobytes() for split in ("train", "test") for image in load_arrays("folder", split, with_val)[0]}
    assert not any(image.tobytes() in seen for image in images)
    for split in ("train", "test"):
        np.testing.assert_array_equal(load_arrays("folder", split, with_val)[0], load_arrays("folder", split, without)[0])


def test_validation_runs_measure_on_val(shoes, tmp_path, monkeypatch):
    with_val, without = shoes
    kwargs = dict(batch_size=6, eval_batch_size=4, seed=1)
    data = training_datasets("folder", with_val, validation=True, **kwargs)
    assert (data.num_train, data.num_test) == (24, 9)
    measured = np.concatenate([np.asarray(y).argmax(-1) for _, y in data.test])  # one-hot labels
    np.testing.assert_array_equal(measured, load_arrays("folder", "validation", with_val)[1])
    assert training_datasets("folder", with_val, **kwargs).num_test == 12  # without --validation: test/
    # ``validation/`` is the other accepted name, and an archive holds it too; streamed batches are the same.
    (tmp_path / "named").mkdir()
    for split in ("train", "test", "val"):
        (tmp_path / "named" / ("validation" if split == "val" else split)).symlink_to(with_val / split)
    archive = tmp_path / "shoes.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(with_val.rglob("*.png")):
            z.write(path, f"shoes/{path.relative_to(with_val)}")
    from tfzoo.data.folder import CACHE_ENV

    monkeypatch.setenv(CACHE_ENV, "0")
    for source in (tmp_path / "named", archive):
        other = training_datasets("folder", source, validation=True, **kwargs)
        for (x, y), (ex, ey) in zip(other.test, data.test, strict=True):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(ex))
            np.testing.assert_array_equal(np.asarray(y), np.asarray(ey))
    config = TrainConfig.create(dataset="folder", data_dir=str(with_val), validation=True, epochs=1)
    config.validate()
    assert config.eval_split == "validation" and TrainConfig.create(dataset="folder").eval_split == "test"


def _folder(root, layout):
    from PIL import Image

    for i, relative in enumerate(layout):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(root / relative)
    return root


BASE = ["train/a/x.png", "train/b/x.png", "test/a/y.png"]


@pytest.mark.parametrize("extra, message", [
    (["val/a/v.png", "validation/a/w.png"], "has both val/ and validation/; accepted: one validation folder"),
    (["val/c/v.png"], "/val has classes that train/ lacks: c"),
    ([], "has no validation split; accepted: a val/ or validation/ folder"),
])
def test_bad_validation_folders_are_one_line_data_errors(tmp_path, extra, message):
    root = _folder(tmp_path, BASE + extra)
    with pytest.raises(DataError, match=re.escape(message)) as raised:
        load_arrays("folder", "validation", root)
    assert "\n" not in str(raised.value)


def test_a_broken_val_file_is_named_before_anything_is_decoded(tmp_path):
    root = _folder(tmp_path, BASE + ["val/a/v.png"])
    (root / "val" / "b").mkdir()
    (root / "val" / "b" / "empty.png").write_bytes(b"")
    with pytest.raises(DataError, match=re.escape(f"1 broken image file in {root}: {root / 'val/b/empty.png'} (")):
        get_spec("folder", root)


@pytest.mark.parametrize("values, message", [
    (dict(validation=True), "validation=True needs a validation split, and dataset 'folder' has none of its own"),
    (dict(validation=True, dataset="fashion_mnist", data_dir=None), "dataset 'fashion_mnist' has none of its own"),
    (dict(validation_examples=2, with_val=True), "validation_examples=2 would hold images out of train/, but"),
])
def test_validation_flags_that_cannot_be_met_are_named(tmp_path, values, message):
    root = _folder(tmp_path, BASE + (["val/a/v.png"] if values.pop("with_val", False) else []))
    config = TrainConfig.create(**{"dataset": "folder", "data_dir": str(root), "batch_size": 2,
                                   "ghost_batch_size": 2, **values})
    with pytest.raises(ValueError, match=re.escape(message)):
        config.validate()
    with pytest.raises(DataError, match="fashion_mnist has no validation split of its own"):
        training_datasets("fashion_mnist", batch_size=2, eval_batch_size=2, seed=0, validation=True)

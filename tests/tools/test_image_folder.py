"""tools.image_folder: real images of chosen classes written as a train/test image folder that --dataset=folder
reads back pixel for pixel; bad flags are one error line; a failed write leaves nothing."""

import numpy as np
import pytest

from tests.cli_cases import assert_main_refuses
from tfzoo.data import load_arrays
from tfzoo.data.folder import folder_spec, load_folder
from tools import image_folder


def test_the_folder_holds_the_chosen_images_and_reads_back_exactly(tmp_path, capsys):
    out = image_folder.main(["--classes=5,sneaker,Ankle boot", "--per_class=3", "--test_per_class=2",
                             f"--output={tmp_path / 'shoes'}"])
    assert "3 classes (sandal, sneaker, ankle_boot), 3 training and 2 test images each" in capsys.readouterr().out
    images, labels = load_arrays("fashion_mnist", "test", max_examples=200)
    first = {c: np.flatnonzero(labels == c)[:5] for c in (5, 7, 9)}
    assert sorted(p.name for p in (out / "train" / "sandal").iterdir()) == [f"{i:05d}.png" for i in first[5][:3]]
    assert sorted(p.name for p in (out / "test" / "ankle_boot").iterdir()) == [f"{i:05d}.png" for i in first[9][3:]]
    spec = folder_spec(out)
    assert spec.class_names == ("ankle_boot", "sandal", "sneaker") and spec.image_shape == (28, 28, 1)
    train_x, train_y = load_folder(out, "train")
    assert train_x.shape == (9, 28, 28, 1) and list(np.bincount(train_y)) == [3, 3, 3]
    for label, source in enumerate((9, 5, 7)):  # folder labels follow the sorted names
        np.testing.assert_array_equal(train_x[train_y == label], images[first[source][:3]])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shoes"]  # no staging folder left beside it
    assert not (out / "val").exists()
    with_val = image_folder.main(["--classes=5,sneaker,Ankle boot", "--per_class=3", "--test_per_class=2",
                                  "--val_per_class=1", f"--output={tmp_path / 'with_val'}"])
    assert "3 training, 1 validation and 2 test images each" in capsys.readouterr().out
    assert sorted(p.name for p in (with_val / "val" / "sandal").iterdir()) == [f"{np.flatnonzero(labels == 5)[5]:05d}.png"]
    np.testing.assert_array_equal(load_folder(with_val, "train")[0], train_x)  # train/ and test/ as without val/


def test_names_and_indices():
    names = ("T-shirt/top", "Trouser", "Ankle boot")
    assert [image_folder.folder_name(n) for n in names] == ["t_shirt_top", "trouser", "ankle_boot"]
    assert image_folder.pick_classes("2, t-shirt/top,0", names) == [2, 0]
    with pytest.raises(ValueError, match="'3' is not a class; accepted: 0..2 or t_shirt_top, trouser, ankle_boot"):
        image_folder.pick_classes("0,3", names)


def test_a_folder_of_a_folder_resized_as_jpeg(tmp_path, capsys):
    source = image_folder.main(["--classes=5,7", "--per_class=3", "--test_per_class=1", f"--output={tmp_path / 'a'}"])
    out = image_folder.main(["--dataset=folder", f"--data_dir={source}", "--split=train", "--classes=sandal,sneaker",
                             "--per_class=2", "--test_per_class=1", "--resize=64", "--format=jpeg",
                             f"--output={tmp_path / 'big'}"])
    assert "2 classes (sandal, sneaker), 2 training and 1 test images each, 64 x 64, from folder's train" in (
        capsys.readouterr().out)
    assert folder_spec(out).image_shape == (64, 64, 1) and len(list(out.rglob("*.jpg"))) == 6
    from PIL import Image

    big, big_labels = load_folder(out, "train")
    small, small_labels = load_folder(source, "train")
    assert big.shape == (4, 64, 64, 1) and list(big_labels) == list(small_labels[:4])
    # Bicubic upscaling and JPEG keep the image: scaled back to 28 x 28 it is the source's to a few levels of 255.
    back = np.stack([np.asarray(Image.fromarray(b[..., 0]).resize((28, 28), Image.Resampling.BOX)) for b in big])
    assert np.abs(back.astype(int) - small[:4, ..., 0]).mean() < 8


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    from PIL import Image

    real, calls = Image.Image.save, []

    def failing(self, path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 4:
            raise OSError("disk full")
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", failing)
    with pytest.raises(OSError, match="disk full"):
        image_folder.main(["--classes=0,1", "--per_class=2", f"--output={tmp_path / 'task'}"])
    assert len(calls) == 4 and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, named", [
    (["--classes=0,boots"], "'boots' is not a class"), (["--classes=3,3"], "names 1 class"),
    (["--classes=0,1", "--per_class=0"], "Received: 0, 0"), (["--classes=0,1", "--per_class=600"], "fewer than"),
    (["--classes=0,1", "--dataset=folder"], "dataset 'folder' needs --data_dir"),
    (["--classes=0,1", "--dataset=nope"], "'nope'"), (["--classes=0,1", "--resize=0"], "--resize=0"),
    (["--classes=0,1", "--split=val"], "--split=val"), (["--classes=0,1", "--val_per_class=-1"], "--val_per_class=-1")])
def test_bad_flags_exit_2_naming_the_value(argv, named, tmp_path, capsys):
    assert_main_refuses(image_folder.main, [*argv, f"--output={tmp_path / 'task'}"], capsys, named)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_output_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "task").mkdir()
    (tmp_path / "task" / "mine.txt").write_text("keep")
    with pytest.raises(SystemExit) as exit_info:
        image_folder.main(["--classes=0,1", f"--output={tmp_path / 'task'}"])
    assert exit_info.value.code == 2 and "exists" in capsys.readouterr().err
    assert (tmp_path / "task" / "mine.txt").read_text() == "keep"

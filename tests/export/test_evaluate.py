"""``tfzoo-evaluate`` (``python -m export.evaluate``): a pretrained model measured on a labelled data set, its own
or another with the same classes, and one ``error:`` line for one that does not fit."""

import zipfile

import numpy as np
from PIL import Image

from tests.cli_cases import assert_one_error, run_cases
from tests.conftest import REPO

NAME = "wrn-16-2-bn-fashion_mnist"


def test_evaluate_measures_a_model_on_its_data_and_on_a_folder_of_its_classes(tmp_path):
    from tfzoo import pretrained
    from tfzoo.data import load_arrays

    images, labels = load_arrays("fashion_mnist", "test", max_examples=70)
    keep = labels != 0  # "T-shirt/top" cannot name a folder
    images, labels = images[keep][:60], labels[keep][:60]
    class_names = pretrained.info(NAME).class_names
    archive = tmp_path / "mine.zip"  # 60 real test images as a user's labelled folder, zipped, no train/
    with zipfile.ZipFile(archive, "w") as z:
        for i, (image, label) in enumerate(zip(images, labels)):
            path = tmp_path / f"{i}.png"
            Image.fromarray(image[..., 0]).save(path)
            z.write(path, f"test/{class_names[label]}/{i:03d}.png")
    model = __import__("tfzoo").create_model(pretrained=NAME)
    expected = np.mean(np.argmax(model.predict(images, verbose=0), -1) == labels)
    own, folder, other, unknown = run_cases("export.evaluate", [
        [f"--model={NAME}", "--batch_size=2000"],
        [f"--model={NAME}", "--dataset=folder", f"--data_dir={archive}"],
        [f"--model={NAME}", "--dataset=cifar10", f"--data_dir={REPO / 'tests/fixtures/cifar10/cifar-10-batches-py'}"],
        ["--model=nope"],
    ])
    entry = pretrained.info(NAME)
    assert own.returncode == 0, own.stderr[-2000:]
    assert (f"test accuracy {entry.test_accuracy:.4f} ({round(entry.test_accuracy * 10_000)} of 10000 test images "
            "of its own data set") in own.stdout
    assert folder.returncode == 0, folder.stderr[-2000:]
    assert f"test accuracy {expected:.4f} ({round(expected * 60)} of 60 test images of folder in {archive}" in folder.stdout
    assert_one_error(other, "dataset cifar10 (10 classes airplane, automobile")
    assert "is not what wrn-16-2-bn-fashion_mnist was trained on (10 classes T-shirt/top" in other.stderr
    assert_one_error(unknown, "pretrained='nope' is neither a pretrained model (wrn-16-2-bn-fashion_mnist, ")

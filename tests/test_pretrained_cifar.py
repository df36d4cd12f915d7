"""The CIFAR-10 zoo used as a user would: ``create_model(pretrained=NAME)`` on raw 32 x 32 RGB pixels,
``tfzoo-predict`` on a JPEG of another size (class names and probabilities, the SavedModel path), and
``--init_from=NAME`` starting a fine-tuning run on a small folder of new classes."""

import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

import tfzoo
from tests.conftest import REPO
from tfzoo import pretrained

NAME = "wrn-16-4-zeroinit-cifar10_jpeg"
FIXTURE = REPO / "tests" / "fixtures" / "cifar10_jpeg" / "cifar10-jpeg-test.zip"
pytestmark = pytest.mark.skipif(NAME not in pretrained.REGISTRY, reason=f"{NAME} is not registered")


def _test_images(per_class=2):
    """uint8 [N, 32, 32, 3] and the class names of the first ``per_class`` test files of each class (the fixture)."""
    images, classes = [], []
    with zipfile.ZipFile(FIXTURE) as z:
        for name in pretrained.info(NAME).class_names:
            for i in range(per_class):
                images.append(np.asarray(Image.open(io.BytesIO(z.read(f"cifar10-jpeg/test/{name}/{i:04d}.jpg")))))
                classes.append(name)
    return np.stack(images), classes


def _run(*argv):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TFZOO_CACHE=os.environ.get("TFZOO_CACHE", ""))
    return subprocess.run([sys.executable, *argv], cwd=REPO, env={k: v for k, v in env.items() if v}, text=True,
                          capture_output=True, timeout=900)


@pytest.mark.slow
def test_raw_pixels_predict_and_a_larger_jpeg_gets_the_same_class_from_tfzoo_predict(tmp_path):
    entry = pretrained.info(NAME)
    assert entry.input_shape == (32, 32, 3) and list(entry.class_names)[:2] == ["airplane", "automobile"]
    images, classes = _test_images()
    model = tfzoo.create_model(pretrained=NAME)
    probabilities = np.asarray(__import__("keras").ops.softmax(model.predict(images, verbose=0)))
    predicted = [entry.class_names[i] for i in probabilities.argmax(-1)]
    assert sum(p == c for p, c in zip(predicted, classes)) >= 16, (predicted, classes)  # 20 images, 88 % model
    # A user's photo of another size: the first airplane, 4 x larger and wider (bicubic), saved as JPEG.
    photo = tmp_path / "plane.jpg"
    Image.fromarray(images[0]).resize((160, 128), Image.Resampling.BICUBIC).save(photo, quality=95)
    done = _run("-m", "export.predict", f"--model={NAME}", f"--cache_dir={tmp_path / 'cache'}", "--top_k=3",
                str(photo))
    assert done.returncode == 0, done.stderr[-2000:]
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith(f"{photo}: {predicted[0]} "), line
    shares = [float(part.rsplit(" ", 1)[1]) for part in line.split(": ", 1)[1].split(", ")]
    assert len(shares) == 3 and shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1.0005


@pytest.mark.slow
def test_init_from_the_cifar_entry_fine_tunes_on_new_classes(tmp_path):
    # Two classes of the test files as a new 2-class task (16 train, 8 test each): 3 epochs (6 updates) from the
    # CIFAR-10 features, the classifier new. The features already tell planes from frogs: the same run from scratch
    # reached 62.5 % (seed 0).
    images, classes = _test_images(per_class=24)
    for i, (image, name) in enumerate(zip(images, classes)):
        if name in ("airplane", "frog"):
            split = "train" if i % 24 < 16 else "test"
            (tmp_path / "pets" / split / name).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(tmp_path / "pets" / split / name / f"{i:04d}.png")
    done = _run("-m", "recipes.cifar_wrn", "--dataset=folder", f"--data_dir={tmp_path / 'pets'}", "--depth=16",
                "--width=4", "--normalization=none", "--init=zeroinit", f"--init_from={NAME}", "--epochs=3",
                "--batch_size=16", "--ghost_batch_size=16", "--lr=0.01", f"--output_dir={tmp_path / 'run'}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "kept the new classifier (2 classes)" in done.stderr
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert (results["num_train_examples"], results["num_test_examples"]) == (32, 16)
    assert results["dataset_spec"]["class_names"] == ["airplane", "frog"]
    assert results["test_accuracy"] >= 0.8, results["test_accuracy"]

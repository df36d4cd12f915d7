"""The predict CLI: top-k classes of real image files, one error line and exit 2 on bad input."""

import os
import subprocess
import sys

import numpy as np
import tensorflow as tf

from tests.cli_cases import assert_one_error, error_lines, run_cases
from tests.conftest import REPO


def _predict(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "export.predict", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_prints_top_k_like_the_serving_signature(exported, test_images, tmp_path):
    images, _ = test_images
    files = []
    for i in range(3):
        files.append(tmp_path / f"image{i}.png")
        files[-1].write_bytes(tf.io.encode_png(images[i]).numpy())
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    result = _predict(f"--model={exported}", "--top_k=2", *map(str, files))
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    expected = tf.saved_model.load(str(exported)).signatures["serving_default"](images=tf.constant(images[:3]))
    names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    for line, path, probabilities in zip(lines, files, expected["probabilities"].numpy()):
        top = np.argsort(-probabilities)[:2]
        assert line == f"{path}: {names[top[0]]} {probabilities[top[0]]:.3f}, {names[top[1]]} {probabilities[top[1]]:.3f}"

    result = _predict(f"--model={exported}", str(files[0]), str(broken))
    assert_one_error(result, "Unknown image file format")
    assert error_lines(result)[0].startswith(f"error: {broken}: ")


def test_a_photo_of_another_size_is_resized_and_centre_cropped(exported, test_images, tmp_path):
    """A 200 x 140 colour photo of a 28 x 28 grayscale model's image (5 x larger, black margins left and
    right): resized to cover 28 x 28 (28 x 40) and centre-cropped, it is that image again, nearly."""
    from tfzoo.export.to_saved_model import cover_and_centre_crop

    images, _ = test_images
    big = np.kron(images[0], np.ones((5, 5, 1), np.uint8))  # 140 x 140 x 1
    photo = np.pad(np.repeat(big, 3, axis=-1), ((0, 0), (30, 30), (0, 0)))  # 140 x 200 x 3
    path = tmp_path / "photo.png"
    path.write_bytes(tf.io.encode_png(photo).numpy())
    cropped = cover_and_centre_crop(tf.constant(photo[..., :1]), 28, 28).numpy()
    assert cropped.shape == (28, 28, 1) and np.abs(cropped.astype(int) - images[0]).mean() < 12
    assert np.array_equal(cover_and_centre_crop(tf.constant(images[0]), 28, 28).numpy(), images[0])
    serving = tf.saved_model.load(str(exported)).signatures["serving_default"]
    probabilities = serving(images=tf.constant(cropped[None]))["probabilities"].numpy()[0]
    original = serving(images=tf.constant(images[:1]))["probabilities"].numpy()[0]
    assert probabilities.argmax() == original.argmax()
    result = _predict(f"--model={exported}", "--top_k=1", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    top = int(probabilities.argmax())
    assert result.stdout.strip() == f"{path}: {names[top]} {probabilities[top]:.3f}"


def test_bad_model_or_files_exit_2(exported, tmp_path):
    for args, message in [
        (["--model=no-such-model", str(tmp_path)], "--model=no-such-model is neither a SavedModel folder nor a pretrained name"),
        ([f"--model={exported}"], "no image files given"),
        ([f"--model={exported}", str(tmp_path / "missing.png")], "missing.png not found"),
        ([f"--model={exported}", "--top_k=0", "x.png"], "--top_k must be >= 1"),
    ]:
        if args[-1] == str(tmp_path):
            (tmp_path / "a.png").write_bytes(b"")
            args[-1] = str(tmp_path / "a.png")
        result = _predict(*args)
        assert_one_error(result, message)


def test_folders_that_are_not_tfzoo_savedmodels_are_one_error_line(run_dir, exported, tmp_path):
    import shutil

    image = tmp_path / "image.png"
    image.write_bytes(tf.io.encode_png(np.zeros((28, 28, 1), np.uint8)).numpy())
    (tmp_path / "empty").mkdir()
    bare = tmp_path / "bare"
    shutil.copytree(exported, bare)
    (bare / "assets.extra" / "tfzoo.json").unlink()  # a SavedModel without tfzoo's metadata
    cases = [
        ([f"--model={tmp_path / 'empty'}", str(image)], "is not a SavedModel folder (no saved_model.pb)"),
        ([f"--model={run_dir}", str(image)], f"it holds a run: export it first with tfzoo-export --model={run_dir}"),
        ([f"--model={bare}", str(image)], "is a SavedModel without tfzoo's assets.extra/tfzoo.json"),
        ([f"--model={exported}", "--pretrained=x", str(image)], "pass one of --model and --pretrained"),
    ]
    for (args, message), result in zip(cases, run_cases("export.predict", [args for args, _ in cases])):
        assert_one_error(result, message)
        assert "Traceback" not in result.stderr

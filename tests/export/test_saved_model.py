"""SavedModel export: the serving signatures equal tfzoo.predict_proba, reject bad input,
load in a fresh process with only TensorFlow, and are written atomically."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.cli_cases import assert_one_error, error_lines, run_cases
from tfzoo.export import ExportError, export, load_source, read_metadata, tf_error_line
from tests.conftest import REPO


def _serve(exported):
    return tf.saved_model.load(str(exported))


def test_serving_default_equals_predict_proba_on_real_images(run_dir, exported, test_images):
    import keras

    import tfzoo

    images, _ = test_images
    served = _serve(exported).signatures["serving_default"](images=tf.constant(images))
    expected = tfzoo.predict_proba(keras.saving.load_model(run_dir / "model.keras"), images, "fashion_mnist")
    assert served["probabilities"].shape == (64, 10) and served["probabilities"].dtype == tf.float32
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(expected.sum(axis=1), 1.0, atol=1e-5)
    assert served["classes"].dtype == tf.int64
    np.testing.assert_array_equal(served["classes"].numpy(), expected.argmax(axis=1))
    assert len(set(expected.argmax(axis=1))) > 1  # a model that answers one class would make this vacuous


def test_encoded_signature_equals_uint8_signature(exported, test_images):
    images, _ = test_images
    serving = _serve(exported)
    pngs = tf.stack([tf.io.encode_png(image) for image in images[:8]])
    from_png = serving.signatures["serving_encoded"](encoded_images=pngs)
    from_uint8 = serving.signatures["serving_default"](images=tf.constant(images[:8]))
    np.testing.assert_array_equal(from_png["probabilities"].numpy(), from_uint8["probabilities"].numpy())
    rgb_jpeg = tf.io.encode_jpeg(tf.image.grayscale_to_rgb(tf.constant(images[0])), quality=100)
    out = serving.signatures["serving_encoded"](encoded_images=tf.stack([rgb_jpeg]))  # decoded to 1 channel
    assert out["probabilities"].shape == (1, 10)


@pytest.mark.parametrize(
    "bad, error",
    [
        (tf.zeros([2, 28, 28, 1], tf.float32), "uint8"),
        (tf.zeros([2, 32, 32, 1], tf.uint8), "[2,32,32,1]isnotcompatiblewithexpectedshape[?,28,28,1]"),
        (tf.zeros([2, 28, 28, 3], tf.uint8), "[2,28,28,3]isnotcompatiblewithexpectedshape[?,28,28,1]"),
        (tf.zeros([28, 28, 1], tf.uint8), "[28,28,1]isnotcompatiblewithexpectedshape[?,28,28,1]"),
    ],
)
def test_serving_default_rejects_wrong_dtype_size_channels(exported, bad, error):
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError, TypeError)) as info:
        _serve(exported).signatures["serving_default"](images=bad)
    message = tf_error_line(info.value) if isinstance(info.value, tf.errors.OpError) else str(info.value)
    assert error in message.replace(" ", ""), message


def test_encoded_signature_resizes_other_sizes_and_rejects_non_images(exported, test_images):
    """An image of another size is resized to cover 28 x 28 and centre-cropped, as
    ``cover_and_centre_crop`` does; bytes that are no image are an error."""
    from tfzoo.export.to_saved_model import cover_and_centre_crop

    serving = _serve(exported)
    images, _ = test_images
    big = np.kron(images[0], np.ones((2, 3, 1), np.uint8))  # 56 x 84: covers 28 x 28 at 28 x 42
    encoded = serving.signatures["serving_encoded"](encoded_images=tf.stack([tf.io.encode_png(big)]))
    expected = serving.signatures["serving_default"](images=cover_and_centre_crop(tf.constant(big), 28, 28)[None])
    np.testing.assert_allclose(encoded["probabilities"].numpy(), expected["probabilities"].numpy(), atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        serving.signatures["serving_encoded"](encoded_images=tf.constant([b"not an image"]))
    assert "Unknown image file format" in tf_error_line(info.value)


def test_metadata_records_preprocessing_and_run(exported):
    metadata = read_metadata(exported)
    assert metadata["dataset"] == "fashion_mnist" and metadata["image_shape"] == [28, 28, 1]
    assert metadata["class_names"][9] == "Ankle boot" and metadata["num_classes"] == 10
    assert metadata["mean"] == [72.94] and metadata["std"] == [90.021]
    assert metadata["config"]["model"] == "wrn-10-1" and len(metadata["source_sha256"]) == 64


def test_fresh_process_with_only_tensorflow(exported, test_images, tmp_path):
    images, _ = test_images
    np.save(tmp_path / "images.npy", images[:16])
    script = (  # tfzoo cannot even be imported in this process: the SavedModel must not need it
        "import sys\n"
        "class NoTfzoo:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('tfzoo', 'recipes', 'export'): raise ImportError(name)\n"
        "sys.meta_path.insert(0, NoTfzoo())\n"
        "import numpy as np, tensorflow as tf\n"
        f"m = tf.saved_model.load({str(exported)!r})\n"
        f"p = m.signatures['serving_default'](images=tf.constant(np.load({str(tmp_path / 'images.npy')!r})))\n"
        f"np.save({str(tmp_path / 'out.npy')!r}, p['probabilities'].numpy())\n"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = _serve(exported).signatures["serving_default"](images=tf.constant(images[:16]))["probabilities"]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected.numpy(), atol=1e-6)


def test_existing_output_is_kept_and_failures_leave_nothing(run_dir, exported, tmp_path):
    before = sorted(p.name for p in exported.rglob("*"))
    with pytest.raises(ExportError, match="already exists"):
        export(load_source(model=run_dir / "model.keras"), exported, "saved_model")
    assert sorted(p.name for p in exported.rglob("*")) == before
    with pytest.raises(ExportError, match=r"takes inputs of shape \[28, 28, 1\] but cifar10 images are \[32, 32, 3\]"):
        load_source(model=run_dir / "model.keras", dataset="cifar10")
    assert list(tmp_path.iterdir()) == []


def test_never_over_or_inside_the_source(run_dir, tmp_path):
    """--overwrite --output_dir=<the run folder> once deleted the run; now refused, nothing touched."""
    before = {p: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    for model, output in [(run_dir / "model.keras", run_dir), (run_dir / "model.keras", run_dir / "model.keras"),
                          (run_dir / "model.keras", run_dir.parent), (run_dir, run_dir / "exported")]:
        with pytest.raises(ExportError, match="would write over or inside the source"):
            export(load_source(model=model), output, "saved_model", overwrite=True)
    assert {p: p.read_bytes() for p in run_dir.iterdir() if p.is_file()} == before
    assert not (run_dir / "exported").exists()


def test_cli_exports_and_checks_itself(run_dir, tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    cmd = [sys.executable, "-m", "export.saved_model", f"--model={run_dir / 'model.keras'}"]
    result = subprocess.run([*cmd, f"--output={tmp_path / 'sm'}"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    # --output is an alias of --output_dir that prints nothing extra (TensorFlow's own start-up lines aside).
    assert not [line for line in result.stderr.splitlines() if "output" in line or "alias" in line.lower()], result.stderr
    difference = float(result.stdout.split("max |saved_model - Keras| = ")[1].split(",")[0])
    assert difference < 1e-5
    assert json.loads((tmp_path / "sm" / "assets.extra" / "tfzoo.json").read_text())["dataset"] == "fashion_mnist"


def test_cli_errors_are_one_line_and_write_nothing(run_dir, tmp_path):
    import keras

    # A .keras file whose config names a function: refused by Keras's safe mode, one line here.
    crafted = tmp_path / "crafted" / "model.keras"
    crafted.parent.mkdir()
    inputs = keras.Input((28, 28, 1))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(crafted)
    before = sorted(p.name for p in run_dir.iterdir())
    cases = [
        ([f"--model={run_dir}", "--overwrite", f"--output={run_dir}"], "would write over or inside the source"),
        ([f"--model={crafted}", f"--output_dir={tmp_path / 'a'}"], f"cannot load {crafted}: "),
        (["--model=nope.keras", f"--output_dir={tmp_path / 'b'}"], "model file nope.keras not found"),
        ([f"--model={tmp_path}", f"--output_dir={tmp_path / 'c'}"], f"{tmp_path} holds no model.keras"),
        ([f"--model={run_dir}", "--pretrained=x", f"--output_dir={tmp_path / 'd'}"], "pass exactly one of --model"),
        ([f"--model={run_dir}", "--format=tflite", f"--output_dir={tmp_path / 'e'}"],
         "value should be one of <saved_model|litert|litert_int8|onnx>"),
        ([f"--model={run_dir}"], "--output_dir is required"),
    ]
    for (args, message), result in zip(cases, run_cases("export.saved_model", [args for args, _ in cases])):
        assert_one_error(result, message)
        assert "Traceback" not in result.stderr
    assert sorted(p.name for p in run_dir.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crafted"]

"""``create_model(pretrained=NAME)``: verified weights into the registry's architecture, raw pixels
in, a fresh classifier for ``num_classes``, feature extractors, and one-line errors."""

import dataclasses
import gzip
import hashlib
import io
import tarfile

import keras
import numpy as np
import pytest

import tfzoo
from tests.pretrained_cases import SPEC, entry_and_source, registered  # noqa: F401  (fixtures)
from tfzoo import pretrained


def _tar_gz(members):
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _images(n=16):
    from tfzoo.data import load_arrays

    return load_arrays("fashion_mnist", "test", max_examples=n)[0]


def test_pretrained_model_takes_raw_pixels_and_predicts_as_the_trained_model(registered):
    entry, source = registered
    from tfzoo.data import normalize

    model = tfzoo.create_model(pretrained=entry.name)
    images = _images()
    expected = source.predict(np.asarray(normalize(images, SPEC)), verbose=0)
    np.testing.assert_allclose(model.predict(images, verbose=0), expected, atol=1e-5)  # uint8 in
    np.testing.assert_allclose(model.predict(images.astype("float32"), verbose=0), expected, atol=1e-5)
    assert model.get_layer("input_normalization") is not None
    assert entry.name in tfzoo.list_models(pretrained=True)
    assert entry.name not in tfzoo.list_models()  # architectures, not weights


def test_num_classes_keeps_every_weight_but_a_fresh_classifier(registered, capsys):
    entry, source = registered
    model = tfzoo.create_model(pretrained=entry.name, num_classes=3)
    assert model.output.shape == (None, 3)
    assert "new classifier of 3 classes" in capsys.readouterr().err
    compared = 0
    for layer in model.layers:
        if layer.weights and layer.name != "classifier":
            for ours, theirs in zip(layer.get_weights(), source.get_layer(layer.name).get_weights()):
                np.testing.assert_array_equal(ours, theirs)
                compared += 1
    assert compared == len(source.weights) - 2  # all but the classifier's kernel and bias
    assert model.get_layer("classifier").get_weights()[0].shape == (64, 3)
    # The same number of classes as the entry: the classifier is loaded and nothing is printed.
    same = tfzoo.create_model(pretrained=entry.name, num_classes=entry.num_classes)
    np.testing.assert_array_equal(same.get_layer("classifier").get_weights()[0],
                                  source.get_layer("classifier").get_weights()[0])
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("pooling, shape", [("avg", (None, 64)), ("max", (None, 64)), (None, (None, 7, 7, 64))])
def test_feature_extractor(registered, pooling, shape):
    entry, source = registered
    from tfzoo.data import normalize

    features = tfzoo.create_model(pretrained=entry.name, include_top=False, pooling=pooling)
    assert features.output.shape == shape
    images = _images(8)
    maps = keras.Model(source.input, source.get_layer("head_relu").output).predict(
        np.asarray(normalize(images, SPEC)), verbose=0)
    expected = {"avg": maps.mean(axis=(1, 2)), "max": maps.max(axis=(1, 2)), None: maps}[pooling]
    np.testing.assert_allclose(features.predict(images, verbose=0), expected, atol=1e-5)


def test_feature_extractor_without_pretrained_weights():
    model = tfzoo.create_model("wrn-10-1", input_shape=(28, 28, 1), include_top=False, pooling="avg")
    assert model.output.shape == (None, 64)
    assert "classifier" not in [layer.name for layer in model.layers]
    # Parameters: the classifier's 64 x 10 + 10 fewer than the full model's.
    full = tfzoo.create_model("wrn-10-1", input_shape=(28, 28, 1))
    assert full.count_params() - model.count_params() == 64 * 10 + 10


def test_tampered_weights_are_refused_before_reading(registered, monkeypatch, tmp_path):
    entry, _ = registered
    from tfzoo.pretrained import fetch

    tampered = bytearray(fetch.package_file("test.tar.gz").read_bytes())
    tampered[len(tampered) // 2] ^= 1
    (tmp_path / "test.tar.gz").write_bytes(bytes(tampered))
    monkeypatch.setattr(fetch, "package_file", lambda filename: tmp_path / filename)

    def never(*args, **kwargs):
        raise AssertionError("unverified bytes were unpacked")

    monkeypatch.setattr("tfzoo.pretrained.presets.unpack_preset", never)
    with pytest.raises(pretrained.PretrainedError, match="sha256"):
        tfzoo.create_model(pretrained=entry.name)


@pytest.mark.parametrize("kwargs, message", [
    (dict(pretrained="no-such-model"), "pretrained='no-such-model' is neither a pretrained model"),
    (dict(pretrained="test-wrn-10-1-bn", normalization="none"), "takes only num_classes, include_top and pooling"),
    (dict(name="wrn-16-4", pretrained="test-wrn-10-1-bn"), "is a wrn-10-1"),
    (dict(pretrained="test-wrn-10-1-bn", include_top=True, pooling="avg"), "pooling applies with include_top=False"),
    (dict(pretrained="test-wrn-10-1-bn", num_classes=1), "num_classes must be an integer >= 2"),
])
def test_bad_arguments_raise_one_line_value_errors(registered, monkeypatch, kwargs, message):
    entry, _ = registered
    with pytest.raises(ValueError, match=message) as raised:
        tfzoo.create_model(**kwargs)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("members, message", [
    ({"config.json": b"{}"}, "archive of bad has no model.weights.h5"),
    ({"model.weights.h5": b"x"}, "archive of bad has no config.json"),
    ("bytes", "archive of bad cannot be read"),
])
def test_a_damaged_archive_is_a_pretrained_error(registered, monkeypatch, tmp_path, members, message):
    entry, _ = registered
    data = b"not a tar.gz" if members == "bytes" else _tar_gz(members)
    (tmp_path / "bad.tar.gz").write_bytes(data)
    bad = dataclasses.replace(entry, name="bad", source="package:bad.tar.gz", sha256=hashlib.sha256(data).hexdigest())
    monkeypatch.setitem(pretrained.REGISTRY, "bad", bad)
    monkeypatch.setattr("tfzoo.pretrained.fetch.package_file", lambda filename: tmp_path / filename)
    with pytest.raises(pretrained.PretrainedError, match=message) as raised:
        tfzoo.create_model(pretrained="bad")
    assert "\n" not in str(raised.value)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A real (tiny) bf16 batch-norm recipe run."""
    from tests.pretrained_cases import train_tiny_run

    return train_tiny_run(tmp_path_factory.mktemp("packed"), "batch_norm", "standard")


def test_archive_cli_evaluates_before_it_writes(finished_run, monkeypatch, tmp_path):
    """``python -m export.archive --run=... --evaluate``: the sha256 of the file written, the test accuracy of the
    preset's Keras model, the SavedModel built from the archive serving what Keras computes, and nothing written when
    a step fails."""
    import json
    import shutil

    import tensorflow as tf

    from tests.cli_cases import assert_one_error, run_cases
    from tfzoo.data import load_arrays

    run = finished_run
    broken = tmp_path / "broken_run"  # packs (its spec is in results.json), but its test data is nowhere
    shutil.copytree(run, broken)
    config = json.loads((broken / "config.json").read_text())
    (broken / "config.json").write_text(json.dumps({**config, "dataset": "folder", "data_dir": str(tmp_path / "none")}))
    good, no_data, both, wrong_card, unknown_card, unchecked_card = run_cases("export.archive", [
        [f"--run={run}", f"--output={tmp_path / 'good.tar.gz'}", "--evaluate"],
        [f"--run={broken}", f"--output={tmp_path / 'no_data.tar.gz'}", "--evaluate"],
        [f"--run={run}", f"--preset={tmp_path}", f"--output={tmp_path / 'both.tar.gz'}"],
        [f"--run={run}", f"--output={tmp_path / 'card.tar.gz'}", "--evaluate", "--card=wrn-16-2-bn-fashion_mnist"],
        [f"--run={run}", f"--output={tmp_path / 'card.tar.gz'}", "--evaluate", "--card=nope"],
        [f"--run={run}", f"--output={tmp_path / 'card.tar.gz'}", "--card=wrn-16-2-bn-fashion_mnist"],
    ])
    assert good.returncode == 0, good.stderr[-2000:]
    data = (tmp_path / "good.tar.gz").read_bytes()
    assert f"sha256 {hashlib.sha256(data).hexdigest()}, {len(data)} bytes" in good.stdout  # the file written
    printed = float(good.stdout.split("test accuracy ")[1].split()[0])
    assert_one_error(no_data, "folder")
    assert_one_error(both, "exactly one of --run=RUN_DIR and --preset=DIR")
    # A card is written only with the accuracy it states, measured.
    assert_one_error(wrong_card, "the card of wrn-16-2-bn-fashion_mnist says test accuracy 0.9515 on 10000 images; "
                                 f"this preset measures {printed:.4f} on 10000")
    assert_one_error(unknown_card, "unknown pretrained model 'nope'; accepted: ")
    assert_one_error(unchecked_card, "--card=wrn-16-2-bn-fashion_mnist needs --run=RUN_DIR and --evaluate")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken_run", "good.tar.gz"]

    entry = dataclasses.replace(pretrained.info("wrn-16-2-bn-fashion_mnist"), name="test-packed",
                                source="package:good.tar.gz", sha256=hashlib.sha256(data).hexdigest(),
                                size=len(data), model="wrn-10-1")
    monkeypatch.setitem(pretrained.REGISTRY, entry.name, entry)
    monkeypatch.setattr("tfzoo.pretrained.fetch.package_file", lambda filename: tmp_path / filename)
    images, labels = load_arrays("fashion_mnist", "test")
    model = tfzoo.create_model(pretrained=entry.name)
    assert model.dtype_policy.name == "float32"  # trained in bf16, loaded in float32
    logits = model.predict(images, batch_size=1000, verbose=0)
    assert float(np.mean(np.argmax(logits, -1) == labels)) == pytest.approx(printed, abs=5e-5)  # printed to 4 digits
    served = pretrained.load(entry.name, cache_dir=tmp_path / "cache").signatures["serving_default"](
        images=tf.constant(images[:64]))["probabilities"].numpy()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.ops.softmax(logits[:64])), served, atol=1e-5)


_CHILD = """
import sys
import numpy as np
import keras
import tfzoo
images = np.load(sys.argv[1])
model = tfzoo.create_model(pretrained="wrn-16-2-bn-fashion_mnist")
np.save(sys.argv[2], keras.ops.convert_to_numpy(keras.ops.softmax(model.predict(images, verbose=0))))
head = tfzoo.create_model(pretrained="wrn-16-2-bn-fashion_mnist", num_classes=3)
features = tfzoo.create_model(pretrained="wrn-16-2-bn-fashion_mnist", include_top=False, pooling="avg")
# Fine-tuning with plain Keras on this backend: a new 3-class task (the test images' labels modulo 3), raw pixels in.
keras.utils.set_random_seed(0)
head.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
             loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
losses = head.fit(images, np.load(sys.argv[3]) % 3, batch_size=16, epochs=3, verbose=0).history["loss"]
print(keras.backend.backend(), tuple(head.output.shape), tuple(features.output.shape), "tensorflow" in sys.modules,
      losses[-1] < 0.8 * losses[0])
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_pretrained_weights_load_on_another_backend_without_tensorflow(tmp_path, backend):
    """As keras-hub presets do: the shipped Keras weights load on another backend, with TensorFlow absent (a stand-in
    package raises on import), predict what they predict here on TensorFlow, and fine-tune with plain Keras."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO
    from tfzoo.data import load_arrays

    pytest.importorskip(backend, reason=f"{backend} is not installed (pip install -e .[jax,bench])")
    shim = tmp_path / "shim" / "tensorflow"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('no TensorFlow on this machine (test stand-in)')\n")
    images, labels = load_arrays("fashion_mnist", "test", max_examples=32)
    np.save(tmp_path / "images.npy", images)
    np.save(tmp_path / "labels.npy", labels)
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=os.pathsep.join([str(shim.parent), str(REPO)]))
    child = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path / "images.npy"), str(tmp_path / "out.npy"),
                            str(tmp_path / "labels.npy")],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600, check=False)
    assert child.returncode == 0, child.stderr[-2000:]
    # the shapes, TensorFlow never imported, and fine-tuning on the new task cut the training loss by a fifth or more
    assert child.stdout.strip().splitlines()[-1] == f"{backend} (None, 3) (None, 128) False True"
    ours = keras.ops.convert_to_numpy(keras.ops.softmax(
        tfzoo.create_model(pretrained="wrn-16-2-bn-fashion_mnist").predict(images, verbose=0)))
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), ours, atol=1e-4)

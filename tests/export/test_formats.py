"""LiteRT and ONNX exports, each loaded in its own runtime (the LiteRT interpreter, ONNX Runtime)
and compared with Keras on real Fashion-MNIST images: float probabilities to 1e-4 for every
normalization/init scheme, the same metadata as the SavedModel, one error line for what cannot be
exported."""

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO
from tfzoo import export
from tfzoo.inference import litert_interpreter, onnx_session, run_litert, run_onnx

SCHEMES = [("batch_norm", "standard"), ("ghost_batch_norm", "standard"), ("none", "zeroinit"), ("none", "fixup"),
           ("none", "skipinit")]


def _moved_off_init(model, seed=0):
    """Every BN statistic, bias and scalar moved off its initial value, and the kernels a scheme
    starts at zero (Fixup's last branch convolution and classifier) drawn at random, so that a
    layer converted wrongly (a multiplier dropped, BN folded with the wrong statistics) changes
    the output and the classes differ between images."""
    rng = np.random.RandomState(seed)
    for weight in model.weights:
        value = np.asarray(weight.numpy())
        if "moving_variance" in weight.path:
            weight.assign(rng.uniform(0.5, 2.0, size=value.shape).astype("float32"))
        elif weight.path == "classifier/bias":
            continue
        elif value.ndim <= 1:  # BN scales and offsets, biases, scalar multipliers and biases
            weight.assign((value + rng.normal(0, 0.2, size=value.shape)).astype("float32"))
        elif not value.any():
            fan_in = int(np.prod(value.shape[:-1]))
            weight.assign(rng.normal(0, np.sqrt(2.0 / fan_in), size=value.shape).astype("float32"))
    return model


@pytest.fixture(scope="module", params=SCHEMES, ids=["/".join(s) for s in SCHEMES])
def scheme_source(request):
    import keras

    import tfzoo

    normalization, init = request.param
    keras.utils.set_random_seed(1)
    model = tfzoo.create_model("wrn-10-1", normalization=normalization, init=init, input_shape=(28, 28, 1))
    return export.source_from_model(_moved_off_init(model), "fashion_mnist")


def _run(path, images):
    if path.suffix == ".onnx":
        return run_onnx(onnx_session(path), images)
    return run_litert(litert_interpreter(path), images)


@pytest.mark.parametrize("format", ["litert", "onnx"])
def test_float_formats_match_keras_for_every_scheme(scheme_source, format, test_images, tmp_path):
    images, _ = test_images
    written = export.export(scheme_source, tmp_path, format)
    path = tmp_path / export.FILENAMES[format]
    assert written["path"] == str(path) and sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    expected = export.predict(scheme_source, images)
    got = _run(path, images)
    assert got.shape == (64, 10) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-4)
    np.testing.assert_array_equal(got.argmax(axis=1), expected.argmax(axis=1))
    assert np.ptp(expected, axis=0).max() > 0.02  # the output depends on the image: the comparison is not vacuous
    np.testing.assert_allclose(_run(path, images[:1]), expected[:1], atol=1e-4)  # batch 1 after batch 64
    metadata = export.read_metadata(path)
    assert metadata == export.read_metadata(tmp_path)
    assert metadata["format"] == format and metadata["class_names"][9] == "Ankle boot"
    assert metadata["image_shape"] == [28, 28, 1] and metadata["mean"] == [72.94] and metadata["std"] == [90.021]


@pytest.fixture(scope="module")
def plain_source():
    import keras

    import tfzoo

    keras.utils.set_random_seed(0)
    return export.source_from_model(tfzoo.create_model("wrn-10-1", input_shape=(28, 28, 1)), "fashion_mnist")


def test_runtime_interfaces_take_uint8_images_and_name_probabilities(plain_source, tmp_path):
    source = plain_source
    export.export(source, tmp_path / "litert", "litert")
    export.export(source, tmp_path / "onnx", "onnx")
    interpreter = litert_interpreter(tmp_path / "litert" / "model.tflite")
    assert interpreter.get_signature_list() == {"serving_default": {"inputs": ["images"], "outputs": ["probabilities"]}}
    assert interpreter.get_input_details()[0]["dtype"] == np.uint8
    assert list(interpreter.get_input_details()[0]["shape_signature"]) == [-1, 28, 28, 1]
    session = onnx_session(tmp_path / "onnx" / "model.onnx")
    (onnx_input,), (onnx_output,) = session.get_inputs(), session.get_outputs()
    assert (onnx_input.name, onnx_input.type, onnx_input.shape[1:]) == ("images", "tensor(uint8)", [28, 28, 1])
    assert onnx_output.name == "probabilities"
    assert "tfzoo.json" in session.get_modelmeta().custom_metadata_map


def test_a_wrong_conversion_is_refused_and_nothing_is_written(plain_source, tmp_path, monkeypatch):
    """A converter that silently changed the model (here: every probability moved by 1e-3) is caught
    by the runtime check, and the output folder is left empty."""
    from tfzoo import inference

    real = inference.run_onnx
    monkeypatch.setattr(inference, "run_onnx", lambda session, images: real(session, images) + 1e-3)
    with pytest.raises(export.ExportError, match=r"the onnx export differs from Keras by 1\.0\de-03 \(> 0\.0001\)"):
        export.export(plain_source, tmp_path / "out", "onnx")
    assert list((tmp_path / "out").iterdir()) == []


def test_cli_writes_one_litert_file(run_dir, tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-m", "export", f"--model={run_dir}", "--format=litert",
                             f"--output_dir={tmp_path / 'out'}"], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith(f"litert {tmp_path / 'out' / 'model.tflite'}: fashion_mnist, input uint8 [28, 28, 1]")
    assert float(result.stdout.split("max |litert - Keras| = ")[1].split(",")[0]) < 1e-4
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["model.tflite"]
    assert export.read_metadata(tmp_path / "out")["config"]["model"] == "wrn-10-1"


def test_a_pretrained_model_keeps_its_own_preprocessing(plain_source, tmp_path, monkeypatch, test_images):
    """A zoo preset takes 0-255 pixels (normalization inside): the export must not normalize a
    second time. The preset's model is stood in for by the plain model behind a normalization layer."""
    import keras

    from tfzoo.data import get_spec
    from tfzoo.export import source as source_module
    from tfzoo.inference import predict_proba

    spec = get_spec("fashion_mnist")
    pixels = keras.Input((28, 28, 1))
    normalized = keras.layers.Normalization(mean=spec.mean, variance=np.square(spec.std))(pixels)
    with_preprocessing = keras.Model(pixels, plain_source.model(normalized))
    folders = []

    def load_preset(folder, **kwargs):
        folders.append(folder)
        return with_preprocessing

    monkeypatch.setattr(source_module, "load_preset", load_preset)
    source = export.load_source(pretrained="wrn-16-2-bn-fashion_mnist")
    assert len(folders) == 1 and source.model is with_preprocessing
    assert source.preprocessed and source.path is None
    written = export.export(source, tmp_path, "onnx")
    images, _ = test_images
    np.testing.assert_allclose(_run(tmp_path / "model.onnx", images), predict_proba(plain_source.model, images, spec),
                               atol=1e-4)
    assert written["pretrained"] == "wrn-16-2-bn-fashion_mnist" and written["class_names"][0] == "T-shirt/top"

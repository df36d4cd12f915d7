"""Full-integer LiteRT: uint8 pixels in at scale 1 and zero point 0, probabilities out, calibrated on
the training split; on 1,000 Fashion-MNIST test images its top-1 class agrees with Keras's on at
least 99 % and its accuracy is printed beside the float model's.

The model is ``data/wrn-10-1-bn-fashion_mnist.keras``: tfzoo's WRN-10-1 with batch norm trained
with Adam (learning rate 2e-3, batch 128, seed 0) for 2 epochs on the first 30,000 training
images, so that it is far from constant (85.8 % test accuracy) and quantization can change its
answers; committed so the test does not train.
"""

from pathlib import Path

import numpy as np
import pytest

from tfzoo import export
from tfzoo.inference import litert_interpreter, run_litert

MODEL = Path(__file__).parent / "data" / "wrn-10-1-bn-fashion_mnist.keras"


@pytest.fixture(scope="module")
def trained():
    import keras

    return export.source_from_model(keras.saving.load_model(MODEL), "fashion_mnist")


def test_int8_agrees_with_keras_on_1000_test_images(trained, tmp_path):
    from tfzoo.data import load_arrays

    images, labels = load_arrays("fashion_mnist", "test", max_examples=1000)
    written = export.export(trained, tmp_path, "litert_int8")
    assert written["calibration_images"] == export.CALIBRATION_IMAGES
    interpreter = litert_interpreter(tmp_path / "model.tflite")
    detail = interpreter.get_input_details()[0]
    assert detail["dtype"] == np.uint8 and detail["quantization"] == (1.0, 0)  # the raw pixels
    assert interpreter.get_output_details()[0]["dtype"] == np.float32
    int8 = run_litert(interpreter, images)
    keras_probabilities = export.predict(trained, images)
    agreement = float(np.mean(int8.argmax(axis=1) == keras_probabilities.argmax(axis=1)))
    float_accuracy = float(np.mean(keras_probabilities.argmax(axis=1) == labels))
    int8_accuracy = float(np.mean(int8.argmax(axis=1) == labels))
    print(f"\nint8 LiteRT on 1,000 Fashion-MNIST test images: accuracy {int8_accuracy:.3f} vs float Keras "
          f"{float_accuracy:.3f}; top-1 agreement {agreement:.3f}; max |p_int8 - p_float| "
          f"{np.max(np.abs(int8 - keras_probabilities)):.3f}")
    assert float_accuracy > 0.8  # a trained model, not a constant one
    assert agreement >= 0.99
    assert abs(int8_accuracy - float_accuracy) <= 0.01
    np.testing.assert_allclose(int8.sum(axis=1), 1.0, atol=0.02)
    assert (tmp_path / "model.tflite").stat().st_size < 0.4 * MODEL.stat().st_size  # int8 weights: about 1/4


def test_calibration_images_that_miss_the_pixel_range_are_refused(trained, tmp_path):
    dark = np.random.RandomState(0).randint(0, 100, size=(16, 28, 28, 1), dtype=np.uint8)
    with pytest.raises(export.ExportError, match=r"not the raw pixels \(1, 0\): the calibration images must span 0\.\.255"):
        export.export(trained, tmp_path / "out", "litert_int8", calibration_images=dark)
    assert list((tmp_path / "out").iterdir()) == []

"""tfzoo.transfer: weights by layer name, with the first convolution adapted to another number of
input channels (timm's adapt_input_conv rule), so a grayscale pretrained model starts an RGB run."""

import numpy as np
import pytest

import tfzoo
from tfzoo.pretrained import PretrainedError, initialize_from, preset_architecture
from tfzoo.transfer import adapt_input_channels, transfer_weights


def test_adapted_kernels_answer_equal_channels_as_the_original():
    rng = np.random.RandomState(0)
    gray_kernel = rng.normal(size=(3, 3, 1, 4)).astype(np.float32)
    rgb = adapt_input_channels(gray_kernel, 3)
    assert rgb.shape == (3, 3, 3, 4)
    np.testing.assert_allclose(rgb.sum(axis=2), gray_kernel[:, :, 0], rtol=1e-6)  # equal channels: same response
    rgb_kernel = rng.normal(size=(3, 3, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(adapt_input_channels(rgb_kernel, 1)[:, :, 0], rgb_kernel.sum(axis=2), rtol=1e-6)
    four = adapt_input_channels(rgb_kernel, 4)
    np.testing.assert_allclose(four[:, :, 3], rgb_kernel[:, :, 0] * 0.75, rtol=1e-6)
    assert adapt_input_channels(rgb_kernel, 3) is rgb_kernel


def test_a_grayscale_entry_starts_an_rgb_model_with_the_same_answers(capsys):
    name = "wrn-16-2-bn-fashion_mnist"
    _, options = preset_architecture(name)
    options = options.replace(input_normalization=None)  # standardized images in, as a recipe trains
    source = tfzoo.create_model("wrn-16-2", options=options)
    initialize_from(source, name)
    capsys.readouterr()
    target = tfzoo.create_model("wrn-16-2", options=options.replace(input_shape=(28, 28, 3), num_classes=5))
    initialize_from(target, name)
    err = capsys.readouterr().err
    assert "stem_conv: adapted from 1 to 3 input channels" in err and "kept the new classifier (5 classes)" in err
    gray = np.random.RandomState(1).normal(size=(4, 28, 28, 1)).astype(np.float32)
    features = {m: tfzoo.create_model("wrn-16-2", options=options.replace(input_shape=shape, include_top=False,
                                                                          pooling="avg"))
                for m, shape in (("gray", (28, 28, 1)), ("rgb", (28, 28, 3)))}
    transfer_weights(source, features["gray"])
    transfer_weights(target, features["rgb"])
    np.testing.assert_allclose(np.asarray(features["rgb"](np.repeat(gray, 3, axis=-1), training=False)),
                               np.asarray(features["gray"](gray, training=False)), rtol=1e-4, atol=1e-4)


def test_other_shape_differences_are_still_refused():
    small = tfzoo.create_model("wrn-10-1", input_shape=(8, 8, 1), normalization="none", init="zeroinit")
    wide = tfzoo.create_model("wrn-10-2", input_shape=(8, 8, 3), normalization="none", init="zeroinit")
    with pytest.raises(PretrainedError, match=r"layer 'stage1_block1_branch_conv1': weights of shapes"):
        transfer_weights(small, wide, adapt_channels=("stem_conv",), error=PretrainedError)

"""What each scheme switches on, checked on the built models ("Batch normalization has multiple
benefits", sections 2, 4, 5)."""

import keras
import numpy as np
import pytest

import tfzoo
from tests.helpers import random_images
from tfzoo.layers import BatchNormalization, GhostBatchNormalization, ScalarBias, ScalarMultiplier, ScaledConv2D
from tfzoo.models import ModelOptions, blocks, resolve_scheme


def _layers_of(model, cls):
    return [layer for layer in model.layers if type(layer) is cls]


def _block_model(block_fn, scheme, channels, **kwargs):
    x = keras.Input((8, 8, channels), batch_size=4)
    return keras.Model(x, block_fn(x, channels // kwargs.pop("expansion", 1), 1, scheme, "b", **kwargs))


@pytest.mark.parametrize("init", ["skipinit", "zeroinit"])
@pytest.mark.parametrize("normalization", ["none", "batch_norm", "ghost_batch_norm"])
@pytest.mark.parametrize("block_fn, expansion", [(blocks.preact_basic_block, 1), (blocks.preact_bottleneck_block, 4)])
def test_zero_init_blocks_are_the_identity(init, normalization, block_fn, expansion):
    scheme = resolve_scheme(ModelOptions(normalization, init, ghost_batch_size=2), zeroinit_dropout=0.6)
    model = _block_model(block_fn, scheme, 16, expansion=expansion)
    x = random_images(4, 8, 8, 16) * 5.0
    for training in (False, True):
        np.testing.assert_array_equal(np.asarray(model(x, training=training)), x)


def test_standard_block_is_not_the_identity():
    scheme = resolve_scheme(ModelOptions("none", "standard"), zeroinit_dropout=0.6)
    x = random_images(4, 8, 8, 16)
    assert np.abs(np.asarray(_block_model(blocks.preact_basic_block, scheme, 16)(x)) - x).max() > 0.1


def test_v1_zeroinit_block_is_relu_of_input():
    scheme = resolve_scheme(ModelOptions("none", "zeroinit", scalar_bias=True), zeroinit_dropout=0.2,
                            supports_scalar_bias=True)
    x = random_images(4, 8, 8, 16)
    model = _block_model(blocks.basic_block_v1, scheme, 16)
    np.testing.assert_array_equal(np.asarray(model(x)), np.maximum(x, 0.0))
    assert len(_layers_of(model, ScalarBias)) == 1


def _pooled_std(name, init):
    model = tfzoo.create_model(name, normalization="none", init=init)
    features = keras.Model(model.input, model.get_layer("head_pool").output)
    return float(np.asarray(features(random_images(8))).std())


@pytest.mark.slow
def test_deep_network_without_normalization_blows_up_unless_zeroinit():
    shallow = _pooled_std("wrn-16-1", "zeroinit")
    deep_zeroinit = _pooled_std("wrn-100-1", "zeroinit")
    deep_standard = _pooled_std("wrn-100-1", "standard")
    assert 0.5 < deep_zeroinit / shallow < 2.0
    assert deep_standard / _pooled_std("wrn-16-1", "standard") > 1e4


def test_fixup_components_on_a_wide_resnet():
    model = tfzoo.create_model("wrn-16-4", normalization="none", init="fixup")
    num_branches = 3 * 2
    assert not np.asarray(model.get_layer("classifier").kernel).any()
    for stage in (1, 2, 3):
        for block in (1, 2):
            prefix = f"stage{stage}_block{block}"
            assert not np.asarray(model.get_layer(prefix + "_branch_conv2").kernel).any()
            kernel = np.asarray(model.get_layer(prefix + "_branch_conv1").kernel)
            fan_in = np.prod(kernel.shape[:3])
            expected = np.sqrt(2.0 / fan_in) * num_branches ** -0.5
            assert kernel.std() == pytest.approx(expected, rel=0.1)
            # the multiplier, folded into the branch's last convolution (ScaledConv2D)
            assert float(np.asarray(model.get_layer(prefix + "_branch_conv2").multiplier)) == 1.0
    biases = _layers_of(model, ScalarBias)
    assert len(biases) > 6 and all(float(np.asarray(b.bias)) == 0.0 for b in biases)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)


def test_fixup_on_resnet50_scales_by_l_to_the_minus_quarter():
    model = tfzoo.create_model("resnet50_v1", normalization="none", init="fixup", input_shape=(32, 32, 3))
    kernel = np.asarray(model.get_layer("stage3_block2_branch_conv2").kernel)
    expected = np.sqrt(2.0 / np.prod(kernel.shape[:3])) * 16 ** -0.25
    assert kernel.std() == pytest.approx(expected, rel=0.05)
    assert not np.asarray(model.get_layer("stage4_block3_branch_conv3").kernel).any()
    # Fixup's output is exactly zero at initialisation: the classifier is zero.
    np.testing.assert_array_equal(np.asarray(model(random_images(2))), 0.0)


@pytest.mark.parametrize(
    "overrides, multipliers, conv_bias, dropout",
    [  # "Batch normalization has multiple benefits", Table 1, row by row.
        (dict(), 0, False, None),
        (dict(conv_bias=True), 0, True, None),
        (dict(classifier_dropout=0.6), 0, False, 0.6),
        (dict(scalar_multiplier=True), 6, False, None),
        (dict(conv_bias=True, classifier_dropout=0.6), 0, True, 0.6),
        (dict(init="zeroinit"), 6, True, 0.6),
        (dict(init="skipinit"), 6, False, None),
        (dict(init="zeroinit", classifier_dropout=0.0), 6, True, None),
    ],
)
def test_ablation_rows_are_switch_overrides(overrides, multipliers, conv_bias, dropout):
    model = tfzoo.create_model("wrn-16-4", normalization="none", **overrides)
    found = _layers_of(model, ScaledConv2D)  # each branch's multiplier, folded into its last convolution
    assert len(found) == multipliers and not _layers_of(model, ScalarMultiplier)
    assert all(float(np.asarray(m.multiplier)) == 0.0 for m in found)
    convs = _layers_of(model, keras.layers.Conv2D) + found
    assert len(convs) == 1 + 12 + 3 and all(c.use_bias == conv_bias for c in convs)
    drop = [layer.rate for layer in _layers_of(model, keras.layers.Dropout)]
    assert drop == ([] if dropout is None else [dropout])


def test_zeroinit_dropout_default_depends_on_the_family():
    resnet = tfzoo.create_model("resnet18_v2", normalization="none", init="zeroinit", input_shape=(32, 32, 3))
    assert resnet.get_layer("head_dropout").rate == 0.2
    wrn = tfzoo.create_model("wrn-10-1", normalization="none", init="zeroinit", dropout=0.3)
    assert wrn.get_layer("head_dropout").rate == 0.6
    assert wrn.get_layer("stage1_block1_branch_dropout").rate == 0.3


def test_normalization_layers():
    bn = tfzoo.create_model("wrn-10-1")
    ghost = tfzoo.create_model("wrn-10-1", normalization="ghost_batch_norm", ghost_batch_size=8)
    none = tfzoo.create_model("wrn-10-1", normalization="none")
    assert len(_layers_of(bn, BatchNormalization)) == 7  # tfzoo's: Keras's, with its gradient written out
    ghosts = _layers_of(ghost, GhostBatchNormalization)
    assert len(ghosts) == 7 and {g.ghost_batch_size for g in ghosts} == {8}
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in none.layers)


def test_v1_scalar_bias_sits_after_every_merge():
    model = tfzoo.create_model(
        "resnet18_v1", normalization="none", init="zeroinit", scalar_bias=True, input_shape=(32, 32, 3)
    )
    names = [layer.name for layer in _layers_of(model, ScalarBias)]
    assert names == [f"stage{s}_block{b}_merge_bias" for s in range(1, 5) for b in (1, 2)]

"""Signal propagation at initialisation on real CIFAR-10 images: WRN-100-1 (48 residual blocks)."""

import keras
import numpy as np
import pytest

import tfzoo
from tests.conftest import CIFAR10_SUBSET
from tfzoo import data
from tfzoo.analysis import compare_schemes, measure, multipliers, residual_blocks, signal_model

BLOCKS_PER_STAGE = 16  # WRN-100: d = 6n + 4, n = 16


@pytest.fixture(scope="module")
def images():
    x, _ = data.load_arrays("cifar10", "train", data_dir=CIFAR10_SUBSET, max_examples=32)
    return data.normalize(x, data.get_spec("cifar10")).numpy()


@pytest.fixture(scope="module")
def signals(images):
    return compare_schemes("wrn-100-1", images, seed=0)


def _stages(values):
    return np.asarray(values).reshape(3, BLOCKS_PER_STAGE)


@pytest.mark.slow
def test_blocks_and_shared_input(signals):
    names = signals["zeroinit"].blocks
    assert len(names) == 48 and names[0] == "stage1_block1" and names[-1] == "stage3_block16"
    inputs = {label: s.input_variance for label, s in signals.items()}
    assert len(set(inputs.values())) == 1  # one seed: the same stem weights under every scheme
    assert 0.5 < inputs["zeroinit"] < 10


@pytest.mark.slow
def test_without_normalization_the_variance_explodes(signals):
    none, zeroinit = signals["none"], signals["zeroinit"]
    assert none.variance[-1] > 1e6 * zeroinit.variance[-1]  # measured: about 6e11 x
    # Exponential, not linear: each half of the network multiplies the variance by > 1000.
    assert none.variance[23] > 1e3 * none.variance[0] and none.variance[47] > 1e3 * none.variance[23]
    growth = (none.variance[-1] / none.input_variance) ** (1 / 48)
    assert 1.3 < growth < 2.2  # He init keeps each branch's second moment: at most x2 per block


@pytest.mark.slow
def test_zeroinit_keeps_the_input_scale(signals):
    zeroinit = signals["zeroinit"]
    assert (zeroinit.branch_variance == 0).all()  # the multiplier is 0: every branch adds nothing
    # Stage 1 has identity shortcuts (16 -> 16 channels): the stream is the stem output, exactly.
    np.testing.assert_allclose(_stages(zeroinit.variance)[0], zeroinit.input_variance, rtol=1e-6)
    # Stages 2 and 3 start with a He-initialised 1x1 projection: the scale changes, by a small factor.
    assert zeroinit.input_variance / 4 < zeroinit.variance.min() <= zeroinit.variance.max() < 4 * zeroinit.input_variance


@pytest.mark.slow
def test_batch_norm_grows_linearly_within_each_stage(signals):
    bn = signals["batch_norm"]
    assert (0.3 < bn.branch_variance).all() and (bn.branch_variance < 1.5).all()  # normalized branches
    blocks = np.arange(1, BLOCKS_PER_STAGE + 1)
    for stage in _stages(bn.variance):
        assert (np.diff(stage) > 0).all()
        slope, intercept = np.polyfit(blocks, stage, 1)
        residual = stage - (slope * blocks + intercept)
        assert 1 - residual.var() / stage.var() > 0.98  # a straight line ...
        assert 0.3 < slope < 1.5  # ... rising by about one branch variance per block
    assert bn.variance[-1] < 2 * BLOCKS_PER_STAGE  # linear in the blocks since the last projection
    assert signals["none"].variance[-1] > 1e8 * bn.variance[-1]


def test_measure_leaves_batch_norm_statistics_alone(images):
    model = tfzoo.create_model("wrn-16-1", normalization="batch_norm")
    before = [np.asarray(v) for v in model.non_trainable_variables]
    signal = measure(model, images)
    assert len(signal.blocks) == 6 and np.isfinite(signal.variance).all()
    for old, variable in zip(before, model.non_trainable_variables):
        np.testing.assert_array_equal(old, np.asarray(variable))
    inference = measure(model, images, training=False)  # moving statistics of init: BN ~ identity
    assert inference.variance[-1] > 2 * signal.variance[-1]


def test_resnet_v1_stream_is_after_the_final_relu(images):
    model = tfzoo.create_model("resnet18_v1", normalization="none", init="fixup", input_shape=(32, 32, 3))
    assert residual_blocks(model) == [f"stage{s}_block{b}" for s in range(1, 5) for b in (1, 2)]
    outputs = signal_model(model)(images[:4])
    assert len(outputs) == 1 + 2 * 8
    assert all(float(np.min(np.asarray(x))) >= 0 for x in outputs[1::2])  # ReLU outputs


def test_multipliers_and_errors():
    zeroinit = tfzoo.create_model("wrn-16-1", normalization="none", init="zeroinit")
    found = multipliers(zeroinit)
    assert list(found) == [f"stage{s}_block{b}" for s in (1, 2, 3) for b in (1, 2)]
    assert set(found.values()) == {0.0}
    zeroinit.get_layer("stage2_block1_branch_conv2").multiplier.assign(0.25)  # folded (ScaledConv2D)
    assert multipliers(zeroinit)["stage2_block1"] == 0.25
    assert multipliers(tfzoo.create_model("wrn-16-1")) == {}
    # ResNet-V1 with BN after its last convolution: the multiplier is a layer of its own (ScalarMultiplier).
    separate = tfzoo.create_model("resnet18_v1", normalization="batch_norm", init="skipinit", input_shape=(32, 32, 3))
    assert separate.get_layer("stage1_block1_branch_multiplier") is not None
    assert multipliers(separate) == {f"stage{s}_block{b}": 0.0 for s in (1, 2, 3, 4) for b in (1, 2)}
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="plain")
    with pytest.raises(ValueError, match="model 'plain' has no residual blocks"):
        residual_blocks(plain)

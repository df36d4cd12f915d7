"""The FLOP counter against hand counts, and the Keras and PyTorch counts of the same WRN."""

import keras
import pytest

import tfzoo
from bench import flops


def tiny_model():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 8*8 positions x 3*3*3 x 4 = 6,912 MACs
    x = keras.layers.Conv2D(6, 1, strides=2)(x)  # 4*4 x 1*1*4 x 6 = 384 MACs
    x = keras.layers.Conv2D(6, 3, padding="same", groups=2)(x)  # 4*4 x 3*3*3 x 6 = 2,592 MACs
    x = keras.layers.BatchNormalization()(x)  # not counted
    x = keras.layers.Dense(2)(x)  # per position: 4*4 x 6 x 2 = 192 MACs
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(5)(x)  # 2 x 5 = 10 MACs
    return keras.Model(inputs, outputs)


def test_tiny_model_matches_hand_count():
    model = tiny_model()
    macs = 6912 + 384 + 2592 + 192 + 10
    assert flops.forward_flops(model) == 2 * macs == 20180
    assert flops.train_flops(model) == 3 * 20180


def test_nested_model_is_counted_once_per_use():
    inner = tiny_model()
    outer = keras.Sequential([keras.Input((8, 8, 3)), inner])
    assert flops.forward_flops(outer) == 20180


def test_wrn_closed_form():
    # WRN-10-1 (n=1, k=1), 32x32: stem 32*32*27*16; stage 1 (16->16, 32x32): two 3x3 convs;
    # stage 2 (16->32, stride 2, 16x16): 3x3 16->32, 3x3 32->32, 1x1 shortcut 16->32; stage 3 likewise
    # at 8x8 (32->64); classifier 64x10.
    macs = (32 * 32 * 27 * 16 + 2 * 32 * 32 * 9 * 16 * 16
            + 16 * 16 * (9 * 16 * 32 + 9 * 32 * 32 + 16 * 32)
            + 8 * 8 * (9 * 32 * 64 + 9 * 64 * 64 + 32 * 64) + 64 * 10)
    model = tfzoo.create_model("wrn-10-1", normalization="none", init="zeroinit")
    assert flops.forward_flops(model) == 2 * macs == 25_003_264


def test_torch_twin_counts_the_same_flops():
    pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    from bench import torch_wrn

    model = tfzoo.create_model("wrn-16-4")
    assert torch_wrn.forward_flops(torch_wrn.create_torch_model("wrn-16-4"), (32, 32, 3)) == flops.forward_flops(model)
    assert flops.forward_flops(model) == 785_224_704

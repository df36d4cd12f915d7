"""``SignalLogger`` writes multipliers and variances to TensorBoard during a short real fit."""

import keras
import numpy as np
import tensorflow as tf

import tfzoo
from tests.conftest import CIFAR10_SUBSET
from tfzoo import data
from tfzoo.analysis import SignalLogger, measure, multipliers


def _scalars(log_dir):
    """``{tag: {step: value}}`` from every event file under ``log_dir``."""
    found = {}
    for path in sorted(log_dir.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found.setdefault(value.tag, {})[event.step] = float(tf.make_ndarray(value.tensor))
    return found


def test_zeroinit_fit_logs_multipliers_and_variances(tmp_path):
    spec = data.get_spec("cifar10")
    x, y = data.load_arrays("cifar10", "train", data_dir=CIFAR10_SUBSET, max_examples=64)
    images, labels = data.normalize(x, spec).numpy(), keras.utils.to_categorical(y, 10)
    model = tfzoo.create_model("wrn-10-1", normalization="none", init="zeroinit")
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    at_init = measure(model, images[:16])
    logger = SignalLogger(tmp_path / "signal", images[:16])
    model.fit(images, labels, batch_size=16, epochs=2, shuffle=False, callbacks=[logger], verbose=0)

    scalars = _scalars(tmp_path / "signal")
    blocks = ["stage1_block1", "stage2_block1", "stage3_block1"]
    assert sorted(scalars) == sorted(
        ["variance/input"] + [f"{kind}/{b}" for kind in ("multiplier", "variance", "branch_variance") for b in blocks])
    for block in blocks:
        multiplier = scalars[f"multiplier/{block}"]
        assert sorted(multiplier) == [0, 1, 2]  # before training, after epoch 1, after epoch 2
        assert multiplier[0] == 0.0 and multiplier[1] != 0.0  # ZeroInit starts at 0; SGD moves it
        assert multiplier[2] == multipliers(model)[block]
        assert scalars[f"branch_variance/{block}"][0] == 0.0 < scalars[f"branch_variance/{block}"][2]
    np.testing.assert_allclose([scalars[f"variance/{b}"][0] for b in blocks], at_init.variance, rtol=1e-5)
    np.testing.assert_allclose(scalars["variance/input"][0], at_init.input_variance, rtol=1e-5)

"""``TrainConfig(log_signal=True)`` (``--log_signal``) logs every branch multiplier to TensorBoard."""

from tests.conftest import CIFAR10_SUBSET


def test_log_signal_writes_multipliers_per_epoch(tmp_path):
    import tensorflow as tf

    from tfzoo.training import TrainConfig, train

    config = TrainConfig.create(
        dataset="cifar10", data_dir=str(CIFAR10_SUBSET), model="wrn-10-1", normalization="none", init="zeroinit",
        epochs=2, max_train_examples=128, batch_size=64, lr=0.1, log_signal=True, output_dir=str(tmp_path / "run"),
    )
    results = train(config, verbose=0)
    assert not results["diverged"]
    values = {}
    for path in (tmp_path / "run" / "tensorboard" / "signal").rglob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                values.setdefault(value.tag, {})[event.step] = float(tf.make_ndarray(value.tensor))
    multipliers = sorted(tag for tag in values if tag.startswith("multiplier/"))
    assert multipliers == ["multiplier/stage1_block1", "multiplier/stage2_block1", "multiplier/stage3_block1"]
    for tag in multipliers:
        assert values[tag][0] == 0.0 and values[tag][2] != 0.0  # ZeroInit starts at 0, then trains
    assert sorted(values["variance/input"]) == [0, 1, 2]

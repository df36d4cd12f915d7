"""The paper's protocol: schedule values, ghost-batch accumulation, L2, training on real data."""

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfzoo
from tests.conftest import CIFAR10_SUBSET
from tfzoo.data import get_spec
from tfzoo.models import ModelOptions
from tfzoo.training import EpochSchedule, TrainConfig, accumulation_steps, add_l2, lr_at_epoch, make_optimizer, train


def test_paper_schedule_halves_every_tenth_epoch_after_100():
    lrs = {e: lr_at_epoch("paper", 1.0, e, 200) for e in (0, 99, 100, 109, 110, 119, 120, 199)}
    assert lrs == {0: 1.0, 99: 1.0, 100: 0.5, 109: 0.5, 110: 0.25, 119: 0.25, 120: 0.125, 199: 2.0 ** -10}
    # ImageNet ("Batch normalization has multiple benefits", section 5): constant for 45 of 90 epochs,
    # then halved every 5.
    assert lr_at_epoch("paper", 1.0, 50, 90, hold_epochs=45, decay_every=5) == 0.25


def test_keras_schedule_matches_python_values_per_step():
    schedule = EpochSchedule("paper", 0.4, 200, steps_per_epoch=7)
    for epoch in (0, 99, 100, 115, 199):
        assert float(schedule(epoch * 7 + 3)) == pytest.approx(lr_at_epoch("paper", 0.4, epoch, 200))
    wrn = EpochSchedule("wrn", 1.0, 10, steps_per_epoch=1)
    assert [round(float(wrn(e)), 6) for e in range(10)] == [1, 1, 1, 0.2, 0.2, 0.2, 0.04, 0.04, 0.008, 0.008]
    cosine = EpochSchedule("cosine", 1.0, 4, steps_per_epoch=2, warmup_epochs=1)
    assert [round(float(cosine(s)), 4) for s in (0, 1, 2, 4, 8)] == [0.0, 0.481, 0.8536, 0.5, 0.0]
    restored = EpochSchedule.from_config(schedule.get_config())
    assert float(restored(700)) == float(schedule(700))


def test_accumulation_steps():
    assert accumulation_steps(256, 64, "ghost_batch_norm") == 4
    assert accumulation_steps(256, 64, "none") == 4
    assert accumulation_steps(256, 64, "batch_norm") == 1
    assert accumulation_steps(32, 64, "none") == 1
    with pytest.raises(ValueError, match="batch_size=100 must be a multiple of ghost_batch_size=64"):
        accumulation_steps(100, 64, "ghost_batch_norm")
    assert accumulation_steps(256, 64, "ghost_batch_norm", accumulate=False) == 1  # the layers split the batch
    gbn = dict(normalization="ghost_batch_norm", init="standard", batch_size=128, ghost_batch_size=64)
    assert TrainConfig.create(**gbn).accumulation() == 2
    assert TrainConfig.create(**gbn, accumulate_ghost_batches=False).accumulation() == 1
    with pytest.raises(ValueError, match="batch_size=96 must be a multiple of ghost_batch_size=64"):
        TrainConfig.create(**{**gbn, "batch_size": 96}, accumulate_ghost_batches=False).accumulation()


def _tiny_model():
    model = tfzoo.create_model("wrn-10-1", normalization="none", init="zeroinit", classifier_dropout=0.0)
    add_l2(model, 5e-4)
    return model


def test_ghost_batch_accumulation_equals_one_big_batch_step_without_normalization():
    rng = np.random.RandomState(0)
    images = rng.normal(size=(16, 32, 32, 3)).astype("float32")
    labels = np.eye(10, dtype="float32")[rng.randint(0, 10, 16)]
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    results = []
    for accumulation in (1, 4):
        keras.utils.set_random_seed(1)
        model = _tiny_model()
        model.compile(optimizer=make_optimizer(0.1, accumulation=accumulation), loss=loss)
        for _ in range(2):  # two updates, so momentum takes part
            model.fit(images, labels, batch_size=16 // accumulation, epochs=1, shuffle=False, verbose=0)
        results.append([np.asarray(w) for w in model.trainable_weights])
    for big, ghost in zip(*results):
        np.testing.assert_allclose(ghost, big, rtol=1e-4, atol=1e-6)
    assert any(np.abs(w).max() > 0 for w in results[0])


def test_ghost_batch_norm_in_one_step_equals_accumulating_its_ghost_batches():
    """``accumulate_ghost_batches=False``: one step of B whose ghost BN layers split it gives the
    update of B/G accumulated steps of G (the same per-ghost statistics, the same mean gradient)."""
    rng = np.random.RandomState(0)
    images = rng.normal(size=(16, 32, 32, 3)).astype("float32")
    labels = np.eye(10, dtype="float32")[rng.randint(0, 10, 16)]
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    results = []
    for accumulate in (True, False):
        accumulation = accumulation_steps(16, 8, "ghost_batch_norm", accumulate)
        keras.utils.set_random_seed(1)
        model = tfzoo.create_model("wrn-10-1", normalization="ghost_batch_norm", init="standard", ghost_batch_size=8)
        add_l2(model, 5e-4)
        model.compile(optimizer=make_optimizer(0.1, accumulation=accumulation), loss=loss)
        initial = [np.asarray(w) for w in model.trainable_weights]
        for _ in range(2):  # two updates, so momentum and the first update's statistics take part
            model.fit(images, labels, batch_size=16 // accumulation, epochs=1, shuffle=False, verbose=0)
        results.append([np.asarray(w) for w in model.trainable_weights])
    for accumulated, one_step in zip(*results):
        np.testing.assert_allclose(one_step, accumulated, rtol=1e-4, atol=1e-6)
    assert max(np.abs(a - b).max() for a, b in zip(results[0], initial)) > 1e-3  # it trained


def test_l2_gradient_is_coefficient_times_weight():
    model = _tiny_model()
    assert add_l2(model, 0.01) == 1 + 2 * 3 + 2 + 1  # stem, 2 convs x 3 blocks, 2 shortcuts, classifier
    kernels = [layer.kernel for layer in model.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]
    expected = 0.005 * sum(float(np.sum(np.square(np.asarray(k)))) for k in kernels)
    assert float(sum(np.asarray(x) for x in model.losses)) == pytest.approx(expected, rel=1e-5)


def _config(tmp_path, **overrides):
    base = dict(
        dataset="cifar10", data_dir=str(CIFAR10_SUBSET), model="wrn-10-1", normalization="none", init="zeroinit",
        batch_size=64, ghost_batch_size=32, lr=0.05, epochs=3, max_train_examples=512, eval_batch_size=512,
        output_dir=str(tmp_path / "run"),
    )
    base.update(overrides)
    return TrainConfig.create(**base)


@pytest.mark.slow
def test_training_on_real_images_reduces_loss_and_is_reproducible(tmp_path):
    # Fashion-MNIST, 1,000 training images held out: enough to tell learning from chance (the
    # CIFAR-10 fixture's 100 test images are not), and 10x fewer to evaluate than its test split.
    real = dict(dataset="fashion_mnist", data_dir=None, validation_examples=1000)
    first = train(_config(tmp_path, output_dir=str(tmp_path / "a"), **real), verbose=0)
    assert not first["diverged"] and first["epochs"] == 3
    rows = (tmp_path / "a" / "history.csv").read_text().splitlines()
    losses = [float(r.split(",")[rows[0].split(",").index("loss")]) for r in rows[1:]]
    assert losses[-1] < losses[0] - 0.1, losses
    # Chance is 0.10 +- 0.0095 (1 sigma) on the 1,000 held-out real images.
    assert first["test_accuracy"] > 0.125
    for name in ("results.json", "history.csv", "curves.png", "model.keras", "config.json"):
        assert (tmp_path / "a" / name).stat().st_size > 0
    assert (tmp_path / "a" / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    second = train(_config(tmp_path, output_dir=str(tmp_path / "b"), **real), verbose=0)
    for key in ("test_accuracy", "test_loss", "train_loss"):
        assert first[key] == second[key], key


def test_a_ghost_batch_norm_run_without_accumulation_takes_one_step_per_update(tmp_path):
    config = _config(tmp_path, normalization="ghost_batch_norm", init="standard", epochs=1, max_train_examples=256,
                     accumulate_ghost_batches=False)
    results = train(config, verbose=0)
    assert results["accumulation_steps"] == 1 and not results["diverged"]
    # The run, its checkpoint and its results record the one model description: TrainConfig's options.
    out = tmp_path / "run"
    expected = config.model_options(get_spec("cifar10", str(CIFAR10_SUBSET)))
    assert TrainConfig.from_dict(json.loads((out / "config.json").read_text())) == config
    checkpoint = json.loads((out / "checkpoints" / "epoch_0001.json").read_text())["architecture"]
    assert checkpoint["model"] == "wrn-10-1" and ModelOptions.from_kwargs(**{
        k: tuple(v) if isinstance(v, list) else v for k, v in checkpoint["options"].items()}) == expected
    assert results["model_options"] == expected.as_dict() and expected.ghost_batch_size == 32
    model = keras.models.load_model(tmp_path / "run" / "model.keras")
    assert int(model.optimizer.iterations) == 256 // 64  # one step per update of 64; accumulating would take 8
    assert json.loads((tmp_path / "run" / "config.json").read_text())["accumulate_ghost_batches"] is False


@pytest.mark.parametrize("normalization, init", [("none", "zeroinit"), ("batch_norm", "standard")])
def test_no_variable_is_created_inside_a_traced_step(tmp_path, normalization, init):
    """The optimizer's slots (momentum, and accumulators: the none run accumulates 2 ghost batches)
    and the metrics' totals exist before fit: made inside the first traced train step, they make
    TensorFlow trace that step a second time."""
    inside = []

    def creator(next_creator, **kwargs):
        if tf.inside_function():
            inside.append(kwargs.get("name"))
        return next_creator(**kwargs)

    config = _config(tmp_path, normalization=normalization, init=init, epochs=1, max_train_examples=128)
    with tf.variable_creator_scope(creator):
        results = train(config, verbose=0)
    assert inside == [] and results["epochs"] == 1 and results["accumulation_steps"] == (2 if init == "zeroinit" else 1)


class _Kill(keras.callbacks.Callback):
    def __init__(self, after_epoch):
        super().__init__()
        self.after_epoch = after_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.after_epoch:
            raise KeyboardInterrupt("simulated kill")


@pytest.mark.slow
def test_killed_run_resumes_and_ends_like_an_uninterrupted_one(tmp_path):
    config = _config(tmp_path, output_dir=str(tmp_path / "killed"), classifier_dropout=0.5)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[_Kill(2)], verbose=0)
    assert not (tmp_path / "killed" / "results.json").exists()
    keras.backend.clear_session()
    resumed = train(config, verbose=0)
    assert resumed["resumed_from_epoch"] == 2 and resumed["epochs"] == 3
    keras.backend.clear_session()
    straight = train(_config(tmp_path, output_dir=str(tmp_path / "straight"), classifier_dropout=0.5), verbose=0)
    for key in ("test_accuracy", "test_loss", "train_loss"):
        assert resumed[key] == pytest.approx(straight[key], rel=1e-6), key


@pytest.mark.slow
def test_divergence_is_reported(tmp_path):
    config = _config(tmp_path, model="wrn-10-1", init="standard", lr=1e4, epochs=2, weight_decay=0.0)
    results = train(config, verbose=0)
    assert results["diverged"] and results["diverged_at"]["epoch"] == 1
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["diverged"] is True and "test_accuracy" not in saved


def test_output_dir_of_another_run_is_refused(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps({**_config(tmp_path).to_dict(), "lr": 0.5}))
    with pytest.raises(ValueError, match="holds a run with lr=0.5"):
        train(_config(tmp_path), verbose=0)


def test_checkpoints_written_with_other_kernels_are_refused(tmp_path):
    """A run resumed with other CPU kernels would not end with the uninterrupted run's numbers."""
    from tfzoo.training.determinism import onednn_enabled
    from tfzoo.training.preparation import check_resumable

    config = _config(tmp_path)
    checkpoints = tmp_path / "run" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (tmp_path / "run" / "config.json").write_text(config.to_json())
    with zipfile.ZipFile(checkpoints / "epoch_0001.keras", "w") as archive:  # intact to checkpoints.latest
        archive.writestr("model.weights.h5", b"weights")
    other = not onednn_enabled()
    state = {"epoch": 1, "history": [], "seed_states": []}
    (checkpoints / "epoch_0001.json").write_text(json.dumps({**state, "onednn": other}))
    with pytest.raises(ValueError, match=rf"\(checkpoint epoch_0001.keras\) was written with .* set "
                                         rf"TF_ENABLE_ONEDNN_OPTS={int(other)} to go on with it"):
        train(config, verbose=0)
    for recorded in ({"onednn": not other}, {}):  # the same kernels, or a checkpoint from before they were recorded
        (checkpoints / "epoch_0001.json").write_text(json.dumps({**state, **recorded}))
        check_resumable(config.output_dir, config)

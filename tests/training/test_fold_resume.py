"""A run begun before the branch multiplier was folded into its convolution resumes in the layout it
began in, exactly (``tfzoo.models.folding``)."""

import keras
import pytest

from tests.training.test_protocol import _Kill, _config
from tfzoo.layers import ScalarMultiplier, ScaledConv2D
from tfzoo.training import TrainConfig, train


def test_a_run_begun_before_the_fold_resumes_as_it_began(tmp_path, monkeypatch, capsys):
    folded = TrainConfig.model_options
    # How such a run was built: each multiplier a ScalarMultiplier layer of its own.
    monkeypatch.setattr(TrainConfig, "model_options", lambda self, spec: folded(self, spec).replace(fold_multiplier=False))
    small = dict(epochs=2, max_train_examples=128)
    config = _config(tmp_path, output_dir=str(tmp_path / "old"), **small)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[_Kill(1)], verbose=0)
    keras.backend.clear_session()
    straight = train(_config(tmp_path, output_dir=str(tmp_path / "straight"), **small), verbose=0)
    monkeypatch.undo()  # today's code: it would build the folded model
    keras.backend.clear_session()
    capsys.readouterr()
    resumed = train(config, verbose=0)
    assert "began with each residual multiplier as a layer of its own; it resumes so" in capsys.readouterr().out
    assert resumed["resumed_from_epoch"] == 1 and resumed["epochs"] == 2
    for key in ("test_accuracy", "test_loss", "train_loss"):
        assert resumed[key] == pytest.approx(straight[key], rel=1e-6), key
    layers = keras.models.load_model(tmp_path / "old" / "model.keras").layers
    assert sum(isinstance(layer, ScalarMultiplier) for layer in layers) == 3
    assert not any(isinstance(layer, ScaledConv2D) for layer in layers)
    keras.backend.clear_session()
    fresh = train(_config(tmp_path, output_dir=str(tmp_path / "new"), **small), verbose=0)  # a new run folds
    layers = keras.models.load_model(tmp_path / "new" / "model.keras").layers
    assert sum(isinstance(layer, ScaledConv2D) for layer in layers) == 3 and not fresh["diverged"]

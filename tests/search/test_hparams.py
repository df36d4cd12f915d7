"""HParams sessions of a search, read back with TensorBoard's own event multiplexer and the
HParams plugin's protos, as ``tensorboard --logdir`` reads them."""

import pytest

from tfzoo.search import TrialResult, TrialSpec
from tfzoo.search.hparams import session_values, write_missing, write_session
from tfzoo.training import TrainConfig

CONFIG = TrainConfig.create(model="wrn-10-1", normalization="none", init="zeroinit", epochs=1)
RESULTS = [
    TrialResult(TrialSpec(64, -3, 0), 0.8125, 0.4375, False, 3.0),
    TrialResult(TrialSpec(64, -2, 1), 0.75, 0.5, False, 3.0),
    TrialResult(TrialSpec(256, 6, 0), None, None, True, 1.0),
]


def _read(logdir):
    """{run: (hparams dict, {metric: value})} through TensorBoard's plugin data."""
    from tensorboard.backend.event_processing import plugin_event_multiplexer
    from tensorboard.plugins.hparams import metadata
    from tensorboard.util import tensor_util

    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    sessions = {}
    for run, tags in multiplexer.PluginRunToTagToContent(metadata.PLUGIN_NAME).items():
        start = metadata.parse_session_start_info_plugin_data(tags[metadata.SESSION_START_INFO_TAG])
        values = {name: value.WhichOneof("kind") and getattr(value, value.WhichOneof("kind"))
                  for name, value in start.hparams.items()}
        scalars = {tag: float(tensor_util.make_ndarray(multiplexer.Tensors(run, tag)[0].tensor_proto))
                   for tag in multiplexer.GetAccumulator(run).Tags()["tensors"] if tag in ("test_accuracy", "train_loss", "diverged")}
        sessions[run.replace("\\", "/").split("/")[-1]] = (values, scalars)
    return sessions


def test_sessions_hold_the_trials_hparams_and_metrics(tmp_path):
    for result in RESULTS:
        write_session(tmp_path, CONFIG, result)
    sessions = _read(tmp_path)
    assert sorted(sessions) == sorted(r.spec.name for r in RESULTS)
    values, scalars = sessions["bs64_lr-3_run0"]
    assert values == {"model": "wrn-10-1", "scheme": "none/zeroinit", "batch_size": 64.0, "learning_rate": 0.125,
                      "lr_exponent": -3.0, "run": 0.0}
    assert scalars == pytest.approx({"test_accuracy": 0.8125, "train_loss": 0.4375, "diverged": 0.0})
    values, scalars = sessions["bs256_lr6_run0"]
    assert values["learning_rate"] == 64.0 and scalars == {"diverged": 1.0}  # no accuracy or loss for a diverged run


def test_rewriting_keeps_one_session_per_trial_and_fills_missing_ones(tmp_path):
    write_session(tmp_path, CONFIG, RESULTS[0])
    write_session(tmp_path, CONFIG, RESULTS[0])
    assert len(list((tmp_path / "hparams" / "bs64_lr-3_run0").iterdir())) == 1
    assert write_missing(tmp_path, CONFIG, RESULTS) == 2
    assert write_missing(tmp_path, CONFIG, RESULTS) == 0
    assert len(_read(tmp_path)) == 3
    assert session_values(CONFIG, RESULTS[1].spec)["scheme"] == "none/zeroinit"

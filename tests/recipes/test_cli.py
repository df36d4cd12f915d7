"""recipes.cli: the exit codes every CLI shares (a bad flag: 2; a search that cannot go on: 1)."""

import keras_tuner
import pytest

from recipes import cli


def test_fail_is_one_error_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.fail("--depth=17: not 6n + 4")
    assert stop.value.code == 2 and capsys.readouterr().err == "error: --depth=17: not 6n + 4\n"


@pytest.mark.parametrize("error", [keras_tuner.errors.FatalError("cannot read the data\nTraceback ..."),
                                   RuntimeError("  trial failed\nmore")])
def test_search_that_cannot_go_on_is_one_error_line_and_exit_1(capsys, error):
    with pytest.raises(SystemExit) as stop:
        with cli.search_errors_are_one_line():
            raise error
    assert stop.value.code == 1
    assert capsys.readouterr().err == f"error: {str(error).strip().splitlines()[0]}\n"


def test_other_errors_are_not_swallowed():
    with pytest.raises(ValueError, match="a bug"):
        with cli.search_errors_are_one_line():
            raise ValueError("a bug")


def test_an_output_dir_of_another_run_is_one_error_line_and_exit_2(tmp_path, capsys):
    import json

    from recipes import train_flags
    from tests.conftest import CIFAR10_SUBSET
    from tfzoo.training import TrainConfig

    config = TrainConfig.create(dataset="cifar10", data_dir=str(CIFAR10_SUBSET), model="wrn-10-1", output_dir=str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({**config.to_dict(), "lr": 0.5}))
    with pytest.raises(SystemExit) as stop:
        train_flags.check_or_exit(config)
    assert stop.value.code == 2
    assert capsys.readouterr().err.startswith(f"error: output_dir {tmp_path} holds a run with lr=0.5, not ")


def test_flip_and_pad_flags_reach_the_configuration():
    from absl import flags

    from recipes import train_flags

    try:
        flags.FLAGS(["cifar_wrn", "--noflip", "--pad=2", "--image_size=64,48"])
        config = train_flags.config_from_flags("wrn-10-1")
        assert (config.flip, config.pad, config.augment().flip) == (False, 2, False)
        assert config.image_size == (64, 48)
        flags.FLAGS.unparse_flags()
        flags.FLAGS(["cifar_wrn"])
        assert (train_flags.config_from_flags("wrn-10-1").flip, train_flags.config_from_flags("wrn-10-1").pad) == (None, 4)
    finally:
        flags.FLAGS.unparse_flags()


def test_noaccumulate_ghost_batches_reaches_the_configuration():
    from absl import flags

    from recipes import train_flags

    try:
        flags.FLAGS(["cifar_wrn", "--normalization=ghost_batch_norm", "--batch_size=128", "--noaccumulate_ghost_batches"])
        config = train_flags.config_from_flags("wrn-10-1")
        assert (config.accumulate_ghost_batches, config.accumulation()) == (False, 1)
        flags.FLAGS.unparse_flags()
        flags.FLAGS(["cifar_wrn", "--normalization=ghost_batch_norm", "--batch_size=128"])
        assert train_flags.config_from_flags("wrn-10-1").accumulation() == 2  # the default: the paper's micro-steps
    finally:
        flags.FLAGS.unparse_flags()


def test_every_run_option_of_the_model_is_a_flag_that_reaches_its_options():
    """The model's flags are defined from ``ModelOptions`` (type, help, TrainConfig's default), and land in
    ``config.options``: one place for a new model option."""
    from absl import flags

    from recipes import train_flags
    from tfzoo.models.options import RUN_FIELDS, ModelOptions, help_text

    assert all(flags.FLAGS[name].help == help_text(name) for name in RUN_FIELDS)
    assert (flags.FLAGS["normalization"].default, flags.FLAGS["init"].default) == ("none", "zeroinit")
    try:
        flags.FLAGS(["cifar_wrn", "--normalization=batch_norm", "--noconv_bias", "--scalar_bias",
                     "--ghost_batch_size=16", "--classifier_dropout=0.25"])
        config = train_flags.config_from_flags("wrn-10-1")
        assert config.options == ModelOptions(normalization="batch_norm", init="zeroinit", conv_bias=False,
                                              scalar_bias=True, ghost_batch_size=16, classifier_dropout=0.25)
    finally:
        flags.FLAGS.unparse_flags()

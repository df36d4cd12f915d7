"""``ModelOptions``, the one object create_model, the training configuration and the pretrained
registry build models from; and the table of normalizations every consumer reads."""

import dataclasses
import json

import numpy as np
import pytest

import tfzoo
from tfzoo.data import get_spec
from tfzoo.models import ModelOptions, NORMALIZATIONS
from tfzoo.models.options import FIELDS
from tfzoo.models.schemes import get_normalization
from tfzoo.training.config import TrainConfig
from tfzoo.training.optimizer import accumulation_steps


def _weights(model):
    return [np.asarray(w) for w in model.get_weights()]


def test_options_object_builds_what_the_keyword_arguments_build():
    kwargs = dict(normalization="none", init="zeroinit", num_classes=7, input_shape=(16, 16, 1))
    a = tfzoo.create_model("wrn-10-1", **kwargs)
    b = tfzoo.create_model("wrn-10-1", options=ModelOptions(**kwargs))
    assert a.count_params() == b.count_params() == 77_226
    assert [layer.name for layer in a.layers] == [layer.name for layer in b.layers]
    assert b.output_shape == (None, 7)
    assert a.get_layer("head_dropout").rate == b.get_layer("head_dropout").rate == 0.6


def test_keyword_arguments_override_the_options_object():
    options = ModelOptions(num_classes=7, input_shape=(16, 16, 3))
    model = tfzoo.create_model("wrn-10-1", options=options, num_classes=3, include_top=False, pooling="avg")
    assert model.output_shape == (None, 64)
    assert options.num_classes == 7  # frozen: the override made a copy
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.num_classes = 3


def test_unknown_option_is_named_with_the_accepted_ones():
    with pytest.raises(ValueError, match=r"Unknown model option 'widht'; accepted: normalization, init, num_classes"):
        tfzoo.create_model("wrn-10-1", widht=2)
    with pytest.raises(ValueError, match="Unknown model option 'colour'"):
        ModelOptions().replace(colour="red")


def test_training_configuration_hands_the_same_object_to_create_model():
    config = TrainConfig.create(dataset="fashion_mnist", model="wrn-10-1", normalization="ghost_batch_norm",
                                init="standard", ghost_batch_size=32, dropout=0.1)
    assert config.options == ModelOptions(normalization="ghost_batch_norm", init="standard", dropout=0.1,
                                          ghost_batch_size=32)
    options = config.model_options(get_spec("fashion_mnist"))
    assert options == ModelOptions(normalization="ghost_batch_norm", init="standard", num_classes=10,
                                   input_shape=(28, 28, 1), dropout=0.1, ghost_batch_size=32)


def test_training_configuration_holds_one_options_object():
    """No model option is a TrainConfig field of its own: one set of defaults, the paper's ZeroInit."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert not fields & set(FIELDS) and "options" in fields
    assert TrainConfig().options == ModelOptions(normalization="none", init="zeroinit")
    assert (TrainConfig().ghost_batch_size, TrainConfig().dropout) == (ModelOptions().ghost_batch_size, 0.0)
    config = TrainConfig.create(init="fixup", lr=0.1).replace(normalization="batch_norm", epochs=3)
    assert (config.normalization, config.init, config.lr, config.epochs) == ("batch_norm", "fixup", 0.1, 3)
    with pytest.raises(ValueError, match=r"Unknown training option 'widht'; accepted: the TrainConfig fields and "
                                         r"the model options normalization, init, dropout"):
        TrainConfig.create(widht=2)
    with pytest.raises(ValueError, match=r"options.num_classes is set by the data set and the training, not the run; "
                                         r"a run chooses only normalization, init, .*Received: num_classes=3"):
        TrainConfig.create(num_classes=3, dataset="fashion_mnist").validate()


def test_a_run_configuration_round_trips_and_old_flat_ones_still_read():
    config = TrainConfig.create(dataset="fashion_mnist", model="wrn-10-1", normalization="ghost_batch_norm",
                                init="standard", ghost_batch_size=32, classifier_dropout=0.3, epochs=2)
    written = json.loads(config.to_json())
    assert written["options"] == {"normalization": "ghost_batch_norm", "init": "standard", "dropout": 0.0,
                                  "classifier_dropout": 0.3, "conv_bias": None, "scalar_multiplier": None,
                                  "scalar_bias": False, "ghost_batch_size": 32}
    assert "normalization" not in written and TrainConfig.from_dict(written) == config
    # A config.json written before the options were nested, with a field since removed: the same run.
    flat = {**{k: v for k, v in written.items() if k != "options"}, **written["options"], "retired_field": 1}
    assert TrainConfig.from_dict(flat) == config
    assert config.to_flat_dict() == {**written["options"], **{k: v for k, v in written.items() if k != "options"}}


def test_pretrained_entry_architecture_is_an_options_object():
    name, options = tfzoo.pretrained.preset_architecture("wrn-16-2-bn-fashion_mnist")  # read from its config.json
    assert name == "wrn-16-2" and isinstance(options, ModelOptions)
    options = options.replace(num_classes=3)
    assert (options.normalization, options.init, options.num_classes, options.input_shape) == (
        "batch_norm", "standard", 3, (28, 28, 1))


def test_normalization_table_drives_the_ghost_batch_split():
    assert tuple(NORMALIZATIONS) == ("batch_norm", "ghost_batch_norm", "none")
    assert [n.statistics for n in NORMALIZATIONS.values()] == ["batch", "ghost", None]
    # Whole-batch BN takes one step per update; ghost BN and no normalization accumulate B / G ghost batches.
    assert [accumulation_steps(128, 32, name) for name in NORMALIZATIONS] == [1, 4, 4]
    with pytest.raises(ValueError, match=r"Unknown normalization 'layer_norm'; accepted: 'batch_norm', 'ghost_batch_norm', 'none'"):
        get_normalization("layer_norm")
    with pytest.raises(ValueError, match="smaller than ghost_batch_size=64"):
        TrainConfig.create(normalization="ghost_batch_norm", init="standard", batch_size=32).accumulation()

"""``ModelOptions``, the one object create_model, the training configuration and the pretrained
registry build models from; and the table of normalizations every consumer reads."""

import dataclasses

import numpy as np
import pytest

import tfzoo
from tfzoo.data import get_spec
from tfzoo.models import ModelOptions, NORMALIZATIONS
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
    config = TrainConfig(dataset="fashion_mnist", model="wrn-10-1", normalization="ghost_batch_norm", init="standard",
                         ghost_batch_size=32, dropout=0.1)
    options = config.model_options(get_spec("fashion_mnist"))
    assert options == ModelOptions(normalization="ghost_batch_norm", init="standard", num_classes=10,
                                   input_shape=(28, 28, 1), dropout=0.1, ghost_batch_size=32)


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
        TrainConfig(normalization="ghost_batch_norm", init="standard", batch_size=32).accumulation()

"""A finished training run -> a preset folder (``tfzoo.save_preset``'s format), and the zoo's archive of one.

    preset_from_run("runs/zoo/bn", "presets/my-bn")          # config.json, model.weights.h5, metadata.json
    tfzoo.create_model(pretrained="presets/my-bn")             # 0..255 pixels in, logits out

A run trains its model on standardized images; its preset takes pixels 0..255, the data set's mean and
standard deviation (the spec the run recorded in results.json) becoming the model's first layer. It is built in
float32 whatever precision the run trained in (mixed precision keeps float32 variables, so the weights are the
trained ones). The card (metadata.json) records the data set, its classes and spec, the run's results on its
evaluation split, epochs and seconds, precision, the flags that trained it, the machine and what it started from.
"""

import json
from pathlib import Path

import keras

from tfzoo.data.catalog import get_spec
from tfzoo.data.specs import DatasetSpec
from tfzoo.models import build_model
from tfzoo.precision import precision_scope
from tfzoo.pretrained.presets import save_preset
from tfzoo.training.config import TrainConfig
from tfzoo.transfer import transfer_weights


class PackError(ValueError):
    """A run folder that cannot be packed; the message is one line."""


def run_architecture(run_dir):
    """(model name, ``ModelOptions`` of the trained model taking 0..255 pixels, dataset spec, config, results) of
    a finished run, from its config.json and results.json."""
    paths = [Path(run_dir) / name for name in ("config.json", "results.json")]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise PackError(f"{run_dir} holds no {' or '.join(missing)}: not a finished run folder written by a recipe")
    try:
        config, results = (json.loads(p.read_text()) for p in paths)
        config = TrainConfig.from_dict(config)
    except (ValueError, TypeError, AttributeError) as error:
        raise PackError(f"{run_dir}: unreadable config.json or results.json ({error})") from None
    recorded = results.get("dataset_spec")
    spec = DatasetSpec.from_dict(recorded) if recorded else get_spec(config.dataset, config.data_dir, config.image_size)
    options = config.model_options(spec).replace(input_normalization=(tuple(spec.mean), tuple(spec.std)))
    return config.model, options, spec, config, results


def run_card(config, results, spec, run_dir):
    """The metadata.json of a run's preset: what the run was and what it measured."""
    flagfile = Path(run_dir) / "flagfile.txt"
    card = {
        "dataset": spec.name, "dataset_spec": spec, "class_names": list(spec.class_names),
        "model": config.model, "normalization": config.normalization, "init": config.init,
        "eval_split": results.get("eval_split", config.eval_split), "epochs": results.get("epochs"),
        "training_seconds": results.get("seconds_training_total"), "precision": results.get("precision"),
        "seed": config.seed, "trained_from": config.init_from, "machine": results.get("machine"),
        "flags": flagfile.read_text().split() if flagfile.is_file() else None,
    }
    for key in ("test_accuracy", "test_loss", "train_loss", "num_train_examples", "num_test_examples"):
        card[key] = results.get(key)
    return card


def preset_from_run(run_dir, directory, *, metadata=None, overwrite=False):
    """Writes the preset of a finished run (config.json, results.json and model.keras in ``run_dir``) to
    ``directory``; ``metadata`` adds to or overrides the card. Returns the folder. Raises ``PackError``."""
    run_dir = Path(run_dir)
    if not (run_dir / "model.keras").is_file():
        raise PackError(f"{run_dir} holds no model.keras: the run has not finished")
    if Path(directory).resolve().is_relative_to(run_dir.resolve()):
        raise PackError(f"output {directory} lies inside the run folder {run_dir}; choose a path outside it")
    name, options, spec, config, results = run_architecture(run_dir)
    trained = keras.saving.load_model(run_dir / "model.keras", compile=False)
    with precision_scope("fp32"):
        model = build_model(name, options=options)
    transfer_weights(trained, model, error=PackError)
    card = {**run_card(config, results, spec, run_dir), **(metadata or {})}
    return save_preset(model, directory, metadata=card, overwrite=overwrite)

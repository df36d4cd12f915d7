"""Presets (``tfzoo.save_preset`` / ``create_model(pretrained=FOLDER)``): keras-hub's three-file layout, identical
predictions after a round trip, fine-tune -> save -> load, and loading that executes nothing it reads."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

import tfzoo
from tests.cli_cases import assert_one_error, run_cases
from tests.conftest import REPO
from tfzoo import pretrained
from tfzoo.data import load_arrays

SMALL = dict(input_shape=(28, 28, 1), input_normalization=((72.94,), (90.021,)))


def _images(n=16):
    return load_arrays("fashion_mnist", "test", max_examples=n)[0]


def _moved(model, seed=0):
    """``model`` with every weight (BN statistics, zero-initialised multipliers) moved off its initial value."""
    rng = np.random.RandomState(seed)
    for w in model.weights:
        w.assign(np.asarray(w) + rng.normal(0, 0.05, size=w.shape).astype("float32"))
    return model


@pytest.mark.parametrize("normalization, init", [("batch_norm", "standard"), ("none", "zeroinit"), ("none", "fixup")])
def test_round_trip_predicts_identically(tmp_path, normalization, init):
    model = _moved(tfzoo.create_model("wrn-10-1", normalization=normalization, init=init, **SMALL))
    folder = tfzoo.save_preset(model, tmp_path / "p", metadata={"dataset": "fashion_mnist", "note": "a test"})
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "metadata.json", "model.weights.h5"]
    config = json.loads((folder / "config.json").read_text())
    assert {k: config[k] for k in ("module", "class_name")} == {"module": "tfzoo", "class_name": "create_model"}
    assert config["config"]["name"] == "wrn-10-1" and config["config"]["options"]["init"] == init
    card = json.loads((folder / "metadata.json").read_text())
    assert card["note"] == "a test" and card["parameter_count"] == model.count_params()
    assert card["keras_version"] == keras.__version__ and card["tfzoo_version"] == tfzoo.__version__
    loaded = tfzoo.create_model(pretrained=str(folder))
    images = _images()
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))
    assert loaded.count_params() == model.count_params()
    # Saved again, the preset is the same bytes (the zoo's archives are reproducible).
    again = tfzoo.save_preset(loaded, tmp_path / "q", metadata={"dataset": "fashion_mnist", "note": "a test"})
    assert pretrained.preset_archive(again) == pretrained.preset_archive(folder)


def test_fine_tune_a_zoo_model_save_it_and_load_it_back(tmp_path, capsys):
    """The user's path: a zoo entry with a new 3-class head, fine-tuned with plain Keras, saved as a preset and
    loaded back by create_model(pretrained=folder) with the same predictions; the preset can be fine-tuned from."""
    images, labels = load_arrays("fashion_mnist", "test", max_examples=64)
    model = tfzoo.create_model(pretrained="wrn-16-2-zeroinit-fashion_mnist", num_classes=3)
    assert "new classifier of 3 classes" in capsys.readouterr().err
    keras.utils.set_random_seed(0)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    losses = model.fit(images, labels % 3, batch_size=16, epochs=2, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    folder = tfzoo.save_preset(model, tmp_path / "mine", metadata={"class_names": ["a", "b", "c"],
                                                                   "trained_from": "wrn-16-2-zeroinit-fashion_mnist"})
    loaded = tfzoo.create_model(pretrained=str(folder))
    assert loaded.output.shape == (None, 3)
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))
    assert pretrained.preset_metadata(str(folder))["class_names"] == ["a", "b", "c"]
    assert pretrained.preset_architecture(str(folder))[1].init == "zeroinit"
    features = tfzoo.create_model(pretrained=str(folder), include_top=False, pooling="avg")
    assert features.output.shape == (None, 128)


def test_a_model_not_built_by_tfzoo_needs_its_architecture(tmp_path):
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(pretrained.PresetError, match="was not built by tfzoo.create_model"):
        tfzoo.save_preset(plain, tmp_path / "p")
    assert not (tmp_path / "p").exists()


def test_an_existing_folder_is_kept_unless_overwrite(tmp_path):
    model = tfzoo.create_model("wrn-10-1", **SMALL)
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "mine.txt").write_text("keep me")
    with pytest.raises(pretrained.PresetError, match="already exists and is not empty"):
        tfzoo.save_preset(model, tmp_path / "p")
    assert [p.name for p in (tmp_path / "p").iterdir()] == ["mine.txt"]
    tfzoo.save_preset(model, tmp_path / "p", overwrite=True)
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["config.json", "metadata.json", "model.weights.h5"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]  # no staging folder left behind


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    model = _moved(tfzoo.create_model("wrn-10-1", normalization="none", init="skipinit", **SMALL))
    return tfzoo.save_preset(model, tmp_path_factory.mktemp("preset") / "p")


def _copy(preset, tmp_path, **replace):
    folder = tmp_path / "copy"
    folder.mkdir()
    for name in ("config.json", "model.weights.h5", "metadata.json"):
        data = replace.get(name, (preset / name).read_bytes())
        if data is not None:
            (folder / name).write_bytes(data.encode() if isinstance(data, str) else data)
    return folder


@pytest.mark.parametrize("module, class_name", [("os", "system"), ("keras.layers", "Dense"), ("tfzoo", "save_preset")])
def test_a_config_naming_anything_else_is_refused_by_name(preset, tmp_path, monkeypatch, module, class_name):
    config = json.loads((preset / "config.json").read_text())
    folder = _copy(preset, tmp_path, **{"config.json": json.dumps({**config, "module": module,
                                                                    "class_name": class_name})})

    def never(*args, **kwargs):
        raise AssertionError("a model was built from a refused config")

    monkeypatch.setattr("tfzoo.pretrained.presets.build_model", never)
    with pytest.raises(pretrained.PresetError) as raised:
        tfzoo.create_model(pretrained=str(folder))
    message = str(raised.value)
    assert str(folder / "config.json") in message and f"{module!r}.{class_name!r}" in message
    assert "refusing it" in message and "\n" not in message


@pytest.mark.parametrize("damage, expected", [
    ({"model.weights.h5": b""}, "model.weights.h5 does not fit"),
    ({"model.weights.h5": "truncated"}, "model.weights.h5 does not fit"),
    ({"model.weights.h5": "other"}, "model.weights.h5 does not fit"),
    ({"config.json": "{not json"}, "config.json is not readable JSON"),
    ({"config.json": None}, "is not a tfzoo preset: it has no config.json"),
    ({"config.json": "options"}, "Unknown model option 'colour'"),
])
def test_damaged_files_are_one_line_errors_naming_the_file(preset, tmp_path, damage, expected):
    weights = (preset / "model.weights.h5").read_bytes()
    if damage.get("model.weights.h5") == "truncated":
        damage = {"model.weights.h5": weights[: len(weights) // 2]}
    elif damage.get("model.weights.h5") == "other":  # a whole file of another architecture
        other = tfzoo.create_model("wrn-16-1", **SMALL)
        other.save_weights(tmp_path / "other.weights.h5")
        damage = {"model.weights.h5": (tmp_path / "other.weights.h5").read_bytes()}
    elif damage.get("config.json") == "options":
        config = json.loads((preset / "config.json").read_text())
        config["config"]["options"]["colour"] = "red"
        damage = {"config.json": json.dumps(config)}
    folder = _copy(preset, tmp_path, **damage)
    with pytest.raises(pretrained.PresetError, match=expected) as raised:
        tfzoo.create_model(pretrained=str(folder))
    assert str(folder) in str(raised.value) and "\n" not in str(raised.value)


def test_metadata_is_optional_on_reading(preset, tmp_path):
    folder = _copy(preset, tmp_path, **{"metadata.json": None})
    images = _images(4)
    np.testing.assert_array_equal(tfzoo.create_model(pretrained=str(folder)).predict(images, verbose=0),
                                  tfzoo.create_model(pretrained=str(preset)).predict(images, verbose=0))
    assert pretrained.preset_metadata(str(folder)) == {}


def test_neither_name_nor_folder_is_one_line(tmp_path):
    with pytest.raises(pretrained.PretrainedError, match=r"is neither a pretrained model \(wrn-16-2-bn-fashion_mnist"):
        tfzoo.create_model(pretrained=str(tmp_path))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A real (tiny) bf16 ZeroInit recipe run."""
    from tests.pretrained_cases import train_tiny_run

    return train_tiny_run(tmp_path_factory.mktemp("run"), "none", "zeroinit")


def test_import_tfzoo_lets_keras_load_a_run(finished_run):
    """Like ``import keras_hub``: importing tfzoo registers every object a run's model.keras names (its optimizer's
    EpochSchedule), so plain keras.models.load_model reads it, in a fresh process."""
    code = ("import sys, keras, tfzoo; m = keras.models.load_model(sys.argv[1]); "
            "print(type(m.optimizer._learning_rate).__name__)")
    child = subprocess.run([sys.executable, "-c", code, str(finished_run / "model.keras")], cwd=REPO,
                           capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.split()[-1] == "EpochSchedule"


def test_tfzoo_preset_cli_turns_a_run_into_a_preset(finished_run, tmp_path):
    good, again, unfinished = run_cases("export.preset", [
        [f"--run={finished_run}", f"--output_dir={tmp_path / 'preset'}"],
        [f"--run={finished_run}", f"--output_dir={tmp_path / 'preset'}"],
        [f"--run={tmp_path}", f"--output_dir={tmp_path / 'none'}"],
    ])
    assert good.returncode == 0, good.stderr[-2000:]
    assert "tfzoo.create_model(pretrained=" in good.stdout
    assert_one_error(again, "already exists and is not empty")
    assert_one_error(unfinished, "holds no model.keras")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preset"]
    card = pretrained.preset_metadata(str(tmp_path / "preset"))
    results = json.loads((finished_run / "results.json").read_text())
    assert card["test_accuracy"] == results["test_accuracy"] and card["precision"] == "bf16"
    assert card["dataset"] == "fashion_mnist" and len(card["class_names"]) == 10 and card["init"] == "zeroinit"
    # The preset takes pixels 0..255 and predicts what the run's model predicts on standardized images.
    from tfzoo.data import get_spec, normalize

    model = tfzoo.create_model(pretrained=str(tmp_path / "preset"))
    assert model.dtype_policy.name == "float32"  # trained in bf16, loaded in float32
    trained = keras.models.load_model(finished_run / "model.keras", compile=False)
    images = _images(32)
    expected = keras.ops.convert_to_numpy(trained(np.asarray(normalize(images, get_spec("fashion_mnist")))))
    ours = model.predict(images, verbose=0)  # float32, where the run computed in bf16: close, not equal
    assert np.abs(ours - expected).max() < 0.5 and np.mean(ours.argmax(-1) == expected.argmax(-1)) >= 0.9
    # and it is a starting point for --init_from, which sets the scheme flags from it
    assert pretrained.preset_architecture(str(tmp_path / "preset"))[0] == "wrn-10-1"

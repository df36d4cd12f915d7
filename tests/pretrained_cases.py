"""A registry entry served from a temporary package folder, holding the preset of a trained tiny model: the
fixtures of tests/test_pretrained.py and tests/test_pretrained_keras.py."""

import dataclasses
import hashlib

import keras
import numpy as np
import pytest

import tfzoo
from tfzoo import pretrained
from tfzoo.data import get_spec

SPEC = get_spec("fashion_mnist")


def trained_source(normalization, init):
    """A tiny model of the entry's architecture whose weights (BN statistics included) are not
    the initial ones: two SGD steps on real Fashion-MNIST images."""
    from tfzoo.data import load_arrays, normalize

    model = tfzoo.create_model("wrn-10-1", normalization=normalization, init=init, input_shape=(28, 28, 1))
    images, labels = load_arrays("fashion_mnist", "train", max_examples=64)
    x = np.asarray(normalize(images, SPEC))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, labels, batch_size=32, epochs=1, verbose=0)
    return model


def preset_archive(source, folder):
    """The zoo's archive of ``source`` (which takes standardized images) as a preset taking 0..255 pixels, as
    ``tfzoo.packing`` makes one of a run."""
    from tfzoo.transfer import transfer_weights

    name, options = source._tfzoo_architecture
    target = tfzoo.create_model(name, options=options.replace(input_normalization=(SPEC.mean, SPEC.std)))
    transfer_weights(source, target)
    return pretrained.preset_archive(tfzoo.save_preset(target, folder, metadata={"dataset": "fashion_mnist"}))


@pytest.fixture(scope="module")
def entry_and_source(tmp_path_factory):
    """A registry entry (served from a temporary package folder) with the weights of a trained model."""
    tmp = tmp_path_factory.mktemp("pretrained")
    source = trained_source("batch_norm", "standard")
    data = preset_archive(source, tmp / "preset")
    (tmp / "test.tar.gz").write_bytes(data)
    entry = dataclasses.replace(
        pretrained.info("wrn-16-2-bn-fashion_mnist"), name="test-wrn-10-1-bn", source="package:test.tar.gz",
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), model="wrn-10-1")
    return entry, source, tmp


@pytest.fixture
def registered(entry_and_source, monkeypatch):
    entry, source, tmp = entry_and_source
    monkeypatch.setitem(pretrained.REGISTRY, entry.name, entry)
    monkeypatch.setattr("tfzoo.pretrained.fetch.package_file", lambda filename: tmp / filename)
    return entry, source


def train_tiny_run(directory, normalization, init):
    """A real (tiny) bf16 recipe run in ``directory/run``, as ``python -m recipes.cifar_wrn`` leaves it."""
    from tfzoo.training import TrainConfig, train

    config = TrainConfig.create(dataset="fashion_mnist", model="wrn-10-1", normalization=normalization, init=init,
                                batch_size=32, epochs=1, max_train_examples=128, lr=0.05, precision="bf16",
                                output_dir=str(directory / "run"))
    train(config, verbose=0)
    return directory / "run"

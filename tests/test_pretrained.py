"""The pretrained registry: hashes are checked before anything is unpacked or loaded, tampered caches
(downloads and SavedModels) are replaced by verified copies, and each shipped preset scores what its card says."""

import dataclasses
import hashlib
import json

import keras
import numpy as np
import pytest

import tfzoo
from tests.conftest import REPO
from tests.pretrained_cases import SPEC, entry_and_source  # noqa: F401  (fixture)
from tfzoo import pretrained
from tfzoo.data import load_arrays, normalize
from tfzoo.export.to_saved_model import SIGNATURES_VERSION


@pytest.fixture
def remote(entry_and_source, monkeypatch):
    """The tiny entry with an https source whose download is served from its archive's bytes."""
    entry, source, tmp = entry_and_source
    entry = dataclasses.replace(entry, name="test-remote", source="https://example.invalid/m.tar.gz")
    monkeypatch.setitem(pretrained.REGISTRY, entry.name, entry)
    downloads = []

    def download(url, timeout=60):
        downloads.append(url)
        return (tmp / "test.tar.gz").read_bytes()

    monkeypatch.setattr("tfzoo.pretrained.fetch.download", download)
    return entry, source, downloads


def _images(n=16):
    return load_arrays("fashion_mnist", "test", max_examples=n)[0]


# What each zoo's entries are: input shape, archive size (weights, not graphs: a WRN-16-2's 0.69 M float32
# parameters are 2.77 MB, its old SavedModel archive 7.7 MB; a WRN-16-4's 2.75 M are 11.0 MB), the test images a
# card's accuracy is re-measured on (None: the data set's own, found where the data set is), and the zoo's bar.
# The CIFAR-10 bar is the floor of what its shared 40-epoch budget reaches on 2 CPU cores (ZeroInit: 88.37 %), not the
# 91 % the zoo aims at: docs/results/cifar10.md says where the entries stand against that target and the paper.
ZOOS = {
    "fashion_mnist": dict(shape=(28, 28, 1), size=(2_000_000, 3_000_000), data_dir=None, bar=0.945),
    "cifar10-jpeg": dict(shape=(32, 32, 3), size=(9_500_000, 11_500_000), bar=0.88,
                         data_dir=REPO / "tests" / "fixtures" / "cifar10_jpeg" / "cifar10-jpeg-test.zip"),
}


def test_names_and_info():
    names = pretrained.names()
    assert names == sorted(names) and {pretrained.info(n).dataset for n in names} <= set(ZOOS)
    assert sum(pretrained.info(n).dataset == "fashion_mnist" for n in names) == 5
    for name in names:
        entry = pretrained.info(name)
        zoo = ZOOS[entry.dataset]
        assert entry.input_shape == zoo["shape"] and entry.num_classes == 10 and len(entry.sha256) == 64
        assert "python -m recipes.cifar_wrn" in entry.command and "python -m export.archive" in entry.command
        low, high = zoo["size"]
        assert low < entry.size < high, entry.size
        assert name.endswith(entry.dataset.replace("-", "_")), name  # the name says the data set
        data = pretrained.fetch_verified(entry)
        assert len(data) == entry.size and hashlib.sha256(data).hexdigest() == entry.sha256
    with pytest.raises(pretrained.PretrainedError, match="unknown pretrained model 'nope'; accepted: "):
        pretrained.info("nope")


def test_only_https_or_package_sources():
    entry = pretrained.info(pretrained.names()[0])
    with pytest.raises(pretrained.PretrainedError, match="Received: 'http://x/m.tar.gz'"):
        pretrained.register(dataclasses.replace(entry, name="insecure", source="http://x/m.tar.gz"))
    with pytest.raises(pretrained.PretrainedError, match="'wrn-16-2-bn-fashion_mnist' is already registered"):
        pretrained.register(pretrained.info("wrn-16-2-bn-fashion_mnist"))


def test_download_is_cached_and_a_tampered_cache_is_replaced(remote, tmp_path, capsys):
    entry, source, downloads = remote
    images = _images()
    expected = source.predict(np.asarray(normalize(images, SPEC)), verbose=0)
    model = tfzoo.create_model(pretrained=entry.name, cache_dir=tmp_path)
    np.testing.assert_allclose(model.predict(images, verbose=0), expected, atol=1e-5)
    cached = tmp_path / f"test-remote-{entry.sha256[:12]}.tar.gz"
    assert len(downloads) == 1 and hashlib.sha256(cached.read_bytes()).hexdigest() == entry.sha256
    assert list(tmp_path.iterdir()) == [cached]  # the preset's files were unpacked elsewhere, and are gone

    assert pretrained.preset_metadata(entry.name, cache_dir=tmp_path)["dataset"] == "fashion_mnist"
    assert len(downloads) == 1  # served from the verified cache
    cached.write_bytes(cached.read_bytes()[: entry.size // 2])  # truncated
    model = tfzoo.create_model(pretrained=entry.name, cache_dir=tmp_path)
    assert "fails its sha256 check; replacing it with a verified download" in capsys.readouterr().err
    assert len(downloads) == 2 and hashlib.sha256(cached.read_bytes()).hexdigest() == entry.sha256
    np.testing.assert_allclose(model.predict(images, verbose=0), expected, atol=1e-5)


def test_tampered_download_is_refused_before_unpacking(remote, monkeypatch, tmp_path):
    entry, _, _ = remote
    data = bytearray(pretrained.fetch_verified(entry, cache_dir=tmp_path / "good"))
    data[len(data) // 2] ^= 0xFF
    monkeypatch.setattr("tfzoo.pretrained.fetch.download", lambda url, timeout=60: bytes(data))

    def never(*args, **kwargs):
        raise AssertionError("unverified bytes were unpacked")

    monkeypatch.setattr("tfzoo.pretrained.presets.unpack_preset", never)
    with pytest.raises(pretrained.PretrainedError, match=f"download {entry.source} for test-remote has sha256 .* "
                                                         f"expected {entry.sha256}.*refusing to load it"):
        tfzoo.create_model(pretrained=entry.name, cache_dir=tmp_path / "bad")
    assert not (tmp_path / "bad").exists()  # nothing cached


def test_tampered_packaged_file_is_refused(monkeypatch, tmp_path):
    entry = pretrained.info(pretrained.names()[0])
    (tmp_path / "bad.tar.gz").write_bytes(pretrained.fetch_verified(entry)[:-10])
    monkeypatch.setattr("tfzoo.pretrained.fetch.package_file", lambda filename: tmp_path / "bad.tar.gz")
    with pytest.raises(pretrained.PretrainedError, match=f"packaged file {entry.source} for {entry.name} has sha256"):
        tfzoo.create_model(pretrained=entry.name)


def test_saved_model_is_built_once_cached_verified_and_rebuilt_when_tampered(remote, monkeypatch, tmp_path, capsys):
    import tensorflow as tf

    from tfzoo.export import cached

    entry, source, _ = remote
    images = _images()
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(
        source.predict(np.asarray(normalize(images, SPEC)), verbose=0)))
    serving = pretrained.load(entry.name, cache_dir=tmp_path)
    served = serving.signatures["serving_default"](images=tf.constant(images))["probabilities"].numpy()
    np.testing.assert_allclose(served, expected, atol=1e-5)
    folder = tmp_path / "saved_model" / f"test-remote-{entry.sha256[:12]}-s{SIGNATURES_VERSION}"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["archive_sha256"] == entry.sha256 and "saved_model/saved_model.pb" in manifest["files"]

    exports = []
    real_export = cached.export
    monkeypatch.setattr(cached, "export", lambda *args: exports.append(args) or real_export(*args))
    pretrained.load(entry.name, cache_dir=tmp_path)
    assert exports == []  # verified and served from the cache
    pb = folder / "saved_model" / "saved_model.pb"
    pb.write_bytes(pb.read_bytes() + b"\0")
    serving = pretrained.load(entry.name, cache_dir=tmp_path)
    assert "fails its sha256 check; exporting it again" in capsys.readouterr().err and len(exports) == 1
    served = serving.signatures["serving_default"](images=tf.constant(images))["probabilities"].numpy()
    np.testing.assert_allclose(served, expected, atol=1e-5)
    assert sorted(p.name for p in (tmp_path / "saved_model").iterdir()) == [folder.name]  # no staging left behind


@pytest.mark.slow
@pytest.mark.parametrize("name", pretrained.names())
def test_shipped_preset_scores_its_card_and_its_metadata_is_the_card(name):
    from tfzoo.data import get_spec

    entry = pretrained.info(name)
    accuracy, examples = pretrained.measure_test_accuracy(name, data_dir=ZOOS[entry.dataset]["data_dir"])
    assert examples == entry.test_examples == 10_000
    assert accuracy == pytest.approx(entry.test_accuracy, abs=1e-9)
    metadata = pretrained.preset_metadata(name)
    card = json.loads(json.dumps(entry.card()))  # tuples as JSON lists
    assert {key: metadata[key] for key in card} == card
    official = get_spec("fashion_mnist" if entry.dataset == "fashion_mnist" else "cifar10").class_names
    assert metadata["dataset_spec"]["class_names"] == list(official) == list(entry.class_names)
    architecture, options = pretrained.preset_architecture(name)
    assert (architecture, options.normalization, options.init) == (entry.model, entry.normalization, entry.init)
    # The archive is about the size of the weights (float32, gzip-compressed).
    assert entry.size < 4 * metadata["parameter_count"] * 1.05


@pytest.mark.slow
def test_shipped_preset_and_its_saved_model_predict_the_same(tmp_path):
    import tensorflow as tf

    name = "wrn-16-2-zeroinit-fashion_mnist"
    images = _images(64)
    ours = keras.ops.convert_to_numpy(keras.ops.softmax(tfzoo.create_model(pretrained=name).predict(images, verbose=0)))
    served = pretrained.load(name, cache_dir=tmp_path).signatures["serving_default"](
        images=tf.constant(images))["probabilities"].numpy()
    np.testing.assert_allclose(ours, served, atol=1e-5)


@pytest.mark.parametrize("name", pretrained.names())
def test_converged_entries_reach_the_zoo_target(name):
    # The zoo's bar (Fashion-MNIST: >= 94.5 % on the official test split; CIFAR-10 as JPEG: >= 88 % on its 10,000 test
    # files at 40 epochs), with the learning rate chosen on a validation split; test_shipped_preset_scores_its_card_and_its_
    # metadata_is_the_card re-measures each figure from the shipped file.
    entry = pretrained.info(name)
    assert entry.test_accuracy >= ZOOS[entry.dataset]["bar"] and entry.test_examples == 10_000
    assert "validation" in entry.lr_selection

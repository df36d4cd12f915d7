"""recipes.prefer_onednn: the CLIs' CPU kernels (oneDNN) unless the user chose, set before TensorFlow starts."""

import os
import sys

import pytest

import recipes


@pytest.mark.parametrize("before, tf_imported, after, returned", [
    (None, False, "1", True),     # a fresh CLI process: oneDNN
    ("0", False, "0", False),     # the user's choice wins
    ("true", False, "true", True),
    (None, True, None, None),     # too late to choose: TensorFlow is running with what it had
])
def test_prefer_onednn(monkeypatch, before, tf_imported, after, returned):
    monkeypatch.delenv(recipes.ONEDNN_ENV, raising=False)
    if before is not None:
        monkeypatch.setenv(recipes.ONEDNN_ENV, before)
    if tf_imported:
        import tensorflow  # noqa: F401
    else:
        monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    assert recipes.prefer_onednn() is returned
    assert os.environ.get(recipes.ONEDNN_ENV) == after

"""oneDNN's CPU kernels for every program unless the user chose, set when the program starts and
before TensorFlow does: ``tfzoo.cli.prefer_onednn``, and the first lines of each ``python -m``
program of recipes/ and bench/ (importing a module sets nothing: tests/test_imports.py)."""

import ast
import os
import sys

import pytest

from tests.conftest import REPO
from tfzoo import cli

GUARD = 'os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")'


@pytest.mark.parametrize("before, tf_imported, after, returned", [
    (None, False, "1", True),     # a fresh CLI process: oneDNN
    ("0", False, "0", False),     # the user's choice wins
    ("true", False, "true", True),
    (None, True, None, None),     # too late to choose: TensorFlow is running with what it had
])
def test_prefer_onednn(monkeypatch, before, tf_imported, after, returned):
    monkeypatch.delenv(cli.ONEDNN_ENV, raising=False)
    if before is not None:
        monkeypatch.setenv(cli.ONEDNN_ENV, before)
    if tf_imported:
        import tensorflow  # noqa: F401
    else:
        monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    assert cli.prefer_onednn() is returned
    assert os.environ.get(cli.ONEDNN_ENV) == after


def _programs():
    for folder in ("recipes", "bench", "tools"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if 'if __name__ == "__main__"' in path.read_text() and path.name != "gpu_figures.py":  # JAX only
                yield path.relative_to(REPO)


@pytest.mark.parametrize("path", list(_programs()), ids=str)
def test_every_program_sets_the_kernels_before_its_first_import(path):
    """The ``if __name__ == "__main__"`` block that sets the variable comes before every import
    (the first one that reaches tfzoo starts TensorFlow)."""
    body = ast.parse((REPO / path).read_text()).body
    first_import = next(i for i, node in enumerate(body) if isinstance(node, (ast.Import, ast.ImportFrom)))
    guards = [i for i, node in enumerate(body[:first_import]) if isinstance(node, ast.If)
              and GUARD in ast.unparse(node).replace("'", '"')
              and ast.unparse(node.test).replace("'", '"') == '__name__ == "__main__"']
    assert guards, f"{path}: no oneDNN preference before its first import"
    assert cli.ONEDNN_ENV == "TF_ENABLE_ONEDNN_OPTS"

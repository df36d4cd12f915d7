"""A clone needs nothing beside it: no file of the project or its tests names a path to a ``shared``
folder (the data the tests read is committed under tests/fixtures or installed by the Makefile)."""

import re

import pytest

from tests.conftest import REPO

FOLDERS = ("tfzoo", "recipes", "export", "bench", "tests", "configs")
# ../shared/..., /shared/..., "shared"/... and  / "shared" (pathlib) as a path component.
SHARED_PATH = re.compile(r"""(\.\./|/|["'])shared(/|["'])|/\s*["']shared["']""")
TEXT = (".py", ".md", ".txt", ".cfg", ".toml", ".json", ".yaml", ".yml", ".flags")


@pytest.fixture(autouse=True)
def _fixed_seed():
    """Overrides the suite's Keras seed and clear_session: these tests read files, and need no Keras."""
    yield


def _project_files():
    this = __file__.removesuffix("c")
    for folder in FOLDERS:
        for path in sorted((REPO / folder).rglob("*")):
            if path.is_file() and path.suffix in TEXT and "__pycache__" not in path.parts and str(path) != this:
                yield path


def test_the_pattern_finds_what_it_is_for():
    for text in ('REPO.parent / "shared" / "data"', "--data_dir=../shared/data/cifar10-subset", "'shared/seeds'"):
        assert SHARED_PATH.search(text), text
    for text in ("a shared filesystem", "shared by the tables", "tests/fixtures/cifar10"):
        assert not SHARED_PATH.search(text), text


def test_no_path_to_shared():
    hits = [f"{path.relative_to(REPO)}:{number}: {line.strip()}"
            for path in _project_files()
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
            if SHARED_PATH.search(line)]
    assert hits == []

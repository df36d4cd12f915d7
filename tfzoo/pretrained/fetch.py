"""Fetching a pretrained archive: from the package or an https URL into the cache, checked by sha256 first.

An entry's source is a file shipped inside the package (``package:NAME.tar.gz``) or an https URL,
downloaded once into the cache (``$TFZOO_CACHE``, else ``~/.cache/tfzoo``). Every fetch reads the
archive's bytes and checks their sha256 before anything else reads them; a cached file that fails
the check is replaced by a verified copy from the source, never used.
"""

import hashlib
import io
import os
import shutil
import sys
import tempfile
import urllib.request
from pathlib import Path

from tfzoo.pretrained.registry import PACKAGE_PREFIX, PretrainedError


def cache_path(path=None):
    """``path``, else ``$TFZOO_CACHE``, else ``~/.cache/tfzoo``."""
    return Path(path or os.environ.get("TFZOO_CACHE") or Path.home() / ".cache" / "tfzoo")


def fetch_verified(entry, cache_dir=None):
    """The archive bytes of ``entry``, checked against its sha256 (from the package or the cache)."""
    if entry.source.startswith(PACKAGE_PREFIX):
        data = package_file(entry.source[len(PACKAGE_PREFIX):]).read_bytes()
        check(entry, data, f"packaged file {entry.source}")
        return data
    cached = cache_path(cache_dir) / f"{entry.name}-{entry.sha256[:12]}.tar.gz"
    if cached.is_file():
        data = cached.read_bytes()
        if sha256(data) == entry.sha256:
            return data
        print(f"tfzoo: cached {cached} fails its sha256 check; replacing it with a verified download",
              file=sys.stderr)
    data = download(entry.source)
    check(entry, data, f"download {entry.source}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=cached.parent, prefix=f".{cached.name}.", delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, cached)
    return data


def check(entry, data, where):
    """Raises ``PretrainedError`` unless ``data`` has the entry's sha256."""
    digest = sha256(data)
    if digest != entry.sha256:
        raise PretrainedError(
            f"{where} for {entry.name} has sha256 {digest} ({len(data)} bytes), expected {entry.sha256} "
            f"({entry.size} bytes); refusing to load it"
        )


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def package_file(filename):
    """The path of a file shipped in ``tfzoo/pretrained_models``."""
    import importlib_resources

    return importlib_resources.files("tfzoo") / "pretrained_models" / filename


def download(url, timeout=60):
    with urllib.request.urlopen(url, timeout=timeout) as response, io.BytesIO() as buffer:
        shutil.copyfileobj(response, buffer)
        return buffer.getvalue()

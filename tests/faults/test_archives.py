"""Crafted tar archives: ``tfzoo.archives.safe_extract`` refuses every member that could leave
its folder or is not a plain file, and turns every tarfile/gzip error into one ``ArchiveError``
line naming the archive and the member, with tarfile's "data" filter and with our own fallback
(forced here by removing ``tarfile.data_filter``, as on Python 3.10.0-3.10.11 and 3.11.0-3.11.3)."""

import io
import random
import re
import stat
import tarfile

import pytest

from tfzoo.archives import ArchiveError, safe_extract


@pytest.fixture(autouse=True)
def _fixed_seed():
    """Overrides the suite-wide Keras seed and ``clear_session``: nothing here touches Keras."""
    yield


@pytest.fixture(params=["data_filter", "own_filter"])
def tar_api(request, monkeypatch):
    """Runs each test twice: with tarfile's extraction filters, and as on a Python without them."""
    if request.param == "own_filter":
        monkeypatch.delattr(tarfile, "data_filter")

        def no_filter_argument(self, member, path="", set_attrs=True, *, numeric_owner=False, **kwargs):
            raise AssertionError("tarfile.extract called on a Python without extraction filters")

        monkeypatch.setattr(tarfile.TarFile, "extract", no_filter_argument)
    elif not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python's tarfile has no extraction filters")
    return request.param


def _archive(*members, mode="w:gz"):
    """Tar bytes of (TarInfo, data or None) pairs."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _info(name, kind=tarfile.REGTYPE, mode=0o644, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname = kind, mode, linkname
    return info


GOOD = _archive(
    (_info("model", tarfile.DIRTYPE, 0o755), None),
    (_info("model/saved_model.pb", mode=0o4777), b"graph"),  # setuid, world-writable: cleaned
    (_info("model/variables/variables.index", mode=0o600), b"index"),
    (_info("./model/run.sh", mode=0o755), b"#!/bin/sh\n"),
)


def test_good_archive_is_extracted_with_sane_modes(tmp_path, tar_api):
    names = safe_extract(GOOD, tmp_path / "out", what="good.tar.gz")
    assert names == ["model", "model/saved_model.pb", "model/variables/variables.index", "./model/run.sh"]
    out = tmp_path / "out" / "model"
    assert (out / "saved_model.pb").read_bytes() == b"graph"
    assert (out / "variables" / "variables.index").read_bytes() == b"index"
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (out / "saved_model.pb", out / "run.sh")}
    assert modes == {"saved_model.pb": 0o755, "run.sh": 0o755}
    assert not modes["saved_model.pb"] & (stat.S_ISUID | stat.S_IWGRP | stat.S_IWOTH)
    assert stat.S_IMODE((out / "variables" / "variables.index").stat().st_mode) == 0o600


BAD_MEMBERS = [
    (_info("../escaped"), b"x", "'../escaped': a '..' component would leave the destination"),
    (_info("model/../../escaped"), b"x", "a '..' component"),
    (_info("/etc/escaped"), b"x", "'/etc/escaped': an absolute path"),
    (_info("link", tarfile.SYMTYPE, linkname="/etc/passwd"), None, "'link': a symbolic link to '/etc/passwd'"),
    (_info("inside", tarfile.SYMTYPE, linkname="model/saved_model.pb"), None, "a symbolic link"),
    (_info("hard", tarfile.LNKTYPE, linkname="model/saved_model.pb"), None, "'hard': a hard link to"),
    (_info("null", tarfile.CHRTYPE), None, "'null': a device"),
    (_info("disk", tarfile.BLKTYPE), None, "a device"),
    (_info("pipe", tarfile.FIFOTYPE), None, "'pipe': a FIFO"),
]


@pytest.mark.parametrize("member, data, message", BAD_MEMBERS, ids=[m[0].name for m in BAD_MEMBERS])
def test_bad_member_is_refused_before_anything_is_written(tmp_path, tar_api, member, data, message):
    crafted = _archive((_info("first.txt"), b"ok"), (member, data))
    with pytest.raises(ArchiveError) as info:
        safe_extract(crafted, tmp_path / "out", what="crafted.tar.gz")
    text = str(info.value)
    assert text.startswith("crafted.tar.gz: refused member ") and message in text and "\n" not in text
    assert not (tmp_path / "out").exists() and not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("cut", [0, 10, 100, 3000, 9000], ids=lambda n: f"first_{n}_bytes")
def test_truncated_gzip_is_one_archive_error(tmp_path, tar_api, cut):
    noise = random.Random(0).randbytes(8192)  # incompressible: the cuts fall inside a.bin, b.bin's header or data
    big = _archive((_info("a.bin"), noise), (_info("b.bin"), noise[::-1]))
    assert len(big) > 16_000
    with pytest.raises(ArchiveError) as info:
        safe_extract(big[:cut], tmp_path / "out", what="cut.tar.gz")
    text = str(info.value)
    assert "\n" not in text
    assert re.match(r"cut.tar.gz: (not a readable tar archive|truncated or corrupt tar archive "
                    r"(in its first member's header|in or after member '[ab].bin')) \((EOFError|ReadError): ", text), text
    assert not (tmp_path / "out").exists()  # every header is read before anything is written


def test_truncated_member_data_names_where_it_stopped(tmp_path, tar_api):
    plain = _archive((_info("a.bin"), b"a" * 100), (_info("b.bin"), b"b" * 5000), mode="w")
    cut = plain[: 512 + 512 + 512 + 1000]  # a.bin's header and data, b.bin's header, part of its data
    with pytest.raises(ArchiveError, match=r"^cut.tar: truncated or corrupt tar archive in or after member 'b.bin' "
                                           r"\(ReadError: unexpected end of data\)$"):
        safe_extract(cut, tmp_path / "out", what="cut.tar")
    assert not (tmp_path / "out").exists()


def test_damaged_header_and_garbage(tmp_path, tar_api):
    plain = bytearray(_archive((_info("a.bin"), b"a" * 100), mode="w"))
    plain[148:156] = b"garbage!"  # the header checksum field
    with pytest.raises(ArchiveError, match=r"^bad.tar: (not a readable|truncated or corrupt) tar archive"):
        safe_extract(bytes(plain), tmp_path / "out", what="bad.tar")
    with pytest.raises(ArchiveError, match=r"^noise: not a readable tar archive"):
        safe_extract(b"\x1f\x8b" + bytes(100), tmp_path / "noise_out", what="noise")

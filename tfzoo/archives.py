"""Unpacking a tar archive without letting its members escape the destination folder.

``tarfile``'s extraction filters (PEP 706, ``extractall(filter="data")``) exist in Python 3.12 and
in the 3.10.12 and 3.11.4 patch releases on; older patch releases of the Pythons tfzoo declares
(``python_requires >= 3.10``; Debian 12 ships 3.11.2) raise TypeError on ``filter=``.
``safe_extract`` gives one behaviour on all of them: every member is checked by the rules
below before anything is written, then extracted with tarfile's ``"data"`` filter where it
exists, or written out member by member here where it does not.

The rules: regular files and directories only (no symlinks or hard links, which is stricter
than the ``"data"`` filter, and no devices or FIFOs); no absolute names, no ``..`` component;
file modes without setuid/setgid/sticky bits or group/other write bits (as the ``"data"``
filter sets them). Any bad member, and any tarfile, gzip or I/O error (a truncated download,
a damaged header), is an ``ArchiveError`` of one line naming the archive and the member.
"""

import gzip
import io
import os
import posixpath
import shutil
import tarfile
import zlib
from pathlib import Path

_READ_ERRORS = (tarfile.TarError, OSError, EOFError, zlib.error, gzip.BadGzipFile, ValueError)


class ArchiveError(ValueError):
    """An archive that cannot be unpacked safely; the message names the archive and the member."""


def safe_extract(tar_bytes: bytes, dest, *, what: str):
    """Unpacks the tar archive ``tar_bytes`` (plain, gzip, bz2 or xz) into the folder ``dest``.

    ``what`` names the archive in errors (a file name or a registry entry). Every member is
    checked before the first is written; a member whose data turns out truncated stops the
    extraction with ``dest`` holding the members before it, so extract into a fresh folder and
    discard it on error. Returns the member names, in archive order.
    """
    dest = Path(dest)
    try:
        archive = tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:*")
    except _READ_ERRORS as error:
        raise ArchiveError(f"{what}: not a readable tar archive ({_one_line(error)})") from None
    with archive:
        try:
            members = archive.getmembers()  # reads every header: a truncated archive fails here
        except _READ_ERRORS as error:
            read = archive.members  # the headers read before the error
            where = f"in or after member {read[-1].name!r}" if read else "in its first member's header"
            raise ArchiveError(f"{what}: truncated or corrupt tar archive {where} ({_one_line(error)})") from None
        names = [_checked_name(member, what) for member in members]
        dest.mkdir(parents=True, exist_ok=True)
        for member, name in zip(members, names):
            try:
                if hasattr(tarfile, "data_filter"):
                    archive.extract(member, dest, filter="data")
                else:
                    _extract_member(archive, member, dest / name)
            except _READ_ERRORS as error:
                raise ArchiveError(f"{what}: member {member.name!r} cannot be extracted ({_one_line(error)})") from None
    return [member.name for member in members]


def _checked_name(member, what):
    """The member's normalized relative name; ArchiveError if a rule above refuses it."""
    name = member.name

    def refuse(reason):
        return ArchiveError(f"{what}: refused member {name!r}: {reason}")

    if not (member.isreg() or member.isdir()):
        kind = ("a symbolic link to " + repr(member.linkname) if member.issym()
                else "a hard link to " + repr(member.linkname) if member.islnk()
                else "a FIFO" if member.isfifo() else "a device" if member.isdev() else "not a regular file")
        raise refuse(f"{kind} (only regular files and directories are extracted)")
    if not name or "\x00" in name:
        raise refuse("an empty name or one holding a NUL byte")
    if name.startswith("/"):
        raise refuse("an absolute path")
    if ".." in name.split("/"):
        raise refuse("a '..' component would leave the destination")
    return posixpath.normpath(name)


def _extract_member(archive, member, target):
    """Writes one checked member, for a tarfile without extraction filters (mode as the "data" filter sets it)."""
    if member.isdir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.is_dir():
        raise OSError(f"{target} already exists and is not a regular file")
    source = archive.extractfile(member)
    with open(target, "wb") as f:
        shutil.copyfileobj(source, f)
    mode = (member.mode | 0o600) & 0o755  # owner may read and write; no setuid/setgid/sticky, no group/other write
    if not mode & 0o100:
        mode &= ~0o111  # executable by others only if by its owner
    os.chmod(target, mode)


def _one_line(error):
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__

"""Where a user's image files lie: a folder, or a ``.zip`` or uncompressed ``.tar`` archive read in place.

Every store lists the same thing, the image files of ``<split>/<class>/`` (``IMAGE_SUFFIXES``), and opens
each one as a seekable binary file, so the reader (``folder.py``) and the cheap check (``image_check.py``)
see no difference between ``DIR/``, ``DIR.zip`` and ``DIR.tar``: the same files give the same images in
the same order. An archive whose root holds a single folder with that layout (``photos/train/<class>/``,
as downloads usually are) counts too. A compressed tar (``.tar.gz``, ``.tgz``, ...) is refused by name:
reading one member means decompressing everything before it, so unpack it or make a ``.zip``.
"""

import io
import os
import tarfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from tfzoo.data.specs import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")
ARCHIVE_SUFFIXES = (".zip", ".tar")
_COMPRESSED_TAR = (".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
LAYOUT = ("DIR/train/<class>/*.png|jpg and DIR/test/<class>/* (and optionally DIR/val/<class>/*), DIR a folder, "
          "a .zip or an uncompressed .tar")
_SPLIT_FOLDERS = ("train", "test", "val", "validation")


class ImageFile(NamedTuple):
    """One image file of a store: its split and class folder, the name errors show, its size in bytes and
    the store's key to open it (a path, or an archive member)."""

    split: str
    label: str
    name: str
    size: int
    key: object


class DirectoryStore:
    """The image files under a folder."""

    def __init__(self, root):
        self.root = root

    def files(self, split):
        folder = self.root / split
        if not folder.is_dir():
            return None
        found = []
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            for path in sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
                found.append(ImageFile(split, sub.name, str(path), path.stat().st_size, path))
        return found

    def fingerprint(self, files):
        """What changes when any file does: each one's path, size and modification time."""
        return tuple((f.name, f.size, f.key.stat().st_mtime_ns) for f in files)

    def open(self, image_file):
        return open(image_file.key, "rb")


class _ArchiveStore:
    """What the zip and tar stores share: members listed once, ``<top>/`` stripped when the layout lies in the
    archive's single top folder."""

    def __init__(self, path, names_and_sizes):
        self.root = path
        paths = {PurePosixPath(name): (name, size) for name, size in names_and_sizes}
        tops = {p.parts[0] for p in paths if p.parts}
        prefix = len(tops) == 1 and not any(p.parts[0] in _SPLIT_FOLDERS for p in paths if len(p.parts) > 1)
        self._members = {}
        for path_in, (name, size) in sorted(paths.items()):
            parts = path_in.parts[1:] if prefix else path_in.parts
            if len(parts) == 3 and PurePosixPath(parts[2]).suffix.lower() in IMAGE_SUFFIXES:
                self._members.setdefault(parts[0], []).append(
                    ImageFile(parts[0], parts[1], f"{path}:{name}", size, name))
        self._stat = os.stat(path)

    def files(self, split):
        return self._members.get(split)

    def fingerprint(self, files):
        """The archive's size and modification time, and its members' names and sizes."""
        return ((str(self.root), self._stat.st_size, self._stat.st_mtime_ns),
                *((f.name, f.size) for f in files))


class ZipStore(_ArchiveStore):
    """The image files of a ``.zip`` (stored or deflated members); ``zipfile`` reads members from several threads
    at once under its own lock."""

    def __init__(self, path):
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise DataError(f"data_dir={path} is not a readable zip archive ({error})") from None
        super().__init__(path, [(i.filename, i.file_size) for i in self._zip.infolist() if not i.is_dir()])

    def open(self, image_file):
        return io.BytesIO(self._zip.read(image_file.key))


class TarStore(_ArchiveStore):
    """The image files of an uncompressed ``.tar``, each read with one ``os.pread`` at its offset: safe from the
    several threads of a streamed pipeline at once, which a shared file position would not be."""

    def __init__(self, path):
        try:
            with tarfile.open(path, "r:") as tar:
                members = [m for m in tar.getmembers() if m.isfile()]
        except (tarfile.TarError, OSError) as error:
            raise DataError(f"data_dir={path} is not a readable uncompressed tar archive ({error})") from None
        self._where = {m.name: (m.offset_data, m.size) for m in members}
        self._fd = os.open(path, os.O_RDONLY)
        super().__init__(path, [(m.name, m.size) for m in members])

    def open(self, image_file):
        offset, size = self._where[image_file.key]
        return io.BytesIO(os.pread(self._fd, size, offset))

    def __del__(self):
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)


def open_store(data_dir):
    """The store of ``data_dir``: a folder, a .zip or an uncompressed .tar; DataError for anything else."""
    if not data_dir:
        raise DataError(f"dataset 'folder' needs --data_dir holding {LAYOUT}")
    path = Path(data_dir).expanduser().resolve()
    name = path.name.lower()
    if name.endswith(_COMPRESSED_TAR):
        raise DataError(f"data_dir={data_dir} is a compressed tar, which cannot be read in place; accepted: a folder, "
                        "a .zip or an uncompressed .tar (unpack it, or repack it with `tar cf` or `zip -0`)")
    if path.is_dir():
        return DirectoryStore(path)
    if path.is_file() and name.endswith(".zip"):
        return ZipStore(path)
    if path.is_file() and name.endswith(".tar"):
        return TarStore(path)
    what = "does not exist" if not path.exists() else "is neither a folder nor a .zip or .tar archive"
    raise DataError(f"data_dir={data_dir} {what}; dataset 'folder' reads {LAYOUT}")

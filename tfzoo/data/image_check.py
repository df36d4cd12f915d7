"""The cheap check of a user's image files before a run reads them: header and size, nothing decoded.

Every file is opened with Pillow, which reads its header only, and its end is read for the format's
trailer (JPEG's end-of-image marker, PNG's IEND chunk, GIF's trailer byte, BMP's declared file size),
so an empty file, a file that is not an image, a file cut short and an image above the pixel limit are
found before training starts, all of them in one ``DataError``. The pixel limit is the one at which
Pillow refuses an image as a decompression bomb, twice ``Image.MAX_IMAGE_PIXELS`` (178,956,970 pixels
by default; raise ``MAX_IMAGE_PIXELS`` to admit larger images): an image above it is named and never
decoded.
"""

import re
import struct
import warnings
from pathlib import Path
from typing import NamedTuple

from tfzoo.data.specs import DataError

MAX_NAMED = 10  # broken files named in the error; the rest counted
_TAIL = 64  # bytes read from the end of each file
_IN_MEMORY = re.compile(r" <_io\.BytesIO object at 0x[0-9a-f]+>")  # Pillow's name of an archive member
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


class ImageHeader(NamedTuple):
    """What a file's header says: Pillow's format and mode, and (width, height)."""

    path: Path
    format: str
    mode: str
    size: tuple


def check_image_files(paths, where):
    """[ImageHeader] of the files ``paths`` (in order), or one ``DataError`` naming every broken file (``MAX_NAMED``
    of them, and how many more) under ``where``: empty, not an image, truncated, or above the pixel limit."""
    return check_members([(str(path), None, lambda path=path: open(path, "rb")) for path in paths], where)


def check_members(members, where):
    """``check_image_files`` for files of any store (``image_files``): ``members`` are (name, size in bytes or
    None to take the file's own, a function opening the file as a seekable binary file)."""
    headers, broken = [], []
    for name, size, opener in members:
        header, problem = _check(name, size, opener)
        if problem:
            broken.append(f"{name} ({problem})")
        else:
            headers.append(header)
    if broken:
        more = f", and {len(broken) - MAX_NAMED} more" if len(broken) > MAX_NAMED else ""
        files = "file" if len(broken) == 1 else "files"
        raise DataError(f"{len(broken)} broken image {files} in {where}: {'; '.join(broken[:MAX_NAMED])}{more}. "
                        "Remove or replace them and run the same command again")
    return headers


def pixel_limit():
    """Pillow's decompression-bomb limit, ``2 * Image.MAX_IMAGE_PIXELS`` (None: no limit)."""
    from PIL import Image

    return None if Image.MAX_IMAGE_PIXELS is None else 2 * Image.MAX_IMAGE_PIXELS


def _check(name, size, opener):
    """(ImageHeader, None) of a good file, or (None, the problem in a few words)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with opener() as f:
            if size is None:
                size = f.seek(0, 2)
                f.seek(0)
            if size == 0:
                return None, "empty"
            limit, saved = pixel_limit(), Image.MAX_IMAGE_PIXELS
            try:
                Image.MAX_IMAGE_PIXELS = None  # the header alone is read; the limit is checked below, naming the size
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                    image = Image.open(f)
                    header = ImageHeader(Path(name), image.format or "", image.mode, image.size)
            except (UnidentifiedImageError, OSError, ValueError, SyntaxError, struct.error) as error:
                reason = " ".join(_IN_MEMORY.sub("", str(error)).split())[:120]
                return None, f"truncated: {reason}" if "truncated" in reason.lower() else f"not an image: {reason}"
            finally:
                Image.MAX_IMAGE_PIXELS = saved
            width, height = header.size
            if limit is not None and width * height > limit:
                return None, f"{width} x {height} = {width * height:,} pixels, above the pixel limit of {limit:,}"
            if width < 1 or height < 1:
                return None, f"{width} x {height} pixels"
            problem = _truncated(f, header.format, size)
    except OSError as error:
        return None, f"unreadable: {error.strerror or error}"
    return (None, problem) if problem else (header, None)


def _truncated(f, image_format, size):
    """Why the file ``f`` (open, seekable) is cut short, from its last bytes, or None."""
    f.seek(0)
    start = f.read(32)
    f.seek(max(0, size - _TAIL))
    tail = f.read()
    if image_format == "JPEG" and b"\xff\xd9" not in tail.rstrip(b"\x00"):
        return "truncated: no JPEG end-of-image marker"
    if image_format == "PNG" and _PNG_IEND not in tail:
        return "truncated: no PNG IEND chunk"
    if image_format == "GIF" and not tail.rstrip(b"\x00").endswith(b";"):
        return "truncated: no GIF trailer"
    if image_format == "BMP" and len(start) >= 6:
        declared = struct.unpack("<I", start[2:6])[0]
        if declared > size:
            return f"truncated: {size:,} of its {declared:,} bytes"
    return None

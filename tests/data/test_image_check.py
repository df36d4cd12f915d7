"""Broken and odd image files in a user's folder: every broken file (empty, not an image, truncated,
above the pixel limit) named in one error before anything is decoded; odd but valid ones (CMYK,
16-bit, RGBA, palette, grayscale among colour) converted and read."""

import io
import re
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from tfzoo.data import DataError, get_spec, load_arrays
from tfzoo.data.image_check import check_image_files, pixel_limit

RNG = np.random.RandomState(0)
RGB = RNG.randint(0, 256, size=(12, 10, 3), dtype=np.uint8)


def _encoded(image, fmt, **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _png_header_only(width, height):
    """A PNG that declares ``width x height`` pixels in its header and holds one row: Pillow reads the
    size without decoding it."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1)))
            + chunk(b"IEND", b""))


def _folder(root, files):
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


GOOD = {
    "train/a/rgb.png": _encoded(Image.fromarray(RGB), "PNG"),
    "train/b/rgb.jpg": _encoded(Image.fromarray(RGB), "JPEG", quality=95),
    "test/a/rgb.png": _encoded(Image.fromarray(RGB), "PNG"),
}


def test_every_broken_file_is_named_in_one_error_before_any_is_decoded(tmp_path):
    jpeg, png = GOOD["train/b/rgb.jpg"], GOOD["train/a/rgb.png"]
    broken = {
        "train/a/empty.png": b"",
        "train/a/text.jpg": b"just some text, not an image",
        "train/b/cut.jpg": jpeg[:-10],  # the header whole, the end-of-image marker gone
        "train/b/half.jpg": jpeg[: len(jpeg) // 2],  # cut inside the header
        "train/b/cut.png": png[:-20],
        "test/a/huge.png": _png_header_only(20_000, 10_000),  # 200 M pixels: never decoded
    }
    root = _folder(tmp_path, {**GOOD, **broken})
    with pytest.raises(DataError) as raised:
        get_spec("folder", root)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"6 broken image files in {root}: ")
    for relative, problem in [("train/a/empty.png", "empty"), ("train/a/text.jpg", "not an image"),
                              ("train/b/cut.jpg", "truncated: no JPEG end-of-image marker"),
                              ("train/b/half.jpg", "truncated"),
                              ("train/b/cut.png", "truncated: no PNG IEND chunk"),
                              ("test/a/huge.png", "above the pixel limit of 178,956,970")]:
        assert re.search(re.escape(f"{root / relative} (") + r"[^)]*" + re.escape(problem), message), relative
    for good in GOOD:
        assert str(root / good) not in message


def test_the_error_names_ten_files_and_counts_the_rest(tmp_path):
    paths = []
    for i in range(13):
        paths.append(tmp_path / f"{i:02d}.png")
        paths[-1].write_bytes(b"")
    with pytest.raises(DataError, match=r"^13 broken image files in here: .*, and 3 more\. Remove") as raised:
        check_image_files(paths, "here")
    assert str(raised.value).count("(empty)") == 10


def test_the_pixel_limit_is_pillows_and_a_good_file_reports_its_header(tmp_path, monkeypatch):
    assert pixel_limit() == 2 * Image.MAX_IMAGE_PIXELS == 178_956_970
    path = tmp_path / "wide.png"
    path.write_bytes(_png_header_only(3000, 2))
    header, = check_image_files([path], tmp_path)
    assert (header.format, header.mode, header.size) == ("PNG", "L", (3000, 2))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)  # 6,000 pixels > 4,000: refused by name
    with pytest.raises(DataError, match=r"wide\.png \(3000 x 2 = 6,000 pixels, above the pixel limit of 4,000\)"):
        check_image_files([path], tmp_path)


def test_odd_but_valid_images_are_converted_and_read(tmp_path):
    gray16 = (np.arange(12 * 10).reshape(12, 10) * 500).astype(np.uint16)  # 0 .. 59,500
    palette = Image.fromarray(RGB).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    rgba = np.dstack([RGB, np.full((12, 10), 128, np.uint8)])
    files = {
        "train/a/cmyk.jpg": _encoded(Image.fromarray(RGB).convert("CMYK"), "JPEG", quality=95),
        "train/a/gray16.png": _encoded(Image.fromarray(gray16), "PNG"),
        "train/b/rgba.png": _encoded(Image.fromarray(rgba, "RGBA"), "PNG"),
        "train/b/palette.png": _encoded(palette, "PNG"),
        "train/b/gray.png": _encoded(Image.fromarray(RGB[..., 0]), "PNG"),
        "test/a/rgb.png": GOOD["test/a/rgb.png"],
    }
    root = _folder(tmp_path, files)
    spec = get_spec("folder", root)
    assert spec.image_shape == (12, 10, 3) and spec.class_names == ("a", "b")
    images, labels = load_arrays("folder", "train", root)
    assert images.shape == (5, 12, 10, 3) and images.dtype == np.uint8
    by_name = dict(zip(["cmyk", "gray", "gray16", "palette", "rgba"], images))  # sorted, classes interleaved
    np.testing.assert_array_equal(by_name["rgba"], RGB)  # alpha dropped
    expected16 = np.round(gray16 * (255 / 65535)).astype(np.uint8)
    np.testing.assert_array_equal(by_name["gray16"][..., 0], expected16)  # scaled, not clipped at 255
    assert all(np.array_equal(by_name["gray16"][..., 0], by_name["gray16"][..., c]) for c in (1, 2))
    np.testing.assert_array_equal(by_name["palette"], np.asarray(palette.convert("RGB")))
    np.testing.assert_array_equal(by_name["gray"][..., 2], RGB[..., 0])  # grayscale among colour: repeated
    assert np.abs(by_name["cmyk"].astype(int) - RGB).mean() < 12  # JPEG's loss, not a wrong conversion

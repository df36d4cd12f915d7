"""Pack an exported SavedModel into a reproducible .tar.gz for the pretrained registry.

    python -m export.archive exported/NAME tfzoo/pretrained_models/NAME.tar.gz

Entries are sorted, owned by 0:0 with mtime 0 and normalised modes, and the gzip header has
no timestamp, so packing the same folder twice gives the same bytes and the same sha256.
Prints the sha256 and size that go into ``tfzoo/pretrained.py``.
"""

import gzip
import hashlib
import io
import os
import sys
import tarfile
from pathlib import Path


def pack(saved_model_dir, output):
    """Writes ``saved_model_dir`` as ``saved_model/...`` into the tar.gz ``output``; returns (sha256, size)."""
    root = Path(saved_model_dir)
    if not (root / "saved_model.pb").is_file():
        raise FileNotFoundError(f"{root} is not a SavedModel folder (no saved_model.pb)")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path in [root, *sorted(root.rglob("*"))]:
                info = tar.gettarinfo(str(path), arcname=str(Path("saved_model") / path.relative_to(root)))
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = 0
                info.mode = 0o755 if path.is_dir() else 0o644
                if path.is_file():
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    data = buffer.getvalue()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, output)
    return hashlib.sha256(data).hexdigest(), len(data)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("error: usage: python -m export.archive SAVED_MODEL_DIR OUTPUT.tar.gz", file=sys.stderr)
        sys.exit(2)
    try:
        digest, size = pack(sys.argv[1], sys.argv[2])
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    print(f"{sys.argv[2]}: sha256 {digest}, {size} bytes")

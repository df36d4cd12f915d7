"""A user's image folder (``--dataset=folder``): how fast its files are checked, and what reading it costs.

    python -m bench.image_folder --data_dir=DIR            # DIR/train/<class>/*, DIR/test/<class>/*
    python -m bench.image_folder --data_dir=DIR --image_size=64 --read=false

``check``: files per second of the cheap check every run makes before it decodes anything
(``tfzoo.data.image_check``: header and last bytes of each file), in this process, on one core.
``read``: the seconds and the peak resident memory of reading the folder as a run does (every image
decoded into memory, ``tfzoo.data.load_arrays`` of both splits), measured in a child process of its
own so that its peak is the read's alone. The file system's cache is whatever earlier reads left:
run it twice to see the warm figure. The CPU model and its relevant flags are part of the output;
the last line is JSON.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench import common
from bench.cli import FlagParser

_READ = """
import json, resource, sys, time
from tfzoo.data import load_arrays
data_dir, size = sys.argv[1], json.loads(sys.argv[2])
start = time.perf_counter()
counts = [len(load_arrays("folder", split, data_dir, image_size=size)[1]) for split in ("train", "test")]
seconds = time.perf_counter() - start
print("READ " + json.dumps({"seconds": round(seconds, 2), "images": sum(counts),
                           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def measure_check(data_dir):
    """Files, seconds and files per second of ``check_image_files`` over every image file of the folder."""
    from tfzoo.data.folder import IMAGE_SUFFIXES, SPLITS
    from tfzoo.data.image_check import check_image_files

    root = Path(data_dir)
    files = sorted(p for split in SPLITS for p in (root / split).rglob("*")
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    start = time.perf_counter()
    check_image_files(files, root)
    seconds = time.perf_counter() - start
    return {"files": len(files), "seconds": round(seconds, 3), "files_per_second": round(len(files) / seconds, 1)}


def measure_read(data_dir, image_size=None):
    """Seconds, images and peak RSS (MB) of reading both splits into memory, in a child process."""
    child = subprocess.run([sys.executable, "-c", _READ, str(data_dir), json.dumps(image_size)],
                           capture_output=True, text=True, env=common.child_env())
    lines = [line for line in child.stdout.splitlines() if line.startswith("READ ")]
    if child.returncode != 0 or not lines:
        last = (child.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"reading {data_dir} failed: {last}")
    return json.loads(lines[-1][len("READ "):])


def main(argv=None):
    parser = FlagParser("python -m bench.image_folder", __doc__.split("\n")[0])
    parser.add_argument("--data_dir", required=True, help="the image folder: DIR/train/<class>/*, DIR/test/<class>/*")
    parser.add_argument("--image_size", default=None, help="H or H,W, as --image_size of the recipes")
    parser.add_argument("--read", default=True, boolean=True, help="also time the read into memory (child process)")
    args = parser.parse_args(argv)
    from tfzoo.data import DataError
    from tfzoo.data.specs import as_image_size, check_image_size

    size = None
    if args.image_size:
        try:
            size = check_image_size(as_image_size(args.image_size))
        except DataError:
            parser.error(f"--image_size must be H or H,W, positive integers. Received: --image_size={args.image_size}")
    if not (Path(args.data_dir) / "train").is_dir():
        parser.error(f"--data_dir={args.data_dir} holds no train/ folder")
    try:
        result = {"data_dir": args.data_dir, "check": measure_check(args.data_dir)}
    except DataError as error:
        parser.error(str(error))
    print(f"check: {result['check']['files']} files in {result['check']['seconds']:.2f} s, "
          f"{result['check']['files_per_second']:.0f} files/s")
    if args.read:
        try:
            result["read"] = measure_read(args.data_dir, size)
        except RuntimeError as error:
            parser.error(str(error))
        print(f"read: {result['read']['images']} images in {result['read']['seconds']:.1f} s, "
              f"peak RSS {result['read']['peak_rss_mb']:.0f} MB")
    result["image_size"] = list(size) if size else None
    result["this_process_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return common.print_result({**result, **common.environment()})


if __name__ == "__main__":
    main()

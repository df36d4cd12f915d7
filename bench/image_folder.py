"""A user's image folder (``--dataset=folder``): the check, the read into memory, the stream, and the model beside it.

    python -m bench.image_folder --data_dir=DIR            # DIR/train/<class>/*, DIR/test/<class>/*; or DIR.zip
    python -m bench.image_folder --data_dir=DIR --image_size=64 --model=wrn-16-4 --batch_size=32 --model_steps=3

``check``: files per second of the cheap check every run makes before it decodes anything
(``tfzoo.data.image_check``: header and last bytes of each file), in this process, on one core.
``read``: the seconds and the peak resident memory of reading both splits decoded into memory (what a run
does with a folder that fits ``tfzoo.data.folder.CACHE_BYTES``). ``stream``: the same folder streamed
(``TFZOO_FOLDER_CACHE_MB=0``): the seconds to set it up (the listing, the check and the normalization's pass
over at most 50,000 training images), then ``--stream_batches`` augmented training batches of ``--batch_size``
from the run's tf.data stream (``--crop`` as a run's), with op determinism and one inter-op thread as a run has them: images per second,
the cores busy (CPU seconds over wall seconds) and the peak resident memory. ``model``: the training throughput
of ``--model`` at the folder's image size (``bench.train_throughput``, synthetic batches of ``--batch_size``),
so that ``stream_over_model`` says whether input or model bounds a run (above 1: the model). Each of read,
stream and model runs in a child process of its own, so each peak is its own. The file system's cache is
whatever earlier reads left. The CPU model and its flags are part of the output; the last line is JSON.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

import json
import resource
import subprocess
import sys
import time

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

_STREAM = """
import json, resource, sys, time
from tfzoo.training import make_deterministic
make_deterministic()  # as a run: op determinism, one inter-op thread, before TensorFlow starts
from tfzoo.data import AugmentConfig, training_datasets
data_dir, size, batch_size, batches = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
crop = sys.argv[5]

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

start = time.perf_counter()
data = training_datasets("folder", data_dir, batch_size=batch_size, eval_batch_size=batch_size, seed=0,
                         augment=AugmentConfig(crop=crop), image_size=size)
iterator = iter(data.train)
next(iterator)  # the first batch: tf.data's threads started, its buffers filled
setup = time.perf_counter() - start
wall, busy = time.perf_counter(), cpu()
for _ in range(batches):
    next(iterator)
wall, busy = time.perf_counter() - wall, cpu() - busy
print("STREAM " + json.dumps({
    "setup_seconds": round(setup, 2), "batches": batches, "batch_size": batch_size, "seconds": round(wall, 3),
    "images_per_second": round(batches * batch_size / wall, 1), "busy_cores": round(busy / wall, 2),
    "num_train": data.num_train, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def measure_check(data_dir):
    """Files, seconds and files per second of the cheap check over every image file of the folder or archive."""
    from tfzoo.data.folder import SPLITS, check_files
    from tfzoo.data.image_files import open_store

    store = open_store(data_dir)
    files = {split: store.files(split) or [] for split in SPLITS}
    start = time.perf_counter()
    check_files(store, files)
    seconds = time.perf_counter() - start
    count = sum(map(len, files.values()))
    return {"files": count, "seconds": round(seconds, 3), "files_per_second": round(count / seconds, 1)}


def _child(code, tag, args, env, what):
    child = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env)
    lines = [line for line in child.stdout.splitlines() if line.startswith(tag + " ")]
    if child.returncode != 0 or not lines:
        last = (child.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{what} failed: {last}")
    return json.loads(lines[-1][len(tag) + 1:])


def measure_read(data_dir, image_size=None):
    """Seconds, images and peak RSS (MB) of reading both splits into memory, in a child process."""
    from tfzoo.data.folder import CACHE_ENV

    env = common.child_env(**{CACHE_ENV: str(2 ** 40)})  # held in memory, however large
    return _child(_READ, "READ", [data_dir, json.dumps(image_size)], env, f"reading {data_dir}")


def measure_stream(data_dir, image_size=None, *, batch_size=128, batches=20, crop="auto"):
    """Setup seconds, images per second, busy cores and peak RSS (MB) of streaming ``batches`` training batches,
    cropped as ``crop`` (``AugmentConfig.crop``) says."""
    from tfzoo.data.folder import CACHE_ENV

    env = common.child_env(**{CACHE_ENV: "0"})
    return _child(_STREAM, "STREAM", [data_dir, json.dumps(image_size), batch_size, batches, crop], env,
                  f"streaming {data_dir}")


def measure_model(model, image_shape, *, batch_size, steps, precision):
    """The training images per second of ``model`` at ``image_shape`` (square images), by bench.train_throughput."""
    height, width, channels = image_shape
    if height != width:
        raise RuntimeError(f"the model's throughput is measured on square images only, not {height} x {width}")
    child = subprocess.run(
        [sys.executable, "-m", "bench.train_throughput", f"--model={model}", f"--batch_size={batch_size}",
         f"--ghost_batch_size={batch_size}", f"--image_size={height}", f"--channels={channels}", f"--steps={steps}",
         "--warmup=1", "--peak_size=0", f"--precision={precision}"],
        capture_output=True, text=True, env=common.child_env())
    if child.returncode != 0:
        raise RuntimeError(f"timing {model} failed: {(child.stderr.strip().splitlines() or ['no output'])[-1]}")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    return {key: result[key] for key in ("model", "precision", "batch_size", "steps", "step_ms", "images_per_second")}


def main(argv=None):
    parser = FlagParser("python -m bench.image_folder", __doc__.split("\n")[0])
    parser.add_argument("--data_dir", required=True, help="the image folder or archive: DIR/train/<class>/*, "
                        "DIR/test/<class>/*")
    parser.add_argument("--image_size", default=None, help="H or H,W, as --image_size of the recipes")
    parser.add_argument("--read", default=True, boolean=True, help="time the read into memory (child process)")
    parser.add_argument("--stream", default=True, boolean=True, help="time the stream (child process)")
    parser.add_argument("--batch_size", type=int, default=128, help="images per batch of the stream and the model")
    parser.add_argument("--stream_batches", type=int, default=20, help="timed batches of the stream")
    parser.add_argument("--crop", default="auto", choices=("auto", "pad", "resized"), help="the stream's training "
                        "crop, as --crop of the recipes (auto: random-resized crops from the files for images of 64 "
                        "pixels or more, else pad and crop)")
    parser.add_argument("--model", default="wrn-16-4", help="the model timed beside the stream ('none': not timed)")
    parser.add_argument("--model_steps", type=int, default=3, help="timed training steps of the model")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"), help="the model's precision")
    args = parser.parse_args(argv)
    from tfzoo.data import DataError, get_spec
    from tfzoo.data.specs import as_image_size, check_image_size

    size = None
    if args.image_size:
        try:
            size = check_image_size(as_image_size(args.image_size))
        except DataError:
            parser.error(f"--image_size must be H or H,W, positive integers. Received: --image_size={args.image_size}")
    for name in ("batch_size", "stream_batches", "model_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be a positive integer. Received: --{name}={getattr(args, name)}")
    try:
        result = {"data_dir": args.data_dir, "check": measure_check(args.data_dir)}
    except DataError as error:
        parser.error(str(error))
    check = result["check"]
    print(f"check: {check['files']} files in {check['seconds']:.2f} s, {check['files_per_second']:.0f} files/s")
    try:
        if args.read:
            result["read"] = read = measure_read(args.data_dir, size)
            print(f"read: {read['images']} images in {read['seconds']:.1f} s, peak RSS {read['peak_rss_mb']:.0f} MB")
        if args.stream:
            result["stream"] = stream = measure_stream(args.data_dir, size, batch_size=args.batch_size,
                                                       batches=args.stream_batches, crop=args.crop)
            print(f"stream: set up in {stream['setup_seconds']:.1f} s, then {stream['images_per_second']:.0f} "
                  f"images/s ({stream['busy_cores']:.2f} cores busy), peak RSS {stream['peak_rss_mb']:.0f} MB")
        if args.model != "none":
            shape = get_spec("folder", args.data_dir, size).image_shape
            result["model"] = model = measure_model(args.model, shape, batch_size=args.batch_size,
                                                    steps=args.model_steps, precision=args.precision)
            print(f"model: {model['model']} {model['precision']} trains {model['images_per_second']:.1f} images/s "
                  f"at {shape[0]} x {shape[1]} x {shape[2]}")
            if args.stream:
                result["stream_over_model"] = round(stream["images_per_second"] / model["images_per_second"], 2)
                bound = "the model" if result["stream_over_model"] > 1 else "the input"
                print(f"stream / model: {result['stream_over_model']:.2f} ({bound} bounds a run on this machine)")
    except (RuntimeError, DataError) as error:
        parser.error(str(error))
    result["image_size"], result["crop"] = (list(size) if size else None), args.crop
    result["this_process_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return common.print_result({**result, **common.environment()})


if __name__ == "__main__":
    main()

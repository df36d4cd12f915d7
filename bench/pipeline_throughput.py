"""Input-pipeline throughput: augmented training images per second from ``tfzoo.data.make_train_dataset``.

    python -m bench.pipeline_throughput --dataset=cifar10 --data_dir=DIR \\
        --batch_size=64 --batches=200 --train_images_per_second=40
    python -m bench.pipeline_throughput --dataset=fashion_mnist       # Debian's dataset-fashion-mnist

Real images from the official release files, the recipe's augmentation (pad 4 + random crop
+ horizontal flip, normalize, one-hot), parallel map and prefetch, as ``tfzoo.training.train``
reads them; batches are pulled as fast as possible with nothing training beside them.
``--train_images_per_second`` (from ``bench.train_throughput``) adds ``over_training``, the
headroom: how many times faster the pipeline produces images than training consumes them. The
last line of the output is JSON.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

import time

from bench import common
from bench.cli import FlagParser


def measure(dataset="cifar10", data_dir=None, *, batch_size=64, batches=200, warmup=10, seed=0):
    """Images per second of ``batches`` augmented training batches after ``warmup`` batches."""
    from tfzoo import data as data_lib

    images, labels = data_lib.load_arrays(dataset, "train", data_dir)
    spec = data_lib.get_spec(dataset)
    iterator = iter(data_lib.make_train_dataset(images, labels, spec, batch_size=batch_size, seed=seed))
    for _ in range(warmup):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        x, _ = next(iterator)
    seconds = time.perf_counter() - start
    return {
        "dataset": dataset,
        "num_train_examples": len(images),
        "image_shape": list(spec.image_shape),
        "batch_size": batch_size,
        "batches": batches,
        "batch_dtype": x.dtype.name,
        "seconds": round(seconds, 3),
        "images_per_second": round(batches * batch_size / seconds, 1),
    }


def main(argv=None):
    parser = FlagParser("python -m bench.pipeline_throughput", __doc__.split("\n")[0])
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--data_dir", default=None,
                        help="the official release's folder (default: $TFZOO_DATA_DIR, then TFDS)")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=200, help="timed batches")
    parser.add_argument("--warmup", type=int, default=10, help="untimed batches first")
    parser.add_argument("--train_images_per_second", type=float, default=None,
                        help="training throughput to compare with (bench.train_throughput's images_per_second)")
    args = parser.parse_args(argv)
    if args.batch_size < 1 or args.batches < 1 or args.warmup < 0:
        parser.error("--batch_size and --batches must be >= 1, --warmup >= 0")
    result = measure(args.dataset, args.data_dir, batch_size=args.batch_size, batches=args.batches, warmup=args.warmup)
    if args.train_images_per_second:
        result["train_images_per_second"] = args.train_images_per_second
        result["over_training"] = round(result["images_per_second"] / args.train_images_per_second, 2)
    print(f"{result['dataset']}: {result['images_per_second']:.0f} augmented images/s "
          f"({result['batches']} batches of {result['batch_size']})")
    return common.print_result({**result, **common.environment()})


if __name__ == "__main__":
    main()

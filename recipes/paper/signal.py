"""Signal propagation at initialisation: residual-stream variance after every block, three schemes.

    python -m recipes.paper.signal --model=wrn-100-1 --data_dir=DIR \\
        --batch_size=64 --output_dir=runs/signal --seed=0

Builds ``--model`` with BN (standard init), without normalization (standard He init) and with ZeroInit,
and measures on the first ``--batch`` training images the per-channel variance of the residual stream
after each block and of each branch (``tfzoo.analysis.signal``): the picture behind "Batch normalization
has multiple benefits", Tables 2-3 (section 4). Without normalization the variance grows exponentially
with depth, with BN linearly within each stage, with ZeroInit it stays at its input's. Writes
``signal.png`` (log scale), ``signal.csv`` (scheme, block, name, variance, branch_variance; block 0 is
the stem output entering block 1) and ``signal.json`` (last). Exit codes: 0 done, 2 bad flag or missing
data (one ``error:`` line, nothing written).

Measured here (the command above; 2 shared CPU cores, TensorFlow 2.21, Keras 3.15; 26 s after
start-up): the stem output entering block 1 has variance 2.12 under every scheme (same seed);
after block 48 it is 11.8 with BN (each branch adds about 0.7; the 1x1 projections at the
start of stages 2 and 3 reset it to about 1.4), 8.8e11 without normalization (x1.8 per block),
and 1.46 with ZeroInit (every branch exactly 0; only the two projections change it).
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

import csv
import io
import json
import os
import time
from pathlib import Path

from absl import flags

from recipes import cli
from recipes.cli import fail

FLAGS = flags.FLAGS

flags.DEFINE_string("model", "wrn-100-1", "Model name (create_model): wrn-{6n+4}-{k}, resnet50_v2, ...")
flags.DEFINE_string("dataset", "cifar10", "Dataset whose first --batch_size training images are measured.")
flags.DEFINE_string("data_dir", None, "Folder with the dataset's official release files (docs/data.md).")
flags.DEFINE_integer("batch_size", 64, "Images in the measured batch (>= 2; BN uses their statistics).")
flags.DEFINE_alias("batch", "batch_size")  # the flag's earlier name
flags.DEFINE_integer("seed", 0, "Seed of the weights (the same for every scheme).")
flags.DEFINE_string("output_dir", "runs/signal", "Where signal.png, signal.csv and signal.json go.")

LABELS = {"batch_norm": "batch norm", "none": "no normalization, He init", "zeroinit": "ZeroInit (no normalization)"}


def check_flags():
    """The dataset spec, after every flag is checked; exits 2 naming the first bad one."""
    from tfzoo.data import DataError, get_spec
    from tfzoo.models.options import ModelOptions
    from tfzoo.models.registry import resolve_options

    try:
        spec = get_spec(FLAGS.dataset)
        resolve_options(FLAGS.model, ModelOptions(num_classes=spec.num_classes, input_shape=spec.image_shape))
    except (DataError, ValueError) as error:
        fail(error)
    if FLAGS.batch_size < 2:
        fail(f"batch_size must be an integer >= 2 (a variance over the batch). Received: batch_size={FLAGS.batch_size}")
    if Path(FLAGS.output_dir).is_file():
        fail(f"output_dir={FLAGS.output_dir} is a file")
    return spec


def first_images(spec, data_dir, count):
    """The first ``count`` training images, normalized as in training, un-augmented."""
    from tfzoo import data

    if spec.streaming:
        images, _ = next(iter(data.make_imagenet_eval_dataset(data_dir, batch_size=count, split="train")))
        return images.numpy()
    images, _ = data.load_arrays(spec.name, "train", data_dir, max_examples=count)
    return data.normalize(images, spec).numpy()


def plot(signals, path, title):
    """Stream variance (left) and branch variance (right) against block index, log scale; PNG via a rename."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for label, signal in signals.items():
        left.plot(range(len(signal.blocks) + 1), [signal.input_variance, *signal.variance], marker=".",
                  label=LABELS.get(label, label))
        shown = [(i, v) for i, v in enumerate(signal.branch_variance, start=1) if v > 0]  # log scale: no zeros
        note = "" if shown else ": every branch is exactly 0"
        right.plot([i for i, _ in shown], [v for _, v in shown], marker=".", label=LABELS.get(label, label) + note)
    names = next(iter(signals.values())).blocks
    stage_starts = [i for i, name in enumerate(names, start=1) if name.endswith("_block1") and i > 1]
    for axis, what in ((left, "residual stream after block"), (right, "residual branch of block")):
        for start in stage_starts:
            axis.axvline(start - 0.5, color="grey", linestyle=":", linewidth=1)
        axis.set(yscale="log", xlabel="block (0 = stem output)", ylabel="variance", title=what)
        axis.legend()
    fig.suptitle(title)
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


def to_csv(signals):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["scheme", "block", "name", "variance", "branch_variance"])
    for label, signal in signals.items():
        writer.writerow([label, 0, "input", repr(signal.input_variance), ""])
        for i, (name, variance, branch) in enumerate(zip(signal.blocks, signal.variance, signal.branch_variance), 1):
            writer.writerow([label, i, name, repr(float(variance)), repr(float(branch))])
    return out.getvalue()


def main(argv):
    if len(argv) > 1:
        fail(f"unexpected arguments {argv[1:]}; every option is a --flag")
    spec = check_flags()
    started = time.time()
    from tfzoo.analysis import SCHEMES, compare_schemes
    from tfzoo.data import DataError
    from tfzoo.training.outputs import write_text_atomic

    try:
        images = first_images(spec, FLAGS.data_dir, FLAGS.batch_size)
    except DataError as error:
        fail(error)
    if len(images) < FLAGS.batch_size:
        fail(f"batch_size={FLAGS.batch_size} exceeds the {len(images)} training images found")
    signals = compare_schemes(FLAGS.model, images, seed=FLAGS.seed, num_classes=spec.num_classes,
                              input_shape=spec.image_shape)
    out = Path(FLAGS.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    cli.write_flagfile(out)  # --flagfile=out/flagfile.txt measures the same again
    plot(signals, out / "signal.png", f"{FLAGS.model} at initialisation, {FLAGS.batch_size} {spec.name} training images")
    write_text_atomic(out / "signal.csv", to_csv(signals))
    results = {
        "model": FLAGS.model, "dataset": spec.name, "batch_size": FLAGS.batch_size, "seed": FLAGS.seed,
        "schemes": {label: {"normalization": norm, "init": init, "final_variance": float(signals[label].variance[-1]),
                            **signals[label].to_dict()} for label, norm, init in SCHEMES},
        "seconds": round(time.time() - started, 2),
    }
    write_text_atomic(out / "signal.json", json.dumps(results, indent=2))
    for label, signal in signals.items():
        print(f"{LABELS[label]:>28}: variance {signal.input_variance:.3g} entering block 1, "
              f"{signal.variance[-1]:.3g} after block {len(signal.blocks)}")
    print(f"plot: {out / 'signal.png'}  table: {out / 'signal.csv'}  ({results['seconds']:.0f} s)")


if __name__ == "__main__":
    cli.run(main)

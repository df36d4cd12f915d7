"""Top-k classes of image files from a SavedModel folder or a pretrained model's name.

    tfzoo-predict --model=wrn-16-2-zeroinit-fashion_mnist --top_k=3 shoe.png coat.png
    python -m export.predict --model=exported/demo image.png

Images go through the SavedModel's ``serving_encoded`` signature (PNG/JPEG/BMP/GIF bytes,
decoded to the model's channels); one of another size is resized, aspect ratio kept, to cover the
model's height and width, and centre-cropped to them. Prints one
line per image: ``FILE: class p, class p, ...``. Exit 2 with one ``error:`` line on bad input.
"""

from pathlib import Path

from absl import flags

from tfzoo import cli
from tfzoo.cli import fail

FLAGS = flags.FLAGS
flags.DEFINE_string("model", None, "A SavedModel folder written by tfzoo-export, or a pretrained name.")
flags.DEFINE_string("pretrained", None, "A pretrained model's name (the same as --model=NAME).")
flags.DEFINE_integer("top_k", 3, "How many classes to print per image.")
flags.DEFINE_string("cache_dir", None, "Cache of downloaded pretrained archives (default $TFZOO_CACHE or ~/.cache/tfzoo).")


def load_serving(model, cache_dir=None):
    """(loaded SavedModel, class names) for a folder or a pretrained name; ValueError (one line)
    for a folder that is not a tfzoo SavedModel."""
    import tensorflow as tf

    from tfzoo import pretrained
    from tfzoo.export import METADATA, read_metadata

    folder = Path(model)
    if folder.is_dir():
        if not (folder / "saved_model.pb").is_file():
            hint = (f"; it holds a run: export it first with tfzoo-export --model={model} --format=saved_model "
                    "--output_dir=DIR" if (folder / "model.keras").is_file() else "")
            raise ValueError(f"--model={model} is not a SavedModel folder (no saved_model.pb){hint}")
        if not (folder / METADATA).is_file():
            raise ValueError(f"--model={model} is a SavedModel without tfzoo's {METADATA} (class names, "
                             "preprocessing): export it with tfzoo-export")
        return tf.saved_model.load(model), read_metadata(model)["class_names"]
    if model in pretrained.REGISTRY:
        return pretrained.load(model, cache_dir), list(pretrained.info(model).class_names)
    raise ValueError(
        f"--model={model} is neither a SavedModel folder nor a pretrained name; pretrained: {', '.join(pretrained.names())}"
    )


def top_k(serving, class_names, encoded, k):
    """[(class name, probability)] of the k most likely classes for one encoded image."""
    import numpy as np
    import tensorflow as tf

    probabilities = serving.signatures["serving_encoded"](encoded_images=tf.constant([encoded]))["probabilities"]
    row = probabilities.numpy()[0]
    order = np.argsort(-row, kind="stable")[:k]
    return [(class_names[i], float(row[i])) for i in order]


def main(argv):
    images = argv[1:]
    if FLAGS.model and FLAGS.pretrained:
        fail("pass one of --model and --pretrained, not both")
    model = FLAGS.model or FLAGS.pretrained
    if not model:
        fail("--model is required (a SavedModel folder or a pretrained name)")
    if not images:
        fail("no image files given; usage: python -m export.predict --model=NAME_OR_DIR IMAGE...")
    if FLAGS.top_k < 1:
        fail(f"--top_k must be >= 1. Received: --top_k={FLAGS.top_k}")
    missing = [path for path in images if not Path(path).is_file()]
    if missing:
        fail(f"image file {missing[0]} not found")
    import tensorflow as tf

    from tfzoo.export import tf_error_line

    try:
        serving, class_names = load_serving(model, FLAGS.cache_dir)
    except (ValueError, OSError, tf.errors.OpError) as error:  # PretrainedError is a ValueError
        fail(error.message.splitlines()[0] if isinstance(error, tf.errors.OpError) else error)
    for path in images:
        try:
            ranked = top_k(serving, class_names, Path(path).read_bytes(), min(FLAGS.top_k, len(class_names)))
        except tf.errors.InvalidArgumentError as error:
            fail(f"{path}: {tf_error_line(error)}")
        print(f"{path}: " + ", ".join(f"{name} {p:.3f}" for name, p in ranked))


def run():
    """The console script ``tfzoo-predict``."""
    cli.run(main)


if __name__ == "__main__":
    run()

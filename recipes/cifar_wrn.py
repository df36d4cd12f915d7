"""Train a Wide-ResNet with or without normalization, with the protocol of "Batch normalization has
multiple benefits" (section 3).

    python -m recipes.cifar_wrn --dataset=cifar10 --data_dir=/path/to/cifar-10-batches-py \\
        --depth=16 --width=4 --normalization=none --init=zeroinit --epochs=200
    python -m recipes.cifar_wrn --dataset=folder --data_dir=my_images --init_from=PRETRAINED_NAME --epochs=10

Defaults are the paper's: WRN-16-4, ZeroInit without normalization, batch 64, ghost batch 64,
SGD momentum 0.9, L2 5e-4, the "paper" schedule over 200 epochs, pad-4 crop and flip. Writes
results.json, history.csv, curves.png, model.keras, TensorBoard logs and checkpoints to
--output_dir; running the same command again resumes from the last checkpoint. ``--export=DIR``
also writes a SavedModel with serving signatures (``export/saved_model.py``) at the end.
Exit codes: 0 done, 2 bad flag (nothing written), 3 diverged (results.json says so).
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

from absl import flags

from recipes import cli, train_flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("depth", 16, "WRN depth d = 6n + 4.")
flags.DEFINE_integer("width", 4, "WRN width factor k.")
flags.DEFINE_string("output_dir", "runs/cifar_wrn", "Where results, logs, checkpoints and the model go.")
flags.DEFINE_string("export", None, "Also export a SavedModel with serving signatures to this folder at the end.")


def config_from_flags():
    """The training flags (``recipes/train_flags.py``) plus --depth/--width naming the model; with
    --init_from=NAME of a pretrained entry, the flags not given default to the entry's."""
    model, scheme = train_flags.pretrained_defaults()
    if model is None or FLAGS["depth"].present or FLAGS["width"].present:
        model = f"wrn-{FLAGS.depth}-{FLAGS.width}"
    return train_flags.config_from_flags(model, output_dir=FLAGS.output_dir, **scheme)


def main(argv):
    if len(argv) > 1:
        train_flags.fail(f"unexpected arguments {argv[1:]}; every option is a --flag")
    train_flags.train_and_report(config_from_flags(), export=FLAGS.export, summary=lambda r: (
        f"test accuracy {r['test_accuracy']:.4f}, test loss {r['test_loss']:.4f}, train loss {r['train_loss']:.4f}"))


def run():
    """The console script (setup.cfg): ``python -m`` of this module."""
    cli.run(main)


if __name__ == "__main__":
    run()

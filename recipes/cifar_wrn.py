"""Train a Wide-ResNet with or without normalization, with ``001`` section 3's protocol.

    python -m recipes.cifar_wrn --dataset=cifar10 --data_dir=../shared/data/cifar10-subset \\
        --depth=16 --width=4 --normalization=none --init=zeroinit --epochs=200

Defaults are the paper's: WRN-16-4, ZeroInit without normalization, batch 64, ghost batch 64,
SGD momentum 0.9, L2 5e-4, the "paper" schedule over 200 epochs, pad-4 crop and flip. Writes
results.json, history.csv, curves.png, model.keras, TensorBoard logs and checkpoints to
--output_dir; running the same command again resumes from the last checkpoint. ``--export=DIR``
also writes a SavedModel with serving signatures (``export/saved_model.py``) at the end.
Exit codes: 0 done, 2 bad flag (nothing written), 3 diverged (results.json says so).
"""

import sys
from pathlib import Path

from absl import app, flags

from recipes import train_flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("depth", 16, "WRN depth d = 6n + 4.")
flags.DEFINE_integer("width", 4, "WRN width factor k.")
flags.DEFINE_string("output_dir", "runs/cifar_wrn", "Where results, logs, checkpoints and the model go.")
flags.DEFINE_string("export", None, "Also export a SavedModel with serving signatures to this folder at the end.")


def config_from_flags():
    """The training flags (``recipes/train_flags.py``) plus --depth/--width naming the model."""
    return train_flags.config_from_flags(f"wrn-{FLAGS.depth}-{FLAGS.width}", output_dir=FLAGS.output_dir)


def main(argv):
    if len(argv) > 1:
        train_flags.fail(f"unexpected arguments {argv[1:]}; every option is a --flag")
    from tfzoo.training import EXIT_DIVERGED, train

    config = config_from_flags()
    train_flags.check_or_exit(config)
    if FLAGS.export and Path(FLAGS.export).exists():
        train_flags.fail(f"--export={FLAGS.export} already exists; choose a new folder")
    results = train(config)
    if results["diverged"]:
        at = results["diverged_at"]
        print(f"error: training diverged (NaN/inf loss) at epoch {at['epoch']}, step {at['step']}; "
              f"see {config.output_dir}/results.json", file=sys.stderr)
        sys.exit(EXIT_DIVERGED)
    if not train_flags.is_chief(config):
        return  # a non-chief worker of a multi-worker job: the chief reports and exports
    print(
        f"test accuracy {results['test_accuracy']:.4f}, test loss {results['test_loss']:.4f}, "
        f"train loss {results['train_loss']:.4f} after {results['epochs']} epochs ({results['seconds']:.0f} s)\n"
        f"results: {config.output_dir}/results.json  model: {config.output_dir}/model.keras\n"
        f"curves: {config.output_dir}/curves.png  logs: tensorboard --logdir {config.output_dir}/tensorboard"
    )
    if FLAGS.export:
        from export.saved_model import export_saved_model

        export_saved_model(Path(config.output_dir) / "model.keras", FLAGS.export)
        print(f"SavedModel: {FLAGS.export} (signatures serving_default: uint8 images, serving_encoded: PNG/JPEG bytes)")


if __name__ == "__main__":
    app.run(main)

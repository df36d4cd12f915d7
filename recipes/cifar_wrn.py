"""Train a Wide-ResNet with or without normalization, with ``001`` section 3's protocol.

    python -m recipes.cifar_wrn --dataset=cifar10 --data_dir=../shared/data/cifar10-subset \\
        --depth=16 --width=4 --normalization=none --init=zeroinit --epochs=200

Defaults are the paper's: WRN-16-4, ZeroInit without normalization, batch 64, ghost batch 64,
SGD momentum 0.9, L2 5e-4, the "paper" schedule over 200 epochs, pad-4 crop and flip. Writes
results.json, history.csv, curves.png, model.keras, TensorBoard logs and checkpoints to
--output_dir; running the same command again resumes from the last checkpoint.
Exit codes: 0 done, 2 bad flag (nothing written), 3 diverged (results.json says so).
"""

import sys

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("dataset", "cifar10", "cifar10, cifar100, svhn, mnist or fashion_mnist.")
flags.DEFINE_string("data_dir", None, "Folder with the official release files (offline); else TFDS.")
flags.DEFINE_integer("depth", 16, "WRN depth d = 6n + 4.")
flags.DEFINE_integer("width", 4, "WRN width factor k.")
flags.DEFINE_string("normalization", "none", "batch_norm, ghost_batch_norm or none.")
flags.DEFINE_string("init", "zeroinit", "standard, skipinit, zeroinit or fixup.")
flags.DEFINE_float("dropout", 0.0, "Dropout between the two convolutions of each block.")
flags.DEFINE_float("classifier_dropout", None, "Dropout before the classifier (default: the scheme's; ZeroInit 0.6).")
flags.DEFINE_integer("batch_size", 64, "Batch size B of one parameter update.")
flags.DEFINE_integer("ghost_batch_size", 64, "Ghost batch G: BN statistics per G examples, gradients accumulated over B/G.")
flags.DEFINE_float("lr", 0.25, "Peak learning rate (2^-2, the paper's optimum for ZeroInit at batch 64).")
flags.DEFINE_float("momentum", 0.9, "Heavy-ball momentum.")
flags.DEFINE_boolean("nesterov", False, "Nesterov momentum.")
flags.DEFINE_float("weight_decay", 5e-4, "L2 coefficient: adds weight_decay/2 * sum(w^2) of the kernels to the loss.")
flags.DEFINE_float("label_smoothing", 0.0, "Label smoothing.")
flags.DEFINE_string("schedule", "paper", "paper, wrn, cosine or constant.")
flags.DEFINE_float("warmup_epochs", 0.0, "Linear warm-up epochs.")
flags.DEFINE_integer("epochs", 200, "Epoch budget.")
flags.DEFINE_integer("max_train_examples", None, "Use only the first N training examples (quick runs).")
flags.DEFINE_string("padding", "zero", "Crop padding: zero or reflect.")
flags.DEFINE_integer("cutout", 0, "Cutout square side (0 = off).")
flags.DEFINE_float("mixup_alpha", 0.0, "Mixup Beta(alpha, alpha) (0 = off).")
flags.DEFINE_integer("seed", 0, "Seed of weights, data order, augmentation and dropout.")
flags.DEFINE_string("output_dir", "runs/cifar_wrn", "Where results, logs, checkpoints and the model go.")

EXIT_BAD_FLAG = 2


def config_from_flags():
    """Every flag named like a ``TrainConfig`` field sets it; --depth and --width name the model."""
    import dataclasses

    from tfzoo.training import TrainConfig

    values = {f.name: FLAGS[f.name].value for f in dataclasses.fields(TrainConfig) if f.name in FLAGS}
    return TrainConfig(model=f"wrn-{FLAGS.depth}-{FLAGS.width}", **values)


def main(argv):
    if len(argv) > 1:
        sys.exit(f"error: unexpected arguments {argv[1:]}; every option is a --flag")
    from tfzoo.training import EXIT_DIVERGED, train

    config = config_from_flags()
    try:
        config.validate()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(EXIT_BAD_FLAG)
    results = train(config)
    if results["diverged"]:
        at = results["diverged_at"]
        print(f"error: training diverged (NaN/inf loss) at epoch {at['epoch']}, step {at['step']}; "
              f"see {config.output_dir}/results.json", file=sys.stderr)
        sys.exit(EXIT_DIVERGED)
    print(
        f"test accuracy {results['test_accuracy']:.4f}, test loss {results['test_loss']:.4f}, "
        f"train loss {results['train_loss']:.4f} after {results['epochs']} epochs ({results['seconds']:.0f} s)\n"
        f"results: {config.output_dir}/results.json  model: {config.output_dir}/model.keras\n"
        f"curves: {config.output_dir}/curves.png  logs: tensorboard --logdir {config.output_dir}/tensorboard"
    )


if __name__ == "__main__":
    app.run(main)

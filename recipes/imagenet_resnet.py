"""Train ResNet-V1/V2 on ImageNet with the protocol of "Batch normalization has multiple benefits"
(section 5, Tables 4-5).

    python -m recipes.imagenet_resnet --data_dir=/data/imagenet --depth=50 --version=v2 \\
        --normalization=none --init=zeroinit --batch_size=1024 --lr=... --output_dir=runs/r50v2-zeroinit

Defaults are section 5's: 90 epochs, the learning rate constant for 45 epochs then halved every
5, ghost batch 256 (gradients accumulated over batch_size / 256 ghost batches), SGD momentum 0.9,
top-1 and top-5 accuracy on the 50,000 validation images; ZeroInit's classifier dropout is 0.2.
``--data_dir`` is TFDS's manual directory holding ILSVRC2012_img_train.tar and
ILSVRC2012_img_val.tar (prepared once; docs/data.md, "ImageNet"). The paper searches the learning
rate per batch size and method (one run per point); ``--lr`` defaults to 0.1 x batch_size / 256.
The paper does not state its ImageNet L2 coefficient; ``--weight_decay`` keeps section 3's 5e-4.
Every training flag of ``recipes.cifar_wrn`` applies (``--strategy`` for several GPUs or a TPU).
Exit codes: 0 done, 1 a full or read-only --output_dir, 2 bad flag or data, or --output_dir in use
(nothing written: the data is checked first), 3 diverged; docs/guarantees.md says what survives what.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

from absl import flags

from recipes import cli, train_flags
from tfzoo.training.config import IMAGENET_PROTOCOL

FLAGS = flags.FLAGS
flags.DEFINE_integer("depth", 50, "ResNet depth: 18, 34, 50, 101 or 152.")
flags.DEFINE_string("version", "v2", "v1 (ReLU after the merge) or v2 (pre-activation).")
flags.DEFINE_string("output_dir", "runs/imagenet_resnet", "Where results, logs, checkpoints and the model go.")
flags.DEFINE_string("export", None, "Also export a SavedModel with serving signatures to this folder at the end.")

# Section 5's protocol, as defaults of the shared training flags.
SECTION5_DEFAULTS = dict(
    dataset="imagenet2012", batch_size=256, normalization="batch_norm", init="standard", eval_batch_size=250,
    **IMAGENET_PROTOCOL,
)


def config_from_flags():
    """The training flags plus --depth/--version naming the model; lr 0.1 x B/256 unless given."""
    overrides = dict(output_dir=FLAGS.output_dir)
    if not FLAGS["lr"].present:
        overrides["lr"] = 0.1 * FLAGS.batch_size / 256
    return train_flags.config_from_flags(f"resnet{FLAGS.depth}_{FLAGS.version}", **overrides)


def main(argv):
    if len(argv) > 1:
        train_flags.fail(f"unexpected arguments {argv[1:]}; every option is a --flag")
    train_flags.train_and_report(config_from_flags(), export=FLAGS.export, summary=lambda r: (
        f"top-1 {r['test_accuracy']:.4f}, top-5 {r['test_top5_accuracy']:.4f} on {r['num_test_examples']} validation images"))


def run(argv=None):
    """Entry point: section 5's defaults on the shared flags, then absl."""
    for name, value in SECTION5_DEFAULTS.items():
        FLAGS.set_default(name, value)
    cli.run(main, argv=argv)


if __name__ == "__main__":
    run()

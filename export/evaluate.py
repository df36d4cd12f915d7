"""Measure a pretrained model or preset on the test split of a labelled data set.

    tfzoo-evaluate --model=wrn-16-4-zeroinit-cifar10_jpeg --data_dir=photos/           # an image folder or archive
    python -m export.evaluate --model=wrn-16-4-zeroinit-cifar10_jpeg --dataset=cifar10 --data_dir=cifar-10-batches-py

``--model`` is a name of ``tfzoo.pretrained.names()`` or a preset folder. Without ``--dataset`` the model is
measured on the data set it was trained on (``--data_dir``: where it lies); a model trained on an image folder
on ``DIR/test/<class>/`` of ``--data_dir`` (a folder, .zip or .tar that need not hold ``train/``), each class
folder named as one of the model's classes. ``--dataset=NAME`` measures it on another data set with the same
classes in the same order (CIFAR-10's official pixels for a model trained on CIFAR-10 as JPEG files). Prints
the accuracy and the number of images; exit 2 with one ``error:`` line for a model or data set that does not fit.
"""

from absl import flags

from tfzoo import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("model", None, "A pretrained model's name (tfzoo.pretrained.names()) or a preset folder.")
flags.DEFINE_alias("pretrained", "model")
flags.DEFINE_string("dataset", None, "The data set to measure on (default: the model's own); its classes must be "
                    "the model's, in order.")
flags.DEFINE_string("data_dir", None, "Where that data set lies: a built-in data set's files, or an image folder "
                    "or archive holding test/<class>/.")
flags.DEFINE_integer("batch_size", 500, "Images per forward pass.", lower_bound=1)


def main(argv):
    if len(argv) > 1:
        cli.fail(f"unexpected arguments {argv[1:]}; every option is a --flag")
    if not FLAGS.model:
        cli.fail("--model is required: a pretrained name (tfzoo.pretrained.names()) or a preset folder")
    from tfzoo.data import DataError
    from tfzoo.export.cached import measure_test_accuracy

    try:
        accuracy, examples = measure_test_accuracy(FLAGS.model, data_dir=FLAGS.data_dir, dataset=FLAGS.dataset,
                                                   batch_size=FLAGS.batch_size)
    except (OSError, ValueError, DataError) as error:  # PretrainedError, PresetError: ValueErrors
        cli.fail(error)
    where = f"{FLAGS.dataset or 'its own data set'}" + (f" in {FLAGS.data_dir}" if FLAGS.data_dir else "")
    print(f"{FLAGS.model}: test accuracy {accuracy:.4f} ({round(accuracy * examples)} of {examples} test images of "
          f"{where}, the float32 Keras model)")


def run():
    """The console script ``tfzoo-evaluate``."""
    cli.run(main)


if __name__ == "__main__":
    run()

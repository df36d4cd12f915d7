"""Export a trained or pretrained tfzoo model: SavedModel, LiteRT (float32, int8) or ONNX.

    tfzoo-export --pretrained=wrn-16-2-bn-fashion_mnist --format=litert_int8 --output_dir=exported/bn_int8
    python -m export --model=runs/demo --format=onnx --output_dir=exported/demo_onnx

``--model`` is a recipe's run folder or its ``model.keras``; ``--pretrained`` a name from
``tfzoo.pretrained.names()``. LiteRT and ONNX write one ``model.tflite`` / ``model.onnx`` into
``--output_dir``; a SavedModel is the folder itself. Every format takes uint8 pixels and returns
probabilities (``tfzoo/export/``; docs/export.md has a client for each). The export is run in
its own runtime and compared with Keras before it is moved into place; the line printed says by
how much they differ. ``--output`` is an alias of ``--output_dir``.
Exit codes: 0 written; 2 bad flag or a model that cannot be loaded or converted (one ``error:`` line,
nothing written).
"""

from absl import flags

from tfzoo import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("model", None, "A recipe's run folder or its .keras file (e.g. runs/demo).")
flags.DEFINE_string("pretrained", None, "A pretrained model's name (tfzoo.pretrained.names()).")
flags.DEFINE_enum("format", None, ["saved_model", "litert", "litert_int8", "onnx"], "What to write.")
flags.DEFINE_string("output_dir", None, "Folder to write: the SavedModel itself, or the one holding model.tflite/.onnx.")
flags.DEFINE_alias("output", "output_dir")
flags.DEFINE_string("dataset", None, "The data set the model was trained on (default: the run's config.json).")
flags.DEFINE_string("data_dir", None, "Where that data set lies (litert_int8 calibrates on its training split).")
flags.DEFINE_boolean("overwrite", False, "Replace an existing export (never the source).")


def main(argv):
    from absl import logging

    logging.set_verbosity(logging.WARNING)  # not absl's INFO lines of the SavedModel writer
    if len(argv) > 1:
        cli.fail(f"unexpected arguments {argv[1:]}; every option is a --flag")
    if (FLAGS.model is None) == (FLAGS.pretrained is None):
        cli.fail("pass exactly one of --model (a run folder or .keras file) and --pretrained (a name)")
    if FLAGS.format is None:
        cli.fail("--format is required: saved_model, litert, litert_int8 or onnx")
    if not FLAGS.output_dir:
        cli.fail("--output_dir is required (the folder to write)")
    from tfzoo import export
    from tfzoo.data import DataError

    try:
        source = export.load_source(model=FLAGS.model, pretrained=FLAGS.pretrained, dataset=FLAGS.dataset)
        written = export.export(source, FLAGS.output_dir, FLAGS.format, overwrite=FLAGS.overwrite,
                                data_dir=FLAGS.data_dir)
    except (ValueError, DataError, OSError) as error:  # ExportError and PretrainedError are ValueErrors
        cli.fail(error)
    check = written["check"]
    print(f"{written['format']} {written['path']}: {written['dataset']}, input uint8 {written['image_shape']}, "
          f"{written['num_classes']} classes; max |{written['format']} - Keras| = {check['max_abs_difference']:.2e}, "
          f"top-1 agreement {check['top1_agreement']:.4f} on {check['images']} images")


def run():
    """The console script ``tfzoo-export``."""
    cli.run(main)


if __name__ == "__main__":
    run()

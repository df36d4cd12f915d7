"""Turn a finished training run into a preset folder that ``tfzoo.create_model(pretrained=FOLDER)`` loads.

    tfzoo-preset --run=runs/my_task --output_dir=presets/my_task
    python -m export.preset --run=runs/my_task --output_dir=presets/my_task

The folder holds config.json (the architecture and scheme), model.weights.h5 and metadata.json (the card: data
set, classes, input statistics, results, flags, machine, what it was fine-tuned from), as ``tfzoo.save_preset``
writes them; the model takes pixels 0..255. Exit 2 with one ``error:`` line (nothing written) for a run that has
not finished or an output folder that exists.
"""

from absl import flags

from tfzoo import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("run", None, "A finished run folder (config.json, results.json, model.keras).")
flags.DEFINE_string("output_dir", None, "The preset folder to write (new, or empty).")
flags.DEFINE_alias("output", "output_dir")
flags.DEFINE_boolean("overwrite", False, "Replace an existing preset folder.")


def main(argv):
    if len(argv) > 1:
        cli.fail(f"unexpected arguments {argv[1:]}; every option is a --flag")
    if not FLAGS.run or not FLAGS.output_dir:
        cli.fail("pass --run=RUN_DIR (a finished run) and --output_dir=DIR (the preset folder to write)")
    from tfzoo.packing import preset_from_run

    try:
        folder = preset_from_run(FLAGS.run, FLAGS.output_dir, overwrite=FLAGS.overwrite)
    except (OSError, ValueError) as error:  # PackError and PresetError are ValueErrors
        cli.fail(error)
    print(f"{folder}: preset of {FLAGS.run} (config.json, model.weights.h5, metadata.json); load it with "
          f"tfzoo.create_model(pretrained={str(folder)!r})")


def run():
    """The console script ``tfzoo-preset``."""
    cli.run(main)


if __name__ == "__main__":
    run()

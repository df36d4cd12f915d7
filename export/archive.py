"""Pack a finished run or a preset folder into the zoo's reproducible preset archive (.tar.gz).

    python -m export.archive --run=runs/zoo/bn --output=tfzoo/pretrained_models/NAME.tar.gz --evaluate
    python -m export.archive --preset=presets/my-bn --output=NAME.tar.gz
    python -m export.archive --run=runs/zoo/cifar10/bn --output=tfzoo/pretrained_models/NAME.tar.gz --evaluate \
        --data_dir=tests/fixtures/cifar10_jpeg/cifar10-jpeg-test.zip --card=NAME

The archive holds a preset's three files, config.json, model.weights.h5 and metadata.json
(``tfzoo.pretrained.presets``): weights, not graphs; the SavedModel is built from it on first use.
Members are sorted, owned by 0:0 with mtime 0, and the gzip header has no timestamp. Prints the sha256
and size that go into ``tfzoo/pretrained/zoo.py``; with ``--evaluate`` also the test accuracy of the
preset's model on the test split of its data set (``--data_dir``: where that lies, default the run's),
the figure an entry records and ``tests/test_pretrained.py`` re-measures. ``--card=NAME`` writes the
registry entry NAME's model card (``tfzoo/pretrained/zoo.py``: data set, command, machine, how the learning
rate was chosen, ...) into the preset's metadata.json, after checking that the accuracy measured is the
card's. The archive is written only after everything asked for has succeeded.
"""

import hashlib
import json
import tempfile
from pathlib import Path

from absl import flags

from tfzoo import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("run", None, "A finished run folder (config.json, results.json, model.keras) to pack.")
flags.DEFINE_string("preset", None, "A preset folder (tfzoo.save_preset, tfzoo-preset) to pack.")
flags.DEFINE_string("output", None, "The .tar.gz to write (atomically).")
flags.DEFINE_bool("evaluate", False, "Also measure the preset's model on the test split of its data set and print "
                  "the accuracy, before the archive is written.")
flags.DEFINE_string("data_dir", None, "With --evaluate: where the data set lies (default: the run's --data_dir); "
                    "for a run on an image folder, a folder or archive holding its test/ split.")
flags.DEFINE_string("card", None, "With --run and --evaluate: the registry entry whose model card goes into the "
                    "preset's metadata.json; its test accuracy must be the one measured.")


def main(argv):
    if len(argv) > 1:
        cli.fail(f"unexpected arguments {argv[1:]}; every option is a --flag")
    if (FLAGS.run is None) == (FLAGS.preset is None) or not FLAGS.output:
        cli.fail("pass --output=FILE.tar.gz and exactly one of --run=RUN_DIR and --preset=DIR")
    if Path(FLAGS.output).exists():
        cli.fail(f"--output={FLAGS.output} already exists; choose a new file")
    if FLAGS.card is not None and (FLAGS.run is None or not FLAGS.evaluate):
        cli.fail(f"--card={FLAGS.card} needs --run=RUN_DIR and --evaluate (the card's test accuracy is checked)")
    source = FLAGS.run if FLAGS.run is not None else FLAGS.preset
    if Path(FLAGS.output).resolve().is_relative_to(Path(source).resolve()):
        cli.fail(f"--output={FLAGS.output} lies inside {source}; choose a path outside it")
    from tfzoo.data import DataError
    from tfzoo.export.cached import measure_test_accuracy
    from tfzoo.packing import preset_from_run, run_architecture
    from tfzoo.pretrained import info, preset_archive
    from tfzoo.training.outputs import write_bytes_atomic

    try:
        with tempfile.TemporaryDirectory(prefix="tfzoo-archive-") as tmp:
            preset = FLAGS.preset
            data_dir = FLAGS.data_dir
            card = None if FLAGS.card is None else json.loads(json.dumps(info(FLAGS.card).card()))
            if FLAGS.run is not None:
                preset = preset_from_run(FLAGS.run, Path(tmp) / "preset", metadata=card)
                data_dir = data_dir or run_architecture(FLAGS.run)[3].data_dir
            data = preset_archive(preset)
            measured = measure_test_accuracy(preset, data_dir=data_dir) if FLAGS.evaluate else None
            if card is not None and (abs(measured[0] - card["test_accuracy"]) > 1e-9
                                     or measured[1] != card["test_examples"]):
                cli.fail(f"the card of {FLAGS.card} says test accuracy {card['test_accuracy']} on "
                         f"{card['test_examples']} images; this preset measures {measured[0]:.4f} on {measured[1]} "
                         "(write the measured figure into tfzoo/pretrained/zoo.py and pack again)")
            Path(FLAGS.output).parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(FLAGS.output, data)
    except (FileNotFoundError, ValueError, DataError) as error:  # PackError, PresetError, PretrainedError: ValueErrors
        cli.fail(error)
    print(f"{FLAGS.output}: sha256 {hashlib.sha256(data).hexdigest()}, {len(data)} bytes")
    if measured is not None:
        accuracy, examples = measured
        print(f"{FLAGS.output}: test accuracy {accuracy:.4f} ({round(accuracy * examples)} of {examples} test images, "
              "the preset's float32 Keras model)")


if __name__ == "__main__":
    cli.run(main)

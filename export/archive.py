"""Pack a finished run (or an exported SavedModel) into a reproducible .tar.gz for the pretrained registry.

    python -m export.archive --run=runs/zoo/bn --output=tfzoo/pretrained_models/NAME.tar.gz
    python -m export.archive --run=runs/zoo/bn --output=NAME.tar.gz --evaluate   # and its test accuracy
    python -m export.archive --saved_model=exported/NAME --output=NAME.tar.gz    # a SavedModel alone

``--run`` writes the run's Keras weights (``model.weights.h5``, what ``create_model(pretrained=...)``
loads) and a float32 SavedModel (``saved_model/``) exported from them (``tfzoo.packing``).
Entries are sorted, owned by 0:0 with mtime 0 and normalised modes, and the gzip header has no
timestamp. Prints the sha256 and size that go into ``tfzoo/pretrained_entries.py``; with ``--evaluate``
also the test accuracy of the archive's float32 SavedModel on the run's data set (its official test
split), the figure an entry records and ``tests/test_pretrained.py`` re-measures. The archive is written
only after everything asked for has succeeded.
"""

import hashlib
import json
import tempfile
from pathlib import Path

from absl import flags

from tfzoo import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("run", None, "A finished run folder (config.json, model.keras) to pack with its weights.")
flags.DEFINE_string("saved_model", None, "An exported SavedModel folder to pack alone (no Keras weights).")
flags.DEFINE_string("output", None, "The .tar.gz to write (atomically).")
flags.DEFINE_bool("evaluate", False, "With --run: also measure the archive's float32 SavedModel on the test split of "
                  "the run's data set (from its config.json) and print the accuracy, before the archive is written.")


def pack(saved_model_dir, output):
    """Writes ``saved_model_dir`` as ``saved_model/...`` into the tar.gz ``output``; returns (sha256, size)."""
    from tfzoo.packing import reproducible_tar_gz
    from tfzoo.training.outputs import write_bytes_atomic

    root = Path(saved_model_dir)
    if not (root / "saved_model.pb").is_file():
        raise FileNotFoundError(f"{root} is not a SavedModel folder (no saved_model.pb)")
    data = reproducible_tar_gz({"saved_model": root})
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(output, data)
    return hashlib.sha256(data).hexdigest(), len(data)


def main(argv):
    if len(argv) > 1:
        cli.fail(f"unexpected arguments {argv[1:]}; every option is a --flag")
    if (FLAGS.run is None) == (FLAGS.saved_model is None) or not FLAGS.output:
        cli.fail("pass --output=FILE.tar.gz and exactly one of --run=RUN_DIR and --saved_model=DIR")
    if Path(FLAGS.output).exists():
        cli.fail(f"--output={FLAGS.output} already exists; choose a new file")
    if FLAGS.evaluate and FLAGS.run is None:
        cli.fail("--evaluate needs --run=RUN_DIR: the data set to test on comes from the run's config.json")
    source = FLAGS.run if FLAGS.run is not None else FLAGS.saved_model
    if Path(FLAGS.output).resolve().is_relative_to(Path(source).resolve()):
        cli.fail(f"--output={FLAGS.output} lies inside {source}; choose a path outside it")
    from tfzoo.training.outputs import write_bytes_atomic

    try:
        with tempfile.TemporaryDirectory(prefix="tfzoo-archive-") as tmp:
            staged = Path(tmp) / "archive.tar.gz"
            if FLAGS.run is not None:
                from tfzoo.packing import pack_run

                digest, size = pack_run(FLAGS.run, staged)
            else:
                digest, size = pack(FLAGS.saved_model, staged)
            measured = evaluate(staged, FLAGS.run) if FLAGS.evaluate else None
            Path(FLAGS.output).parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(FLAGS.output, staged.read_bytes())
    except (FileNotFoundError, ValueError) as error:
        cli.fail(error)
    print(f"{FLAGS.output}: sha256 {digest}, {size} bytes")
    if measured is not None:
        accuracy, examples, dataset = measured
        print(f"{FLAGS.output}: test accuracy {accuracy:.4f} ({round(accuracy * examples)} of {examples} test images "
              f"of {dataset}, the archive's float32 SavedModel)")


def evaluate(archive, run_dir):
    """(accuracy, examples, data set) of the SavedModel in ``archive`` on the test split of the data
    set that ``run_dir``'s config.json names."""
    from tfzoo.pretrained import load_archive, saved_model_test_accuracy

    config = json.loads((Path(run_dir) / "config.json").read_text())
    saved_model = load_archive(Path(archive).read_bytes(), what=f"archive of {run_dir}")
    accuracy, examples = saved_model_test_accuracy(saved_model, config["dataset"], data_dir=config.get("data_dir"))
    return accuracy, examples, config["dataset"]


if __name__ == "__main__":
    cli.run(main)

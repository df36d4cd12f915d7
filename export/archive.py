"""Pack a finished run (or an exported SavedModel) into a reproducible .tar.gz for the pretrained registry.

    python -m export.archive --run=runs/zoo/bn --output=tfzoo/pretrained_models/NAME.tar.gz
    python -m export.archive --saved_model=exported/NAME --output=NAME.tar.gz    # a SavedModel alone

``--run`` writes the run's Keras weights (``model.weights.h5``, what ``create_model(pretrained=...)``
loads) and a float32 SavedModel (``saved_model/``) exported from them (``tfzoo.packing``).
Entries are sorted, owned by 0:0 with mtime 0 and normalised modes, and the gzip header has no
timestamp. Prints the sha256 and size that go into ``tfzoo/pretrained_entries.py``.
"""

import hashlib
from pathlib import Path

from absl import flags

from tfzoo import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("run", None, "A finished run folder (config.json, model.keras) to pack with its weights.")
flags.DEFINE_string("saved_model", None, "An exported SavedModel folder to pack alone (no Keras weights).")
flags.DEFINE_string("output", None, "The .tar.gz to write (atomically).")


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
    try:
        if FLAGS.run is not None:
            from tfzoo.packing import pack_run

            digest, size = pack_run(FLAGS.run, FLAGS.output)
        else:
            digest, size = pack(FLAGS.saved_model, FLAGS.output)
    except (FileNotFoundError, ValueError) as error:
        cli.fail(error)
    print(f"{FLAGS.output}: sha256 {digest}, {size} bytes")


if __name__ == "__main__":
    cli.run(main)

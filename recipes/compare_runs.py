"""Finished runs side by side: one figure of their curves, one markdown table of their final numbers.

    python -m recipes.compare_runs runs/zoo/bn runs/zoo/zeroinit --labels="batch norm,ZeroInit" \\
        --output=comparison.png [--table=comparison.md]

Each argument is a recipe's run folder (its history.csv and, once finished, results.json) or a
history.csv on its own. Prints the table (test accuracy and loss, training loss with L2 and
training cross-entropy, epochs, median seconds per epoch); writes the figure (training loss and
test accuracy by epoch, every run on the same axes) to --output and the table to --table.
Exit 2 with one ``error:`` line, and nothing written, for a path that is not a run.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

from pathlib import Path

from absl import flags

from recipes import cli

FLAGS = flags.FLAGS
flags.DEFINE_list("labels", None, "One label per run, in order (default: each folder's name).")
flags.DEFINE_string("output", None, "The PNG to write the curves to.")
flags.DEFINE_string("table", None, "Also write the markdown table to this file.")
flags.DEFINE_string("title", "", "The figure's title.")


def main(argv):
    paths = argv[1:]
    if not paths:
        cli.fail("pass the runs to compare: python -m recipes.compare_runs RUN_DIR_OR_HISTORY_CSV ... --output=PNG")
    if not FLAGS.output or not FLAGS.output.endswith(".png"):
        cli.fail(f"--output must name the .png to write, got {FLAGS.output!r}")
    labels = FLAGS.labels or [None] * len(paths)
    if len(labels) != len(paths):
        cli.fail(f"--labels has {len(labels)} labels for {len(paths)} runs; give one per run, in order")
    from tfzoo.analysis.runs import RunError, plot_comparison, read_run, summary_table
    from tfzoo.training.outputs import write_text_atomic

    try:
        runs = [read_run(path, label) for path, label in zip(paths, labels)]
    except RunError as error:
        cli.fail(error)
    table = summary_table(runs)
    for target in (FLAGS.output, FLAGS.table):
        if target and not Path(target).parent.is_dir():
            cli.fail(f"the folder of {target} does not exist; create it first")
    plot_comparison(runs, FLAGS.output, title=FLAGS.title)
    if FLAGS.table:
        write_text_atomic(FLAGS.table, table + "\n")
    print(table)
    print(f"curves: {FLAGS.output}" + (f"  table: {FLAGS.table}" if FLAGS.table else ""))


def run():
    """The console script's entry point: ``python -m`` of this module."""
    cli.run(main)


if __name__ == "__main__":
    run()

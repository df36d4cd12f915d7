"""Learning-rate search with keras-tuner, the protocol of "Batch normalization has multiple benefits"
(section 3): at each batch size, n runs per learning rate 2^e on a log2 grid; the optimum of test
accuracy and of training loss, each the mean ± std of the best k of n runs, with a flag when it is at
the grid's edge.

    python -m recipes.lr_search --model=wrn-16-4 --normalization=none --init=zeroinit \\
        --dataset=cifar10 --data_dir=/path/to/cifar-10-batches-py --batch_sizes=16,64,256 \\
        --lr_exponents=-8:2 --runs=15 --best=12 --epochs=200 --output_dir=runs/lr_search/zeroinit
    python -m recipes.lr_search plot runs/lr_search/bn runs/lr_search/none runs/lr_search/zeroinit \\
        --output=figures/lr_search

Every training flag of ``recipes.cifar_wrn`` (``recipes/train_flags.py``) passes through, except
--lr and --batch_size, which the grid sets; run r trains with seed --seed + r. Writes trials.csv,
summary.json, summary.md, performance.png, optimal_lr.png and search.json to --output_dir, and each
trial to --output_dir/trials/bs{B}_lr{e}_run{r}/. Running the same command again finishes the
missing trials (a killed one from its last checkpoint) and re-runs none. Distributed: the same
command with KERASTUNER_TUNER_ID (chief, tuner0, ...), KERASTUNER_ORACLE_IP, KERASTUNER_ORACLE_PORT.
Measured here (2 CPU cores): the 6-trial search of tests/recipes/test_lr_search.py (WRN-10-1, 256
CIFAR-10-subset images, 1 epoch, batch 64, lr 2^-5, 2^-4, 2^8 x 2 runs; 2^8 diverges) takes 35 s;
its test accuracy is near chance (8-11 %) after so short a budget, as expected.
Exit codes: 0 done; 1 some trials failed (run again to retry them), a data error mid-search, or a
read-only or full --output_dir; 2 bad flag or data, or --output_dir in use by another search (one
``error:`` line, nothing written: both splits of the data are read and checked first).
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

import dataclasses
import os
import sys
from pathlib import Path

from absl import flags

from recipes import cli, train_flags

FLAGS = flags.FLAGS
flags.DEFINE_string("model", "wrn-16-4", "Registered model name, e.g. wrn-16-4 (tfzoo.list_models()).")
flags.DEFINE_string("batch_sizes", "16,64,256", "Comma-separated batch sizes.")
flags.DEFINE_string("lr_exponents", "-8:2",
                    "Learning rates 2^e: comma-separated integers and/or inclusive ranges a:b (-8:2 = -8,-7,...,2).")
flags.DEFINE_integer("runs", 15, "Runs (seeds) per grid point: n.")
flags.DEFINE_integer("best", 12, "Average the best k of the n runs.")
flags.DEFINE_string("output_dir", "runs/lr_search", "Search directory: results, keras-tuner state, one folder per trial.")
flags.DEFINE_string("output", None,
                    "plot subcommand only: a folder, or a prefix for PREFIX_performance.png and PREFIX_optimal_lr.png.")

_ORACLE_ENV = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


def parse_int_list(text, flag, ranges=False, minimum=None):
    """'16,64,256' -> [16, 64, 256]; with ``ranges``, 'a:b' items expand to a..b inclusive.
    Raises ValueError naming the flag on anything else, on repeats and on values below ``minimum``."""
    values = []
    for item in (text or "").split(","):
        item = item.strip()
        try:
            if ranges and ":" in item[1:]:
                split = item.index(":", 1)
                low, high = int(item[:split]), int(item[split + 1:])
                if low > high:
                    raise ValueError
                values.extend(range(low, high + 1))
            else:
                values.append(int(item))
        except ValueError:
            form = "an integer or an a:b range with a <= b" if ranges else "an integer"
            raise ValueError(f"--{flag}: {item!r} is not {form}. Received: --{flag}={text}") from None
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"--{flag} must not repeat a value; repeated: {repeated}. Received: --{flag}={text}")
    low = [v for v in values if minimum is not None and v < minimum]
    if low:
        raise ValueError(f"--{flag} must be >= {minimum}. Received: --{flag}={text}")
    return values


def role():
    """'single', 'chief' or 'worker', from keras-tuner's environment variables."""
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "single"
    return "chief" if "chief" in os.environ.get("KERASTUNER_TUNER_ID", "") else "worker"


def _check_flags():
    """The checks that need no TensorFlow, so that most bad flags fail in a second."""
    for name, instead in (("lr", "--lr_exponents"), ("batch_size", "--batch_sizes")):
        if FLAGS[name].present:
            train_flags.fail(f"--{name} is set per trial by the search grid; use {instead}")
    if FLAGS.output is not None:
        train_flags.fail("--output belongs to the plot subcommand; the search writes to --output_dir")
    if FLAGS.strategy == "multi_worker":
        train_flags.fail("--strategy=multi_worker is not supported by lr_search: spread its trials over machines with "
                         "keras-tuner's chief/worker mode (KERASTUNER_* variables); a trial may use mirrored or tpu")
    try:
        batch_sizes = parse_int_list(FLAGS.batch_sizes, "batch_sizes", minimum=1)
        exponents = parse_int_list(FLAGS.lr_exponents, "lr_exponents", ranges=True)
    except ValueError as error:
        train_flags.fail(error)
    if FLAGS.runs < 1:
        train_flags.fail(f"--runs must be >= 1. Received: --runs={FLAGS.runs}")
    if not 1 <= FLAGS.best <= FLAGS.runs:
        train_flags.fail(f"--best must be in [1, --runs={FLAGS.runs}]. Received: --best={FLAGS.best}")
    if any(name in os.environ for name in _ORACLE_ENV):
        missing = [name for name in _ORACLE_ENV if not os.environ.get(name)]
        if missing:
            train_flags.fail(f"distributed search needs {', '.join(_ORACLE_ENV)}; missing: {', '.join(missing)}")
        if not os.environ["KERASTUNER_ORACLE_PORT"].isdigit():
            train_flags.fail(f"KERASTUNER_ORACLE_PORT must be a port number. Received: {os.environ['KERASTUNER_ORACLE_PORT']!r}")
    return batch_sizes, exponents


def _base_config():
    """Every flag named like a TrainConfig field sets it, --model and --output_dir included."""
    return train_flags.config_from_flags(FLAGS.model, output_dir=FLAGS.output_dir)


def _same_data_dir_as_before(base):
    """``base`` with the ``data_dir`` spelling of the search already in --output_dir where both name
    one folder (``x``, ``x/``, ``./x``): search.json is compared as written."""
    import json

    from tfzoo.training.preparation import same_data_dir

    try:
        previous = json.loads((Path(FLAGS.output_dir) / "search.json").read_text())["config"]["data_dir"]
    except (OSError, ValueError, KeyError, TypeError):
        return base  # no search there yet, or not one check_search will accept: it says why
    if previous != base.data_dir and same_data_dir(previous, base.data_dir):
        return dataclasses.replace(base, data_dir=previous)
    return base


def _prepare(batch_sizes, exponents):
    """Validates every trial's TrainConfig, the directory and the data, before anything is written."""
    from tfzoo.data import DataError
    from tfzoo.search import Grid, report
    from tfzoo.training import lock
    from tfzoo.training.loop import load_training_data

    try:
        grid = Grid(tuple(batch_sizes), tuple(exponents), FLAGS.runs)
    except ValueError as error:
        train_flags.fail(error)
    base = _same_data_dir_as_before(_base_config())
    for spec in grid.trials()[:: grid.runs]:  # the runs of a point differ only in their seed
        train_flags.check_or_exit(dataclasses.replace(base, batch_size=spec.batch_size, lr=spec.lr), check_lock=False)
    search = report.search_identity(FLAGS.model, grid, base)
    try:
        report.check_search(FLAGS.output_dir, search)
        if role() != "worker":  # workers train in the folder the chief holds
            lock.check_free(FLAGS.output_dir)
        # Both splits, read and checked as every trial will, before search.json or the tuner's state exists.
        load_training_data(dataclasses.replace(base, batch_size=max(grid.batch_sizes)))
    except (ValueError, DataError, OSError) as error:
        train_flags.fail(error)
    return grid, base, search


def search_main():
    checked = _check_flags()  # before importing TensorFlow
    grid, base, search = _prepare(*checked)
    out = Path(FLAGS.output_dir)
    if role() == "worker":
        return _search(grid, base, search, out)
    from tfzoo.training import lock

    try:
        out.mkdir(parents=True, exist_ok=True)
        with lock.hold(out):  # one search per folder; a second one exits 2 naming this one
            return _search(grid, base, search, out)
    except lock.FolderInUse as error:
        train_flags.fail(error)
    except OSError as error:  # a read-only or full folder: the files written so far are whole
        train_flags.fail(f"{error} (output_dir {out}: fix this and run the same command again to resume)",
                         cli.EXIT_FAILED)


def _search(grid, base, search, out):
    """The search and its report, once checked (and on the chief, holding ``out``)."""
    from tfzoo.search import plots
    from tfzoo.search.tuner import search_and_report

    if role() != "worker":
        cli.write_flagfile(out)  # checked: the search starts; --flagfile=out/flagfile.txt repeats it
    print(f"{role()}: {len(grid)} trials ({len(grid.batch_sizes)} batch sizes x {len(grid.lr_exponents)} "
          f"learning rates x {grid.runs} runs) in {out}", flush=True)
    with cli.search_errors_are_one_line():
        done = search_and_report(base, grid, out, search, FLAGS.best, is_worker=role() == "worker")
    if done is None:
        print(f"worker {os.environ['KERASTUNER_TUNER_ID']}: the chief has no trials left", flush=True)
        return
    results, summary = done
    figures = plots.plot_searches([(plots.label(search), summary)], f"{out}{os.sep}")
    print((out / "summary.md").read_text().split("\n## ")[0].rstrip())
    for batch_size, entry in summary.items():
        for metric in ("test_accuracy", "train_loss"):
            if entry[metric]["boundary"]:
                print(f"warning: batch size {batch_size}: the optimal {metric} is at lr 2^{entry[metric]['lr_exponent']}, "
                      "the edge of the grid; extend --lr_exponents", file=sys.stderr)
    print(f"trials: {out / 'trials.csv'}  summary: {out / 'summary.json'}, {out / 'summary.md'}  "
          f"plots: {figures[0]}, {figures[1]}")
    missing = len(grid) - len(results)
    if missing:
        print(f"error: {missing} of {len(grid)} trials failed (see the lines above); "
              "run the same command again to retry them", file=sys.stderr)
        sys.exit(1)


def plot_main(directories):
    """``plot DIR ... --output=X``: overlays searches, labelled by normalization/init (Figures 1-2)."""
    if not directories:
        train_flags.fail("plot needs search directories: python -m recipes.lr_search plot DIR1 DIR2 ... --output=PREFIX")
    if not FLAGS.output:
        train_flags.fail("plot needs --output=PNG_PREFIX_OR_DIR")
    import json

    from tfzoo.search import plots, report

    loaded = []
    for directory in directories:
        try:
            loaded.append((directory, *report.load(directory)))
        except (ValueError, KeyError, TypeError, OSError, json.JSONDecodeError) as error:
            train_flags.fail(error)
    labels = [plots.label(search) for _, search, _ in loaded]
    searches = [
        (name if labels.count(name) == 1 else f"{name} ({Path(directory).name})", summary)
        for name, (directory, _, summary) in zip(labels, loaded)
    ]
    for path in plots.plot_searches(searches, FLAGS.output):
        print(path)


def main(argv):
    if len(argv) > 1 and argv[1] == "plot":
        return plot_main(argv[2:])
    if len(argv) > 1:
        train_flags.fail(f"unexpected arguments {argv[1:]}; every option is a --flag (or: plot DIR ... --output=X)")
    search_main()


def run():
    """The console script (setup.cfg): ``python -m`` of this module."""
    cli.run(main)


if __name__ == "__main__":
    run()

"""What the reproductions of the tables and figures of "Batch normalization has multiple benefits"
share: scales as data, one learning-rate search per (condition, depth, batch size), resumable outputs,
the time estimate and the CLI.

An experiment is a tuple of ``Condition``s (a table row or figure curve: TrainConfig overrides)
and a ``Scale`` per ``--scale``. Each (condition, depth, batch size) is one
``tfzoo.search.run_search`` in ``OUTPUT_DIR/<condition>/wrn-<d>-<k>_bs<B>/`` with the search's
own files (``tfzoo.search.report``), so the same command again re-runs no finished trial. The
protocol is section 3's: SGD, momentum 0.9, L2 5e-4, the halving schedule; the optimal test
accuracy and the optimal training loss, each the mean ± std of the best k of n runs at its own
learning rate.
"""

import dataclasses
import json
import math
import os
import sys
import time
from pathlib import Path

from absl import flags

from recipes import cli
from recipes.cli import fail
from recipes.paper import estimate
from tfzoo.data.sources import ENV_VAR

METRICS = {"test_accuracy": (100.0, 1), "train_loss": (1.0, 3)}  # table scale and decimals
FLAGS = flags.FLAGS


def define_flags(experiment):
    """The flags, defined when a CLI runs, not on import (tests import the experiments in a
    process where other recipes define --seed and --output_dir)."""
    names = list(experiment.scales)
    flags.DEFINE_enum("scale", "cpu" if "cpu" in names else names[0], names,
                      "paper: the published protocol; cpu: reduced, about an hour on 2 CPU cores; smoke: tests only.")
    flags.DEFINE_string("output_dir", None, "Experiment folder (default runs/paper/<experiment>_<scale>).")
    flags.DEFINE_string("data_dir", None, f"CIFAR-10 release folder (default: ${ENV_VAR}, then a prepared TFDS copy).")
    flags.DEFINE_integer("seed", 0, "Seed of run 0 of every search; run r uses seed + r.")
    flags.DEFINE_boolean("dry_run", False, "Print the plan, trial count and time estimate; write nothing.")


@dataclasses.dataclass(frozen=True)
class LrGrid:
    """Learning rates 2^e, e in [low, high] at ``reference_batch`` (at every batch size if None).

    With a reference batch the window slides by log2(B / reference_batch), the linear scaling
    the paper finds at small batch sizes (section 3, Figure 2a); it always reaches down to
    2^floor and never above 2^ceiling, to bracket the saturated optima of large batches.
    """

    low: int
    high: int
    reference_batch: int | None = None
    floor: int | None = None
    ceiling: int | None = None

    def exponents(self, batch_size):
        shift = round(math.log2(batch_size / self.reference_batch)) if self.reference_batch else 0
        low = self.low + shift if self.floor is None else min(self.low + shift, self.floor)
        high = self.high + shift if self.ceiling is None else min(self.high + shift, self.ceiling)
        return tuple(range(low, high + 1))


@dataclasses.dataclass(frozen=True)
class Condition:
    """One row or curve: a normalization, an init scheme and other TrainConfig overrides."""

    key: str
    label: str
    normalization: str
    init: str
    overrides: tuple = ()  # (field, value) pairs, e.g. (("conv_bias", True),)
    model: str = "wrn-{depth}-{width}"  # the create_model name, formatted with the scale's depth and width


@dataclasses.dataclass(frozen=True)
class Scale:
    """The protocol ``--scale`` selects; ``notes`` (printed in table.md) say how it differs from the paper's."""

    depths: tuple
    width: int
    batch_sizes: tuple
    lr: LrGrid
    runs: int
    best: int
    epochs: int
    max_train_examples: int | None  # None: the whole training set (the paper's 50,000 images)
    notes: str = ""

    def protocol(self):
        """Everything but the notes: what must not change when an output folder is resumed."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "notes"}


@dataclasses.dataclass(frozen=True)
class Experiment:
    """An experiment module's data. ``report(outcomes, scale, out)`` writes its figures and returns
    (table.md body, rows, claims) for table.md and results.json."""

    name: str
    title: str
    conditions: tuple
    scales: dict
    report: object
    dataset: str = "cifar10"
    dataset_label: str = "CIFAR-10"
    full_train: int = 50_000  # the paper's training set; --scale=paper refuses a smaller one
    ghost_batch: int = 64  # section 3's ghost batch (256 on ImageNet, section 5); a smaller batch is one
    defaults: tuple = ()  # (TrainConfig field, value) pairs for every search, e.g. section 5's schedule


@dataclasses.dataclass(frozen=True)
class Search:
    """One learning-rate search: a condition at a depth and batch size, its TrainConfig and Grid."""

    condition: Condition
    depth: int
    width: int
    batch_size: int
    config: object  # TrainConfig; the grid sets batch_size, lr and seed + run per trial
    grid: object
    best: int

    @property
    def model(self):
        return self.condition.model.format(depth=self.depth, width=self.width)

    @property
    def folder(self):
        return f"{self.condition.key}/{self.model}_bs{self.batch_size}"


@dataclasses.dataclass
class Outcome:
    """A search's completed TrialResults and its summary (``tfzoo.search.summarize``)."""

    search: Search
    results: list
    summary: dict

    @property
    def entry(self):
        return self.summary[str(self.search.batch_size)]

    def optimum(self, metric):
        return self.entry[metric]

    def value(self, metric):
        """The optimal best-k mean of ``metric``; None if no learning rate had k finite runs."""
        return self.entry[metric]["mean"]


def plan(experiment, scale, data_dir, seed):
    """Every search of ``experiment`` at ``scale``, in the order they run."""
    from tfzoo.search import Grid
    from tfzoo.training import TrainConfig

    searches = []
    for condition in experiment.conditions:
        for depth in scale.depths:
            for batch_size in scale.batch_sizes:
                grid = Grid((batch_size,), scale.lr.exponents(batch_size), scale.runs)
                search = Search(condition, depth, scale.width, batch_size, None, grid, scale.best)
                config = TrainConfig.create(
                    dataset=experiment.dataset, data_dir=data_dir, model=search.model,
                    normalization=condition.normalization, init=condition.init, batch_size=batch_size,
                    ghost_batch_size=min(experiment.ghost_batch, batch_size),
                    epochs=scale.epochs, max_train_examples=scale.max_train_examples, seed=seed,
                    **{**dict(experiment.defaults), **dict(condition.overrides)})
                searches.append(dataclasses.replace(search, config=config))
    return searches


def _check_flags(experiment):
    """The checks that need no TensorFlow: (scale name, output dir, data dir)."""
    if FLAGS.seed < 0:
        fail(f"seed must be >= 0. Received: seed={FLAGS.seed}")
    out = Path(FLAGS.output_dir or f"runs/paper/{experiment.name}_{FLAGS.scale}")
    if out.exists() and not out.is_dir():
        fail(f"output_dir={out} is a file")
    data_dir = os.path.abspath(os.path.expanduser(FLAGS.data_dir)) if FLAGS.data_dir is not None else None
    if data_dir is not None and not Path(data_dir).is_dir():
        fail(f"data_dir={data_dir} is not a folder")
    return FLAGS.scale, out, data_dir  # data_dir None: $TFZOO_DATA_DIR, then TFDS (tfzoo.data.load_arrays)


def prepare(experiment):
    """Checks flags, every trial's configuration, the data and the output folder; exits 2 at the first
    problem, having written nothing. Returns (scale name, scale, searches, out, data sizes, identity)."""
    scale_name, out, data_dir = _check_flags(experiment)
    scale = experiment.scales[scale_name]
    from tfzoo.data import DataError, num_examples
    from tfzoo.search import report

    searches = plan(experiment, scale, data_dir, FLAGS.seed)
    try:
        for search in searches:
            dataclasses.replace(search.config, lr=search.grid.trials()[0].lr).validate()
        num_train = num_examples(experiment.dataset, "train", data_dir)
        num_test = num_examples(experiment.dataset, "test", data_dir)
    except DataError as error:
        if data_dir is None and not os.environ.get(ENV_VAR):
            fail(f"no {experiment.dataset_label} data found: pass --data_dir=FOLDER (the extracted release) or set "
                 f"${ENV_VAR} ({error})")
        fail(error)
    except (ValueError, OSError) as error:
        fail(error)
    if scale.max_train_examples is None and num_train != experiment.full_train:
        other = [name for name in experiment.scales if name != scale_name]
        fail(f"--scale={scale_name} trains on the full {experiment.dataset_label} ({experiment.full_train:,} training "
             f"images); data_dir={data_dir} has {num_train:,}. Pass the full release with --data_dir"
             + (f", or use --scale={other[0]}" if other and other[0] != "smoke" else ""))
    if (scale.max_train_examples or 0) > num_train:
        fail(f"--scale={scale_name} trains on {scale.max_train_examples} images; data_dir={data_dir} has {num_train}")
    identity = json.loads(json.dumps({"experiment": experiment.name, "scale": scale_name, "protocol": scale.protocol(),
                                      "seed": FLAGS.seed, "data_dir": data_dir}))  # as experiment.json holds it
    try:
        if (out / "experiment.json").exists():
            previous = json.loads((out / "experiment.json").read_text())
            changed = sorted(k for k in identity if previous.get(k) != identity[k])
            if changed:
                fail(f"{out} holds an experiment with {changed[0]}={previous.get(changed[0])!r}, not "
                     f"{identity[changed[0]]!r}; use another --output_dir, or the same flags to resume it")
        for search in searches:
            report.check_search(out / search.folder, report.search_identity(search.model, search.grid, search.config))
    except (ValueError, json.JSONDecodeError) as error:
        fail(error)
    sizes = {"train": min(num_train, scale.max_train_examples or num_train), "test": num_test}
    return scale_name, scale, searches, out, sizes, identity


def print_plan(experiment, scale_name, scale, searches, out, sizes):
    """The plan, its trial count and how long the trials still to run should take here."""
    total = sum(len(s.grid) for s in searches)
    pending = [s for s in searches for spec in s.grid.trials()
               if not (out / s.folder / "trials" / spec.name / "results.json").exists()]
    print(f"{experiment.title}, --scale={scale_name}: {len(searches)} searches, {total} trials ({len(pending)} to run); "
          f"{sizes['train']:,} training / {sizes['test']:,} test images, {plural(scale.epochs, 'epoch')}, "
          f"{plural(scale.runs, 'run')} per learning rate, best {scale.best}", flush=True)
    print(estimate.describe(pending, scale.epochs, sizes), flush=True)


def run_searches(searches, out):
    """Runs (or resumes) every search and writes its report files; returns the Outcomes."""
    from tfzoo.search import report
    from tfzoo.search.tuner import search_and_report

    outcomes = []
    for i, search in enumerate(searches, 1):
        directory, grid = out / search.folder, search.grid
        print(f"[search {i}/{len(searches)}] {search.condition.label}: {search.model}, batch {search.batch_size}, "
              f"lr 2^{grid.lr_exponents[0]}..2^{grid.lr_exponents[-1]} x {plural(grid.runs, 'run')} -> {directory}",
              flush=True)
        identity = report.search_identity(search.model, grid, search.config)
        results, summary = search_and_report(search.config, grid, directory, identity, search.best)
        outcome = Outcome(search, results, summary)
        acc, loss = outcome.optimum("test_accuracy"), outcome.optimum("train_loss")
        print(f"[search {i}/{len(searches)}] optimal test accuracy {format_value(acc, 'test_accuracy')} at "
              f"{format_lr(acc)}, training loss {format_value(loss, 'train_loss')} at {format_lr(loss)}", flush=True)
        outcomes.append(outcome)
    return outcomes


# --- formatting shared by the tables -------------------------------------------------------------

def format_value(opt, metric):
    """'93.1 ± 0.2' (accuracy in %) or '0.212 ± 0.004'; '—' when no learning rate had k finite runs."""
    if opt["mean"] is None:
        return "—"
    scale, digits = METRICS[metric]
    return f"{opt['mean'] * scale:.{digits}f} ± {opt['std'] * scale:.{digits}f}"


def format_lr(opt):
    return "—" if opt["lr_exponent"] is None else f"2^{opt['lr_exponent']}" + (" (edge)" if opt["boundary"] else "")


def status(outcome):
    """Why a search has no optimum ('' if it has one)."""
    if outcome.value("test_accuracy") is not None:
        return ""
    points = outcome.entry["grid"]
    runs, diverged = sum(p["runs"] for p in points), sum(p["diverged"] for p in points)
    if runs and diverged == runs:
        return f"all {runs} runs diverged"
    return f"no learning rate had {outcome.search.best} finite runs ({diverged} of {runs} diverged)"


def labelled(outcome, text=None):
    """The condition's label, with the reason it has no optimum if so."""
    note = status(outcome)
    return (text or outcome.search.condition.label) + (f" ({note})" if note else "")


def by_test_accuracy(outcomes):
    """Best optimal test accuracy first; searches without an optimum last."""
    return sorted(outcomes, key=lambda o: -(o.value("test_accuracy") if o.value("test_accuracy") is not None else -1.0))


def plural(count, word):
    return f"{count} {word}" + ("" if count == 1 else "s")


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows])


def claim(c, ours, holds):
    """A ``reference.Claim`` checked: what we measured, and whether it agrees (None: cannot tell)."""
    return {"key": c.key, "source": c.source, "text": c.text, "ours": ours, "holds": holds}


def claims_markdown(claims):
    verdict = {True: "yes", False: "**no**", None: "cannot tell"}
    rows = [(f"{c['text']} ({c['source']})", c["ours"], verdict[c["holds"]]) for c in claims]
    return markdown_table(("the paper says", "we measure", "holds here"), rows)


def protocol_markdown(experiment, scale_name, scale, searches, sizes):
    grids = sorted({(s.batch_size, s.grid.lr_exponents) for s in searches})
    lrs = "; ".join(f"{'at batch ' + str(b) + ': ' if len(grids) > 1 else ''}2^{e[0]}..2^{e[-1]}" for b, e in grids)
    models = ", ".join(dict.fromkeys(s.model for s in searches))
    text = (f"Scale `{scale_name}`: {models}; batch sizes {list(scale.batch_sizes)}, "
            f"{plural(scale.epochs, 'epoch')} on {sizes['train']:,} {experiment.dataset_label} training images, test accuracy on "
            f"{sizes['test']:,} test images; learning rates {lrs}; mean ± std of the best {scale.best} of "
            f"{plural(scale.runs, 'run')}, the optima of test accuracy and training loss chosen separately; SGD, "
            "momentum 0.9, L2 5e-4 (unless a row says otherwise), the paper's schedule.")
    return text + (f"\n\n**Differs from the paper:** {scale.notes}" if scale.notes else "")


def outcome_json(outcome):
    s = outcome.search
    trials = [{"name": r.spec.name, "batch_size": r.spec.batch_size, "lr_exponent": r.spec.lr_exponent, "run": r.spec.run,
               "test_accuracy": r.test_accuracy, "train_loss": r.train_loss, "diverged": r.diverged, "seconds": r.seconds}
              for r in sorted(outcome.results, key=lambda r: r.spec)]
    return {"folder": s.folder, "condition": s.condition.key, "label": s.condition.label, "model": s.model,
            "depth": s.depth, "batch_size": s.batch_size, "normalization": s.condition.normalization,
            "init": s.condition.init, "overrides": dict(s.condition.overrides), "grid": s.grid.to_dict(), "best": s.best,
            "optimum": {m: outcome.optimum(m) for m in METRICS}, "trials": trials,
            "missing_trials": len(s.grid) - len(outcome.results), "status": status(outcome)}


def main(experiment):
    """Check everything, print the plan, run the searches, write table.md and results.json."""
    scale_name, scale, searches, out, sizes, identity = prepare(experiment)
    print_plan(experiment, scale_name, scale, searches, out, sizes)
    if FLAGS.dry_run:
        return
    from tfzoo.training.outputs import jsonable, write_text_atomic

    started = time.time()
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "experiment.json", json.dumps(identity, indent=2, sort_keys=True) + "\n")
    cli.write_flagfile(out)  # --flagfile=out/flagfile.txt runs this experiment again
    with cli.search_errors_are_one_line():
        outcomes = run_searches(searches, out)
    body, rows, claims = experiment.report(outcomes, scale, out)
    table = "\n\n".join([f"# {experiment.title}", protocol_markdown(experiment, scale_name, scale, searches, sizes), body,
                         "## Claims\n\n" + claims_markdown(claims)]) + "\n"
    write_text_atomic(out / "table.md", table)
    results = {**identity, "title": experiment.title, "rows": rows, "claims": claims,
               "searches": [outcome_json(o) for o in outcomes],
               "seconds": round(time.time() - started, 1),  # this invocation: a rerun that trains nothing is short
               "trial_seconds": round(sum(r.seconds for o in outcomes for r in o.results if math.isfinite(r.seconds)), 1)}
    write_text_atomic(out / "results.json", json.dumps(jsonable(results), indent=2, allow_nan=False) + "\n")
    print(table + f"\ntable: {out / 'table.md'}  results: {out / 'results.json'}")
    missing = sum(len(o.search.grid) - len(o.results) for o in outcomes)
    if missing:
        print(f"error: {missing} trials failed (see above); run the same command again to retry them", file=sys.stderr)
        sys.exit(1)


def run(experiment):
    """``absl.app.run`` of ``main``, with a bad flag one ``error:`` line and exit 2."""
    define_flags(experiment)

    def entry(argv):
        if len(argv) > 1:
            fail(f"unexpected arguments {argv[1:]}; every option is a --flag")
        main(experiment)

    cli.run(entry)

"""A search's files (the protocol of "Batch normalization has multiple benefits", section 3):
search.json, trials.csv, summary.json, summary.md.

Every file is written to a temporary name and renamed, so a reader never sees half of one.
``search.json`` is the search's identity (grid + training configuration, not ``best``): a later
run into the same directory must match it.
"""

import csv
import io
import json
import math
from pathlib import Path

from tfzoo.search.grid import Grid, TrialSpec
from tfzoo.search.summary import TrialResult, markdown
from tfzoo.training import TrainConfig, outputs
from tfzoo.training.determinism import check_same_kernels, onednn_enabled

TRIALS_COLUMNS = ("batch_size", "lr", "run", "test_accuracy", "train_loss", "diverged", "seconds")
# Per-trial fields the grid sets; the rest of the TrainConfig is the same for every trial.
PER_TRIAL_FIELDS = ("batch_size", "lr", "output_dir")


def search_identity(model, grid, base_config):
    """What must not change between runs into one directory: model, grid, training config and
    TensorFlow's CPU kernels (``onednn``: other kernels, other numbers).

    ``base_config.seed`` is the seed of run 0 (run r uses seed + r).
    """
    config = {k: v for k, v in base_config.to_flat_dict().items() if k not in PER_TRIAL_FIELDS}
    return {"model": model, "grid": grid.to_dict(), "config": config, "onednn": onednn_enabled()}


def check_search(directory, search):
    """Raises ValueError naming the first difference if ``directory`` holds another search."""
    path = Path(directory) / "search.json"
    if not path.exists():
        return
    previous = json.loads(path.read_text())
    if isinstance(previous.get("config"), dict):  # training fields added since it was written: their defaults
        defaults = {k: v for k, v in TrainConfig().to_flat_dict().items() if k not in PER_TRIAL_FIELDS}
        previous["config"] = {**defaults, **previous["config"]}
    for key in ("model", "grid", "config"):
        old, new = previous.get(key), search[key]
        if isinstance(new, dict) and isinstance(old, dict):
            changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            if changed:
                k = changed[0]
                raise ValueError(
                    f"{directory} holds a search with {k}={old.get(k)!r}, not {new.get(k)!r}; "
                    "use a new --output_dir, or the same flags to resume it."
                )
        elif old != new:
            raise ValueError(f"{directory} holds a search with {key}={old!r}, not {new!r}; use a new --output_dir.")
    check_same_kernels(previous.get("onednn"), f"the search in {directory}")  # older searches: not recorded


def write_search(directory, search):
    Path(directory).mkdir(parents=True, exist_ok=True)
    outputs.write_text_atomic(Path(directory) / "search.json", json.dumps(outputs.jsonable(search), indent=2, sort_keys=True))


def trials_csv(results):
    """trials.csv text: one row per finished trial, grid order; empty metrics where a run diverged."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(TRIALS_COLUMNS)
    for r in sorted(results, key=lambda r: r.spec):
        writer.writerow([
            r.spec.batch_size, repr(r.spec.lr), r.spec.run,
            "" if r.test_accuracy is None else repr(r.test_accuracy),
            "" if r.train_loss is None else repr(r.train_loss),
            "true" if r.diverged else "false", repr(r.seconds),
        ])
    return text.getvalue()


def read_trials_csv(path):
    """The TrialResults of a trials.csv."""
    results = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            spec = TrialSpec(int(row["batch_size"]), round(math.log2(float(row["lr"]))), int(row["run"]))
            metrics = [None if row[k] == "" else float(row[k]) for k in ("test_accuracy", "train_loss")]
            results.append(TrialResult(spec, *metrics, row["diverged"] == "true", float(row["seconds"])))
    return results


def write_outputs(directory, results, summary, search, best):
    """trials.csv, summary.json (keyed by batch size; NaN-free) and summary.md."""
    directory = Path(directory)
    outputs.write_text_atomic(directory / "trials.csv", trials_csv(results))
    text = json.dumps(outputs.jsonable(summary), indent=2, allow_nan=False)
    outputs.write_text_atomic(directory / "summary.json", text + "\n")
    outputs.write_text_atomic(directory / "summary.md", markdown(summary, search, best))


def load(directory):
    """(search, summary) of a finished search directory; ValueError if it is not one."""
    directory = Path(directory)
    missing = [name for name in ("search.json", "summary.json") if not (directory / name).is_file()]
    if missing:
        raise ValueError(f"{directory} is not a learning-rate search directory: no {' or '.join(missing)}.")
    search = json.loads((directory / "search.json").read_text())
    Grid(**search["grid"])  # a malformed file fails here, not in a plot
    return search, json.loads((directory / "summary.json").read_text())

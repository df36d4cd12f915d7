"""tfzoo.cli's experiment files: a run writes the flags it was given to flagfile.txt once it has
really started (never on a bad flag), and ``--flagfile=OUT/flagfile.txt --output_dir=OTHER``
runs the same experiment again, to the same numbers."""

import json
import os
import subprocess
import sys

import pytest
from absl import flags

from tests.cli_cases import assert_one_error
from tests.conftest import REPO
from tfzoo import cli


def _flag_values():
    values = flags.FlagValues()
    flags.DEFINE_integer("depth", 16, "", flag_values=values)
    flags.DEFINE_float("lr", 0.25, "", flag_values=values)
    flags.DEFINE_boolean("nesterov", True, "", flag_values=values)
    flags.DEFINE_string("data_dir", None, "", flag_values=values)
    flags.DEFINE_string("export", None, "", flag_values=values)
    return values


def test_flagfile_text_lists_given_flags_and_comments_the_defaults(tmp_path):
    values = _flag_values()
    values(["prog", "--depth=10", "--nonesterov", "--export=somewhere"])
    lines = cli.flagfile_text(values, program="recipe").splitlines()
    assert lines[0].startswith("# flags of recipe: rerun with --flagfile=")
    assert [line for line in lines if not line.startswith("#")] == ["--depth=10", "--nonesterov"]  # --export: not the experiment
    assert "# --lr=0.25" in lines and "# --data_dir (unset)" in lines
    path = cli.write_flagfile(tmp_path / "out", values)
    assert path == tmp_path / "out" / "flagfile.txt" and [p.name for p in path.parent.iterdir()] == ["flagfile.txt"]
    again = _flag_values()
    again(["prog", f"--flagfile={path}", "--depth=12"])  # absl's own --flagfile; a later flag wins
    assert (again.depth, again.nesterov, again.lr, again.export) == (12, False, 0.25, None)
    assert not again["lr"].present  # a default stays a default


@pytest.mark.slow
def test_rerun_from_the_written_flagfile_gives_the_same_results(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    tiny = ["--dataset=fashion_mnist", "--depth=10", "--width=1", "--epochs=1", "--max_train_examples=256",
            "--validation_examples=128", "--batch_size=64", "--lr=0.05", "--seed=3"]

    def recipe(*args):
        return subprocess.run([sys.executable, "-m", "recipes.cifar_wrn", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=600)

    bad = recipe(*tiny, "--depth=11", f"--output_dir={tmp_path / 'bad'}")
    assert bad.returncode == 2 and not (tmp_path / "bad" / "flagfile.txt").exists()
    first = recipe(*tiny, f"--output_dir={tmp_path / 'first'}")
    assert first.returncode == 0, first.stderr[-2000:]
    written = (tmp_path / "first" / "flagfile.txt").read_text()
    assert "--depth=10" in written and "--seed=3" in written
    again = recipe(f"--flagfile={tmp_path / 'first' / 'flagfile.txt'}", f"--output_dir={tmp_path / 'again'}")
    assert again.returncode == 0, again.stderr[-2000:]
    results = [json.loads((tmp_path / name / "results.json").read_text()) for name in ("first", "again")]
    for key in ("test_accuracy", "test_loss", "train_loss", "epochs", "eval_split"):
        assert results[0][key] == results[1][key], key
    assert (tmp_path / "again" / "flagfile.txt").read_text().replace("again", "first") == written


def test_a_missing_flagfile_is_one_error_line(tmp_path):
    from tests.cli_cases import run_cases

    (result,) = run_cases("export.__main__", [[f"--flagfile={tmp_path / 'none.txt'}"]])
    assert_one_error(result, "none.txt")

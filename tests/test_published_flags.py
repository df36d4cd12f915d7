"""Every pretrained entry has its flag file in configs/ (README: "configs/ holds the flag file of every published
result"), and that file trains what the entry's model card says: the same recipe flags as the card's command, a flag
left out on one side counting at the recipe's default."""

import json
import os
import shlex
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tfzoo import pretrained

RECIPE = "python -m recipes.cifar_wrn"
# The recipe's flags as {name: [type, default]}, read in a process of their own: importing the recipe here would define
# --depth and --output_dir a second time in a pytest worker that has imported another recipe.
_DEFAULTS_SCRIPT = (
    "import json, recipes.cifar_wrn; from absl import flags; "
    "print(json.dumps({k: [flags.FLAGS[k].flag_type(), flags.FLAGS[k].default] for k in flags.FLAGS}))")
_PARSE = {"int": int, "float": float, "string": str,
          "bool": lambda v: {"true": True, "false": False, "1": True, "0": False}[v.lower()]}


@pytest.fixture(scope="module")
def recipe_flags():
    done = subprocess.run([sys.executable, "-c", _DEFAULTS_SCRIPT], cwd=REPO, capture_output=True, text=True,
                          check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def _flag_file(name):
    found = list((REPO / "configs").glob(f"*/{name}.flags"))
    assert len(found) == 1, f"{name}: expected one configs/*/{name}.flags, found {found}"
    return found[0]


def _pairs(tokens):
    pairs = {}
    for token in tokens:
        assert token.startswith("--") and "=" in token, f"not a --name=value flag: {token!r}"
        key, value = token[2:].split("=", 1)
        assert key not in pairs, f"--{key} given twice"
        pairs[key] = value
    return pairs


def _values(pairs, known):
    """Each flag's value parsed as the recipe's flag of that name; a flag the recipe does not define is an error."""
    unknown = sorted(set(pairs) - set(known))
    assert not unknown, f"flags the recipe does not define: {unknown}"
    return {key: _PARSE[known[key][0]](value) for key, value in pairs.items()}


def _compare(card_pairs, file_pairs, known):
    """{flag: (card's value, file's value)} where they differ, a flag absent on one side at its default."""
    card, file = _values(card_pairs, known), _values(file_pairs, known)
    differ = {}
    for key in set(card) | set(file):
        default = known[key][1]
        if card.get(key, default) != file.get(key, default):
            differ[key] = (card.get(key, default), file.get(key, default))
    return differ


@pytest.mark.parametrize("name", pretrained.names())
def test_each_entry_has_a_flag_file_that_trains_its_command(name, recipe_flags):
    command = pretrained.info(name).command.split("&&")[0].strip()
    assert command.startswith(RECIPE + " "), command
    card = _pairs(shlex.split(command[len(RECIPE):]))
    lines = [line.strip() for line in _flag_file(name).read_text().splitlines()]
    file = _pairs([line for line in lines if line and not line.startswith("#")])
    assert _compare(card, file, recipe_flags) == {}, f"{name}: (card's command, flag file) differ"
    assert name in lines[0], "the file's first line names its entry"


def test_a_differing_flag_is_found(recipe_flags):
    card = {"lr": "0.0625", "epochs": "60", "precision": "bf16"}
    assert _compare(card, {**card, "lr": "0.125"}, recipe_flags) == {"lr": (0.0625, 0.125)}
    assert _compare(card, {**card, "lr": "6.25e-2"}, recipe_flags) == {}, "values compare as the recipe parses them"
    default_schedule = recipe_flags["schedule"][1]
    assert _compare(card, {**card, "schedule": default_schedule}, recipe_flags) == {}, "a default may be left out"
    assert _compare(card, {**card, "schedule": "cosine"}, recipe_flags) == {"schedule": (default_schedule, "cosine")}
    with pytest.raises(AssertionError, match="does not define"):
        _compare(card, {**card, "learning_rate": "0.1"}, recipe_flags)


def test_the_zoo_command_of_ghost_batch_norm_trains_in_one_step_of_128(recipe_flags):
    from tfzoo.pretrained.zoo import _zoo_entry

    entry = _zoo_entry("gbn", "ghost_batch_norm", "standard", lr_exponent=-3, grid="2^-4..2^0", sha256="0" * 64,
                       size=1, test_accuracy=0.95, training_seconds=1.0)
    card = _values(_pairs(shlex.split(entry.command.split("&&")[0].strip()[len(RECIPE):])), recipe_flags)
    assert (card["ghost_batch_size"], card["batch_size"], card["accumulate_ghost_batches"]) == (64, 128, False)
    assert card["output_dir"] == "runs/zoo/gbn" and card["lr"] == 0.125


def test_a_zoo_entry_at_batch_64_names_its_own_run_folder_and_batch(recipe_flags):
    from tfzoo.pretrained.zoo import _zoo_entry

    entry = _zoo_entry("zeroinit", "none", "zeroinit", lr_exponent=-5, grid="2^-6..2^-2", sha256="0" * 64, size=1,
                       test_accuracy=0.95, training_seconds=1.0, batch_size=64)
    recipe, archive = entry.command.split("&&")
    card = _values(_pairs(shlex.split(recipe.strip()[len(RECIPE):])), recipe_flags)
    assert (card["batch_size"], card["ghost_batch_size"], card["lr"]) == (64, 64, 2.0 ** -5)
    assert card["output_dir"] == "runs/zoo/zeroinit-b64" and "--run=runs/zoo/zeroinit-b64 " in archive
    assert "`BATCH=64 EPOCHS=60 bash configs/zoo/fashion_mnist.sh zeroinit`" in entry.lr_selection

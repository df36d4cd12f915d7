"""``--help`` of every console script (setup.cfg) lists that program's own flags with their help, not
absl's "Try --helpfull", and leaves absl's and TensorFlow's flags to ``--helpfull``."""

import configparser
import os
import subprocess
import sys

from tests.conftest import REPO

# A flag each program must list: its own, or one of the shared training flags it imports.
EXPECTED = {
    "tfzoo-train": ("--depth", "--normalization", "--conv_bias", "--scalar_multiplier", "--lr"),
    "tfzoo-search": ("--model", "--lr_exponents", "--normalization"),
    "tfzoo-compare": ("--output",),
    "tfzoo-evaluate": ("--model", "--dataset", "--data_dir"),
    "tfzoo-export": ("--format",),
    "tfzoo-predict": ("--model",),
    "tfzoo-preset": ("--run",),
}


def _console_scripts():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    lines = [line.split("=") for line in config["options.entry_points"]["console_scripts"].strip().splitlines()]
    return {name.strip(): target.strip() for name, target in lines}


def test_every_console_script_lists_its_own_flags():
    scripts = {name: target for name, target in _console_scripts().items() if name != "tfzoo-bench"}  # argparse's own
    assert set(scripts) == set(EXPECTED)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    children = {}
    for name, target in scripts.items():  # as the installed script does: import the module, call the function
        module, function = target.split(":")
        code = f"import sys; sys.argv[0] = {name!r}; from {module} import {function}; {function}()"
        children[name] = subprocess.Popen([sys.executable, "-c", code, "--help"], cwd=REPO, env=env, text=True,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for name, child in children.items():
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, (name, err[-2000:])
        assert "Try --helpfull" not in out and "--helpfull" in out.splitlines()[-1], name
        listed = {line.split(":")[0].strip().replace("[no]", "") for line in out.splitlines() if line.startswith("  --")}
        assert set(EXPECTED[name]) <= listed, (name, sorted(listed))
        assert "--only_check_args" not in listed and "--tt_check_filter" not in listed, name  # absl's, TensorFlow's

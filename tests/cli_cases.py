"""Many bad command lines of one CLI in ONE fresh process: one TensorFlow import for all of them
instead of one each (about 6 s of CPU per case on 2 cores).

In that process each command line is parsed from scratch (absl's flags reset to their defaults)
and run as ``recipes.cli.run`` runs it, ``main(cli.parse_flags(argv))``; its exit code, stdout
and stderr are captured. Only for command lines that fail before training: a case that trained
would train in the shared process. The cases run in order, so one that changes TensorFlow's global
state (logical devices, a TPU connection) goes last. Each CLI's tests keep one case in its own ``python -m``
process, the path a user takes end to end.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

_SCRIPT = r"""
import contextlib, io, json, sys
from absl import flags
from recipes import cli
import {module} as tool

results = []
for argv in json.loads(sys.stdin.read()):
    flags.FLAGS.unparse_flags()
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = tool.main(cli.parse_flags([tool.__file__, *argv])) or 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    results.append({{"returncode": code, "stdout": out.getvalue(), "stderr": err.getvalue()}})
print("CASES " + json.dumps(results))
"""


def run_cases(module, argvs, env=None, timeout=600):
    """[subprocess.CompletedProcess] of ``python -m module *argv`` for each argv, all in one process."""
    env = dict(env if env is not None else os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    child = subprocess.run([sys.executable, "-c", _SCRIPT.format(module=module)], input=json.dumps(argvs), cwd=REPO,
                           env=env, capture_output=True, text=True, timeout=timeout)
    lines = [line for line in child.stdout.splitlines() if line.startswith("CASES ")]
    assert child.returncode == 0 and lines, child.stderr[-3000:]
    return [subprocess.CompletedProcess([module, *argv], **r) for argv, r in zip(argvs, json.loads(lines[-1][len("CASES "):]))]


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def assert_one_error(result, message):
    """A bad flag's contract: exit 2 and exactly one ``error:`` line, which contains ``message``."""
    assert result.returncode == 2, result.stderr[-2000:]
    errors = error_lines(result)
    assert len(errors) == 1 and message in errors[0], result.stderr[-2000:]


def assert_main_refuses(main, argv, capsys, message):
    """The same contract for a tool's ``main(argv)`` called in this process: ``SystemExit(2)``, and its last
    stderr line an ``error:`` line that contains ``message``."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert exit_info.value.code == 2 and error.startswith("error: ") and message in error, error

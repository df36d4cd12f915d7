"""What every tfzoo command line shares (recipes/, export/, bench/): one-line errors, absl flag
parsing, the CPU-kernel preference and experiment files. Defines no flags of its own.

Bad input: one ``error:`` line on stderr and exit 2 (``fail``), before anything is written; a
flag absl cannot parse (``--depth=abc``, an enum value) too (``run``). A search that cannot go on:
one ``error:`` line and exit 1 (``search_errors_are_one_line``).

Experiment files: every program takes absl's own ``--flagfile=FILE``; ``write_flagfile(DIR)``
writes the flags a run was given to ``DIR/flagfile.txt`` (the defaults of the others as
comments), so ``--flagfile=DIR/flagfile.txt --output_dir=OTHER`` runs the same experiment again.
"""

import contextlib
import os
import sys
from pathlib import Path

from tfzoo.training.outputs import write_text_atomic

EXIT_FAILED = 1
EXIT_BAD_FLAG = 2
FLAGFILE = "flagfile.txt"
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"
# Not part of an experiment: absl's own file flags, and where an extra copy of the result goes.
_NOT_WRITTEN = ("flagfile", "undefok", "export")
# Whose flags make up an experiment: the program itself (absl names it by its file) and tfzoo's
# packages; not absl's, TensorFlow's or another library's.
_PROJECT_PACKAGES = ("recipes", "export", "bench", "tfzoo", "tools", "tests", "__main__")


def fail(message, code=EXIT_BAD_FLAG):
    """One ``error:`` line on stderr and exit ``code`` (2: a bad flag)."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


@contextlib.contextmanager
def search_errors_are_one_line():
    """A learning-rate search that cannot go on (keras_tuner's FatalError, e.g. data unreadable
    mid-search, which is not a RuntimeError; or a RuntimeError): its first line as one ``error:``
    line and exit 1, not a traceback."""
    import keras_tuner

    try:
        yield
    except (keras_tuner.errors.FatalError, RuntimeError) as error:
        fail(str(error).strip().splitlines()[0], EXIT_FAILED)


_HELP_FLAGS = ("-h", "-help", "--help", "-?", "--helpshort")


def parse_flags(argv, doc=None):
    """absl's parser, with a value it cannot parse one ``error:`` line and exit 2 (not absl's FATAL).

    ``--help`` (``-h``, ``--helpshort``) prints ``doc`` and the program's own flags (``help_text``) and
    exits 0: absl would list only the flags of the file run, none for a console script, whose flags
    are defined in the modules it imports. ``--helpfull`` is absl's, every library's flags included."""
    from absl import flags

    if any(arg in _HELP_FLAGS for arg in argv[1:]):
        print(help_text(doc))
        sys.exit(0)
    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        fail(error)


def help_text(doc=None, flag_values=None):
    """``doc`` (a program's module docstring), then the flags of this program and tfzoo's packages,
    grouped by the module defining them, with their help and defaults; absl's and TensorFlow's left
    to ``--helpfull``."""
    from absl import flags

    flag_values = flag_values or flags.FLAGS
    parts = [doc.strip()] if doc else []
    modules = [m for m in sorted(flag_values.flags_by_module_dict()) if _is_project_module(m)]
    parts += [flag_values.module_help(module) for module in modules]
    parts.append("Every flag of the libraries (absl, TensorFlow) as well: --helpfull")
    return "\n\n".join(parts)


def _is_project_module(module):
    return module.split(".")[0] in _PROJECT_PACKAGES or module.endswith(".py")


def run(main, argv=None):
    """``absl.app.run(main)`` with ``parse_flags``, ``--help`` showing the docstring of ``main``'s module."""
    import functools

    from absl import app

    doc = getattr(sys.modules.get(main.__module__), "__doc__", None)
    app.run(main, argv=argv, flags_parser=functools.partial(parse_flags, doc=doc))


def prefer_onednn():
    """Sets ``$TF_ENABLE_ONEDNN_OPTS=1`` if it is unset and TensorFlow is not imported yet (it reads
    the variable once, at import); a command line calls it in its entry point, never on import.

    TensorFlow turns oneDNN's CPU kernels on by itself only on CPUs with AVX512-VNNI, AMX and the
    like; docs/performance.md measures what they change. Returns whether TensorFlow will
    run them as far as the environment says (None: TensorFlow had already started without it).
    """
    if ONEDNN_ENV not in os.environ and "tensorflow" not in sys.modules:
        os.environ[ONEDNN_ENV] = "1"
    if ONEDNN_ENV not in os.environ:
        return None
    return os.environ[ONEDNN_ENV].strip().lower() in ("1", "true")


def flagfile_text(flag_values=None, program=None):
    """The flags of this program and tfzoo's packages (absl's and TensorFlow's left out) as an absl flag file: each flag the command
    line or a flag file set, one ``--name=value`` a line; every other flag's default as a comment.

    Only the flags that were set are active, so a flag whose absence means something (a learning
    rate derived from the batch size when ``--lr`` is not given) keeps that meaning on a rerun.
    """
    from absl import flags

    flag_values = flag_values or flags.FLAGS
    given, defaults = [], []
    for module, module_flags in sorted(flag_values.flags_by_module_dict().items()):
        if not _is_project_module(module):
            continue
        for flag in module_flags:
            if flag.name in _NOT_WRITTEN:
                continue
            if flag.present:
                given.append(flag.serialize())
            else:
                defaults.append(f"# {flag.serialize() or f'--{flag.name} (unset)'}")
    program = program or Path(sys.argv[0]).name
    lines = [f"# flags of {program}: rerun with --flagfile=THIS_FILE --output_dir=NEW_FOLDER", *sorted(set(given))]
    if defaults:
        lines += ["# not given (the defaults this run used):", *sorted(set(defaults))]
    return "\n".join(lines) + "\n"


def write_flagfile(output_dir, flag_values=None):
    """Writes ``output_dir/flagfile.txt`` (``flagfile_text``) atomically; returns its path. Call it
    once the run has really started, so a bad flag never leaves one behind."""
    path = Path(output_dir) / FLAGFILE
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, flagfile_text(flag_values))
    return path


def flagfile_callback(output_dir):
    """A Keras callback that writes ``output_dir/flagfile.txt`` when training begins: after the
    configuration, the data and the model have all been checked and built."""
    import keras

    class WriteFlagfile(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            write_flagfile(output_dir)

    return WriteFlagfile()

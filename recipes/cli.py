"""The command-line contract of every tfzoo CLI (recipes/ and export/), with no flags of its own.

Bad input: one ``error:`` line on stderr and exit 2 (``fail``), before anything is written; a
flag absl cannot parse (``--depth=abc``, an enum value) too (``run``). A search that cannot go on:
one ``error:`` line and exit 1 (``search_errors_are_one_line``).
"""

import contextlib
import sys

EXIT_FAILED = 1
EXIT_BAD_FLAG = 2


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


def parse_flags(argv):
    """absl's parser, with a value it cannot parse one ``error:`` line and exit 2 (not absl's FATAL)."""
    from absl import flags

    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        fail(error)


def run(main, argv=None):
    """``absl.app.run(main)`` with ``parse_flags``."""
    from absl import app

    app.run(main, argv=argv, flags_parser=parse_flags)

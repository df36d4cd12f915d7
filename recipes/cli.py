"""The command-line contract of every tfzoo CLI (recipes/ and export/), with no flags of its own.

Bad input: one ``error:`` line on stderr and exit 2 (``fail``), before anything is written; a
flag absl cannot parse (``--depth=abc``, an enum value) too (``run``).
"""

import sys

EXIT_BAD_FLAG = 2


def fail(message):
    """One ``error:`` line on stderr and exit 2."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(EXIT_BAD_FLAG)


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

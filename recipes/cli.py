"""The command-line contract of every tfzoo CLI (recipes/ and export/), with no flags of its own.

Bad input: one ``error:`` line on stderr and exit 2 (``fail``), before anything is written.
"""

import sys

EXIT_BAD_FLAG = 2


def fail(message):
    """One ``error:`` line on stderr and exit 2."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(EXIT_BAD_FLAG)

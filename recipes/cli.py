"""The command-line contract of every tfzoo CLI, now in ``tfzoo.cli``; re-exported here so the
recipes keep importing ``recipes.cli``."""

from tfzoo.cli import (  # noqa: F401
    EXIT_BAD_FLAG,
    EXIT_FAILED,
    fail,
    flagfile_callback,
    parse_flags,
    run,
    search_errors_are_one_line,
    write_flagfile,
)

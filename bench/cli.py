"""The benchmarks' command lines: absl flags, as every tfzoo program takes them.

Each benchmark declares its flags with ``add_argument`` in one place, as it would for argparse, on
its own ``absl.flags.FlagValues``: so ``main(argv)`` can run again in one process (the tests, and
``tools.kernel_time`` forwarding flags to ``bench.train_throughput``). What that gives a user is
the tfzoo convention: ``--flag=value``, real booleans (``--torch``, ``--notorch``,
``--torch=false``), ``--flagfile=FILE``, ``--help``, and a bad flag as one ``error:`` line and exit 2.
"""

import argparse
import sys

from absl import flags

from tfzoo.cli import fail


class FlagParser:
    """argparse's ``add_argument`` / ``parse_args`` / ``error`` over absl flags.

    ``type=int`` / ``float``: an integer or float flag; ``choices``: an enum; ``action="store_true"``
    or ``boolean=True``: a boolean flag; otherwise a string. ``parse_args`` returns a namespace of
    every flag's value; ``error`` is ``tfzoo.cli.fail``.
    """

    def __init__(self, prog, description=""):
        self.prog = prog
        self.description = description
        self.values = flags.FlagValues()
        self._required = []

    def add_argument(self, name, *, default=None, type=None, choices=None, action=None, boolean=False, help="",
                     required=False):
        name, fv = name.lstrip("-"), self.values
        if action == "store_true" or boolean:
            flags.DEFINE_boolean(name, bool(default), help, flag_values=fv)
        elif type is int:
            flags.DEFINE_integer(name, default, help, flag_values=fv)
        elif type is float:
            flags.DEFINE_float(name, default, help, flag_values=fv)
        elif choices is not None:
            flags.DEFINE_enum(name, default, list(choices), help, flag_values=fv)
        else:
            flags.DEFINE_string(name, default, help, flag_values=fv)
        if required:
            self._required.append(name)

    def parse_args(self, argv=None):
        argv = sys.argv[1:] if argv is None else list(argv)
        if "--help" in argv or "-h" in argv:
            print(f"{self.prog}: {self.description}\n\n{self.values.get_help()}")
            sys.exit(0)
        try:
            rest = self.values([self.prog, *argv])
        except flags.Error as error:
            fail(error)
        if len(rest) > 1:
            fail(f"{self.prog} takes --flags only. Received: {rest[1]!r}")
        for name in self._required:
            if self.values[name].value is None:
                fail(f"{self.prog} needs --{name}")
        return argparse.Namespace(**{name: self.values[name].value for name in self.values})

    def error(self, message):
        fail(message)

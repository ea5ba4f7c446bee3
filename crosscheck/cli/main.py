"""The ``crosscheck`` command line (DESIGN §5): the parser and its subcommands.

Each subcommand lives in its own module (``verify_command``, ``check_command``,
``bench_command``); what they share (exit statuses, usage errors, option types, output
paths) in ``crosscheck.cli.common``. Exit status: 0 agrees, 1 a fault or disagreement,
2 a usage error, reported as one line on stderr, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from crosscheck import __version__
from crosscheck.cli.bench_command import add_bench_parser
from crosscheck.cli.check_command import add_check_parser, add_selftest_parser
from crosscheck.cli.common import EXIT_USAGE, Parser, UsageError
from crosscheck.cli.verify_command import add_verify_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``crosscheck`` with `argv` (default ``sys.argv[1:]``) and return the exit status.

    Args:
        argv: the arguments after the program name, e.g. ``["verify", "--dataset", "iris"]``.

    Returns:
        0 all implementations agree (or --help/--version), 1 any disagree, 2 a usage error.

    Raises:
        Nothing: usage errors print one line on stderr and return 2.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.run(args)
    except UsageError as error:
        print(" ".join(str(error).split()), file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    """The ``crosscheck`` parser with its subcommands ."""
    parser = Parser(
        prog="crosscheck",
        description="Cross-check backpropagation: an index-level reference, the matrix form"
        " and JAX autodiff, compared entry by entry.",
    )
    parser.add_argument("--version", action="version", version=f"crosscheck {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", required=True)
    add_verify_parser(commands)
    add_bench_parser(commands)
    add_check_parser(commands)
    add_selftest_parser(commands)
    return parser

"""The ``crosscheck`` command line (DESIGN §5): the parser and its subcommands.

Each subcommand lives in its own module (``verify_command``, ``check_command``,
``bench_command``); what they share (exit statuses, usage errors, option types, output
paths) in ``crosscheck.cli.common``. Exit status: 0 agrees, 1 a fault or disagreement,
2 a usage error, reported as one line on stderr, without a traceback; 130 after Ctrl-C, also
one line. With ``--json -`` the human report goes to standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from crosscheck import __version__
from crosscheck.cli.common import EXIT_INTERRUPTED, EXIT_USAGE, STDOUT, Parser, UsageError


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``crosscheck`` with `argv` (default ``sys.argv[1:]``) and return the exit status.

    Args:
        argv: the arguments after the program name, e.g. ``["verify", "--dataset", "iris"]``.

    Returns:
        0 all implementations agree (or --help/--version), 1 any disagree, 2 a usage error,
        130 interrupted (Ctrl-C).

    Raises:
        Nothing: usage errors and Ctrl-C print one line on stderr and return 2 and 130.
    """
    try:
        with _one_interrupt():
            args = build_parser().parse_args(argv)
            args.stdout = sys.stdout  # where --json - writes
            with _report_stream(args):
                return args.run(args)
    except UsageError as error:
        print(" ".join(str(error).split()), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("crosscheck: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE


@contextlib.contextmanager
def _one_interrupt() -> Iterator[None]:
    """The first Ctrl-C raises KeyboardInterrupt; later ones are ignored, so that the clean-up
    it starts (stopping a worker process) runs to its end. The handler is put back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _report_stream(args: argparse.Namespace) -> Iterator[None]:
    """With ``--json -``, everything printed for people goes to standard error."""
    if getattr(args, "json", None) != STDOUT:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


def build_parser() -> argparse.ArgumentParser:
    """The ``crosscheck`` parser with its subcommands (imported here, after ``main`` has
    taken Ctrl-C over: some import NumPy, which takes a while)."""
    from crosscheck.cli.bench_command import add_bench_parser
    from crosscheck.cli.check_command import add_check_parser, add_selftest_parser
    from crosscheck.cli.verify_command import add_verify_parser

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

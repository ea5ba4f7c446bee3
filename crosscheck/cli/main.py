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
import os
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
    interrupt = _Interrupt()
    try:
        with _one_interrupt(interrupt):
            args = build_parser().parse_args(argv)
            args.stdout = sys.stdout  # where --json - writes
            with _report_stream(args):
                status = args.run(args)
    except UsageError as error:
        if interrupt.seen:
            return interrupt.report()
        print(" ".join(str(error).split()), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return interrupt.report()
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    except Exception:
        if interrupt.seen:  # a library left in a broken state by the interrupt
            return interrupt.report()
        raise
    # An interrupt that Python swallowed (raised in a garbage-collector callback or a
    # __del__, or caught by a library) still ends the command as interrupted.
    return interrupt.report() if interrupt.seen else status


GRACE_SECONDS = 10.0
"""After Ctrl-C, how long a command has to unwind before it is ended from outside: Python
ignores an exception raised in a garbage-collector callback or a ``__del__`` (hypothesis
times its collections with one), so the KeyboardInterrupt can be lost and the command would
run on to its end."""


class _Interrupt:
    """Whether Ctrl-C was pressed, with a watchdog that ends the process GRACE_SECONDS later
    if the command has not returned by then."""

    def __init__(self) -> None:
        self.seen = False
        self._watchdog: threading.Timer | None = None

    def press(self) -> None:
        """Record the Ctrl-C and start the watchdog."""
        self.seen = True
        self._watchdog = threading.Timer(GRACE_SECONDS, _end_now)
        self._watchdog.daemon = True
        self._watchdog.start()

    def report(self) -> int:
        """Stop the watchdog, print the one line, return EXIT_INTERRUPTED."""
        if self._watchdog is not None:
            self._watchdog.cancel()
        print("crosscheck: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def console() -> None:
    """The ``crosscheck`` command: ``main`` on ``sys.argv``, its status the process's.

    After Ctrl-C the process ends at once (``os._exit``, the worker processes of ``check``
    stopped first): an interrupt that lands inside the import of a C extension (JAX's) can
    leave it half set up, and the interpreter's clean-up then crashed (a segmentation fault,
    exit status −11, after the one line)."""
    status = main()
    if status == EXIT_INTERRUPTED:
        _end_now(say=False)
    sys.exit(status)


def _end_now(say: bool = True) -> None:
    """Stop the worker processes of ``check`` (if any were started), print the one line if
    `say`, and end the process with EXIT_INTERRUPTED (also the watchdog's action)."""
    worker = sys.modules.get("crosscheck.oracle.worker")
    with contextlib.suppress(Exception):
        if worker is not None:
            worker.close_all()
    with contextlib.suppress(Exception):
        if say:
            print("crosscheck: interrupted", file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
    os._exit(EXIT_INTERRUPTED)


@contextlib.contextmanager
def _one_interrupt(interrupt: _Interrupt) -> Iterator[None]:
    """The first Ctrl-C raises KeyboardInterrupt (and is recorded in `interrupt`); later ones
    are ignored, so that the clean-up it starts (stopping a worker process) runs to its end.
    The handler is put back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_ctrl_c(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        interrupt.press()
        raise KeyboardInterrupt

    def unraisable(error: Any) -> None:
        if not isinstance(error.exc_value, KeyboardInterrupt):  # one Python lost: recorded
            previous_hook(error)

    previous, previous_hook = signal.signal(signal.SIGINT, on_ctrl_c), sys.unraisablehook
    sys.unraisablehook = unraisable
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = previous_hook


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

"""What every ``crosscheck`` subcommand shares: exit statuses, usage errors, option types,
output paths.

The contract of every command (``crosscheck.cli.main`` keeps it):

- exit status 0 only when a check ran and agreed (or the benchmarks ran, or --help and
  --version); 1 a fault found; 2 a usage error (a mistake in the command line or its files):
  one line on stderr, never a traceback; 130 the user's Ctrl-C (one line on stderr);
- every output path (``--json``, ``--out``, ``--save-failure``) is checked before any work
  (``check_output_file``, ``check_output_directory``), and nothing is left behind;
- ``--json -`` writes the JSON to standard output and the human report to standard error.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path
from typing import NoReturn, TextIO

EXIT_AGREE, EXIT_DISAGREE, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as a shell reports a command ended by Ctrl-C."""


class UsageError(Exception):
    """A mistake in the command line or its files: exit status 2, one line on stderr."""


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")


STDOUT = "-"
"""``--json -``: the JSON goes to standard output, the human report to standard error."""


def output_file(text: str) -> Path | str:
    """argparse type of an output file (``--json``): a Path, or STDOUT for ``-``."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty")
    return STDOUT if text == STDOUT else Path(text)


def output_directory(text: str) -> Path:
    """argparse type of an output directory (``--out``, ``--save-failure``): not empty, not
    ``-`` (standard output is no directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty")
    if text == STDOUT:
        raise argparse.ArgumentTypeError(
            "'-' (standard output) is for files such as --json; give a directory"
        )
    return Path(text)


def check_output_file(path: Path | str, command: str, option: str) -> None:
    """Refuse an output file that cannot be written, before any work; leave nothing behind.

    The file is opened for appending (created, then removed, if it did not exist): that
    finds what permission bits do not tell, such as /proc or a read-only file system, and
    works as root. STDOUT passes.

    Args:
        path: the file, or STDOUT. command: e.g. ``"crosscheck verify"``. option: e.g.
            ``"--json"``.

    Raises:
        UsageError: ``"<command>: error: <option> <path>: <problem>"``: it is a directory,
            its parent does not exist or is not a directory, or it cannot be written.
    """
    if path == STDOUT:
        return
    parent = path.parent
    if path.is_dir():
        problem = "it is a directory"
    elif parent.exists() and not parent.is_dir():
        problem = f"its parent {parent} is not a directory"
    elif not parent.is_dir():
        problem = f"its directory {parent} does not exist"
    else:
        existed = path.exists()
        try:
            with open(path, "a"):
                return
        except OSError as error:
            problem = f"it cannot be written ({error.strerror})"
        finally:
            if not existed and path.exists():
                path.unlink()
    raise UsageError(f"{command}: error: {option} {path}: {problem}")


def check_output_directory(path: Path, command: str, option: str) -> None:
    """Refuse an output directory that cannot be made or written, before any work; leave
    nothing behind: it (and missing parents) are made, a temporary file is written in it,
    and what this made is removed.

    Raises:
        UsageError: ``"<command>: error: <option> <path>: <problem>"``: it is a file, or it
            cannot be made or written (with the system's reason).
    """
    if path.exists() and not path.is_dir():
        raise UsageError(f"{command}: error: {option} {path}: it is not a directory")
    made = [p for p in [path, *path.parents] if not p.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise UsageError(
            f"{command}: error: {option} {path}: it cannot be written ({error.strerror})"
        ) from None
    finally:
        for directory in made:
            if directory.is_dir():
                directory.rmdir()


def write_json(path: Path | str, payload: dict, command: str, stdout: TextIO) -> None:
    """Write `payload` as strict JSON to `path`, or to `stdout` (the command's standard output
    as it was at the start) for STDOUT; an OSError is a usage error of `command`."""
    text = json.dumps(payload, indent=2, allow_nan=False) + "\n"
    if path == STDOUT:
        stdout.write(text)
        stdout.flush()
        return
    try:
        path.write_text(text)
    except OSError as error:
        raise UsageError(f"{command}: error: --json {path}: {error}") from None


def parse_sizes(text: str) -> tuple[int, ...]:
    parts = [part.strip() for part in text.split(",")]
    if len(parts) < 2 or not all(re.fullmatch("[0-9]+", part) for part in parts):
        raise argparse.ArgumentTypeError(
            f"expected at least two comma-separated positive integers such as 64,32,10,"
            f" got {text!r}"
        )
    sizes = tuple(int(part) for part in parts)
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"every width must be >= 1, got {text!r}")
    return sizes


def parse_names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(","))


def int_at_least(minimum: int):
    """An argparse type: an integer >= `minimum`, else a one-line ArgumentTypeError."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text!r}")
        return value

    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be finite and >= 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be finite and > 0, got {text!r}")
    return value


def seconds_up_to(maximum: float, maximum_text: str):
    """An argparse type: a number of seconds > 0 and at most `maximum` (written
    `maximum_text` in the error), else a one-line ArgumentTypeError stating the range."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a number of seconds, got {text!r}"
            ) from None
        if not 0 < value <= maximum:
            raise argparse.ArgumentTypeError(
                f"must be a number of seconds > 0 and at most {maximum_text}, got {text!r}"
            )
        return value

    return parse

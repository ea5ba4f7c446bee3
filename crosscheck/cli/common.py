"""What every ``crosscheck`` subcommand shares: exit statuses, usage errors, option types,
output paths.

A usage error (a mistake in the command line or its files) is one line on stderr and exit
status 2, never a traceback; ``crosscheck.cli.main`` turns ``UsageError`` into that.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import NoReturn

EXIT_AGREE, EXIT_DISAGREE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake in the command line or its files: exit status 2, one line on stderr."""


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")


def output_path(text: str) -> Path:
    """argparse type of an output file or directory: not empty, not ``-`` (no stdout)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty")
    if text == "-":
        raise argparse.ArgumentTypeError("'-' (stdout) is not supported; give a file path")
    return Path(text)


def check_writable(path: Path, command: str, option: str) -> None:
    """Refuse an output file that cannot be written, before any work; create nothing.

    Args:
        path: the file. command: e.g. ``"crosscheck verify"``. option: e.g. ``"--json"``.

    Raises:
        UsageError: ``"<command>: error: <option> <path>: <problem>"``: it is a directory,
            its parent does not exist or is not a directory, or it is not writable.
    """
    parent = path.parent
    if path.is_dir():
        problem = "it is a directory"
    elif parent.exists() and not parent.is_dir():
        problem = f"its parent {parent} is not a directory"
    elif not parent.is_dir():
        problem = f"its directory {parent} does not exist"
    elif not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        problem = "it is not writable"
    else:
        return
    raise UsageError(f"{command}: error: {option} {path}: {problem}")


def write_json(path: Path, payload: dict, command: str) -> None:
    """Write `payload` as JSON to `path`; an OSError is a usage error of `command`."""
    try:
        path.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
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

"""The ``crosscheck`` command line: ``verify``, ``check``, ``bench``, ``selftest`` (DESIGN §5)."""

from crosscheck.cli.main import main

__all__ = ["main"]

"""The ``crosscheck`` command line: ``verify``, ``check``, ``bench``, ``selftest`` (DESIGN §5)."""

from crosscheck.cli.main import console, main

__all__ = ["console", "main"]

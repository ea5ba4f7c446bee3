"""``python -m crosscheck``: the same as the ``crosscheck`` console script."""

from crosscheck.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m crosscheck``: the same as the ``crosscheck`` console script.

``python -m`` puts the current directory first on ``sys.path``; it is taken off again, so
that the checker never imports a user's file (a ``vectorized.py`` or ``reference.py`` there)
in place of a module of its own: the function under check is imported by the worker process
alone (``crosscheck.oracle.worker``). A ``crosscheck.py`` in the current directory is found
by ``python -m`` itself before this runs: use the ``crosscheck`` command there.
"""

import os
import sys

if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from crosscheck.cli.main import console

if __name__ == "__main__":
    console()

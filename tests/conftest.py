"""Test configuration: the hypothesis profile comes from CROSSCHECK_PROFILE, and JAX keeps its
compilations on disk.

CROSSCHECK_PROFILE=crosscheck-dev (default), crosscheck-ci or crosscheck-thorough.

JAX's persistent compilation cache (``.jax-cache/`` at the repository root, unless
JAX_COMPILATION_CACHE_DIR is set) lets both pytest-xdist workers and later runs load the
autodiff oracle's compiled envelopes (about a second each to compile) instead of compiling
them again; set before anything imports JAX, which reads these variables on import.
"""

import os
from pathlib import Path

from hypothesis import settings

from crosscheck.profiles import register_profiles

os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path(__file__).parents[1] / ".jax-cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.1")

register_profiles()
settings.load_profile(os.environ.get("CROSSCHECK_PROFILE", "crosscheck-dev"))

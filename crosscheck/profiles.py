"""Hypothesis settings profiles for the suite and for projects that use its strategies.

- ``crosscheck-dev``: quick feedback while editing (50 examples).
- ``crosscheck-ci``: the CI run (200 examples, derandomized so CI is reproducible).
- ``crosscheck-thorough``: a long search (2,000 examples per property); shard it across
  workers with pytest-xdist (``-n auto``).

No deadline in any of them: JAX compiles the oracle once per shape envelope
(``crosscheck.autodiff_oracle.padded``; a few seconds), which would trip hypothesis's default 200 ms
deadline on the first example of each envelope.
Registering changes nothing; a project loads one with ``settings.load_profile(name)``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

PROFILES = {
    "crosscheck-dev": {"max_examples": 50},
    "crosscheck-ci": {"max_examples": 200, "derandomize": True, "print_blob": True},
    "crosscheck-thorough": {"max_examples": 2000},
}


def register_profiles() -> tuple[str, ...]:
    """Register the profiles with hypothesis (without loading any) and return their names."""
    for name, options in PROFILES.items():
        settings.register_profile(
            name, deadline=None, suppress_health_check=[HealthCheck.too_slow], **options
        )
    return tuple(PROFILES)

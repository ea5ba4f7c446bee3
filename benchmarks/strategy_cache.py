"""What caching the strategy builders of ``crosscheck.strategies`` saves per drawn problem.

Draws the same examples of ``problems()`` (every loss, weight decay; derandomized, no
database) with the cached builders (``_scattered``, ``_backgrounds``, ``_large_weights``, as
shipped) and with each rebuilt on every draw (their ``__wrapped__`` functions), the two
alternated, and prints ms per example (min and median over the runs).

    python benchmarks/strategy_cache.py [--examples 300] [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from hypothesis import HealthCheck, given, settings

import crosscheck.strategies as strategies
from crosscheck.ffnn import LOSSES

BUILDERS = ("_scattered", "_backgrounds", "_large_weights")


def ms_per_example(cached: bool, examples: int) -> float:
    """Wall milliseconds per drawn example, with the builders cached or rebuilt per draw."""
    shipped = {name: getattr(strategies, name) for name in BUILDERS}
    for name, builder in shipped.items():
        setattr(strategies, name, builder if cached else builder.__wrapped__)
    try:
        problems = strategies.problems(
            networks=strategies.networks(losses=tuple(LOSSES), weight_decay=True)
        )
        drawn = []

        @settings(
            max_examples=examples,
            database=None,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(problems)
        def draw(problem: object) -> None:
            drawn.append(problem)

        start = time.perf_counter()
        draw()
        return 1e3 * (time.perf_counter() - start) / len(drawn)
    finally:
        for name, builder in shipped.items():
            setattr(strategies, name, builder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.runs):
        for cached in (True, False):
            times[cached].append(ms_per_example(cached, args.examples))
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    for cached, label in ((True, "cached builders"), (False, "rebuilt per draw")):
        runs = times[cached]
        print(f"{label}: min {min(runs):.3f} ms/example, median {statistics.median(runs):.3f}")


if __name__ == "__main__":
    main()

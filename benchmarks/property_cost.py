"""CPU milliseconds per example of the agreement property, by component, in one process.

Draws a fixed batch of problems from the two families of ``tests/test_agreement.py``
(``bounded`` and ``stress``; derandomized, no database, as under ``crosscheck-ci``), then
times each part of the property's body over the whole batch with ``time.process_time`` (CPU
time, so that other processes on a shared machine inflate it less than wall time):

- draw: hypothesis generating the examples (the ``@given`` machinery with a body that only
  draws, so it includes hypothesis's own per-example work);
- each implementation's ``loss`` + ``backprop`` (vectorized, the literal and contracted
  reference, autodiff; autodiff warmed first, so its one compilation is left out);
- compare: ``compare_backprop_many`` of the three others against vectorized, and within it
  ``crosscheck.compare.bounds.allowed_differences`` (the derived bound) alone;
- total: the property's body (everything above but the draw), as the test runs it.

Each figure is the minimum over ``--runs`` passes over the batch (the least disturbed).

    python benchmarks/property_cost.py [--examples 200] [--runs 5] [--profile FILE]

``--profile FILE`` also writes a cProfile of the body over the batch (``pstats`` readable).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crosscheck.compare import bounds
from crosscheck.compare.comparison import compare_backprop_many
from crosscheck.ffnn import LOSSES
from crosscheck.implementations import IMPLEMENTATIONS, VECTORIZED
from crosscheck.strategies import networks, problems

FAMILIES = {
    "bounded": problems(networks=networks(losses=tuple(LOSSES), weight_decay=True)),
    "stress": problems(
        networks=networks(losses=tuple(LOSSES), weight_decay=True), max_magnitude=1e3
    ),
}
"""The agreement property's problem families (tests/test_agreement.py)."""

OTHERS = tuple(i for i in IMPLEMENTATIONS if i != VECTORIZED)


def drawn(strategy: Any, examples: int) -> tuple[list[Any], float]:
    """`examples` problems drawn as the property draws them (``st.data()``), and the CPU
    seconds hypothesis took to draw them."""
    batch: list[Any] = []

    @settings(
        max_examples=examples,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def draw(data: Any) -> None:
        batch.append(data.draw(strategy, label="problem"))

    start = time.process_time()
    draw()
    return batch, time.process_time() - start


def body(problem: Any) -> None:
    """The agreement property's body (tests/test_agreement.py), without the assertions."""
    expected = VECTORIZED.loss(*problem), VECTORIZED.backprop(*problem)
    results = {i.name: (i.loss(*problem), i.backprop(*problem)) for i in OTHERS}
    compare_backprop_many(
        *problem,
        expected[1],
        {name: result for name, (_, result) in results.items()},
        expected_loss=expected[0],
        actual_losses={name: J for name, (J, _) in results.items()},
        expected_name=VECTORIZED.name,
    )


def cpu_ms(work: Callable[[Any], Any], batch: list[Any], runs: int) -> float:
    """Least CPU milliseconds per problem of `work` over `batch`, over `runs` passes."""
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        for problem in batch:
            work(problem)
        best = min(best, time.process_time() - start)
    return 1e3 * best / len(batch)


def components(batch: list[Any]) -> dict[str, Callable[[Any], Any]]:
    """name → the work of one component on one problem."""
    parts: dict[str, Callable[[Any], Any]] = {}
    for implementation in (VECTORIZED, *OTHERS):
        parts[implementation.key] = lambda p, i=implementation: (i.loss(*p), i.backprop(*p))

    def prepared(problem: Any) -> tuple[Any, ...]:
        expected = VECTORIZED.loss(*problem), VECTORIZED.backprop(*problem)
        others = {i.name: (i.loss(*problem), i.backprop(*problem)) for i in OTHERS}
        return expected, others

    results = {id(problem): prepared(problem) for problem in batch}

    def compare(problem: Any) -> None:
        expected, others = results[id(problem)]
        compare_backprop_many(
            *problem,
            expected[1],
            {name: result for name, (_, result) in others.items()},
            expected_loss=expected[0],
            actual_losses={name: J for name, (J, _) in others.items()},
            expected_name=VECTORIZED.name,
        )

    def bound(problem: Any) -> None:
        expected, others = results[id(problem)]
        trace = expected[1][1]
        dtype = problem.X.dtype
        bounds.allowed_differences(*problem, trace, dtype, {dtype: list(others)})

    parts["compare"] = compare
    parts["  of which bound"] = bound
    parts["total (body)"] = body
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="per family")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", help="write a cProfile of the body to this file")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    batch: list[Any] = []
    draw_ms = []
    for family, strategy in FAMILIES.items():
        problems_drawn, seconds = drawn(strategy, args.examples)
        batch += problems_drawn
        draw_ms.append(f"{family} {1e3 * seconds / len(problems_drawn):.2f}")
    for problem in batch[:3]:  # compile the oracle's envelopes before timing
        body(problem)
    print(f"{len(batch)} problems; CPU ms per example (least of {args.runs} runs):")
    print(f"  {'draw (hypothesis)':<20} {', '.join(draw_ms)}")
    for name, work in components(batch).items():
        print(f"  {name:<20} {cpu_ms(work, batch, args.runs):7.3f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for problem in batch:
            body(problem)
        profiler.disable()
        profiler.dump_stats(args.profile)


if __name__ == "__main__":
    main()

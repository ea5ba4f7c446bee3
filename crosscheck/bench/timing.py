"""A timing loop (``time.perf_counter``, warm-up, rounds) and pytest-benchmark's statistics.

``crosscheck bench`` times in-process with this loop rather than through pytest, so it works
from any install (pytest-benchmark is a test extra, not a dependency); its JSON carries the
fields pytest-benchmark writes (``pytest-benchmark compare`` reads it).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Per-call times (s) of one callable: ``data[r]`` is round r's mean over `iterations` calls."""

    data: tuple[float, ...]
    iterations: int

    @property
    def min(self) -> float:
        """The fastest round: the figure ratios use (least disturbed by other processes)."""
        return min(self.data)

    def stats(self) -> dict[str, float | int | list[float]]:
        """pytest-benchmark's ``stats`` mapping (min, max, mean, stddev, median, q1, q3, iqr,
        outliers, ld15iqr, hd15iqr, ops, total, rounds, iterations, data), in seconds."""
        data = sorted(self.data)
        q1, median, q3 = _quartiles(data)
        iqr = q3 - q1
        mean = statistics.fmean(data)
        stddev = statistics.stdev(data) if len(data) > 1 else 0.0
        iqr_out = sum(1 for t in data if t < q1 - 1.5 * iqr or t > q3 + 1.5 * iqr)
        sd_out = sum(1 for t in data if abs(t - mean) > stddev)
        return {
            "min": data[0],
            "max": data[-1],
            "mean": mean,
            "stddev": stddev,
            "rounds": len(data),
            "median": median,
            "iqr": iqr,
            "q1": q1,
            "q3": q3,
            "iqr_outliers": iqr_out,
            "stddev_outliers": sd_out,
            "outliers": f"{sd_out};{iqr_out}",
            "ld15iqr": next(t for t in data if t >= q1 - 1.5 * iqr),
            "hd15iqr": next(t for t in reversed(data) if t <= q3 + 1.5 * iqr),
            "ops": 1.0 / mean,
            "total": sum(data) * self.iterations,
            "iterations": self.iterations,
            "data": list(self.data),
        }


def time_call(
    function: Callable[[], object],
    *,
    rounds: int = 7,
    min_round_time: float = 0.01,
    warmup: int = 2,
    max_time: float = 5.0,
) -> Timing:
    """Time `function` with ``time.perf_counter``: warm-up calls, then timed rounds.

    A round repeats the call enough times (calibrated once) to last `min_round_time`
    seconds; fewer rounds (at least 2) run when the first ones show `rounds` would
    exceed `max_time`.

    Args:
        function: a zero-argument callable.
        rounds: timed rounds wanted, >= 2.
        min_round_time: seconds a round should last, > 0.
        warmup: untimed calls first (JIT compilation, caches, page faults), >= 0.
        max_time: budget in seconds for the timed rounds.

    Returns:
        A ``Timing`` with per-call seconds per round.

    Raises:
        ValueError: rounds < 2, warmup < 0, or a non-positive time.
    """
    if rounds < 2 or warmup < 0 or not (min_round_time > 0 and max_time > 0):
        raise ValueError(
            f"need rounds >= 2, warmup >= 0 and positive times; got rounds={rounds},"
            f" warmup={warmup}, min_round_time={min_round_time}, max_time={max_time}"
        )
    for _ in range(warmup):
        function()
    start = time.perf_counter()
    function()
    single = time.perf_counter() - start
    iterations = max(1, int(min_round_time / max(single, 1e-9)))
    data: list[float] = []
    budget_end = time.perf_counter() + max_time
    while len(data) < rounds and (len(data) < 2 or time.perf_counter() < budget_end):
        start = time.perf_counter()
        for _ in range(iterations):
            function()
        data.append((time.perf_counter() - start) / iterations)
    return Timing(tuple(data), iterations)


def _quartiles(data: list[float]) -> tuple[float, float, float]:
    if len(data) < 2:
        return data[0], data[0], data[0]
    q1, median, q3 = statistics.quantiles(data, n=4, method="inclusive")
    return q1, median, q3

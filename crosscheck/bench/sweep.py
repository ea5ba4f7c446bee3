"""The activation sweep: every network of ``NETWORKS`` at every size and dtype, as ratios.

Per (size, dtype, network) the implementations of ``SWEEP_IMPLEMENTATIONS`` — vectorized
``gradients`` (also with its elementwise kernels on one thread) and ``backprop``, plain
``jax.jit(jax.grad(J))`` and the GEMM-only pass — are
timed in one process, alternated within each run (one sample of each, in turn), over
`runs` runs. A sample is the mean of enough calls to last `min_sample` seconds. Ratios are
taken run by run (both sides of a ratio from the same run) and reported as their spread
(min, median, max over the runs), so a burst of load shows as a wide spread rather than
as a wrong single figure.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crosscheck.bench.cases import NETWORKS, SWEEP_IMPLEMENTATIONS, BenchCase, runner

GEMM_SHARE_TARGETS = {"medium": 0.8, "large": 0.9}
"""Issue 14: the least share of a pass spent in its own matrix products, by size."""


@dataclass(frozen=True)
class Spread:
    """min, median and max of repeated measurements (runs) of one figure."""

    min: float
    median: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """The spread of `values` (at least one)."""
        return cls(min(values), statistics.median(values), max(values))

    def to_dict(self) -> dict[str, float]:
        return {"min": self.min, "median": self.median, "max": self.max}


@dataclass(frozen=True)
class SweepPoint:
    """One (case, dtype): ``times[implementation][r]`` (s per call) of run r."""

    case: BenchCase
    dtype: str
    times: dict[str, tuple[float, ...]]

    def ratio(self, numerator: str, denominator: str) -> Spread:
        """The spread over runs of times[numerator][r] / times[denominator][r]."""
        pairs = zip(self.times[numerator], self.times[denominator], strict=True)
        return Spread.of([n / d for n, d in pairs])

    def time(self, implementation: str) -> Spread:
        """The spread over runs of one implementation's time per call."""
        return Spread.of(self.times[implementation])

    @property
    def vectorized_over_jax(self) -> Spread:
        """vectorized.gradients / JAX jit(grad): at most 1 is the target (issue 14)."""
        return self.ratio("vectorized", "autodiff")

    @property
    def backprop_over_jax(self) -> Spread:
        """vectorized.backprop (trace and Δ^(0) included) / JAX jit(grad)."""
        return self.ratio("backprop", "autodiff")

    @property
    def split_over_one_thread(self) -> Spread:
        """vectorized.gradients / the same with its kernels on one thread: below 1 where
        splitting the elementwise work among threads pays (``crosscheck.vectorized.parallel``)."""
        return self.ratio("vectorized", "one_thread")

    @property
    def gemm_fraction(self) -> Spread:
        """GEMM-only time / vectorized.gradients time: the share of the pass spent in its own
        matrix products (targets: >= 0.8 at medium, >= 0.9 at large)."""
        return self.ratio("gemm_only", "vectorized")


def sample(function: Callable[[], object], iterations: int) -> float:
    """Seconds per call of `function`, the mean over `iterations` calls (perf_counter)."""
    start = time.perf_counter()
    for _ in range(iterations):
        function()
    return (time.perf_counter() - start) / iterations


def measure_point(
    case: BenchCase,
    dtype: str,
    gemm: Callable[[], object],
    *,
    runs: int = 3,
    min_sample: float = 0.02,
) -> SweepPoint:
    """Time `case` in `dtype`: every sweep implementation, alternated, `runs` times.

    Args:
        case: the size and network.
        dtype: "float64" or "float32".
        gemm: the GEMM-only pass of this size and dtype (``crosscheck.bench.cases.gemm_only``),
            shared by the networks of one size.
        runs: runs, >= 1 (three or more for a spread).
        min_sample: seconds one sample should last (calls are repeated to reach it).

    Returns:
        A ``SweepPoint``.

    Raises:
        ValueError: runs < 1 or a non-positive min_sample.
    """
    if runs < 1 or not min_sample > 0:
        raise ValueError(f"need runs >= 1 and min_sample > 0, got {runs}, {min_sample}")
    functions = {
        name: gemm if name == "gemm_only" else runner(case, name, dtype)
        for name in SWEEP_IMPLEMENTATIONS
    }
    iterations = {}
    for name, function in functions.items():
        function()  # warm-up: JAX compiles, the workspace is built
        single = sample(function, 1)
        iterations[name] = max(1, math.ceil(min_sample / max(single, 1e-9)))
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(runs):
        for name, function in functions.items():
            times[name].append(sample(function, iterations[name]))
    return SweepPoint(case, dtype, {name: tuple(t) for name, t in times.items()})


def sweep_cases(sizes: Sequence[BenchCase]) -> list[BenchCase]:
    """Every network of ``NETWORKS`` at every size in `sizes`, size by size."""
    return [size.with_network(*network) for size in sizes for network in NETWORKS]

"""The cost of checking a pass against the cost of computing it (issue 14.3).

``checking_cost(case)`` times, in one process, one vectorized pass of a problem
(``crosscheck.vectorized.backprop``) and one comparison of its result with the derived
bound included (``compare_backprop``, or ``compare_backprop_many`` for several actual
sides), alternately, `runs` times, and returns the per-run ratio check/pass. Run after run
the two calls see about the same machine load, so the ratio is steadier than either time.

Cases: a size of ``crosscheck.bench.cases`` ("medium", "large", ...), a network kind
(``NETWORK_KINDS``: tanh, relu or sigmoid hidden layers with an identity output and squared
error, or tanh hidden layers with a softmax output and cross-entropy), a dtype and a number
of actual sides. ``benchmarks/checking_cost.py`` prints the table for medium and large.
"""

from __future__ import annotations

import os
import statistics
import time
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from crosscheck import vectorized
from crosscheck.bench.cases import case_by_name
from crosscheck.compare.comparison import compare_backprop, compare_backprop_many
from crosscheck.ffnn import Network, init_params
from crosscheck.strategies import Problem

NETWORK_KINDS: dict[str, tuple[str, str, str]] = {
    "tanh": ("tanh", "identity", "squared_error"),
    "relu": ("relu", "identity", "squared_error"),
    "sigmoid": ("sigmoid", "identity", "squared_error"),
    "softmax": ("tanh", "softmax", "cross_entropy"),
}
"""Network kind → (σ of hidden layers, σ_L, J)."""


@dataclass(frozen=True)
class CheckingCase:
    """One problem whose checking is timed.

    Attributes:
        size: a case name of ``crosscheck.bench.cases`` (its widths and N).
        kind: a key of ``NETWORK_KINDS``.
        dtype: "float64" or "float32" (the problem's and both sides').
        sides: actual sides compared with the expected one (1: ``compare_backprop``).
    """

    size: str
    kind: str
    dtype: str = "float64"
    sides: int = 1

    @property
    def name(self) -> str:
        """e.g. ``"medium tanh float64 ×1"``."""
        return f"{self.size} {self.kind} {self.dtype} ×{self.sides}"

    def problem(self, seed: int = 0) -> Problem:
        """The seeded problem: Glorot parameters, standard-normal X, and T standard-normal
        (squared error) or one-hot columns (cross-entropy), in ``dtype``.

        Raises:
            ValueError: an unknown size or kind, sides < 1.
        """
        if self.kind not in NETWORK_KINDS:
            raise ValueError(f"unknown network kind {self.kind!r}; known: {list(NETWORK_KINDS)}")
        if self.sides < 1:
            raise ValueError(f"sides must be >= 1, got {self.sides}")
        bench_case = case_by_name(self.size)
        hidden, output, loss = NETWORK_KINDS[self.kind]
        L = len(bench_case.sizes) - 1
        network = Network(bench_case.sizes, (hidden,) * (L - 1) + (output,), loss)
        params = init_params(network, seed=seed, dtype=np.dtype(self.dtype))
        rng = np.random.default_rng(seed + 1)
        S_0, S_L, N = bench_case.sizes[0], bench_case.sizes[-1], bench_case.N
        X = rng.standard_normal((S_0, N)).astype(self.dtype)
        if loss == "cross_entropy":
            T = np.eye(S_L, dtype=self.dtype)[:, rng.integers(S_L, size=N)]
        else:
            T = rng.standard_normal((S_L, N)).astype(self.dtype)
        return Problem(network, params, X, T)


@dataclass(frozen=True)
class CheckingCost:
    """Seconds of `runs` alternating pass and check calls.

    Attributes:
        case: what was timed.
        pass_seconds: per run, one ``vectorized.backprop``.
        check_seconds: per run, one comparison (derived bound included).
        load_average: the 1-minute load average before the first run.
        worst_ratio: the comparison's worst error/bound ratio (0 for identical sides).
        cpu_time: True if the seconds are CPU time on one BLAS thread, False if wall time.
    """

    case: CheckingCase
    pass_seconds: tuple[float, ...]
    check_seconds: tuple[float, ...]
    load_average: float
    worst_ratio: float
    cpu_time: bool = False

    @property
    def ratios(self) -> tuple[float, ...]:
        """check/pass of each run."""
        return tuple(c / p for c, p in zip(self.check_seconds, self.pass_seconds, strict=True))

    @property
    def ratio(self) -> float:
        """The median of ``ratios``."""
        return statistics.median(self.ratios)


def checking_cost(case: CheckingCase, *, runs: int = 3, cpu_time: bool = False) -> CheckingCost:
    """Time one vectorized pass and one comparison of `case`, alternately, `runs` times.

    The expected side is a ``vectorized.backprop`` result with its J; each actual side
    another call's result (equal values, its own arrays). Both calls are made once,
    untimed, before the runs (workspaces, caches, page faults).

    Args:
        case: the problem and the number of actual sides.
        runs: timed runs, >= 1.
        cpu_time: time both calls in CPU seconds (``time.process_time``) with the BLAS
            limited to one thread: a figure other processes' load barely moves, for a busy
            machine; wall seconds with every thread otherwise.

    Returns:
        A CheckingCost; ``.ratio`` is the median check/pass.

    Raises:
        ValueError: runs < 1; what ``CheckingCase.problem`` raises.
    """
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    problem = case.problem()
    expected, J = vectorized.backprop(*problem), vectorized.loss(*problem)
    actuals = {f"side {k + 1}": vectorized.backprop(*problem) for k in range(case.sides)}

    def check() -> float:
        if case.sides == 1:
            (actual,) = actuals.values()
            comparison = compare_backprop(
                *problem, expected, actual, expected_loss=J, actual_loss=J
            )
            return comparison.worst_ratio
        comparisons = compare_backprop_many(
            *problem,
            expected,
            actuals,
            expected_loss=J,
            actual_losses=dict.fromkeys(actuals, J),
        )
        return max(c.worst_ratio for c in comparisons.values())

    load = os.getloadavg()[0]
    clock = time.process_time if cpu_time else time.perf_counter
    pass_seconds, check_seconds = [], []
    with threadpool_limits(1) if cpu_time else nullcontext():
        vectorized.backprop(*problem)
        worst = check()
        for _ in range(runs):
            start = clock()
            vectorized.backprop(*problem)
            pass_seconds.append(clock() - start)
            start = clock()
            check()
            check_seconds.append(clock() - start)
    return CheckingCost(case, tuple(pass_seconds), tuple(check_seconds), load, worst, cpu_time)


def property_problems(count: int = 200) -> list[Problem]:
    """`count` problems of the agreement property's "bounded" family at ``crosscheck-ci``
    sizes (``crosscheck.strategies.problems``: every loss, weight decay), drawn
    deterministically (hypothesis derandomized)."""
    from hypothesis import HealthCheck, Phase, given, settings

    from crosscheck.ffnn import LOSSES
    from crosscheck.strategies import networks, problems

    drawn: list[Problem] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(problems(networks=networks(losses=tuple(LOSSES), weight_decay=True)))
    def draw(problem: Problem) -> None:
        drawn.append(problem)

    draw()
    return drawn


def property_comparison_seconds(
    problems: list[Problem], *, sides: int = 3, runs: int = 3
) -> tuple[float, ...]:
    """Mean seconds of one ``compare_backprop_many`` call with `sides` actual sides over
    `problems`, per run (the work the agreement property does per example, beyond running
    the implementations). The sides are the reference's literal and contracted forms and
    vectorized again (all float64), cycled when `sides` > 3.

    Raises:
        ValueError: runs < 1, sides < 1, no problems.
    """
    from crosscheck import reference

    if runs < 1 or sides < 1 or not problems:
        raise ValueError(f"need runs >= 1, sides >= 1 and problems; got {runs}, {sides}")
    implementations = (
        lambda *p: (reference.loss(*p), reference.backprop(*p, form="literal")),
        lambda *p: (reference.loss(*p), reference.backprop(*p, form="contracted")),
        lambda *p: (vectorized.loss(*p), vectorized.backprop(*p)),
    )
    cases = []
    for problem in problems:
        results = {f"side {k + 1}": implementations[k % 3](*problem) for k in range(sides)}
        cases.append(
            (
                problem,
                vectorized.backprop(*problem),
                vectorized.loss(*problem),
                {name: result for name, (_, result) in results.items()},
                {name: J for name, (J, _) in results.items()},
            )
        )
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        for problem, expected, J, actuals, losses in cases:
            compare_backprop_many(
                *problem, expected, actuals, expected_loss=J, actual_losses=losses
            )
        seconds.append((time.perf_counter() - start) / len(cases))
    return tuple(seconds)

"""The cost of checking against the cost of computing (issue 14: checking no dearer than one
vectorized pass of the same problem).

Per case and dtype, alternated within each run, so that the calls of one run see about the
same machine load: one comparison of two ``crosscheck.vectorized.backprop`` results of the
problem with their J, the derived bound included (``crosscheck.compare.compare_backprop``,
or ``compare_backprop_many`` against several actual sides), one ``vectorized.backprop`` and
one ``vectorized.gradients``. Ratios are taken run by run and reported as their spread
(min, median, max). ``crosscheck bench`` shows them for the default network at every size;
``benchmarks/checking_cost.py`` for any network, number of sides and clock, and
``benchmarks/test_checking.py`` under pytest-benchmark.

Clocks: wall seconds (``time.perf_counter``) with every thread, or, with ``cpu_time``, this
thread's CPU seconds (``time.thread_time``) with the BLAS and the elementwise kernels held
to one thread — a figure that other processes' load barely moves, for a busy machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from threadpoolctl import threadpool_limits

from crosscheck.bench.cases import BenchCase, make_problem
from crosscheck.bench.sweep import Spread

if TYPE_CHECKING:
    from crosscheck.strategies import Problem


@dataclass(frozen=True)
class CheckTiming:
    """Seconds per call of run r: ``compare[r]``, ``backprop[r]``, ``gradients[r]``.

    Attributes:
        case: the size and network. dtype: "float64" or "float32".
        compare: one comparison against `sides` actual sides, J and the derived bound
            included. backprop, gradients: one ``vectorized`` call each.
        sides: actual sides compared (1: ``compare_backprop``, more: ``compare_backprop_many``).
        cpu_time: True if the seconds are one thread's CPU time (module docstring).
    """

    case: BenchCase
    dtype: str
    compare: tuple[float, ...]
    backprop: tuple[float, ...]
    gradients: tuple[float, ...]
    sides: int = 1
    cpu_time: bool = False

    @property
    def over_backprop(self) -> Spread:
        """compare / one vectorized.backprop, run by run (target: <= 1)."""
        return Spread.of([c / b for c, b in zip(self.compare, self.backprop, strict=True)])

    @property
    def over_gradients(self) -> Spread:
        """compare / one vectorized.gradients, run by run."""
        return Spread.of([c / g for c, g in zip(self.compare, self.gradients, strict=True)])


def measure_checking(
    case: BenchCase, dtype: str, *, runs: int = 3, sides: int = 1, cpu_time: bool = False
) -> CheckTiming:
    """Time checking and computing on `case` in `dtype`, alternated, `runs` times.

    Args:
        case: the problem (``crosscheck.bench.cases.make_problem``).
        dtype: "float64" or "float32".
        runs: runs, >= 1; each calls every function once (after one warm-up call each).
        sides: actual sides compared with the expected one, >= 1; each another
            ``vectorized.backprop`` result (equal values, its own arrays).
        cpu_time: time this thread's CPU seconds on one BLAS and one elementwise thread;
            wall seconds with every thread otherwise.

    Returns:
        A ``CheckTiming``.

    Raises:
        ValueError: runs < 1 or sides < 1.
    """
    from crosscheck import vectorized
    from crosscheck.vectorized.parallel import elementwise_threads_set

    if runs < 1 or sides < 1:
        raise ValueError(f"need runs >= 1 and sides >= 1, got runs={runs}, sides={sides}")
    problem = make_problem(case, dtype)
    functions = {
        "compare": _comparison(problem, sides),
        "backprop": lambda: vectorized.backprop(*problem),
        "gradients": lambda: vectorized.gradients(*problem),
    }
    clock = time.thread_time if cpu_time else time.perf_counter
    times: dict[str, list[float]] = {name: [] for name in functions}
    with ExitStack() as one_thread:
        if cpu_time:
            one_thread.enter_context(threadpool_limits(1))
            one_thread.enter_context(elementwise_threads_set(1))
        for function in functions.values():
            function()  # warm-up: workspaces, caches, page faults
        for _ in range(runs):
            for name, function in functions.items():
                start = clock()
                function()
                times[name].append(clock() - start)
    return CheckTiming(
        case, dtype, *(tuple(times[name]) for name in functions), sides=sides, cpu_time=cpu_time
    )


def _comparison(problem: tuple[Any, ...], sides: int) -> Callable[[], object]:
    """One comparison of a ``vectorized.backprop`` result with `sides` others, J included."""
    from crosscheck import vectorized
    from crosscheck.compare import compare_backprop, compare_backprop_many

    expected, J = vectorized.backprop(*problem), vectorized.loss(*problem)
    actuals = {f"side {k + 1}": vectorized.backprop(*problem) for k in range(sides)}
    if sides == 1:
        (actual,) = actuals.values()
        return lambda: compare_backprop(*problem, expected, actual, expected_loss=J, actual_loss=J)
    losses = dict.fromkeys(actuals, J)
    return lambda: compare_backprop_many(
        *problem, expected, actuals, expected_loss=J, actual_losses=losses
    )


def property_problems(count: int = 200) -> list[Problem]:
    """`count` problems of the agreement property's "bounded" family at ``crosscheck-ci``
    sizes (``crosscheck.strategies.problems``: every loss, weight decay), drawn
    deterministically (hypothesis derandomized): the examples whose checking
    ``benchmarks/test_checking.py`` times."""
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

"""The cost of checking against the cost of computing, as the activation sweep's report shows
it (issue 14: checking no dearer than one vectorized pass of the same problem).

Per case and dtype, alternated within each run: ``crosscheck.compare.compare_backprop`` of
two ``crosscheck.vectorized.backprop`` results of the problem (the derived bound
included), one ``vectorized.backprop`` and one ``vectorized.gradients``.
"""

from __future__ import annotations

from dataclasses import dataclass

from crosscheck.bench.cases import BenchCase, make_problem
from crosscheck.bench.sweep import Spread, sample


@dataclass(frozen=True)
class CheckTiming:
    """Seconds per call of run r: ``compare[r]``, ``backprop[r]``, ``gradients[r]``."""

    case: BenchCase
    dtype: str
    compare: tuple[float, ...]
    backprop: tuple[float, ...]
    gradients: tuple[float, ...]

    @property
    def over_backprop(self) -> Spread:
        """compare_backprop / one vectorized.backprop, run by run (target: <= 1)."""
        return Spread.of([c / b for c, b in zip(self.compare, self.backprop, strict=True)])

    @property
    def over_gradients(self) -> Spread:
        """compare_backprop / one vectorized.gradients, run by run."""
        return Spread.of([c / g for c, g in zip(self.compare, self.gradients, strict=True)])


def measure_checking(case: BenchCase, dtype: str, *, runs: int = 3) -> CheckTiming:
    """Time checking and computing on `case` in `dtype`, alternated, `runs` times.

    Args:
        case: the problem (``crosscheck.bench.cases.make_problem``).
        dtype: "float64" or "float32".
        runs: runs, >= 1; each calls every function once (after one warm-up call).

    Returns:
        A ``CheckTiming``.

    Raises:
        ValueError: runs < 1.
    """
    from crosscheck import vectorized
    from crosscheck.compare import compare_backprop

    if runs < 1:
        raise ValueError(f"need runs >= 1, got {runs}")
    network, params, X, T = make_problem(case, dtype)
    expected = vectorized.backprop(network, params, X, T)
    actual = vectorized.backprop(network, params, X, T)
    functions = {
        "compare": lambda: compare_backprop(network, params, X, T, expected, actual),
        "backprop": lambda: vectorized.backprop(network, params, X, T),
        "gradients": lambda: vectorized.gradients(network, params, X, T),
    }
    times: dict[str, list[float]] = {name: [] for name in functions}
    for function in functions.values():
        function()  # warm-up
    for _ in range(runs):
        for name, function in functions.items():
            times[name].append(sample(function, 1))
    return CheckTiming(case, dtype, *(tuple(times[name]) for name in functions))

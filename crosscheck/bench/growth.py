"""Growth sweep: time each form over a range of widths S and sample counts N, fit exponents.

The loop counts the equations imply, for L = 2 and every width S (sizes (S, S, S)):

- literal: ∂J/∂W^(l)_ij = Σ_k Σ_n H_kn δ_ik A_jn (eqs 2.1, 2.4) keeps the sum over k that
  δ_ik collapses: S² entries × S·N terms = S³N per layer. Δ^(l-1)_k'n' = Σ_k Σ_n H_kn W_kk'
  δ_nn' (eqs 2.26, 2.38) and Δ^(L) (eqs 2.18–2.19, δ_ij δ_nm) keep the sum over n:
  S·N entries × S·N terms = S²N². Time ~ S³N + S²N²: exponent 3 in S (S ≫ N) and 2 in N
  (N ≫ S).
- contracted: the deltas applied (eqs 2.5, 2.10, 2.20, 2.27, 2.36): S² entries × N terms
  (∂J/∂W) and S·N entries × S terms (Δ) = S²N: exponent 2 in S, 1 in N.
- vectorized: the same S²N multiply-adds as matrix products (eqs 1.4, 2.14, 2.32): 2 in S,
  1 in N — once the products, not Python overhead, dominate (medium sizes and up).

Sweeps: the references on S ∈ {4..24} at N = 2 and N ∈ {8..128} at S = 2 (where the
dominant term of the literal form is the one named above); vectorized on S ∈ {64..512} at
N = 512 and N ∈ {256..4096} at S = 256.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from crosscheck.bench.cases import REFERENCES, BenchCase
from crosscheck.bench.timing import time_call

EXPECTED: dict[tuple[str, str], int] = {
    ("literal", "S"): 3,
    ("literal", "N"): 2,
    ("contracted", "S"): 2,
    ("contracted", "N"): 1,
    ("vectorized", "S"): 2,
    ("vectorized", "N"): 1,
}
"""(implementation, axis) → the exponent the loop counts imply (module docstring)."""


@dataclass(frozen=True)
class Sweep:
    """Times of one implementation along one axis: ``times[i]`` (s) at ``x[i]``.

    axis: "S" (every width, N fixed at `fixed`) or "N" (samples, every width = `fixed`).
    """

    implementation: str
    axis: str
    fixed: int
    x: tuple[int, ...]
    times: tuple[float, ...]

    @property
    def exponent(self) -> float:
        """The fitted growth exponent: ``fit_exponent(x, times)``."""
        return fit_exponent(self.x, self.times)

    @property
    def expected(self) -> int:
        """The exponent the equations' loop counts imply (``EXPECTED``)."""
        return EXPECTED[(self.implementation, self.axis)]


def fit_exponent(x: Sequence[float], t: Sequence[float]) -> float:
    """Least-squares slope of log t against log x: t ≈ c·x^p gives p.

    Args:
        x: sizes, at least two distinct positive values.
        t: times (or any positive measure), same length as x.

    Returns:
        p as a float.

    Raises:
        ValueError: fewer than two points, lengths that differ, non-positive values, or
            all x equal.
    """
    x_, t_ = np.asarray(x, dtype=float), np.asarray(t, dtype=float)
    if x_.shape != t_.shape or x_.ndim != 1 or x_.size < 2:
        raise ValueError(f"need two equal-length sequences of >= 2 points, got {x!r}, {t!r}")
    if not (np.all(x_ > 0) and np.all(t_ > 0)):
        raise ValueError("sizes and times must be positive for a log-log fit")
    if np.ptp(x_) == 0:
        raise ValueError("all sizes are equal: no slope to fit")
    slope, _ = np.polyfit(np.log(x_), np.log(t_), 1)
    return float(slope)


def sweep_plan(quick: bool) -> list[tuple[str, str, int, tuple[int, ...]]]:
    """(implementation, axis, fixed, values) for each sweep; `quick` keeps fewer points."""
    ref_S = (4, 8, 12, 16) if quick else (4, 6, 8, 12, 16, 24)
    ref_N = (8, 16, 32, 64) if quick else (8, 16, 32, 64, 128)
    vec_S = (64, 128, 256) if quick else (64, 128, 256, 512)
    vec_N = (256, 512, 1024) if quick else (256, 512, 1024, 2048, 4096)
    plan = []
    for form in REFERENCES:
        plan += [(form, "S", 2, ref_S), (form, "N", 2, ref_N)]
    return [*plan, ("vectorized", "S", 512, vec_S), ("vectorized", "N", 256, vec_N)]


def run_sweep(
    implementation: str,
    axis: str,
    fixed: int,
    values: Sequence[int],
    runner: Callable[[BenchCase, str], Callable[[], object]],
    *,
    rounds: int = 3,
) -> Sweep:
    """Time `implementation` at each value of `axis` (sizes (S, S, S), float64).

    Args:
        implementation: a key of ``crosscheck.bench.cases.runners``.
        axis: "S" or "N"; `fixed` is the other one.
        values: the swept sizes.
        runner: ``(case, dtype) -> zero-argument pass`` for this implementation.
        rounds: timed rounds per point (the minimum is kept).

    Returns:
        A ``Sweep``.

    Raises:
        ValueError: an axis other than "S" or "N".
    """
    if axis not in ("S", "N"):
        raise ValueError(f"axis must be 'S' or 'N', got {axis!r}")
    times = []
    for value in values:
        S, N = (value, fixed) if axis == "S" else (fixed, value)
        case = BenchCase(f"{axis}={value}", (S, S, S), N)
        times.append(time_call(runner(case, "float64"), rounds=rounds, warmup=1).min)
    return Sweep(implementation, axis, fixed, tuple(values), tuple(times))

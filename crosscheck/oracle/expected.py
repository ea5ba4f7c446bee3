"""The suite's values on one problem, with the allowed error of each entry, for the diagnosis.

``expected_values(problem)`` runs ``vectorized`` (the anchor) and derives, per entry, the
allowed |function − suite| exactly as the judge does (``crosscheck.oracle.judge``):
``crosscheck.compare.bounds.oracle_allowed``, both sides' running error bounds (float64)
plus the allowance for σ' evaluated from A, and 2·E_J for J. Every
relation the diagnosis states is checked against these bounds, never a tolerance of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crosscheck import vectorized
from crosscheck.compare.bounds import Bounds, oracle_allowed, trace_bounds
from crosscheck.ffnn import Layer, Trace
from crosscheck.strategies import Problem


@dataclass(frozen=True)
class Expected:
    """The suite's answer on a problem and how far a correct function may stray from it.

    Attributes:
        J: the suite's J (eq 2.16 or the loss's own, plus (λ/2) Σ‖W^(l)‖²).
        grads: L Layers, ∂J/∂W^(l) (S_l, S_{l-1}) and ∂J/∂b^(l) (S_l,), float64.
        allowed: L Layers of the same shapes: the allowed |function − suite| per entry.
        allowed_J: the allowed |J_function − J|.
        trace: the suite's Z^(l), A^(l), Δ^(l), H^(l), each (S_l, N).
        bounds: one side's float64 running error bounds of that trace.
    """

    J: float
    grads: tuple[Layer, ...]
    allowed: tuple[Layer, ...]
    allowed_J: float
    trace: Trace
    bounds: Bounds


def expected_values(problem: Problem) -> Expected:
    """The suite's J and gradients on `problem` with the judge's per-entry allowed errors.

    Args:
        problem: network, params (W^(l) (S_l, S_{l-1}), b^(l) (S_l,)), X (S_0, N), T (S_L, N),
            float64, validated.

    Returns:
        An Expected (module docstring).

    Raises:
        ValueError: from ``trace_bounds`` (sums too long for float64).
    """
    network, params, X, T = problem
    grads, trace = vectorized.backprop(network, params, X, T)
    J = float(vectorized.loss(network, params, X, T))
    bounds = trace_bounds(network, params, X, T, trace, np.float64)
    allowed = oracle_allowed(network, params, X, T, trace)
    return Expected(J, tuple(grads), allowed.grads, allowed.J, trace, bounds)

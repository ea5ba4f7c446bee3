"""The oracle's allowed error: the derived bound, plus σ' evaluated from A (textbook forms).

The suite evaluates σ' stably from Z (sech², σ(z)σ(−z)), and ``crosscheck.compare.bounds`` bounds
exactly that. Other people's backprop usually evaluates it from A, as textbooks write it:
1 − A² for tanh, A(1 − A) for sigmoid, A + 1 for ELU below 0, 1 − e^{−A} for softplus.
Those forms are correct but only *absolutely* accurate: as a unit saturates, σ' → 0 while
their rounding error stays about u — relative accuracy is lost (at z = 3.5, 1 − tanh² is
3.6e-3 with an error near 2e-16, a relative 5e-14, past the stable form's bound). An oracle
must not call that a bug, so for a function under test the allowed error adds, per entry,
the first-order effect of

    e_σ'(l) = 2·E_A^(l) + 4u     (|σ'_A(a)'| <= 2 on the forms above, a few roundings)

on every smooth elementwise σ_l (not identity, ReLU, leaky ReLU, whose σ' from A is exact;
not softmax, whose Jacobian the derived bound already takes from A's magnitudes), carried
through the backward pass over absolute values like every other error:

    a_H^(l) = |Δ^(l)| e_σ'(l) + |σ'_l(Z^(l))| a_Δ^(l),   a_Δ^(l-1) = |W^(l)|ᵗ a_H^(l),
    a_W^(l) = a_H^(l) |A^(l-1)|ᵗ,   a_b^(l) = a_H^(l) J_N,

from a_Δ^(L) = 0, and doubled for the first-order terms dropped. A fused output H^(L) (eqs
2.8', 2.8'') has no σ'. A bug moves entries by O(|Δ| σ'), far beyond O(u |Δ|).

A function judged in float32 (``crosscheck check --dtype float32``, or one that returns
float32) evaluates its σ' from A in float32: E_A^(l) and u above are then float32's, while
the suite's side keeps its float64 bound (``allowed_errors(..., actual=, dtype=)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crosscheck.compare.bounds import Bounds, dtype_constants, repeat_bound
from crosscheck.ffnn import Activation, Layer, Trace
from crosscheck.strategies import Problem

EXACT_FROM_A = ("identity", "relu", "leaky_relu", "softmax")
"""Activations whose σ' from A adds nothing to the derived bound."""


def allowed_errors(
    problem: Problem,
    trace: Trace,
    bounds: Bounds,
    actual: Bounds | None = None,
    dtype: Any = np.float64,
) -> tuple[Layer, ...]:
    """Per-entry allowed |function − suite| for ∂J/∂W^(l), ∂J/∂b^(l) (module docstring).

    Args:
        problem: network, params (W^(l) (S_l, S_{l-1}), b^(l) (S_l,)), X (S_0, N), T (S_L, N).
        trace: the suite's float64 trace of the problem (Z, A, Δ, H of shape (S_l, N)).
        bounds: ``trace_bounds`` of that trace for the suite's side (float64).
        actual: ``trace_bounds`` of that trace for the function's side, computing in
            `dtype`; None: the same as `bounds` (a float64 function).
        dtype: the dtype the function computes in (float64 or float32): its u sets the
            σ'-from-A allowance.

    Returns:
        L Layers of float64 arrays shaped like the gradients: E(u_suite) + E(u_function)
        (both sides' derived bounds) plus the σ'-from-A allowance.
    """
    actual = bounds if actual is None else actual
    allowance = sigma_prime_allowance(problem, trace, actual, dtype)
    return tuple(
        Layer(E.W + A.W + a.W, E.b + A.b + a.b)
        for E, A, a in zip(_layers(bounds), _layers(actual), allowance, strict=True)
    )


def repeat_allowed(
    problem: Problem, trace: Trace, bounds: Bounds, dtype: Any = np.float64
) -> tuple[Layer, ...]:
    """Per-entry allowed |first − second| for ∂J/∂W^(l), ∂J/∂b^(l) of two calls of one
    function on the same input: ``repeat_bound`` (E + E, sums in any order) plus the
    σ'-from-A allowance, each call being a correct evaluation in `dtype`.

    Args:
        problem, trace: as for ``allowed_errors``.
        bounds: ``trace_bounds`` of the trace for `dtype`, the function's precision.
        dtype: float64 or float32.

    Returns:
        L Layers of float64 arrays shaped like the gradients.
    """
    twice = repeat_bound(bounds)
    allowance = sigma_prime_allowance(problem, trace, bounds, dtype)
    return tuple(
        Layer(W + a.W, b + a.b) for W, b, a in zip(twice.W, twice.b, allowance, strict=True)
    )


def sigma_prime_allowance(
    problem: Problem, trace: Trace, bounds: Bounds, dtype: Any = np.float64
) -> tuple[Layer, ...]:
    """a_W^(l), a_b^(l) of the module docstring, doubled: what σ' evaluated from A adds to
    one side computing in `dtype` (unit roundoff u), whose derived bounds are `bounds`.

    Args:
        problem, trace: as for ``allowed_errors``.
        bounds: ``trace_bounds`` of the trace for `dtype` (its E_A^(l) enters e_σ'(l)).
        dtype: float64 or float32.

    Returns:
        L Layers of float64 arrays shaped like the gradients.
    """
    network, params, _, _ = problem
    u = dtype_constants(dtype).u
    L = network.L
    a_Delta = np.zeros_like(np.asarray(trace.A[L], dtype=np.float64))
    allowance: list[Layer] = [None] * L  # type: ignore[list-item]
    for l in range(L, 0, -1):
        sigma = network.sigma(l)
        through = _through_sigma(sigma, trace.Z[l], a_Delta)
        if l == L and network.J.H is not None:
            a_H = np.zeros_like(a_Delta)  # fused H^(L): no σ'
        elif sigma.name in EXACT_FROM_A:
            a_H = through
        else:
            Delta = np.abs(np.asarray(trace.Delta[l], dtype=np.float64))
            a_H = Delta * (2 * bounds.A[l] + 4 * u) + through
        A_prev = np.abs(np.asarray(trace.A[l - 1], dtype=np.float64))
        allowance[l - 1] = Layer(2 * (a_H @ A_prev.T), 2 * a_H.sum(axis=1))
        a_Delta = np.abs(np.asarray(params[l - 1].W, dtype=np.float64)).T @ a_H
    return tuple(allowance)


def _layers(bounds: Bounds) -> tuple[Layer, ...]:
    return tuple(Layer(W, b) for W, b in zip(bounds.W, bounds.b, strict=True))


def _through_sigma(sigma: Activation, Z: np.ndarray, a_Delta: np.ndarray) -> np.ndarray:
    """|∂A/∂Z|ᵗ a_Δ per column: |σ'| ⊙ a_Δ, or |J(n)|ᵗ a_Δ for softmax (eq 2.13')."""
    Z = np.asarray(Z, dtype=np.float64)
    if sigma.elementwise:
        return np.abs(sigma.sigma_prime(Z)) * a_Delta
    return np.einsum("kjn,kn->jn", np.abs(sigma.jacobian(Z)), a_Delta)

"""Loss conventions: a returned J, or a whole returned gradient, that is the suite's under
another convention of the loss (eq 2.16 is (1/2N) Σ_n ‖a_n − t_n‖² + (λ/2) Σ_l ‖W^(l)‖²).

With D the loss term and R the weight-decay term of the suite's J:

- ``loss_conventions``: J = N·D + R (summed over the samples), 2D + R (missing ½), D/2 + R
  (extra ½); for squared error with S_L > 1, 2D/S_L + R ("MSE": averaged over the S_L outputs
  too, no ½) and D/S_L + R (J reported over the S_L outputs: scikit-learn's multi-output
  squared error, its issue 8349); with λ > 0: D (decay left out), D + 2R (no ½), D + R/N,
  and D + R + (λ/2) Σ‖b^(l)‖² (the biases decayed too).
- ``gradient_conventions``: every ∂J/∂W^(l), ∂J/∂b^(l) is the suite's with the loss term's
  part scaled by the same c (λW^(l) as it is): c = N, 2, ½, and for squared error 2/S_L, 1/S_L.

Each is claimed only within the derived bounds (``crosscheck.oracle.expected``): J within
max(1, |a|, |r|)·B_J + 2u|J_c| for J_c = a·D + r·R (+ the bias term, whose rounding is γ_3
of it per side), ``crosscheck.compare.bounds.scaled_allowed`` with
``bounds.decay_term_allowed``; a gradient array within the rule of
``crosscheck.oracle.relations.within``.
Several conventions are named together where they coincide (2J = N·J at N = 2).
"""

from __future__ import annotations

import numpy as np

from crosscheck.compare.bounds import decay_term_allowed, scaled_allowed
from crosscheck.ffnn import NUMPY, weight_decay_term
from crosscheck.oracle.expected import Expected, expected_values
from crosscheck.oracle.layouts import Returned
from crosscheck.oracle.relations import Form, number_text, within
from crosscheck.strategies import Problem

SKLEARN_MULTI_OUTPUT = "scikit-learn's multi-output squared error, its issue 8349"
"""Where the J/S_L convention is found in the wild."""


def loss_conventions(
    problem: Problem, theirs: float, expected: Expected | None = None
) -> tuple[str, ...]:
    """Name the conventions under which the returned J equals the suite's (module docstring).

    Args:
        problem: the example (suite layout); its network's J without weight decay is D, the
            decay R.
        theirs: the function's returned J.
        expected: the suite's values on `problem` (computed if not given).

    Returns:
        Descriptions of every matching convention, with its factor; empty if none.
    """
    network, params, X, _ = problem
    expected = expected or expected_values(problem)
    Z_L, A_L = expected.trace.Z[-1], expected.trace.A[-1]
    D = float(network.J.J(Z_L, A_L, problem.T, NUMPY))
    R = float(weight_decay_term([W for W, _ in params], network.weight_decay))
    R_b = float(weight_decay_term([b for _, b in params], network.weight_decay))
    N, S_L = X.shape[1], network.sizes[-1]
    candidates = [  # (a, r, bias term, text): J = a·D + r·R + bias term
        (N, 1, 0.0, f"summed over the samples instead of averaged (N·J, N = {N})"),
        (2, 1, 0.0, "missing ½ (2J)"),
        (0.5, 1, 0.0, "extra ½ (J/2)"),
    ]
    if network.loss == "squared_error" and S_L > 1:
        candidates += [
            (
                2 / S_L,
                1,
                0.0,
                "'MSE': averaged over the S_L outputs too, without ½ (factor 2/S_L ="
                f" {number_text(2 / S_L)} on the loss term)",
            ),
            (
                1 / S_L,
                1,
                0.0,
                "J reported over the S_L outputs: factor 1/S_L ="
                f" {number_text(1 / S_L)} on the loss term ({SKLEARN_MULTI_OUTPUT})",
            ),
        ]
    if R > 0:
        candidates += [
            (1, 0, 0.0, "weight-decay term (λ/2)Σ‖W‖² left out of J"),
            (1, 2, 0.0, "weight decay without its ½ (λΣ‖W‖²)"),
            (1, 1 / N, 0.0, "weight decay divided by N"),
        ]
    if R_b > 0:
        candidates.append(
            (1, 1, R_b, "weight decay applied to the biases too ((λ/2)Σ‖b^(l)‖² added to J)")
        )
    suite = D + R
    named = []
    for a, r, bias, text in candidates:
        value = a * D + r * R + bias
        B_K = decay_term_allowed(bias)
        allowed = scaled_allowed(max(1.0, a, r), expected.allowed_J, B_K, value)
        distinct = abs(value - suite) > allowed and abs(theirs - suite) > expected.allowed_J
        if distinct and abs(theirs - value) <= allowed:
            named.append(text)
    return tuple(named)


def gradient_conventions(
    problem: Problem, returned: Returned, expected: Expected | None = None
) -> tuple[str, ...]:
    """Name the conventions c under which every returned ∂J/∂W^(l), ∂J/∂b^(l) is the suite's
    with its loss term's part scaled by c (module docstring).

    Args:
        problem: the example (suite layout).
        returned: the function's output, suite layout (shapes may be wrong: then none).
        expected: the suite's values on `problem` (computed if not given).

    Returns:
        Descriptions of every matching convention; empty if none (or the gradients agree).
    """
    network, params, X, _ = problem
    if len(returned.grads) != network.L:
        return ()
    expected = expected or expected_values(problem)
    N, S_L, lam = X.shape[1], network.sizes[-1], network.weight_decay
    candidates = [
        (float(N), f"summed over the samples instead of averaged (N·∂J, N = {N})"),
        (2.0, "missing ½ (2·∂J)"),
        (0.5, "extra ½ (∂J/2)"),
    ]
    if network.loss == "squared_error" and S_L > 1:
        candidates += [
            (
                2 / S_L,
                "'MSE': averaged over the S_L outputs too, without ½"
                f" (2/S_L = {number_text(2 / S_L)})",
            ),
            (
                1 / S_L,
                f"over the S_L outputs (1/S_L = {number_text(1 / S_L)}; {SKLEARN_MULTI_OUTPUT})",
            ),
        ]
    forms = []
    for (W, _), E, B in zip(params, expected.grads, expected.allowed, strict=True):
        decay = lam * np.asarray(W, dtype=np.float64)
        forms.append(Form("", "", E.W - decay, B.W, decay, decay_term_allowed(decay)))
        forms.append(Form("", "", E.b, B.b))
    arrays = [np.asarray(getattr(g, q), dtype=np.float64) for g in returned.grads for q in "Wb"]
    suite = [
        Form("", "", getattr(E, q), getattr(B, q))
        for E, B in zip(expected.grads, expected.allowed, strict=True)
        for q in "Wb"
    ]
    if all(within(F, form, 1.0) for F, form in zip(arrays, suite, strict=True)):
        return ()  # the gradients agree: no convention to name
    return tuple(
        text
        for c, text in candidates
        if c != 1.0 and all(within(F, form, c) for F, form in zip(arrays, forms, strict=True))
    )

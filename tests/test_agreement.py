"""The three implementations agree on J (eq 2.16) and every ∂J/∂W^(l), ∂J/∂b^(l).

Each implementation is compared with one anchor, ``vectorized`` (eqs 2.7–2.37 in matrix
form), under ``crosscheck.compare``'s default tolerance: the literal and contracted
reference (scalar loops, eqs 2.1–2.5, 2.9–2.10, 2.22–2.27, 2.35–2.36) and JAX autodiff
of the forward pass (eqs 1.4, 2.16). Problems come from ``crosscheck.strategies``: L 1..4,
widths 1..6, N 1..8, every activation in ``ffnn.ACTIVATIONS``, every loss in ``ffnn.LOSSES``
(squared error, eq 2.16; cross-entropy and binary cross-entropy, eqs 2.16', 2.16''),
λ = 0 or λ > 0.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given

import autodiff_oracle
import reference
import vectorized
from crosscheck.compare import assert_gradients_close
from crosscheck.strategies import Problem, networks, problems
from ffnn import ACTIVATIONS, LOSSES, Network, init_params

Result = tuple[float, tuple[Any, ...]]

IMPLEMENTATIONS: dict[str, Callable[..., Result]] = {
    "reference_literal": lambda *p: (reference.loss(*p), reference.gradients(*p, form="literal")),
    "reference_contracted": lambda *p: (
        reference.loss(*p),
        reference.gradients(*p, form="contracted"),
    ),
    "autodiff": lambda *p: (autodiff_oracle.loss(*p), autodiff_oracle.gradients(*p)),
}
"""name → (network, params, X, T) -> (J, grads); each is checked against the anchor."""

ANCHOR = "vectorized"

SMOOTH = ("identity", "sigmoid", "tanh", "softplus", "elu", "gelu")
"""Elementwise activations whose σ' is continuous, for the float32 check: float32 and
float64 rounding of Z cannot put an entry on different sides of a kink (where σ' jumps and
the gradients legitimately differ). Softmax is left out: at saturation its Jacobian product
cancels to an error of u·|Δ|, which float32 makes larger than the array-scaled tolerance
(see crosscheck.compare, "Known limits")."""


def _anchor(*problem: Any) -> Result:
    return vectorized.loss(*problem), vectorized.gradients(*problem)


def _assert_agree(name: str, problem: Problem | tuple[Any, ...]) -> None:
    expected_loss, expected = _anchor(*problem)
    actual_loss, actual = IMPLEMENTATIONS[name](*problem)
    assert_gradients_close(
        expected,
        actual,
        expected_loss=expected_loss,
        actual_loss=actual_loss,
        names=(ANCHOR, name),
    )


@pytest.mark.parametrize("name", list(IMPLEMENTATIONS), ids=lambda name: f"{name}-vs-{ANCHOR}")
@given(problem=problems(networks=networks(losses=tuple(LOSSES), weight_decay=True)))
def test_eqs_2_16_to_2_37_loss_and_gradients_agree(name: str, problem: Problem) -> None:
    _assert_agree(name, problem)


def _fixed_problem(activation: str) -> tuple[Network, Any, np.ndarray, np.ndarray]:
    network = Network((3, 4, 2), (activation, activation), weight_decay=0.1)
    rng = np.random.default_rng(7)
    X = rng.uniform(-2.0, 2.0, size=(3, 5))
    T = rng.uniform(-1.0, 1.0, size=(2, 5))
    return network, init_params(network, seed=3), X, T


@pytest.mark.parametrize("name", list(IMPLEMENTATIONS))
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_eqs_2_14_2_33_every_activation_agrees(activation: str, name: str) -> None:
    _assert_agree(name, _fixed_problem(activation))


@given(problem=problems(networks=networks(activations=SMOOTH, weight_decay=True), dtype=np.float32))
def test_float32_vectorized_agrees_with_float64_reference_contracted(problem: Problem) -> None:
    # The reference computes in float64 from the float32 inputs; the float32 table applies.
    assert_gradients_close(
        reference.gradients(*problem, form="contracted"),
        vectorized.gradients(*problem),
        expected_loss=reference.loss(*problem),
        actual_loss=vectorized.loss(*problem),
        names=("reference_contracted (float64)", "vectorized (float32)"),
    )

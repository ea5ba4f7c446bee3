"""The four implementations agree on every quantity of backprop under the derived bound.

Each implementation's whole trace (Z^(l), A^(l), J, Δ^(l), H^(l), ∂J/∂W^(l), ∂J/∂b^(l),
Δ^(0); eqs 1.4, 2.16–2.38 and the primed extensions) is compared with one anchor,
``vectorized``, by ``crosscheck.compare.comparison.compare_backprop``, whose per-entry bound comes
from ``crosscheck.compare.bounds``: the literal and contracted reference (scalar loops) and JAX
autodiff of the forward pass. Problems come from ``crosscheck.strategies`` in two families:

- ``bounded``: the default magnitudes (|X|, |b|, |T|, most |W| <= 4; a few weights up to 48);
- ``stress``: max_magnitude = 1e3, so weights reach 1.2e4: saturated units, activations of
  1e3–1e7 behind which Z and outputs cancel, and (hypothesis draws floats of every
  exponent) mixed magnitudes and exact cancellations.

Every loss (squared error, cross-entropy, binary cross-entropy) and λ >= 0 are drawn.
``hypothesis.target`` steers each search towards the largest error/bound ratio, and
``--hypothesis-show-statistics`` reports the highest seen. One property draws each problem
once and checks every implementation on it against one anchor run; autodiff compiles once
per depth and padded shape (``crosscheck.autodiff_oracle.padded``), not once per architecture.
"""

from typing import Any

import numpy as np
import pytest
from hypothesis import given, target
from hypothesis import strategies as st

from crosscheck import autodiff_oracle, reference, vectorized
from crosscheck.compare.comparison import (
    Comparison,
    assert_backprop_close,
    compare_backprop,
    compare_backprop_many,
)
from crosscheck.ffnn import ACTIVATIONS, LOSSES, Layer, Network, Trace, init_params
from crosscheck.implementations import IMPLEMENTATIONS, VECTORIZED, Implementation
from crosscheck.strategies import Problem, networks, problems

from helpers.implementations import implementation_params

Result = tuple[float, tuple[Any, Trace]]

ANCHOR = VECTORIZED
OTHERS = tuple(implementation for implementation in IMPLEMENTATIONS if implementation != ANCHOR)
"""Every listed implementation but the anchor; each is checked against the anchor."""

FAMILIES = {
    "bounded": problems(networks=networks(losses=tuple(LOSSES), weight_decay=True)),
    "stress": problems(
        networks=networks(losses=tuple(LOSSES), weight_decay=True), max_magnitude=1e3
    ),
}
"""Problem families (module docstring)."""


def _run(implementation: Implementation, problem: Any) -> Result:
    """(J, (grads, trace)) of `implementation` on `problem`."""
    return implementation.loss(*problem), implementation.backprop(*problem)


def _compare(implementation: Implementation, problem: Any) -> Comparison:
    expected_loss, expected = _run(ANCHOR, problem)
    actual_loss, actual = _run(implementation, problem)
    return compare_backprop(
        *problem,
        expected,
        actual,
        expected_loss=expected_loss,
        actual_loss=actual_loss,
        names=(ANCHOR.name, implementation.name),
    )


@pytest.mark.parametrize("family", list(FAMILIES))
@given(data=st.data())
def test_eqs_1_4_to_2_38_all_implementations_agree_with_vectorized(family: str, data) -> None:
    problem = data.draw(FAMILIES[family], label="problem")
    expected_loss, expected = _run(ANCHOR, problem)
    results = {implementation.name: _run(implementation, problem) for implementation in OTHERS}
    comparisons = compare_backprop_many(
        *problem,
        expected,
        {name: result for name, (_, result) in results.items()},
        expected_loss=expected_loss,
        actual_losses={name: J for name, (J, _) in results.items()},
        expected_name=ANCHOR.name,
    )
    # One target for all: hypothesis's hill climbing costs grow with every label it climbs.
    target(max(c.worst_ratio for c in comparisons.values()), label=f"worst error/bound, {family}")
    for comparison in comparisons.values():
        assert comparison.agree, comparison.first_mismatch


def _fixed_problem(activation: str) -> tuple[Network, Any, np.ndarray, np.ndarray]:
    network = Network((3, 4, 2), (activation, activation), weight_decay=0.1)
    rng = np.random.default_rng(7)
    X = rng.uniform(-2.0, 2.0, size=(3, 5))
    T = rng.uniform(-1.0, 1.0, size=(2, 5))
    return network, init_params(network, seed=3), X, T


@pytest.mark.parametrize("implementation", implementation_params(i.key for i in OTHERS))
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_eqs_2_14_2_33_every_activation_agrees(activation: str, implementation) -> None:
    assert _compare(implementation, _fixed_problem(activation)).agree


# --- float32 --------------------------------------------------------------------------------

FLOAT32 = problems(networks=networks(losses=tuple(LOSSES), weight_decay=True), dtype=np.float32)


def _rounded(result: tuple[Any, Trace]) -> tuple[Any, Trace]:
    """A float64 result rounded to float32 (None entries kept)."""
    grads, trace = result
    cast = lambda a: None if a is None else np.asarray(a, dtype=np.float32)  # noqa: E731
    with np.errstate(over="ignore"):  # beyond float32's range rounds to ±inf
        return (
            tuple(Layer(cast(W), cast(b)) for W, b in grads),
            Trace(*(tuple(map(cast, field)) for field in trace)),
        )


def _as_float64(problem: Problem) -> tuple[Any, ...]:
    network, params, X, T = problem
    params = tuple(Layer(W.astype(np.float64), b.astype(np.float64)) for W, b in params)
    return network, params, X.astype(np.float64), T.astype(np.float64)


@given(problem=FLOAT32)
def test_float32_vectorized_agrees_with_float64_rounded(problem: Problem) -> None:
    # The same float32 inputs, computed in float64 and rounded: float32's u bounds both.
    expected = _rounded(vectorized.backprop(*_as_float64(problem)))
    comparison = compare_backprop(*problem, expected, vectorized.backprop(*problem))
    target(comparison.worst_ratio, label="worst error/bound, float32 vs float64 rounded")
    assert comparison.agree, comparison.first_mismatch


@given(problem=FLOAT32)
def test_float32_autodiff_agrees_with_float32_vectorized(problem: Problem) -> None:
    assert_backprop_close(
        *problem,
        vectorized.backprop(*problem),
        autodiff_oracle.backprop(*problem),
        expected_loss=vectorized.loss(*problem),
        actual_loss=autodiff_oracle.loss(*problem),
        names=("vectorized (float32)", "autodiff (float32)"),
    )


def test_eq_1_4_float32_gelu_output_near_the_underflow_threshold_agrees() -> None:
    # Found by the thorough profile: Z = −13.09, GELU = z·erfc(−z/√2)/2 = −2.8e-38, a normal
    # float32 whose erfc intermediate (4e-39) is subnormal: XLA flushes it and returns −0.
    network = Network((3, 1), ("gelu",))
    params = (Layer(np.full((1, 3), -1.484375, np.float32), np.zeros(1, np.float32)),)
    X, T = np.full((3, 1), 2.9375, np.float32), np.zeros((1, 1), np.float32)
    problem = (network, params, X, T)
    assert_backprop_close(
        *problem,
        vectorized.backprop(*problem),
        autodiff_oracle.backprop(*problem),
        names=("vectorized (float32)", "autodiff (float32)"),
    )


def test_eq_2_13_float32_tanh_prime_with_a_flushed_intermediate_agrees() -> None:
    # Found by the ci profile: sech²(43.75) = 4e/(1 + e)² with e = e^{−87.5} = 1e-38, a
    # subnormal intermediate that XLA flushes: autodiff's H^(1) is 0, vectorized's 3.2e-36.
    network = Network((1, 1), ("tanh",))
    params = (Layer(np.full((1, 1), 43.75, np.float32), np.zeros(1, np.float32)),)
    X, T = np.ones((1, 1), np.float32), np.full((1, 1), -80.0, np.float32)
    problem = (network, params, X, T)
    assert_backprop_close(
        *problem,
        vectorized.backprop(*problem),
        autodiff_oracle.backprop(*problem),
        names=("vectorized (float32)", "autodiff (float32)"),
    )


@pytest.mark.parametrize("implementation", implementation_params(["vectorized", "autodiff"]))
def test_eq_2_33_float32_weight_decay_with_one_sample_agrees(implementation) -> None:
    # Found by review: at N = 1 the bound gave λ|W| only γ_2, but float32 rounds λ itself,
    # λ·W and the sum with H Aᵗ: three roundings (ratio 1.08 before the decay got γ_3).
    network = Network((1, 1), ("identity",), weight_decay=0.2)
    params = (Layer(np.array([[5.080958843231201]], np.float32), np.zeros(1, np.float32)),)
    X = np.array([[0.000473334570415318]], np.float32)
    T = np.array([[-0.23849093914031982]], np.float32)
    problem = (network, params, X, T)
    assert_backprop_close(
        *problem,
        reference.backprop(*problem),
        implementation.backprop(*problem),
        names=("reference", f"{implementation.name} (float32)"),
    )

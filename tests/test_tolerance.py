"""Tests of crosscheck.compare.bounds: the per-dtype table, γ_n, σ'' bounds and the running
bound."""

import numpy as np
import pytest

from crosscheck import vectorized
from crosscheck.compare.bounds import (
    DTYPE_CONSTANTS,
    SECOND_DERIVATIVE_BOUNDS,
    dtype_constants,
    gamma,
    trace_bounds,
)
from crosscheck.ffnn import ACTIVATIONS, Layer, Network

U64 = 2.0**-53
TINY64 = float(np.finfo(np.float64).tiny)


@pytest.mark.parametrize(
    ("dtype", "u"), [(np.float64, 2.0**-53), (np.float32, 2.0**-24)], ids=["f64", "f32"]
)
def test_unit_roundoff_per_dtype(dtype, u: float) -> None:
    constants = dtype_constants(dtype)
    assert (constants.u, constants.tiny) == (u, float(np.finfo(dtype).tiny))


def test_table_holds_exactly_float64_and_float32() -> None:
    assert set(DTYPE_CONSTANTS) == {np.dtype(np.float64), np.dtype(np.float32)}


def test_unknown_dtype_named() -> None:
    with pytest.raises(ValueError, match="float16"):
        dtype_constants(np.float16)


def test_gamma_n_is_nu_over_one_minus_nu() -> None:
    assert gamma(4, 2.0**-10) == pytest.approx(4 * 2.0**-10 / (1 - 4 * 2.0**-10), rel=1e-15)


def test_gamma_refuses_nu_of_one() -> None:
    with pytest.raises(ValueError, match="too long"):
        gamma(2**24, 2.0**-24)


def test_second_derivative_table_covers_every_elementwise_activation() -> None:
    elementwise = {name for name, sigma in ACTIVATIONS.items() if sigma.elementwise}
    assert set(SECOND_DERIVATIVE_BOUNDS) == elementwise


@pytest.mark.parametrize("name", sorted(SECOND_DERIVATIVE_BOUNDS))
def test_second_derivative_bound_holds(name: str) -> None:
    # |σ''(z)| <= bound, by central differences of the stable σ' away from the kinks.
    Z = np.linspace(-30.0, 30.0, 6001)
    Z = Z[np.abs(Z) > 1e-3]
    h = 1e-5
    sigma_prime = ACTIVATIONS[name].sigma_prime
    second = np.abs(sigma_prime(Z + h) - sigma_prime(Z - h)) / (2 * h)
    bound = SECOND_DERIVATIVE_BOUNDS[name](Z, np.full_like(Z, h))
    assert np.all(second <= bound * (1 + 1e-4) + 1e-9)


def _one_layer(W: np.ndarray, b: np.ndarray, X: np.ndarray, activation: str = "identity"):
    network = Network((W.shape[1], W.shape[0]), (activation,))
    params = (Layer(W, b),)
    T = np.zeros((W.shape[0], X.shape[1]))
    trace = vectorized.backprop(network, params, X, T)[1]
    return network, params, X, T, trace


def test_eq_1_4_bound_is_gamma_of_S_plus_1_times_magnitude() -> None:
    W, b, X = np.array([[1.0, -1.0, 2.0]]), np.array([-3.0]), np.array([[1.0], [1.0], [1.0]])
    problem = _one_layer(W, b, X)
    bound = trace_bounds(*problem, np.float64).Z[1]
    assert bound[0, 0] == pytest.approx(gamma(4, U64) * 7.0 + 4 * TINY64, rel=1e-12)


def test_eq_1_4_bound_scales_with_terms_not_result() -> None:
    # Z = 1e8 − 1e8 = 0 exactly, yet its bound is u·(2e8)·c, not u·0.
    problem = _one_layer(np.array([[1e8, -1e8]]), np.zeros(1), np.ones((2, 1)))
    assert trace_bounds(*problem, np.float64).Z[1][0, 0] > 2e8 * U64


@pytest.mark.parametrize("rows", [1, 50], ids=["S=1", "S=50"])
def test_bound_of_an_entry_does_not_grow_with_the_array(rows: int) -> None:
    W = np.ones((rows, 2))
    problem = _one_layer(W, np.zeros(rows), np.ones((2, 3)))
    bounds = trace_bounds(*problem, np.float64)
    expected = gamma(3, U64) * 2.0 + 3 * TINY64
    assert bounds.Z[1][0, 0] == pytest.approx(expected, rel=1e-12)


def test_float32_bound_is_larger_by_about_2_to_the_29() -> None:
    problem = _one_layer(np.array([[1.0, 2.0]]), np.zeros(1), np.ones((2, 2)))
    ratio = trace_bounds(*problem, np.float32).Z[1] / trace_bounds(*problem, np.float64).Z[1]
    assert np.allclose(ratio, 2.0**29, rtol=1e-6)


def test_relu_exact_zero_is_at_a_kink_and_widens_H() -> None:
    problem = _one_layer(np.array([[1.0, -1.0]]), np.zeros(1), np.ones((2, 1)), "relu")
    network, params, X, T, trace = problem
    trace = trace._replace(Delta=(trace.Delta[0], np.array([[0.5]])))
    bounds = trace_bounds(network, params, X, T, trace, np.float64)
    assert bounds.at_kink[1][0, 0] and bounds.H[1][0, 0] >= 0.5  # |Δ|·|σ'(0⁺) − σ'(0⁻)|


def test_saturated_tanh_bound_covers_sigma_prime_relative_error() -> None:
    # At z = 30, sech² = 3.5e-26: the bound of H stays relative to it (stable σ' from Z).
    problem = _one_layer(np.array([[30.0]]), np.zeros(1), np.ones((1, 1)), "tanh")
    network, params, X, T, trace = problem
    bounds = trace_bounds(network, params, X, T, trace, np.float64)
    H = abs(trace.H[1][0, 0])
    assert 0 < H and bounds.H[1][0, 0] < 1e-12 * H + 2 * TINY64


def test_inputs_not_changed_and_read_only_work() -> None:
    problem = _one_layer(np.array([[1.0, 2.0]]), np.zeros(1), np.ones((2, 2)))
    for array in (problem[1][0].W, problem[1][0].b, problem[2], problem[3]):
        array.flags.writeable = False
    before = problem[1][0].W.copy()
    trace_bounds(*problem, np.float64)
    assert np.array_equal(problem[1][0].W, before)

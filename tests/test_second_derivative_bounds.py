"""The σ'' bounds of the derived bound (``crosscheck.compare.bounds.SECOND_DERIVATIVE_BOUNDS``):
max |σ''| over [Z − E, Z + E], which eq 2.13's σ'(Z^(l)) error bound multiplies by E_Z, to
within the dtype's smallest normal number (below it, E_Z < |Z| and the bound's underflow
term tiny·(4 + |Z|) covers the rest).

Checked against |σ''| in 60-digit arithmetic (mpmath) at the interval's ends, its centre and
its point nearest 0, and end to end against two false passes they once allowed."""

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crosscheck import vectorized
from crosscheck.compare import compare_backprop
from crosscheck.compare.bounds import SECOND_DERIVATIVE_BOUNDS, SIGMA_PRIME_SUPS
from crosscheck.ffnn import ACTIVATIONS, Layer, Network, init_params


def _exact_second(name: str, z: mpmath.mpf) -> mpmath.mpf:
    """|σ''(z)|, z exact, in the working precision."""
    if name in ("sigmoid", "softplus"):  # σ'(z) = 1/(4cosh²(z/2)), 1 − 2σ(z) = −tanh(z/2)
        sigmoid_prime = 1 / (4 * mpmath.cosh(z / 2) ** 2)
        return sigmoid_prime * abs(mpmath.tanh(z / 2)) if name == "sigmoid" else sigmoid_prime
    if name == "tanh":
        return abs(2 * mpmath.tanh(z) * mpmath.sech(z) ** 2)
    if name == "gelu":  # φ(z)(2 − z²)
        return abs(mpmath.npdf(z) * (2 - z * z))
    if name == "elu":  # e^z below 0, 0 above; at 0 the left limit, 1
        return mpmath.exp(z) if z <= 0 else mpmath.mpf(0)
    raise AssertionError(name)


def _exact_maximum_at_probes(name: str, Z: float, E: float) -> mpmath.mpf:
    """max |σ''| over Z − E, Z, Z + E and the point of [Z − E, Z + E] nearest 0, exactly."""
    z, e = mpmath.mpf(Z), mpmath.mpf(E)
    nearest = mpmath.mpf(0) if abs(z) <= e else z - mpmath.sign(z) * e
    return max(_exact_second(name, p) for p in (z - e, z, z + e, nearest))


def _assert_bound_holds(name: str, dtype, Z: float, E: float) -> None:
    # within the smallest normal number: below it the bound's underflow terms take over
    bound = SECOND_DERIVATIVE_BOUNDS[name](np.array([Z], dtype), np.array([E], dtype))
    tiny = float(np.finfo(dtype).tiny)
    with mpmath.workdps(60):
        exact = _exact_maximum_at_probes(name, float(dtype(Z)), float(dtype(E)))
        assert mpmath.mpf(float(bound[0])) + tiny >= exact, (name, Z, E, float(bound[0]), exact)
    assert bound[0] >= 0


@pytest.mark.parametrize(
    ("name", "dtype", "Z", "E"),
    [  # far tails, where the bound is tight and E is below an ulp of Z
        ("tanh", np.float64, 300.0, 2.8e-14),
        ("sigmoid", np.float64, 600.0, 5.6e-14),
        ("softplus", np.float64, -600.0, 5.6e-14),
        ("elu", np.float64, -700.0, 5.6e-14),
        ("gelu", np.float64, 37.0, 7e-15),
        ("tanh", np.float32, 40.0, 1.9e-6),
        ("sigmoid", np.float32, -80.0, 3.8e-6),
        ("elu", np.float32, -80.0, 3.8e-6),
        # near the peaks and across 0
        ("sigmoid", np.float64, 1.3, 0.01),
        ("tanh", np.float64, -0.5, 0.1),
        ("gelu", np.float64, 2.0, 0.3),
        ("elu", np.float64, 0.1, 0.2),
    ],
    ids=lambda value: str(value) if not isinstance(value, type) else value.__name__,
)
def test_eq_2_13_sigma_second_bound_holds_at_exact_values(name, dtype, Z, E) -> None:
    _assert_bound_holds(name, dtype, Z, E)


@given(
    name=st.sampled_from(["sigmoid", "softplus", "tanh", "gelu", "elu"]),
    dtype=st.sampled_from([np.float64, np.float32]),
    Z=st.floats(-800.0, 800.0),
    relative=st.floats(0.0, 1e-3),
)
def test_eq_2_13_sigma_second_bound_holds_property(name, dtype, Z, relative) -> None:
    _assert_bound_holds(name, dtype, Z, abs(Z) * relative)


def test_eq_2_13_elu_second_bound_is_0_above_0() -> None:
    # ELU'' is 0 on (0, ∞): an interval there moves σ' not at all (it was bounded by 1).
    Z, E = np.array([5.0, 1e-300, 3.0]), np.array([1e-15, 0.0, 2.5])
    np.testing.assert_array_equal(SECOND_DERIVATIVE_BOUNDS["elu"](Z, E), [0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    ("dtype", "Z"),
    [(np.float64, 2e154), (np.float64, -1.7e308), (np.float32, 2e19), (np.float32, -3e38)],
)
def test_eq_2_13_gelu_second_bound_is_0_where_z_squared_overflows(dtype, Z) -> None:
    # φ(d)(2 + d²) was e^{−inf}·inf = NaN there, an infinite allowance downstream.
    bound = SECOND_DERIVATIVE_BOUNDS["gelu"](np.array([Z], dtype), np.zeros(1, dtype))
    np.testing.assert_array_equal(bound, [0.0])


@pytest.mark.parametrize(("activation", "scale"), [("elu", 1e30), ("gelu", 2e154)])
def test_eq_2_13_one_percent_error_in_a_gradient_is_caught_at_large_Z(activation, scale) -> None:
    # Z^(1) of order `scale` in one unit, undone by W^(2): ELU's σ'' bound of 1 above 0, and
    # GELU's NaN where z² overflows, once allowed a 1% error in ∂J/∂W^(2).
    network = Network((2, 2, 1), (activation, "sigmoid"))
    params = (
        Layer(np.array([[scale, 0.0], [0.0, 1.0]]), np.zeros(2)),
        Layer(np.array([[1.0 / scale, 0.5]]), np.zeros(1)),
    )
    X = np.array([[1.0, 0.5, 2.0], [0.3, -0.2, 0.1]])
    T = np.array([[0.2, 0.7, 0.4]])
    expected = vectorized.backprop(network, params, X, T)
    grads, trace = expected
    wrong = [Layer(W.copy(), b.copy()) for W, b in grads]
    wrong[1].W[0, 1] *= 1.01
    comparison = compare_backprop(network, params, X, T, expected, (tuple(wrong), trace))
    row = next(r for r in comparison.rows if (r.quantity, r.layer) == ("W", 2))
    assert not row.passed
    assert row.worst_index == (0, 1)


def test_eq_2_13_float32_elu_bias_error_of_1e_minus_3_is_caught() -> None:
    # Weights of scale 10 and biases near 3 keep most units of both ELU layers above 0, where
    # a σ'' bound of 1 made the allowance of ∂J/∂b^(1) 0.95 against 0.013.
    network = Network((5, 5, 5), ("elu", "elu"))
    params = tuple(
        Layer((10 * W).astype(np.float32), (10 * b + 3).astype(np.float32))
        for W, b in init_params(network, seed=0)
    )
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 9)).astype(np.float32)
    T = rng.uniform(size=(5, 9)).astype(np.float32)
    expected = vectorized.backprop(network, params, X, T)
    grads, trace = expected
    wrong = [Layer(W.copy(), b.copy()) for W, b in grads]
    worst = int(np.argmax(np.abs(wrong[0].b)))
    wrong[0].b[worst] *= np.float32(1.001)
    comparison = compare_backprop(network, params, X, T, expected, (tuple(wrong), trace))
    row = next(r for r in comparison.rows if (r.quantity, r.layer) == ("b", 1))
    assert not row.passed
    assert row.worst_index == (worst,)


def test_sigma_prime_sup_table_covers_every_elementwise_activation() -> None:
    elementwise = {name for name, sigma in ACTIVATIONS.items() if sigma.elementwise}
    assert set(SIGMA_PRIME_SUPS) == elementwise


@pytest.mark.parametrize("name", sorted(SIGMA_PRIME_SUPS))
def test_sigma_prime_sup_bounds_sigma_prime(name: str) -> None:
    # the cap on the slope bound is a true sup: |σ'| on a fine grid stays within 0.1% of it
    Z = np.linspace(-50.0, 50.0, 200_001)
    assert np.max(np.abs(ACTIVATIONS[name].sigma_prime(Z))) <= SIGMA_PRIME_SUPS[name] * 1.001

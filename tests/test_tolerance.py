"""Tests of crosscheck.compare.bounds: the per-dtype table, γ_n, σ'' bounds, the running
bound, the allowed difference of two sides, the oracle's allowance and the fixed rule."""

import numpy as np
import pytest
from hypothesis import given

from crosscheck import vectorized
from crosscheck.compare.bounds import (
    DEFAULT_TOLERANCES,
    DTYPE_CONSTANTS,
    SECOND_DERIVATIVE_BOUNDS,
    Tolerance,
    allowed_difference,
    allowed_differences,
    catalogue_allowed,
    decay_term_allowed,
    default_tolerance,
    dtype_constants,
    fixed_allowed,
    fixed_tolerance,
    gamma,
    mean_bound,
    measured_ratio_allowed,
    oracle_allowed,
    repeat_allowed,
    repeat_bound,
    rounding_dtype,
    scaled_allowed,
    sum_of_bounds,
    trace_bounds,
    without_sigma_prime_allowed,
)
from crosscheck.ffnn import ACTIVATIONS, LOSSES, Layer, Network, Trace
from crosscheck.strategies import networks, problems

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
    T = np.zeros((W.shape[0], X.shape[1]), dtype=X.dtype)
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


# --- the fixed rule's fallback table -------------------------------------------------------


def test_default_tolerances_hold_exactly_float64_and_float32() -> None:
    assert set(DEFAULT_TOLERANCES) == {np.dtype(np.float64), np.dtype(np.float32)}


@pytest.mark.parametrize(
    ("dtype", "value"), [(np.float64, 2.0**-30), (np.float32, 2.0**-10)], ids=["f64", "f32"]
)
def test_default_tolerance_values(dtype, value: float) -> None:
    tiny = float(np.finfo(dtype).smallest_normal)
    expected = Tolerance(rtol=value, atol=value, scale_atol=True, tiny=tiny)
    assert default_tolerance(dtype) == expected


def test_default_tolerance_float64_far_above_unit_roundoff_far_below_bugs() -> None:
    u = np.finfo(np.float64).eps / 2
    assert 1e6 * u < TOL64.rtol < 1e-8


def test_default_tolerance_unknown_dtype_names_it() -> None:
    with pytest.raises(ValueError, match="float16"):
        default_tolerance(np.float16)


TOL64 = DEFAULT_TOLERANCES[np.dtype(np.float64)]


@pytest.mark.parametrize(
    ("dtypes", "expected"),
    [
        ((np.float64, np.float32), np.float32),
        ((np.float64, np.int64), np.float64),
        ((np.int32,), np.float64),
        ((), np.float64),
    ],
    ids=["f64+f32", "f64+int", "int", "none"],
)
def test_rounding_dtype_is_the_least_precise_float(dtypes, expected) -> None:
    assert rounding_dtype(dtypes) == np.dtype(expected)


def test_fixed_tolerance_rtol_alone_keeps_the_scaled_atol() -> None:
    assert fixed_tolerance(np.float64, 1e-6, None) == Tolerance(
        rtol=1e-6, atol=TOL64.atol, scale_atol=True, tiny=TOL64.tiny
    )


def test_fixed_allowed_scales_atol_by_the_array_largest_entry() -> None:
    # atol·max|e| + tiny·n + rtol·|e|, n = 2 entries
    allowed = fixed_allowed(np.array([4.0, -1.0]), TOL64)
    expected = TOL64.atol * 4.0 + TOL64.tiny * 2 + TOL64.rtol * np.array([4.0, 1.0])
    assert np.array_equal(allowed, expected)


def test_fixed_allowed_J_scales_by_at_least_one() -> None:
    assert fixed_allowed(np.array(0.0), TOL64, least_scale=1.0) == TOL64.atol + TOL64.tiny


# --- the running bound through two layers (hand-worked) ---------------------------------------


def _two_layers():
    """Identity layers, W^(1) = [[2, -1]], W^(2) = [[3]], zero biases, X = [[1], [1]], T = 0:
    Z^(1) = 1, Z^(2) = 3, Δ^(2) = H^(2) = 3, ∂J/∂W^(2) = 3, Δ^(1) = H^(1) = 9."""
    network = Network((2, 1, 1), ("identity", "identity"))
    params = (Layer(np.array([[2.0, -1.0]]), np.zeros(1)), Layer(np.array([[3.0]]), np.zeros(1)))
    X, T = np.ones((2, 1)), np.zeros((1, 1))
    trace = vectorized.backprop(network, params, X, T)[1]
    return network, params, X, T, trace


def test_eqs_1_4_2_14_2_32_bound_through_two_layers() -> None:
    # Each product's error |W| E_A + γ_n |W||A| (and its backward forms), the γ term folded
    # into the product by linearity: the bound equals the sum of the separate terms.
    network, params, X, T, trace = _two_layers()
    bounds = trace_bounds(network, params, X, T, trace, np.float64)
    u, flushed = U64, TINY64 * 5  # σ = identity at |Z| = 1: tiny·(4 + |Z|)
    E_Z1 = gamma(3, u) * 3.0 + 3 * TINY64
    E_A1 = E_Z1 + 8 * u * (1.0 + 1.0) + flushed
    E_Z2 = 3.0 * E_A1 + gamma(2, u) * 3.0 + 2 * TINY64
    assert bounds.Z[2][0, 0] == pytest.approx(E_Z2, rel=1e-12)
    E_A2 = E_Z2 + 8 * u * (3.0 + 3.0) + TINY64 * 7
    E_Delta2 = E_A2 + gamma(3, u) * 3.0 + TINY64
    E_H2 = E_Delta2 + u * 3.0 + TINY64 + 3.0 * (8 * u * 1.0 + TINY64 * 7)
    assert bounds.H[2][0, 0] == pytest.approx(E_H2, rel=1e-12)
    E_W2 = E_H2 * 1.0 + 3.0 * E_A1 + gamma(2, u) * 3.0 + 2 * TINY64
    assert bounds.W[1][0, 0] == pytest.approx(E_W2, rel=1e-12)
    E_Delta1 = 3.0 * E_H2 + gamma(1, u) * 9.0 + TINY64
    assert bounds.Delta[1][0, 0] == pytest.approx(E_Delta1, rel=1e-12)


# --- the allowed difference of two sides ----------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual"),
    [(np.float64, np.float64), (np.float64, np.float32), (np.float32, np.float64)],
    ids=["f64-f64", "f64-f32", "f32-f64"],
)
def test_allowed_difference_is_the_sum_of_both_sides_bounds(expected, actual) -> None:
    network, params, X, T, trace = _two_layers()
    allowed = allowed_difference(network, params, X, T, trace, expected, actual)
    e, a = (trace_bounds(network, params, X, T, trace, d) for d in (expected, actual))
    assert allowed.J == e.J + a.J
    for name in ("Z", "A", "Delta", "H", "W", "b"):
        for total, E_e, E_a in zip(*(getattr(side, name) for side in (allowed, e, a)), strict=True):
            assert total is None or np.array_equal(total, E_e + E_a)


def test_allowed_differences_one_bound_per_distinct_dtype() -> None:
    network, params, X, T, trace = _two_layers()
    sums = allowed_differences(
        network, params, X, T, trace, np.float64, [np.float32, np.float64, np.float32]
    )
    assert list(sums) == [np.dtype(np.float32), np.dtype(np.float64)]


def test_allowed_difference_counts_kinks_of_the_expected_side() -> None:
    # Z = 1 − (1 + 2⁻³³) at a ReLU: within float32's bound of the kink (~γ_3·2), not float64's.
    network = Network((2, 1), ("relu",))
    params = (Layer(np.array([[1.0, -1.0]]), np.zeros(1)),)
    X, T = np.array([[1.0], [1.0 + 2.0**-33]]), np.zeros((1, 1))
    trace = vectorized.backprop(network, params, X, T)[1]
    f64 = allowed_difference(network, params, X, T, trace, np.float64, np.float32)
    f32 = allowed_difference(network, params, X, T, trace, np.float32, np.float64)
    assert (f64.at_kink[1][0, 0], f32.at_kink[1][0, 0]) == (False, True)


# --- the oracle's allowance: σ' from A --------------------------------------------------------


def _saturated_tanh():
    network = Network((1, 1, 1), ("tanh", "identity"))
    params = (Layer(np.array([[8.0]]), np.zeros(1)), Layer(np.array([[1.0]]), np.zeros(1)))
    X, T = np.ones((1, 1)), np.zeros((1, 1))
    trace = vectorized.backprop(network, params, X, T)[1]
    return network, params, X, T, trace


def test_oracle_allowed_is_twice_the_derived_bound_where_sigma_prime_is_exact() -> None:
    network, params, X, T, trace = _saturated_tanh()
    allowed = oracle_allowed(network, params, X, T, trace)
    bounds = trace_bounds(network, params, X, T, trace, np.float64)
    assert allowed.J == 2 * bounds.J and np.array_equal(allowed.W[1], 2 * bounds.W[1])


def test_eq_2_34_oracle_allows_1_minus_A_squared_at_a_saturated_tanh() -> None:
    # At z = 8, 1 − tanh² = 4.5e-7 errs by ~u absolutely (1.2e-16 here), 5e3 times the stable
    # form's bound of both sides.
    network, params, X, T, trace = _saturated_tanh()
    allowed = oracle_allowed(network, params, X, T, trace)
    bounds = trace_bounds(network, params, X, T, trace, np.float64)
    H = trace.Delta[1] * (1 - trace.A[1] ** 2)  # σ' from A, as textbooks write it
    error = abs(float(H[0, 0] - trace.H[1][0, 0]))  # ∂J/∂W^(1) = H^(1) X, X = 1
    assert 1e3 * 2 * bounds.W[0][0, 0] < error <= allowed.W[0][0, 0]


@given(problems(networks=networks(activations=("identity", "relu", "leaky_relu"))))
def test_oracle_allowed_in_float32_is_both_sides_bounds_where_sigma_prime_is_exact(problem):
    # σ' from A is exact for these: E(u₆₄) + E(u₃₂), nothing added
    network, params, X, T = problem
    trace = vectorized.backprop(network, params, X, T)[1]
    allowed = oracle_allowed(network, params, X, T, trace, np.float32)
    both = allowed_difference(network, params, X, T, trace, np.float64, np.float32)
    assert allowed.J == both.J
    for mine, theirs in zip(allowed.grads, both.grads, strict=True):
        assert np.array_equal(mine.W, theirs.W) and np.array_equal(mine.b, theirs.b)


def test_eq_2_34_oracle_allowance_of_float32_code_exceeds_float64_code() -> None:
    # σ' from A in float32 errs by ~2⁻²⁴ absolutely: the allowance grows with u
    network, params, X, T, trace = _saturated_tanh()
    f64 = oracle_allowed(network, params, X, T, trace)
    f32 = oracle_allowed(network, params, X, T, trace, np.float32)
    assert f32.W[0][0, 0] > 1e6 * f64.W[0][0, 0]


@given(problems())
def test_repeat_allowed_is_repeat_bound_plus_the_oracles_sigma_prime_allowance(problem):
    # two float64 calls: E + E as repeat_bound, plus the same σ'-from-A term as the oracle's
    network, params, X, T = problem
    trace = vectorized.backprop(network, params, X, T)[1]
    bounds = trace_bounds(network, params, X, T, trace, np.float64)
    twice = repeat_bound(bounds)
    repeat = repeat_allowed(network, params, X, T, trace)
    oracle = oracle_allowed(network, params, X, T, trace)
    assert repeat.J == twice.J == oracle.J
    for r, t, o in zip(repeat.grads, twice.grads, oracle.grads, strict=True):
        assert np.array_equal(r.W - t.W, o.W - t.W) and np.array_equal(r.b - t.b, o.b - t.b)


# --- the diagnosis's claims ------------------------------------------------------------------


def test_scaled_allowed_is_c_times_B_G_plus_B_K_plus_two_u_of_the_value() -> None:
    allowed = scaled_allowed(-2.0, np.array([1e-15, 0.0]), 1e-16, np.array([4.0, -0.5]))
    assert np.array_equal(allowed, [2e-15 + 1e-16 + 8 * U64, 1e-16 + U64])


def test_measured_ratio_allowed_carries_the_error_of_the_entry_measured_at() -> None:
    # c = 3 measured at k = (0,): G_k = 2 ± 1e-12, so at G_j = 4 the ratio's own error adds
    # 3 · 1e-12 · 4/2
    G, B_G = np.array([2.0, 4.0]), np.array([1e-12, 1e-14])
    allowed = measured_ratio_allowed(3.0, G, B_G, (0,))
    expected = [3 * (1e-12 + 1e-12) + 2 * U64 * 6, 3 * (1e-14 + 2e-12) + 2 * U64 * 12]
    assert allowed == pytest.approx(expected, rel=1e-15)


def test_decay_term_allowed_is_gamma_3_per_side() -> None:
    expected = 2 * gamma(3, U64) * np.array([0.5, 2.0])
    assert np.array_equal(decay_term_allowed(np.array([-0.5, 2.0])), expected)


@given(problems(networks=networks(activations=("identity",), losses=("squared_error",))))
def test_eq_2_14_without_sigma_prime_allowance_is_within_both_sides_E_W_for_identity(problem):
    # σ = identity: H^(l) = Δ^(l) (σ' = 1), whose own E_H >= E_Δ, so the allowance of
    # Δ A^(l-1)ᵗ is at most E_W + E_W (λ = 0)
    network, params, X, T = problem
    if network.weight_decay:
        network = Network(network.sizes, network.activations, network.loss)
    trace = vectorized.backprop(network, params, X, T)[1]
    bounds = trace_bounds(network, params, X, T, trace, np.float64)
    for l in range(1, network.L + 1):
        allowed = without_sigma_prime_allowed(trace, bounds, l)
        assert np.all(allowed.W <= 2 * bounds.W[l - 1])
        assert np.all(allowed.b <= 2 * bounds.b[l - 1])


@pytest.mark.parametrize(
    ("dtypes", "rtol"),
    [((np.float64,), 2.0**-30), ((np.float64, np.float32), 2.0**-10)],
    ids=["float64", "float32_involved"],
)
def test_catalogue_allowed_is_rtol_of_the_entry_and_of_the_arrays_largest(dtypes, rtol):
    allowed = catalogue_allowed(np.array([-3.0, 1.0, 0.0]), *dtypes)
    assert np.array_equal(allowed, [rtol * 6.0, rtol * 4.0, rtol * 3.0])


# --- bounds of related problems (the metamorphic properties) ----------------------------------


def test_sum_of_bounds_adds_entry_by_entry() -> None:
    one = (Layer(np.array([[1.0, 2.0]]), np.array([3.0])),)
    two = (Layer(np.array([[0.5, 0.25]]), np.array([1.0])),)
    (total,) = sum_of_bounds(one, two)
    assert np.array_equal(total.W, [[1.5, 2.25]]) and np.array_equal(total.b, [4.0])


def test_mean_bound_is_the_mean_of_bounds_plus_gamma_of_the_mean_magnitude() -> None:
    values = [
        (Layer(np.array([[2.0]]), np.array([-4.0])),),
        (Layer(np.array([[-2.0]]), np.zeros(1)),),
    ]
    bounds = [(Layer(np.array([[1e-16]]), np.array([3e-16])),)] * 2
    (mean,) = mean_bound(values, bounds)
    assert mean.W[0, 0] == pytest.approx(1e-16 + gamma(3, U64) * 2.0, rel=1e-15)
    assert mean.b[0] == pytest.approx(3e-16 + gamma(3, U64) * 2.0, rel=1e-15)


# --- float32 arithmetic for a float32 trace -------------------------------------------------


def _as_float64(network, params, X, T, trace):
    cast = lambda a: None if a is None else np.asarray(a, dtype=np.float64)  # noqa: E731
    params = tuple(Layer(cast(W), cast(b)) for W, b in params)
    trace = Trace(*(tuple(cast(a) for a in field) for field in trace))
    return network, params, cast(X), cast(T), trace


FLOAT32_PROBLEMS = problems(
    networks=networks(activations=tuple(ACTIVATIONS), losses=tuple(LOSSES), weight_decay=True),
    dtype=np.float32,
)


@given(problem=FLOAT32_PROBLEMS)
def test_float32_arithmetic_bounds_at_least_the_float64_arithmetic(problem) -> None:
    # A float32 trace bounded for float32 is bounded in float32, every stage rounded up: no
    # entry falls below the same bound computed in float64 from the same (exact) magnitudes.
    trace = vectorized.backprop(*problem)[1]
    in_float32 = trace_bounds(*problem, trace, np.float32)
    in_float64 = trace_bounds(*_as_float64(*problem, trace), np.float32)
    for name in ("Z", "A", "Delta", "H", "W", "b"):
        for E32, E64 in zip(getattr(in_float32, name), getattr(in_float64, name), strict=True):
            if E32 is not None:
                assert E32.dtype in (np.float32, np.float64)
                assert np.all((E32 >= E64 * (1 - 1e-12)) | (np.isinf(E64) & np.isinf(E32)))
    assert in_float32.J >= in_float64.J * (1 - 1e-12)


def test_float32_trace_is_bounded_in_float32() -> None:
    problem = _one_layer(
        np.array([[1.0, 2.0]], np.float32), np.zeros(1, np.float32), np.ones((2, 2), np.float32)
    )
    assert trace_bounds(*problem, np.float32).Z[1].dtype == np.float32


def test_float32_arithmetic_keeps_an_infinite_output_delta_bound() -> None:
    # A_1 = e^{−85}/(1 + e^{−85}) = 1.2e-37, within E_A's underflow term of 0: the exact
    # T_1/A_1 may be unbounded, an inf Δ^(1) bound, not an overflow to redo in float64.
    network = Network((1, 2), ("softmax",), "cross_entropy")
    params = (Layer(np.array([[0.0], [-85.0]], np.float32), np.zeros(2, np.float32)),)
    X, T = np.ones((1, 1), np.float32), np.full((2, 1), 0.5, np.float32)
    trace = vectorized.backprop(network, params, X, T)[1]
    bounds = trace_bounds(network, params, X, T, trace, np.float32)
    assert bounds.Z[1].dtype == np.float32
    assert (np.isfinite(bounds.Delta[1][0, 0]), bounds.Delta[1][1, 0]) == (True, np.inf)


def test_float32_arithmetic_that_overflows_falls_back_to_float64() -> None:
    # Z = 3e38 − 3e38 = 0 is finite, but |W||A| = 6e38 overflows float32: bounded in float64.
    W = np.array([[3e38, -3e38]], np.float32)
    problem = _one_layer(W, np.zeros(1, np.float32), np.ones((2, 1), np.float32))
    bound = trace_bounds(*problem, np.float32).Z[1]
    assert bound.dtype == np.float64 and bound[0, 0] == pytest.approx(
        gamma(3, 2.0**-24) * 6e38, rel=1e-6
    )

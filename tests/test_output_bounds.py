"""The derived bound at a loss's output (eqs 2.8', 2.8'', 2.16, 2.21', 2.21''): fitted,
saturated samples and underflowing outputs of binary cross-entropy, and non-finite Δ^(L)
entries, each once a false pass found by a helper's probes; and squared error at a perfect
fit (J, and ∂J/∂W behind a cancelled unit, eq 2.14), each once a false alarm."""

import numpy as np
import pytest
from hypothesis import given

from crosscheck import reference, vectorized
from crosscheck.compare import compare_backprop
from crosscheck.ffnn import ACTIVATIONS, Layer, Network, Trace, init_params
from crosscheck.strategies import Problem, networks, problems

from helpers.implementations import implementation_params


def _logistic_regression(x: float, t: float):
    network = Network((1, 1), ("sigmoid",), "binary_cross_entropy")
    params = (Layer(np.array([[1.0]]), np.array([0.0])),)
    return network, params, np.array([[x, 1e-3]]), np.array([[t, 0.3]])


def test_eq_2_8_bce_H_bound_of_a_fitted_saturated_sample_is_small() -> None:
    # H = (σ(Z) − T)/N ≈ 0 at Z = 1e6, T = 1: σ(±Z)'s evaluation error is relative to σ(±Z),
    # not u·|Z| absolute (that allowed ∂J/∂W^(1) with the sample left out, 1.0e-4 against 8.9e-4).
    network, params, X, T = _logistic_regression(1e6, 1.0)
    expected = vectorized.backprop(network, params, X, T)
    grads, trace = expected
    wrong = (Layer(trace.H[1][:, :1] @ X[:, :1].T, grads[0].b),)  # the sum over n stops short
    comparison = compare_backprop(network, params, X, T, expected, (wrong, trace))
    row = next(r for r in comparison.rows if (r.quantity, r.layer) == ("W", 1))
    assert not row.passed
    assert row.allowed < 1e-8


def test_eq_2_21_bce_output_delta_bound_is_finite_where_A_squared_underflows() -> None:
    # Δ^(1) = −T/(N A) at A = σ(−400) ≈ 1.9e-174: A² underflowed to 0, an infinite allowance.
    network, params, X, T = _logistic_regression(-400.0, 1.0)
    expected = vectorized.backprop(network, params, X, T)
    grads, trace = expected
    Delta = trace.Delta[1].copy()
    Delta[0, 0] = 5.0
    actual = (grads, trace._replace(Delta=(trace.Delta[0], Delta)))
    comparison = compare_backprop(network, params, X, T, expected, actual)
    row = next(r for r in comparison.rows if (r.quantity, r.layer) == ("Delta", 1))
    assert not row.passed
    assert np.isfinite(row.allowed)


@pytest.mark.parametrize("loss", ["squared_error", "binary_cross_entropy"])
def test_eq_2_21_nan_output_delta_is_a_mismatch_where_the_exact_one_is_moderate(loss) -> None:
    # Non-finite Δ^(L) entries are skipped only where the exact value may overflow.
    network = Network((3, 4, 3), ("tanh", "sigmoid"), loss)
    rng = np.random.default_rng(1)
    X, T = rng.normal(size=(3, 5)), rng.uniform(size=(3, 5))
    params = init_params(network, seed=1)
    expected = vectorized.backprop(network, params, X, T)
    grads, trace = expected
    actual = (grads, trace._replace(Delta=(*trace.Delta[:2], np.full((3, 5), np.nan))))
    comparison = compare_backprop(network, params, X, T, expected, actual)
    row = next(r for r in comparison.rows if (r.quantity, r.layer) == ("Delta", 2))
    assert (row.passed, row.n_skipped, row.n_mismatched) == (False, 0, 15)


def test_eq_1_4_E_A_of_a_bounded_sigma_is_capped_by_its_range() -> None:
    # Z^(1) of unit 0 cancels 1e20 − 1e20: E_Z ≈ 2e4 made E_A of that sigmoid unit 3.9e9 (the
    # slope bound grew with E_Z), and every later allowance with it; σ's range caps it at 1.
    network = Network((3, 2, 1), ("sigmoid", "identity"), "squared_error")
    params = (
        Layer(np.array([[1e20, -1e20, 1.0], [0.3, 0.2, -0.1]]), np.zeros(2)),
        Layer(np.array([[0.7, -0.4]]), np.zeros(1)),
    )
    X = np.array([[1.0, 1.0], [1.0, 1.0], [0.5, -2.0]])
    T = np.array([[0.2, 0.9]])
    expected = vectorized.backprop(network, params, X, T)
    grads, trace = expected
    wrong = [Layer(W.copy(), b.copy()) for W, b in grads]
    wrong[0].W[1, :] *= 1000  # the well-conditioned unit's row
    comparison = compare_backprop(network, params, X, T, expected, (tuple(wrong), trace))
    row = next(r for r in comparison.rows if (r.quantity, r.layer) == ("W", 1))
    assert not row.passed
    assert row.worst_index == (1, 2)


def _perfectly_fitted(problem: Problem) -> Problem:
    """The problem with T := vectorized's own output A^(L): J = 0 exactly on that side."""
    network, params, X, T = problem
    _, trace = vectorized.backprop(network, params, X, T)
    return network, params, X, trace.A[-1]


@pytest.mark.parametrize(
    "implementation", implementation_params(["literal", "contracted", "autodiff"])
)
@given(problem=problems(networks=networks(losses=("squared_error",))).map(_perfectly_fitted))
def test_eq_2_16_squared_error_at_a_perfect_fit_agrees(implementation, problem) -> None:
    # J = Σ (A − T)²/(2N) is 0 on the expected side and ~u²·|A|² on a correct other: the
    # first-order bound Σ |A − T| E_A/N is 0 there (600 of 600 perfect fits were false alarms
    # before the second-order Σ E_A²/N joined it).
    comparison = compare_backprop(
        *problem,
        vectorized.backprop(*problem),
        implementation.backprop(*problem),
        expected_loss=vectorized.loss(*problem),
        actual_loss=implementation.loss(*problem),
    )
    assert comparison.agree, comparison.first_mismatch


def test_eq_2_16_squared_error_bound_at_a_perfect_fit_is_second_order() -> None:
    # One identity unit, A = 3x exactly: E_A = γ_2·|3x| (+ tiny terms), so the J bound is
    # 2·E_A²/N + 2·tiny·n (two sides), and a J of 1e-20 (far beyond u²·9) is a mismatch.
    network = Network((1, 1), ("identity",))
    params = (Layer(np.array([[3.0]]), np.array([0.0])),)
    X = np.array([[1.0]])
    T = np.array([[3.0]])
    expected = vectorized.backprop(network, params, X, T)
    correct = compare_backprop(
        network, params, X, T, expected, expected, expected_loss=0.0, actual_loss=4e-32
    )
    wrong = compare_backprop(
        network, params, X, T, expected, expected, expected_loss=0.0, actual_loss=1e-20
    )
    assert (correct.agree, wrong.agree) == (True, False)


SWAP = [0, 2, 1]
"""S_0 = 3 features with the last two swapped (its own inverse)."""


def _summed_in_another_order(problem: Problem) -> tuple[tuple[Layer, ...], Trace]:
    """vectorized.backprop with S_0's features in SWAP's order: the same maths, Z^(1)'s sums
    taken in another order, results mapped back (a correct implementation of its own)."""
    network, params, X, T = problem
    (W, b), *rest = params
    grads, trace = vectorized.backprop(network, (Layer(W[:, SWAP], b), *rest), X[SWAP], T)
    (dW, db), *rest_grads = grads
    return (Layer(dW[:, SWAP], db), *rest_grads), trace._replace(
        A=(X.copy(), *trace.A[1:]), Delta=(trace.Delta[0][SWAP], *trace.Delta[1:])
    )


ELEMENTWISE = [name for name in ACTIVATIONS if ACTIVATIONS[name].elementwise]


@pytest.mark.parametrize("activation", ELEMENTWISE)
def test_eq_2_14_W_bound_at_a_perfect_fit_behind_a_cancelled_unit(activation) -> None:
    # Z^(1) = 1e16 + 1 − 1e16 sums to 0 in one order and to 1 (exact) in the other, and T is
    # the first order's A^(2): H^(2) = 0 and A^(1) = σ(0) there. With σ(0) = 0 the first-order
    # E_H|A|ᵗ + |H|E_Aᵗ of ∂J/∂W^(2) was 0 against a difference of 0.29–0.5; 2E_H E_Aᵗ covers it.
    network = Network((3, 1, 1), (activation, "identity"))
    params = (
        Layer(np.array([[1e16, 1.0, -1e16]]), np.zeros(1)),
        Layer(np.array([[0.5]]), np.zeros(1)),
    )
    X = np.ones((3, 2))
    problem = _perfectly_fitted((network, params, X, np.zeros((1, 2))))
    expected = vectorized.backprop(*problem)
    actual = _summed_in_another_order(problem)
    assert expected[1].Z[1][0, 0] != actual[1].Z[1][0, 0]  # the orders differ
    assert compare_backprop(*problem, expected, actual).agree


@pytest.mark.parametrize("c", [30.0, -40.0, 60.0])
@pytest.mark.parametrize(
    ("loss", "output", "T"),
    [
        ("binary_cross_entropy", "sigmoid", [[0.5, 0.5]]),
        ("cross_entropy", "softmax", [[0.2, 0.2], [0.8, 0.8]]),
    ],
)
def test_eq_2_21_output_delta_bound_where_Z_L_cancelled(c, loss, output, T) -> None:
    # Z^(L)_0 = 1e18 + c − 1e18 is 0 in one order and c (exact) in the other: A^(L) moves by
    # its own size, and T/A with it. The first-order T·E_A/A² allowed 1e-12 to 1e-25 of the
    # difference; |T|E_A/(A − 2E_A)² (inf where A <= 2E_A) covers it.
    T = np.array(T)
    W = np.zeros((T.shape[0], 3))
    W[0] = [1e18, c, -1e18]
    problem = (
        Network((3, T.shape[0]), (output,), loss),
        (Layer(W, np.zeros(len(W))),),
        np.ones((3, 2)),
        T,
    )
    expected = vectorized.backprop(*problem)
    actual = _summed_in_another_order(problem)
    assert (expected[1].Z[1][0, 0], actual[1].Z[1][0, 0]) == (0.0, c)
    assert compare_backprop(*problem, expected, actual).agree


@pytest.mark.parametrize("implementation", implementation_params(["vectorized", "autodiff"]))
def test_eq_2_21_float32_bce_output_that_rounds_to_one_agrees_with_float64(implementation) -> None:
    # σ(20) = 1 − 2.1e-9 is 1.0 in float32: Δ^(1) = (1 − T)/(N(1 − A)) is inf there and 4.9e8
    # in float64. E_A (4.8e-7) exceeds 1 − A, so the exact 1 − A may be 0: the bound is inf and
    # the non-finite entry is skipped (it was a finite 1.1e11, and a false alarm).
    network = Network((1, 1), ("sigmoid",), "binary_cross_entropy")
    params = (Layer(np.array([[4.0]], np.float32), np.array([0.0], np.float32)),)
    X, T = np.array([[5.0]], np.float32), np.array([[0.0]], np.float32)
    actual = implementation.backprop(network, params, X, T)
    assert actual[1].Delta[1][0, 0] == np.inf
    comparison = compare_backprop(
        network, params, X, T, reference.backprop(network, params, X, T), actual
    )
    assert comparison.agree, comparison.first_mismatch


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_eq_2_8_bce_H_bound_of_a_saturated_output_with_a_hard_target_is_relative(dtype) -> None:
    # A = σ(−39.5) = 7.2e-18, T = 0: H = (A − T)/N is exact to u·A on every fused route. The
    # rounding term γ_3(A + |T| + |1 − T|) floored it at γ_3/N (95 times the value in float64,
    # 5e10 in float32), so a zeroed ∂J/∂W passed.
    network = Network((1, 1), ("sigmoid",), "binary_cross_entropy")
    params = (Layer(np.array([[1.0]], dtype), np.array([0.0], dtype)),)
    X, T = np.full((1, 2), -39.5, dtype), np.zeros((1, 2), dtype)
    expected = vectorized.backprop(network, params, X, T)
    grads, trace = expected
    zeroed = tuple(Layer(np.zeros_like(W), np.zeros_like(b)) for W, b in grads)
    comparison = compare_backprop(network, params, X, T, expected, (zeroed, trace))
    assert not comparison.agree
    assert comparison.first_mismatch.quantity in ("W", "b")

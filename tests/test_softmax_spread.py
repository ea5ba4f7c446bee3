"""The derived bound's softmax step (eqs 1.4, 2.2'; ``bounds._softmax_spread``): how far
A = softmax(Z) moves when each Z_j moves by up to E_j, checked against 60-digit values
(mpmath) for moves of every size, and end to end at a saturated output, where its
first-order predecessor let a zeroed gradient pass; and a hidden softmax's H (eq 2.13''),
whose E_A E_Δ terms are all the error at a perfect fit behind a cancelled Z."""

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crosscheck import vectorized
from crosscheck.compare import compare_backprop
from crosscheck.compare.bounds import _softmax_spread as softmax_spread
from crosscheck.compare.bounds import gamma
from crosscheck.ffnn import Layer, Network

from helpers.implementations import implementation_params

U = 2.0**-53


def _exact_softmax(Z: list[mpmath.mpf]) -> list[mpmath.mpf]:
    exps = [mpmath.exp(z) for z in Z]
    total = mpmath.fsum(exps)
    return [e / total for e in exps]


@given(
    Z=st.lists(st.floats(-40, 40), min_size=1, max_size=5),
    data=st.data(),
)
def test_eq_2_2_p_softmax_spread_covers_every_move_within_E(Z, data) -> None:
    S = len(Z)
    E = data.draw(st.lists(st.floats(0, 3), min_size=S, max_size=S), label="E")
    moves = data.draw(st.lists(st.floats(-1, 1), min_size=S, max_size=S), label="δ/E")
    with mpmath.workdps(60):
        exact = _exact_softmax([mpmath.mpf(z) for z in Z])
        moved = _exact_softmax(
            [mpmath.mpf(z) + mpmath.mpf(e) * m for z, e, m in zip(Z, E, moves, strict=True)]
        )
        change = np.array([float(abs(a - b)) for a, b in zip(moved, exact, strict=True)])
    A = np.array([float(a) for a in exact]).reshape(S, 1)
    spread = softmax_spread(A, np.array(E).reshape(S, 1))[:, 0]
    # A rounded to float64 errs by u·A; the bound's caller adds γ_{S+3}·A for it
    assert np.all(change <= spread + gamma(S + 3, U) * A[:, 0] + 1e-300)


def test_eq_2_2_p_softmax_spread_of_a_saturated_unit_is_relative_to_1_minus_A() -> None:
    # A_0 = 1 − 2e-9: a move E of every Z moves A_0 by about (1 − A_0)·2E, not 2E
    A = np.array([[1 - 2e-9], [1e-9], [1e-9]])
    spread = softmax_spread(A, np.full((3, 1), 1e-6))
    assert spread[0, 0] == pytest.approx(4e-15, rel=1e-3)


@pytest.mark.parametrize(
    ("dtype", "Z_0"), [(np.float64, 30.0), (np.float64, 32.0), (np.float32, 12.0)]
)
def test_eq_2_8_p_saturated_softmax_with_a_zeroed_gradient_is_a_mismatch(dtype, Z_0) -> None:
    # Z = (Z_0, 0.1, −0.1), T = e_0: H^(1) = (A − T)/N ≈ −(1 − A_0) = −2.6e-14 (Z_0 = 32).
    # The first-order softmax step allowed A_0 to move by 2E_0, 3400 times the real error.
    network = Network((1, 3), ("softmax",), "cross_entropy")
    params = (Layer(np.array([[Z_0], [0.1], [-0.1]], dtype), np.zeros(3, dtype)),)
    X, T = np.ones((1, 1), dtype), np.array([[1.0], [0.0], [0.0]], dtype)
    expected = vectorized.backprop(network, params, X, T)
    grads, trace = expected
    W = grads[0].W.copy()
    W[0] = 0.0  # the saturated unit's row
    comparison = compare_backprop(network, params, X, T, expected, ((Layer(W, grads[0].b),), trace))
    assert not comparison.agree
    assert comparison.first_mismatch.worst_index == (0, 0)


@pytest.mark.parametrize("implementation", implementation_params(["vectorized", "autodiff"]))
def test_eq_2_13_pp_hidden_softmax_at_a_perfect_fit_behind_a_cancelled_Z_agrees(
    implementation,
) -> None:
    # Z^(1) = (1e8, 1e8 + 4): float32 rounds 1e8 + 4 to 1e8, so its A^(1) is (0.5, 0.5)
    # against float64's (0.018, 0.982), within E_A. T is the float64 output (float32-exact):
    # Δ^(1) = 0 there, and H^(1) = A ⊙ (Δ − Σ A_k Δ_k) is all E_A E_Δ on the float32 side
    # (0.48 against an allowance of 0.072 before A became A + 2E_A in that term).
    network = Network((1, 2, 1), ("softmax", "identity"))
    params = (
        Layer(np.array([[1.0], [1.0]]), np.array([0.0, 4.0])),
        Layer(np.array([[1.0, -1.0]]), np.array([0.0])),
    )
    X = np.array([[1e8]])
    fitted = vectorized.backprop(network, params, X, np.zeros((1, 1)))[1].A[2]
    T = fitted.astype(np.float32).astype(np.float64)
    as_float32 = (
        tuple(Layer(W.astype(np.float32), b.astype(np.float32)) for W, b in params),
        X.astype(np.float32),
        T.astype(np.float32),
    )
    expected = vectorized.backprop(network, params, X, T)
    actual = implementation.backprop(network, *as_float32)
    assert actual[1].A[1][0, 0] == 0.5  # the cancelled order
    comparison = compare_backprop(network, params, X, T, expected, actual)
    assert comparison.agree, comparison.first_mismatch


@pytest.mark.parametrize(("dtype", "g"), [(np.float64, 30.0), (np.float32, 8.0)])
def test_eq_2_13_pp_saturated_hidden_softmax_unit_with_a_zeroed_row_is_a_mismatch(dtype, g) -> None:
    # Hidden softmax(g, 0): H_0 = A_0((1 − A_0)Δ_0 − A_1Δ_1) takes Δ's error through
    # 1 − A_0 ≈ e^{−g}. Z^(2) = 1000·A_0 + A_1 − 1000 cancels, so E_Δ is large; the bound's
    # A_0(E_Δ0 + Σ A_j E_Δj) ≈ 2E_Δ0 allowed 52 (float64) and 5.9 (float32) times H_0 itself.
    network = Network((1, 2, 1), ("softmax", "identity"))
    params = (
        Layer(np.zeros((2, 1), dtype), np.array([g, 0.0], dtype)),
        Layer(np.array([[1000.0, 1.0]], dtype), np.array([-1000.0], dtype)),
    )
    X, T = np.ones((1, 1), dtype), np.ones((1, 1), dtype)
    expected = vectorized.backprop(network, params, X, T)
    grads, trace = expected
    W, b, H = grads[0].W.copy(), grads[0].b.copy(), trace.H[1].copy()
    W[0], b[0], H[0] = 0.0, 0.0, 0.0  # the saturated unit's row, consistently
    actual = ((Layer(W, b), grads[1]), trace._replace(H=(None, H, trace.H[2])))
    comparison = compare_backprop(network, params, X, T, expected, actual)
    assert not comparison.agree

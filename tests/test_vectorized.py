"""vectorized/: what is specific to the matrix form — its products against the index sums
within rounding (eqs 2.5, 2.10, 2.25, 2.32), H from its σ' kernels (eqs 2.13, 2.34), and
``gradients`` in the forward pass's buffers equal to ``backprop`` bit for bit. The contract it
shares with every implementation (shapes, dtypes, inputs, hand-worked values, bad input) is
tests/test_contract.py."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from hypothesis.extra.numpy import arrays

from crosscheck import vectorized
from crosscheck.ffnn import ACTIVATIONS, Layer, Network, init_params, overflow_guard
from crosscheck.vectorized.kernels import kernel

_ELEMENTS = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
_EPS = np.finfo(np.float64).eps


EVERY = tuple(sorted(ACTIVATIONS))
ELEMENTWISE = tuple(sorted(name for name, sigma in ACTIVATIONS.items() if sigma.elementwise))
"""Activations with a σ' (eq 2.13); softmax's eq 2.13' is tested in tests/test_softmax.py."""


@st.composite
def problems(draw, *, max_L=3, max_width=4, max_N=5, activations=EVERY):
    """(network, params, X, T, l): a float64 problem and a layer l in 1..L to inspect."""
    L = draw(st.integers(1, max_L))
    sizes = tuple(draw(st.lists(st.integers(1, max_width), min_size=L + 1, max_size=L + 1)))
    names = st.sampled_from(activations)
    activations = tuple(draw(st.lists(names, min_size=L, max_size=L)))
    network = Network(sizes, activations, weight_decay=draw(st.sampled_from([0.0, 0.25])))
    N = draw(st.integers(1, max_N))
    params = tuple(
        Layer(
            draw(arrays(np.float64, (rows, cols), elements=_ELEMENTS)),
            draw(arrays(np.float64, (width,), elements=_ELEMENTS)),
        )
        for (rows, cols), (width,) in network.param_shapes()
    )
    X = draw(arrays(np.float64, (sizes[0], N), elements=_ELEMENTS))
    T = draw(arrays(np.float64, (sizes[-1], N), elements=_ELEMENTS))
    return network, params, X, T, draw(st.integers(1, L))


def _assert_within_rounding(actual, expected, magnitude, terms):
    """Both sides are float64 sums of `terms` products whose absolute values sum to `magnitude`;
    each is within γ_terms·magnitude of the exact sum, so they differ by at most 2·terms·u·M."""
    bound = terms * _EPS * magnitude
    excess = np.abs(actual - expected) - bound
    assert np.all(excess <= 0), f"worst excess over the rounding bound: {excess.max():.3g}"


def _kernel_sigma_prime(sigma, Z):
    """σ'(Z) as the matrix form evaluates it: its kernel (tests/test_kernels.py holds each to
    the bound's SIGMA_ULPS of the exact σ' and of ffnn's sigma_prime); 1 for identity."""
    if kernel(sigma) is None:
        return np.ones_like(Z)
    with overflow_guard():  # cosh and e^{−z} overflow to inf in the tails (kernels.py)
        return kernel(sigma).evaluate(Z.copy(), np.empty_like(Z), np.empty_like(Z), True)[1]


@given(problems(activations=ELEMENTWISE))
def test_eq_2_13_2_34_H_is_Delta_times_sigma_prime(problem):
    network, params, X, T, l = problem
    _, trace = vectorized.backprop(network, params, X, T)
    expected = trace.Delta[l] * _kernel_sigma_prime(network.sigma(l), trace.Z[l])
    np.testing.assert_array_equal(trace.H[l], expected)


@given(problems())
def test_eq_2_5_2_27_dW_is_sum_over_n_of_H_times_A(problem):
    network, params, X, T, l = problem
    grads, trace = vectorized.backprop(network, params, X, T)
    H, A_prev, W, lam = trace.H[l], trace.A[l - 1], params[l - 1].W, network.weight_decay
    # eq 2.5: ∂J/∂W_ij = Σ_n H_in A_jn (the δ_ik of eq 2.4 has collapsed the sum over k).
    expected = np.einsum("in,jn->ij", H, A_prev) + lam * W
    magnitude = np.abs(H) @ np.abs(A_prev).T + lam * np.abs(W)
    _assert_within_rounding(grads[l - 1].W, expected, magnitude, terms=X.shape[1] + 1)


@given(problems())
def test_eq_2_10_2_36_db_is_sum_over_n_of_H(problem):
    network, params, X, T, l = problem
    grads, trace = vectorized.backprop(network, params, X, T)
    # eq 2.11 prints H J_Nᵗ; the shapes need H J_N, whose entries are Σ_n H_in (eq 2.10).
    expected = np.array([sum(row) for row in trace.H[l].tolist()])
    magnitude = np.abs(trace.H[l]).sum(axis=1)
    _assert_within_rounding(grads[l - 1].b, expected, magnitude, terms=X.shape[1])


@given(problems())
def test_eq_2_25_2_32_Delta_recursion(problem):
    network, params, X, T, l = problem
    _, trace = vectorized.backprop(network, params, X, T)
    W, H = params[l - 1].W, trace.H[l]
    # Δ^(l-1)_jn = Σ_k W_kj H_kn (the δ_nn' of eq 2.25 has collapsed the sum over n').
    expected = np.einsum("kj,kn->jn", W, H)
    magnitude = np.abs(W).T @ np.abs(H)
    _assert_within_rounding(trace.Delta[l - 1], expected, magnitude, terms=W.shape[0])


def _assert_gradients_equal_backprop_bit_for_bit(network, params, X, T):
    got = vectorized.gradients(network, params, X, T)
    want, _ = vectorized.backprop(network, params, X, T)
    np.testing.assert_array_equal(
        np.concatenate([np.concatenate([W.ravel(), b]) for W, b in got]),
        np.concatenate([np.concatenate([W.ravel(), b]) for W, b in want]),
    )


@pytest.mark.parametrize("output", EVERY)
@pytest.mark.parametrize("hidden", EVERY)
def test_eqs_2_32_2_34_gradients_in_the_forward_buffers_equal_backprop_bit_for_bit(hidden, output):
    # `gradients` overwrites Z^(l) with H^(l) and reuses A^(l)'s buffer for σ' and Δ^(l);
    # every pair of a hidden σ (two layers of it) and σ_L takes its own path there.
    network = Network((3, 4, 4, 2), (hidden, hidden, output), weight_decay=0.25)
    rng = np.random.default_rng(5)
    X, T = rng.uniform(-2.0, 2.0, (3, 6)), rng.uniform(-1.0, 1.0, (2, 6))
    params = init_params(network, seed=5)
    _assert_gradients_equal_backprop_bit_for_bit(network, params, X, T)


LAYOUTS = {
    "C": lambda a: np.ascontiguousarray(a),
    "Fortran": lambda a: np.asfortranarray(a),
    "strided": lambda a: np.repeat(a, 2, axis=1)[:, ::2],
    "reversed": lambda a: np.ascontiguousarray(a[::-1])[::-1],
}
"""Memory layouts of one array: NumPy's default, column-major (``data.T``), non-contiguous,
negative strides."""


@pytest.mark.parametrize("N", [1, 7])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_eqs_2_14_2_32_gradients_equal_backprop_bit_for_bit_in_every_layout_of_X(layout, N):
    # Found by review: backprop copied X (to C order, then in its own order) while gradients
    # used X as it is; a product's summation order depends on the layout (2.8e-17 at N = 7 for
    # a Fortran X, 3e-16 at N = 1 for reversed strides). Both now read X itself.
    network = Network((64, 32, 10), ("tanh", "sigmoid"))
    rng = np.random.default_rng(0)
    X = LAYOUTS[layout](rng.normal(size=(N, 64)).T)
    T = rng.uniform(size=(10, N))
    _assert_gradients_equal_backprop_bit_for_bit(network, init_params(network, seed=0), X, T)

"""vectorized/: the matrix form (eqs 1.4, 2.7, 2.11, 2.13–2.15, 2.21, 2.32–2.34, 2.37)."""

from __future__ import annotations

import subprocess
import sys

import hypothesis.strategies as st
import numpy as np
import pytest
from crosscheck.ffnn import ACTIVATIONS, Layer, Network, init_params, overflow_guard
from crosscheck.vectorized.kernels import kernel
from hypothesis import given
from hypothesis.extra.numpy import arrays

from crosscheck import vectorized


def _f64(rows):
    return np.array(rows, dtype=np.float64)


def _params(*pairs):
    return tuple(Layer(_f64(W), _f64(b)) for W, b in pairs)


# Problems small enough to differentiate by hand; every value below is worked out in a comment.
HAND_CASES = {
    # 1-1-1 identity: W1 = 2, b1 = 1, W2 = 3, b2 = −1, X = [1, 2], T = [0, 1], N = 2.
    "identity_1_1_1": (
        Network((1, 1, 1), ("identity", "identity")),
        _params(([[2.0]], [1.0]), ([[3.0]], [-1.0])),
        _f64([[1.0, 2.0]]),
        _f64([[0.0, 1.0]]),
    ),
    # The same with λ = 0.5: J += 0.25·(2² + 3²), ∂J/∂W^(l) += 0.5·W^(l).
    "identity_1_1_1_decay": (
        Network((1, 1, 1), ("identity", "identity"), weight_decay=0.5),
        _params(([[2.0]], [1.0]), ([[3.0]], [-1.0])),
        _f64([[1.0, 2.0]]),
        _f64([[0.0, 1.0]]),
    ),
    # 1-1 sigmoid at Z = 0: A = ½, σ'(0) = ¼; X = 1, T = 1, N = 1.
    "sigmoid_1_1_at_0": (
        Network((1, 1), ("sigmoid",)),
        _params(([[0.0]], [0.0])),
        _f64([[1.0]]),
        _f64([[1.0]]),
    ),
    # 1-2 ReLU: Z = [2, −2], A = [2, 0]; T = [0, 1], N = 1.
    "relu_1_2": (
        Network((1, 2), ("relu",)),
        _params(([[1.0], [-1.0]], [0.0, 0.0])),
        _f64([[2.0]]),
        _f64([[0.0], [1.0]]),
    ),
}

HAND_VALUES = [
    # identity 1-1-1: Z1 = 2·[1, 2] + 1 = [3, 5]; Z2 = 3·[3, 5] − 1 = [8, 14].
    pytest.param("identity_1_1_1", "Z", 1, [[3.0, 5.0]], id="eq_1_4_Z1"),
    pytest.param("identity_1_1_1", "A", 1, [[3.0, 5.0]], id="eq_1_4_A1"),
    pytest.param("identity_1_1_1", "Z", 2, [[8.0, 14.0]], id="eq_1_4_Z2"),
    pytest.param("identity_1_1_1", "A", 0, [[1.0, 2.0]], id="eq_1_4_A0_is_X"),
    # Δ2 = (A2 − T)/N = ([8, 14] − [0, 1])/2 = [4, 6.5].
    pytest.param("identity_1_1_1", "Delta", 2, [[4.0, 6.5]], id="eq_2_21_Delta2"),
    pytest.param("identity_1_1_1", "H", 2, [[4.0, 6.5]], id="eq_2_13_H2_identity"),
    # ∂J/∂W2 = H2 A1ᵗ = 4·3 + 6.5·5 = 44.5; ∂J/∂b2 = H2 J_N = 4 + 6.5 = 10.5.
    pytest.param("identity_1_1_1", "dW", 2, [[44.5]], id="eq_2_14_dW2"),
    pytest.param("identity_1_1_1", "db", 2, [10.5], id="eq_2_15_db2"),
    # Δ1 = W2ᵗ H2 = 3·[4, 6.5] = [12, 19.5] = H1.
    pytest.param("identity_1_1_1", "Delta", 1, [[12.0, 19.5]], id="eq_2_32_Delta1"),
    pytest.param("identity_1_1_1", "H", 1, [[12.0, 19.5]], id="eq_2_34_H1_identity"),
    # ∂J/∂W1 = H1 Xᵗ = 12·1 + 19.5·2 = 51; ∂J/∂b1 = 12 + 19.5 = 31.5.
    pytest.param("identity_1_1_1", "dW", 1, [[51.0]], id="eq_2_33_dW1"),
    pytest.param("identity_1_1_1", "db", 1, [31.5], id="eq_2_37_db1"),
    # Δ0 = W1ᵗ H1 = 2·[12, 19.5] = [24, 39].
    pytest.param("identity_1_1_1", "Delta", 0, [[24.0, 39.0]], id="eq_2_32_Delta0_dJ_dX"),
    # Weight decay: ∂J/∂W2 = 44.5 + 0.5·3 = 46, ∂J/∂W1 = 51 + 0.5·2 = 52; biases unchanged.
    pytest.param("identity_1_1_1_decay", "dW", 2, [[46.0]], id="eq_2_14_dW2_weight_decay"),
    pytest.param("identity_1_1_1_decay", "dW", 1, [[52.0]], id="eq_2_33_dW1_weight_decay"),
    pytest.param("identity_1_1_1_decay", "db", 1, [31.5], id="eq_2_37_db1_weight_decay"),
    # sigmoid at 0: Δ = (½ − 1)/1 = −½, H = −½·¼ = −⅛, ∂J/∂W = H Xᵗ = −⅛, ∂J/∂b = −⅛.
    pytest.param("sigmoid_1_1_at_0", "Delta", 1, [[-0.5]], id="eq_2_21_Delta1_sigmoid"),
    pytest.param("sigmoid_1_1_at_0", "H", 1, [[-0.125]], id="eq_2_13_H1_sigmoid"),
    pytest.param("sigmoid_1_1_at_0", "dW", 1, [[-0.125]], id="eq_2_7_dW1_sigmoid"),
    pytest.param("sigmoid_1_1_at_0", "db", 1, [-0.125], id="eq_2_11_db1_sigmoid"),
    # ReLU: Δ = [2, −1], σ' = [1, 0], H = [2, 0], ∂J/∂W = H Xᵗ = [4, 0], ∂J/∂b = [2, 0].
    pytest.param("relu_1_2", "H", 1, [[2.0], [0.0]], id="eq_2_13_H1_relu_zero_where_Z_negative"),
    pytest.param("relu_1_2", "dW", 1, [[4.0], [0.0]], id="eq_2_7_dW1_relu"),
    pytest.param("relu_1_2", "db", 1, [2.0, 0.0], id="eq_2_11_db1_relu"),
]

HAND_LOSSES = [
    # (8² + 13²)/(2·2) = 233/4.
    pytest.param("identity_1_1_1", 58.25, id="eq_2_16_identity_1_1_1"),
    # 58.25 + 0.25·(4 + 9).
    pytest.param("identity_1_1_1_decay", 61.5, id="eq_2_16_weight_decay"),
    # (½ − 1)²/2.
    pytest.param("sigmoid_1_1_at_0", 0.125, id="eq_2_16_sigmoid_1_1_at_0"),
]


def _pick(grads, trace, field, l):
    if field == "dW":
        return grads[l - 1].W
    if field == "db":
        return grads[l - 1].b
    return getattr(trace, field)[l]


@pytest.mark.parametrize(("case", "field", "l", "expected"), HAND_VALUES)
def test_hand_computed_value(case, field, l, expected):
    grads, trace = vectorized.backprop(*HAND_CASES[case])
    np.testing.assert_allclose(_pick(grads, trace, field, l), expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize(("case", "expected"), HAND_LOSSES)
def test_hand_computed_loss(case, expected):
    assert vectorized.loss(*HAND_CASES[case]) == pytest.approx(expected, rel=1e-15, abs=0)


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


@given(problems())
def test_eq_2_21_delta_L_squared_error(problem):
    network, params, X, T, _ = problem
    _, trace = vectorized.backprop(network, params, X, T)
    np.testing.assert_array_equal(trace.Delta[-1], (trace.A[-1] - T) / X.shape[1])


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


@given(problems())
def test_gradients_equal_backprop_grads(problem):
    network, params, X, T, l = problem
    grads, _ = vectorized.backprop(network, params, X, T)
    got = vectorized.gradients(network, params, X, T)[l - 1]
    np.testing.assert_array_equal(got.W, grads[l - 1].W)
    np.testing.assert_array_equal(got.b, grads[l - 1].b)


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


@given(problems())
def test_eq_2_16_loss_of_trace_output(problem):
    network, params, X, T, _ = problem
    _, trace = vectorized.backprop(network, params, X, T)
    decay = 0.5 * network.weight_decay * sum(float(np.sum(W**2)) for W, _ in params)
    expected = float(np.sum((trace.A[-1] - T) ** 2)) / (2 * X.shape[1]) + decay
    assert vectorized.loss(network, params, X, T) == pytest.approx(expected, rel=1e-12)


SIZES = (3, 4, 1, 2)
N = 5


def _problem(dtype):
    network = Network(SIZES, ("tanh", "relu", "sigmoid"), weight_decay=0.1)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((SIZES[0], N)).astype(dtype)
    T = rng.standard_normal((SIZES[-1], N)).astype(dtype)
    return network, init_params(network, seed=3, dtype=dtype), X, T


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_eq_2_7_2_11_gradient_shapes_and_dtype(dtype):
    grads = vectorized.gradients(*_problem(dtype))
    assert [(g.W.shape, g.b.shape) for g in grads] == [
        ((4, 3), (4,)),
        ((1, 4), (1,)),
        ((2, 1), (2,)),
    ]
    assert {g.W.dtype for g in grads} | {g.b.dtype for g in grads} == {np.dtype(dtype)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("field", ["Z", "A", "Delta", "H"])
def test_eq_1_4_2_32_trace_shapes_and_dtype(dtype, field):
    _, trace = vectorized.backprop(*_problem(dtype))
    arrays_ = getattr(trace, field)
    first = 1 if field in ("Z", "H") else 0
    assert all(arrays_[l] is None for l in range(first))
    assert [a.shape for a in arrays_[first:]] == [(S, N) for S in SIZES[first:]]
    assert {a.dtype for a in arrays_[first:]} == {np.dtype(dtype)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_eq_2_16_loss_is_python_float(dtype):
    assert type(vectorized.loss(*_problem(dtype))) is float


def test_float32_gradients_match_float64_of_the_same_problem():
    network, params, X, T = _problem(np.float32)
    grads32 = vectorized.gradients(network, params, X, T)
    upcast = [tuple(Layer(W.astype(np.float64), b.astype(np.float64)) for W, b in params)]
    grads64 = vectorized.gradients(network, *upcast, X.astype(np.float64), T.astype(np.float64))
    for g32, g64 in zip(_leaves(grads32), _leaves(grads64), strict=True):
        # float32 rounding (u ≈ 6e-8) through three layers of sums of at most N = 5 terms.
        np.testing.assert_allclose(g32, g64, rtol=1e-6, atol=1e-7)


def _leaves(result):
    """The arrays (and floats) of a loss, gradients or backprop result, in order."""
    if isinstance(result, tuple):
        return [leaf for item in result for leaf in _leaves(item)]
    return [] if result is None else [result]


def _copy(problem):
    network, params, X, T = problem
    return network, tuple(Layer(W.copy(), b.copy()) for W, b in params), X.copy(), T.copy()


FUNCTIONS = [
    pytest.param(vectorized.loss, id="loss_eq_2_16"),
    pytest.param(vectorized.gradients, id="gradients_eq_2_7_2_11"),
    pytest.param(vectorized.backprop, id="backprop_eq_2_32"),
]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_inputs_are_not_mutated(function):
    problem = _problem(np.float64)
    before = _copy(problem)
    function(*problem)
    for got, want in zip(_leaves(problem[1:]), _leaves(before[1:]), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_read_only_inputs_give_the_same_result(function):
    problem = _problem(np.float64)
    frozen = _copy(problem)
    for a in _leaves(frozen[1:]):
        a.flags.writeable = False
    for got, want in zip(_leaves(function(*frozen)), _leaves(function(*problem)), strict=True):
        np.testing.assert_array_equal(got, want)


def test_eq_1_4_writing_trace_A0_does_not_change_X():
    network, params, X, T = _problem(np.float64)
    before = X.copy()
    _, trace = vectorized.backprop(network, params, X, T)
    trace.A[0][...] = 99.0
    np.testing.assert_array_equal(X, before)


def test_eq_1_4_trace_A0_is_a_writable_copy_of_read_only_X():
    network, params, X, T = _problem(np.float64)
    X.flags.writeable = False
    _, trace = vectorized.backprop(network, params, X, T)
    assert trace.A[0].flags.writeable and not np.shares_memory(trace.A[0], X)
    np.testing.assert_array_equal(trace.A[0], X)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_bad_input_raises_validation_error(function):
    network, params, X, T = _problem(np.float64)
    with pytest.raises(ValueError, match=r"X has shape \(2, 5\)"):
        function(network, params, X[:2], T)


def test_import_does_not_import_jax():
    code = "import sys, vectorized; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

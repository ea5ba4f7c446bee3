"""The contract every implementation keeps (DESIGN §3 and §7), written once.

Each test runs on every implementation of ``crosscheck.implementations`` (the reference in its
literal and contracted forms, vectorized, autodiff), as array-api-tests runs one suite
against any array library:

- ``loss(network, params, X, T)`` is a Python float (eq 2.16); ``gradients`` returns L
  Layers with ∂J/∂W^(l) (S_l, S_{l-1}) and ∂J/∂b^(l) (S_l,) (eqs 2.7, 2.11); ``backprop``
  returns (grads, Trace) with Z, A, Δ, H of shape (S_l, N) and Z^(0) = H^(0) = None
  (eqs 1.4, 2.13, 2.32), its grads those of ``gradients``;
- hand-worked values of J, the trace and the gradients, and the relations Δ^(L) = (A^(L) − T)/N
  (eq 2.21) and J of the trace's output (eq 2.16) on drawn problems;
- float64 by default; float32 inputs give float32 results where the implementation keeps
  float32 (``keeps_float32``), else float64 results of the same input values;
- inputs accepted read-only, never mutated, never aliased by a result;
- every bad input refused with the same ValueError/TypeError, naming the array and its layer,
  before any work (DESIGN §7, docs/bad-input.md).

What is specific to one implementation (the reference's single entries and forms, the matrix
form's buffers and kernels, JAX's x64 scoping and compilation cache) stays in its own file.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from hypothesis.extra.numpy import arrays

from crosscheck.ffnn import ACTIVATIONS, Layer, Network, Trace, init_params
from crosscheck.implementations import Implementation

from helpers.implementations import FUNCTIONS, call_params, implementation_params
from helpers.results import as_dtype, copied, leaves, read_only

IMPLEMENTATIONS = implementation_params()
WITHOUT_JAX = [p for p in IMPLEMENTATIONS if not p.values[0].needs_jax]
DTYPES = [np.float64, np.float32]

# ---------------------------------------------------------------------------------------
# One problem of every shape class: L = 3, a width-1 bottleneck, S_0 != S_L, N = 5.
# ---------------------------------------------------------------------------------------
SIZES = (3, 4, 1, 2)
N = 5


def _problem(dtype=np.float64):
    network = Network(SIZES, ("tanh", "relu", "sigmoid"), weight_decay=0.1)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((SIZES[0], N)).astype(dtype)
    T = rng.standard_normal((SIZES[-1], N)).astype(dtype)
    return network, init_params(network, seed=3, dtype=dtype), X, T


def _result_dtype(implementation: Implementation, dtype) -> np.dtype:
    """The dtype of an implementation's results for inputs of `dtype`."""
    return np.dtype(dtype if implementation.keeps_float32 else np.float64)


# --- signatures and return structure ----------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_eq_2_16_loss_is_python_float(implementation, dtype):
    assert type(implementation.loss(*_problem(dtype))) is float


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_eq_2_7_2_11_gradient_shapes_and_dtype(implementation, dtype):
    grads = implementation.gradients(*_problem(dtype))
    assert type(grads) is tuple and all(type(g) is Layer for g in grads)
    assert [(g.W.shape, g.b.shape) for g in grads] == [
        ((4, 3), (4,)),
        ((1, 4), (1,)),
        ((2, 1), (2,)),
    ]
    dtypes = {g.W.dtype for g in grads} | {g.b.dtype for g in grads}
    assert dtypes == {_result_dtype(implementation, dtype)}


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_backprop_returns_grads_and_a_trace(implementation):
    result = implementation.backprop(*_problem())
    assert type(result) is tuple and len(result) == 2
    grads, trace = result
    assert type(grads) is tuple and all(type(g) is Layer for g in grads)
    assert type(trace) is Trace
    assert [len(field) for field in trace] == [len(SIZES)] * 4


@pytest.mark.parametrize("field", ["Z", "A", "Delta", "H"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_eq_1_4_2_32_trace_shapes_and_dtype(implementation, dtype, field):
    _, trace = implementation.backprop(*_problem(dtype))
    arrays_ = getattr(trace, field)
    first = 1 if field in ("Z", "H") else 0  # no Z^(0), H^(0): layer 0 is the input
    assert all(arrays_[l] is None for l in range(first))
    assert [a.shape for a in arrays_[first:]] == [(S, N) for S in SIZES[first:]]
    assert {a.dtype for a in arrays_[first:]} == {_result_dtype(implementation, dtype)}


@pytest.mark.parametrize("function", ["gradients", "backprop"])
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_results_are_writable_numpy_arrays(implementation, function):
    result = leaves(getattr(implementation, function)(*_problem()))
    assert {type(a) for a in result} == {np.ndarray}
    assert all(a.flags.writeable for a in result)


# --- hand-worked values -----------------------------------------------------------------


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
    # ReLU unit exactly at its kink: Z1 = 1·1 − 1 = 0, A1 = 0; Z2 = 2·0 + ½, T = 0, N = 1.
    "relu_at_kink": (
        Network((1, 1, 1), ("relu", "identity")),
        _params(([[1.0]], [-1.0]), ([[2.0]], [0.5])),
        _f64([[1.0]]),
        _f64([[0.0]]),
    ),
}

_VALUES = {
    "identity_1_1_1": [
        # Z1 = 2·[1, 2] + 1 = [3, 5]; Z2 = 3·[3, 5] − 1 = [8, 14].
        ("Z", 1, [[3.0, 5.0]], "eq_1_4_Z1"),
        ("A", 1, [[3.0, 5.0]], "eq_1_4_A1"),
        ("Z", 2, [[8.0, 14.0]], "eq_1_4_Z2"),
        ("A", 0, [[1.0, 2.0]], "eq_1_4_A0_is_X"),
        # Δ2 = (A2 − T)/N = ([8, 14] − [0, 1])/2 = [4, 6.5].
        ("Delta", 2, [[4.0, 6.5]], "eq_2_21_Delta2"),
        ("H", 2, [[4.0, 6.5]], "eq_2_13_H2_identity"),
        # ∂J/∂W2 = H2 A1ᵗ = 4·3 + 6.5·5 = 44.5; ∂J/∂b2 = H2 J_N = 4 + 6.5 = 10.5.
        ("dW", 2, [[44.5]], "eq_2_14_dW2"),
        ("db", 2, [10.5], "eq_2_15_db2"),
        # Δ1 = W2ᵗ H2 = 3·[4, 6.5] = [12, 19.5] = H1.
        ("Delta", 1, [[12.0, 19.5]], "eq_2_32_Delta1"),
        ("H", 1, [[12.0, 19.5]], "eq_2_34_H1_identity"),
        # ∂J/∂W1 = H1 Xᵗ = 12·1 + 19.5·2 = 51; ∂J/∂b1 = 12 + 19.5 = 31.5.
        ("dW", 1, [[51.0]], "eq_2_33_dW1"),
        ("db", 1, [31.5], "eq_2_37_db1"),
        # Δ0 = W1ᵗ H1 = 2·[12, 19.5] = [24, 39].
        ("Delta", 0, [[24.0, 39.0]], "eq_2_32_Delta0_dJ_dX"),
    ],
    "identity_1_1_1_decay": [
        # The forward pass and Δ, H are those without decay (λ enters J and ∂J/∂W only).
        ("Z", 1, [[3.0, 5.0]], "eq_1_4_Z1"),
        ("A", 2, [[8.0, 14.0]], "eq_1_4_A2"),
        ("A", 0, [[1.0, 2.0]], "eq_1_4_A0_is_X"),
        ("Delta", 2, [[4.0, 6.5]], "eq_2_21_Delta2"),
        ("H", 2, [[4.0, 6.5]], "eq_2_13_H2_identity"),
        # ∂J/∂W2 = H2 A1ᵗ + λ W2 = 12 + 32.5 + 1.5 = 46; ∂J/∂b2 = 4 + 6.5 (biases not decayed).
        ("dW", 2, [[46.0]], "eq_2_14_dW2_weight_decay"),
        ("db", 2, [10.5], "eq_2_15_db2"),
        ("Delta", 1, [[12.0, 19.5]], "eq_2_32_Delta1"),
        ("H", 1, [[12.0, 19.5]], "eq_2_34_H1_identity"),
        # ∂J/∂W1 = H1 Xᵗ + λ W1 = 12 + 39 + 1 = 52; ∂J/∂b1 = 12 + 19.5 = 31.5.
        ("dW", 1, [[52.0]], "eq_2_33_dW1_weight_decay"),
        ("db", 1, [31.5], "eq_2_37_db1_weight_decay"),
        ("Delta", 0, [[24.0, 39.0]], "eq_2_32_Delta0_dJ_dX"),
    ],
    "sigmoid_1_1_at_0": [
        # Δ = (½ − 1)/1 = −½, H = −½·¼ = −⅛, ∂J/∂W = H Xᵗ = −⅛, ∂J/∂b = −⅛.
        ("Delta", 1, [[-0.5]], "eq_2_21_Delta1_sigmoid"),
        ("H", 1, [[-0.125]], "eq_2_13_H1_sigmoid"),
        ("dW", 1, [[-0.125]], "eq_2_7_dW1_sigmoid"),
        ("db", 1, [-0.125], "eq_2_11_db1_sigmoid"),
    ],
    "relu_1_2": [
        # Δ = [2, −1], σ' = [1, 0], H = [2, 0], ∂J/∂W = H Xᵗ = [4, 0], ∂J/∂b = [2, 0].
        ("H", 1, [[2.0], [0.0]], "eq_2_13_H1_relu_zero_where_Z_negative"),
        ("dW", 1, [[4.0], [0.0]], "eq_2_7_dW1_relu"),
        ("db", 1, [2.0, 0.0], "eq_2_11_db1_relu"),
    ],
    "relu_at_kink": [
        # ReLU'(0) = 0: Δ2 = ½, Δ1 = 2·½ = 1, yet H1 = Δ1·ReLU'(0) = 0 (a `maximum` gives ½).
        ("Delta", 1, [[1.0]], "eq_2_32_Delta1_relu_at_kink"),
        ("H", 1, [[0.0]], "eq_2_34_H1_relu_prime_0_is_0"),
        ("dW", 1, [[0.0]], "eq_2_33_dW1_relu_prime_0_is_0"),
        ("db", 1, [0.0], "eq_2_37_db1_relu_prime_0_is_0"),
    ],
}

HAND_VALUES = [
    pytest.param(case, field, l, expected, id=f"{case}-{id_}")
    for case, values in _VALUES.items()
    for field, l, expected, id_ in values
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
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_hand_computed_value(implementation, case, field, l, expected):
    grads, trace = implementation.backprop(*HAND_CASES[case])
    np.testing.assert_allclose(_pick(grads, trace, field, l), expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize(("case", "expected"), HAND_LOSSES)
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_hand_computed_loss(implementation, case, expected):
    assert implementation.loss(*HAND_CASES[case]) == pytest.approx(expected, rel=1e-15, abs=0)


@pytest.mark.parametrize(
    ("field", "expected"),
    [pytest.param("W", [[0.0]], id="eq_2_33_dW1"), pytest.param("b", [0.0], id="eq_2_37_db1")],
)
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_gradients_relu_prime_0_is_0(implementation, field, expected):
    grads = implementation.gradients(*HAND_CASES["relu_at_kink"])
    np.testing.assert_array_equal(getattr(grads[0], field), expected)


# --- relations on drawn problems --------------------------------------------------------

_ELEMENTS = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


@st.composite
def problems(draw, *, max_L=3, max_width=4, max_N=5):
    """(network, params, X, T) in float64: L in 1..max_L, widths in 1..max_width, N in
    1..max_N, any activation per layer, squared error, λ = 0 or 0.25. All fit one padded
    envelope of the autodiff oracle, so JAX compiles once for every example."""
    L = draw(st.integers(1, max_L))
    sizes = tuple(draw(st.lists(st.integers(1, max_width), min_size=L + 1, max_size=L + 1)))
    names = st.sampled_from(sorted(ACTIVATIONS))
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
    return network, params, X, T


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@given(problem=problems())
def test_gradients_equal_backprop_grads(implementation, problem):
    grads, _ = implementation.backprop(*problem)
    got = implementation.gradients(*problem)
    for a, b in zip(leaves(got), leaves(grads), strict=True):
        np.testing.assert_array_equal(a, b, strict=True)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@given(problem=problems())
def test_eq_2_21_delta_L_squared_error(implementation, problem):
    _, _, X, T = problem
    _, trace = implementation.backprop(*problem)
    # XLA flushes a subnormal (A − T)/N to 0 (crosscheck.autodiff_oracle's docstring)
    tiny = np.finfo(X.dtype).smallest_normal if implementation.flushes_subnormals else 0.0
    expected = (trace.A[-1] - T) / X.shape[1]
    np.testing.assert_allclose(trace.Delta[-1], expected, rtol=0, atol=tiny, strict=True)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@given(problem=problems())
def test_eq_2_16_loss_of_trace_output(implementation, problem):
    network, params, X, T = problem
    _, trace = implementation.backprop(*problem)
    decay = 0.5 * network.weight_decay * sum(float(np.sum(W**2)) for W, _ in params)
    expected = float(np.sum((trace.A[-1] - T) ** 2)) / (2 * X.shape[1]) + decay
    assert implementation.loss(*problem) == pytest.approx(expected, rel=1e-12)


# --- dtypes -----------------------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_float32_inputs_give_results_in_the_documented_dtype(implementation, function):
    result = getattr(implementation, function)(*_problem(np.float32))
    expected = _result_dtype(implementation, np.float32)
    if function == "loss":
        assert type(result) is float
    else:
        assert {a.dtype for a in leaves(result)} == {expected}


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_float32_results_match_float64_of_the_same_values(implementation, function):
    problem32 = _problem(np.float32)
    from_32 = leaves(getattr(implementation, function)(*problem32))
    from_64 = leaves(getattr(implementation, function)(*as_dtype(problem32, np.float64)))
    for got, want in zip(from_32, from_64, strict=True):
        if implementation.keeps_float32:
            # float32 rounding (u ≈ 6e-8) through three layers of sums of at most N = 5 terms.
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
        else:  # float32 values are float64 values: the same sums, the same bits
            np.testing.assert_array_equal(got, want, strict=True)


# --- inputs: read-only accepted, never mutated, never aliased ---------------------------


@pytest.mark.parametrize("call", call_params())
def test_inputs_are_not_mutated(call):
    problem = _problem()
    before = copied(problem)
    call(*problem)
    for got, want in zip(leaves(problem[1:]), leaves(before[1:]), strict=True):
        np.testing.assert_array_equal(got, want, strict=True)


@pytest.mark.parametrize("call", call_params())
def test_read_only_inputs_give_the_same_result(call):
    problem = _problem()
    got, want = leaves(call(*read_only(problem))), leaves(call(*problem))
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b, strict=True)


@pytest.mark.parametrize("call", call_params(["gradients", "backprop"]))
def test_results_do_not_share_memory_with_inputs(call):
    problem = _problem()
    inputs = leaves(problem[1:])
    assert not any(np.shares_memory(r, a) for r in leaves(call(*problem)) for a in inputs)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_eq_1_4_writing_trace_A0_does_not_change_X(implementation):
    network, params, X, T = _problem()
    before = X.copy()
    _, trace = implementation.backprop(network, params, X, T)
    trace.A[0][...] = 99.0
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_eq_1_4_trace_A0_is_a_writable_copy_of_read_only_X(implementation):
    network, params, X, T = _problem()
    X.flags.writeable = False
    _, trace = implementation.backprop(network, params, X, T)
    assert trace.A[0].flags.writeable and not np.shares_memory(trace.A[0], X)
    np.testing.assert_array_equal(trace.A[0], X)


# --- bad input (DESIGN §7): the same error from every entry point, before any work -------

NETWORK = Network((3, 4, 2), ("tanh", "sigmoid"))  # W^(1) (4, 3), W^(2) (2, 4); N = 5


def _arrays() -> dict[str, np.ndarray]:
    """Fresh arrays of a valid problem of NETWORK: W1, b1, W2, b2, X, T."""
    params = init_params(NETWORK, seed=0)
    rng = np.random.default_rng(1)
    return {
        "W1": params[0].W,
        "b1": params[0].b,
        "W2": params[1].W,
        "b2": params[1].b,
        "X": rng.standard_normal((3, 5)),
        "T": rng.uniform(0.0, 1.0, (2, 5)),
    }


def _bad(arrays: dict[str, np.ndarray]) -> tuple:
    params = [Layer(arrays["W1"], arrays["b1"]), Layer(arrays["W2"], arrays["b2"])]
    return params, arrays["X"], arrays["T"]


def _replaced(name: str, value: object) -> Callable[[], tuple]:
    def make() -> tuple:
        arrays = _arrays()
        arrays[name] = value(arrays[name]) if callable(value) else value
        return _bad(arrays)

    return make


def _entry(name: str, index: tuple[int, ...], value: float) -> Callable[[], tuple]:
    def set_entry(array: np.ndarray) -> np.ndarray:
        array = array.copy()
        array[index] = value
        return array

    return _replaced(name, set_entry)


def _layers(count: int) -> Callable[[], tuple]:
    def make() -> tuple:
        params, X, T = _bad(_arrays())
        return [*params, *params][:count], X, T

    return make


BAD_INPUTS = {
    # shapes, named by layer
    "W2-shape": (_replaced("W2", np.zeros((4, 2))), ValueError, r"W\^\(2\) \(params\[1\]\.W\)"),
    "W1-transposed": (
        _replaced("W1", lambda W: W.T),
        ValueError,
        r"W\^\(1\) \(params\[0\]\.W\) has shape \(3, 4\).*need \(S_1, S_0\) = \(4, 3\)",
    ),
    "b1-shape": (_replaced("b1", np.zeros(3)), ValueError, r"b\^\(1\) \(params\[0\]\.b\)"),
    "b2-column": (_replaced("b2", np.zeros((2, 1))), ValueError, r"b\^\(2\) .*\(2, 1\)"),
    "too-few-layers": (_layers(1), ValueError, r"params has 1 layers.*L = 2"),
    "too-many-layers": (_layers(3), ValueError, r"params has 3 layers.*L = 2"),
    "X-width": (_replaced("X", np.zeros((2, 5))), ValueError, r"X has shape \(2, 5\).*\(3, N\)"),
    "T-width": (_replaced("T", np.zeros((3, 5))), ValueError, r"T has shape \(3, 5\).*\(2, N\)"),
    "different-N": (_replaced("T", np.zeros((2, 4))), ValueError, r"X has N = 5.*T has 4"),
    "N-zero": (
        lambda: _bad({**_arrays(), "X": np.zeros((3, 0)), "T": np.zeros((2, 0))}),
        ValueError,
        r"X has N = 0 samples",
    ),
    # non-finite values, named by array, layer and index
    "W2-nan": (_entry("W2", (1, 3), np.nan), ValueError, r"W\^\(2\) .*non-finite.*\(1, 3\)"),
    "b1-inf": (_entry("b1", (2,), np.inf), ValueError, r"b\^\(1\) .*non-finite value inf.*\(2,\)"),
    "X-minus-inf": (_entry("X", (0, 4), -np.inf), ValueError, r"X contains .*-inf.*\(0, 4\)"),
    "T-nan": (_entry("T", (1, 0), np.nan), ValueError, r"T contains .*nan.*\(1, 0\)"),
    # dtypes
    "X-complex": (
        _replaced("X", lambda X: X.astype(complex)),
        TypeError,
        r"X has dtype complex128 \(complex\)",
    ),
    "W1-object": (
        _replaced("W1", lambda W: W.astype(object)),
        TypeError,
        r"W\^\(1\) \(params\[0\]\.W\) has dtype object",
    ),
    "b2-integer": (
        _replaced("b2", np.zeros(2, dtype=np.int64)),
        TypeError,
        r"b\^\(2\) \(params\[1\]\.b\) has dtype int64 \(integer\)",
    ),
    "T-bool": (_replaced("T", np.ones((2, 5), dtype=bool)), TypeError, r"T has dtype bool"),
    "X-float16": (
        _replaced("X", lambda X: X.astype(np.float16)),
        TypeError,
        r"X has dtype float16 \(a float width other than 32 or 64 bits\); float64 or float32",
    ),
    "W2-float32-mixed": (
        _replaced("W2", lambda W: W.astype(np.float32)),
        TypeError,
        r"one float dtype.*W\^\(2\) \(params\[1\]\.W\): float32",
    ),
    "b1-ragged-list": (
        _replaced("b1", [[1.0], [2.0, 3.0]]),
        TypeError,
        r"b\^\(1\) \(params\[0\]\.b\) cannot be read as an array",
    ),
    "W1-None": (_replaced("W1", None), TypeError, r"W\^\(1\) \(params\[0\]\.W\) has dtype object"),
    # number of dimensions
    "X-1d": (_replaced("X", np.zeros(3)), ValueError, r"X has 1 dimensions"),
    "T-3d": (_replaced("T", np.zeros((2, 5, 1))), ValueError, r"T has 3 dimensions"),
    "W1-3d": (
        _replaced("W1", np.zeros((4, 3, 1))),
        ValueError,
        r"W\^\(1\) \(params\[0\]\.W\) has shape \(4, 3, 1\)",
    ),
    "b2-scalar": (_replaced("b2", np.float64(0.0)), ValueError, r"b\^\(2\) .*has shape \(\)"),
}
"""id -> (make problem, exception type, message regex naming the array and its layer)."""

BAD_CASES = [
    pytest.param(bad, call, id=f"{bad_id}-{call.id}", marks=call_param.marks)
    for bad_id, bad in BAD_INPUTS.items()
    for call_param in call_params()
    for call in call_param.values
]


@pytest.mark.parametrize(("bad", "call"), BAD_CASES)
def test_section_7_bad_input_raises_the_same_error_in_every_implementation(bad, call):
    make, error, message = bad
    with pytest.raises(error, match=message):
        call(NETWORK, *make())


@pytest.mark.parametrize("call", call_params())
def test_section_7_bad_input_leaves_the_inputs_unchanged(call):
    params, X, T = _bad(_arrays())
    X = X.copy()
    X[0, 0] = np.nan
    before = [a.copy() for a in (X, T, *params[0], *params[1])]
    with pytest.raises(ValueError, match="non-finite"):
        call(NETWORK, params, X, T)
    for got, want in zip((X, T, *params[0], *params[1]), before, strict=True):
        np.testing.assert_array_equal(got, want, strict=True)


# Targets outside the loss's domain (eq 2.16': columns of T summing to 1).
CROSS_ENTROPY = Network((2, 2), ("softmax",), loss="cross_entropy")


@pytest.mark.parametrize("call", call_params())
def test_section_7_targets_outside_domain_raise_before_any_work(call):
    params = (Layer(np.zeros((2, 2)), np.zeros(2)),)
    X, T = np.array([[1.0, 0.0], [2.0, -1.0]]), np.array([[1.0, 0.5], [0.0, 0.0]])
    with pytest.raises(ValueError, match=r"cross_entropy needs every column"):
        call(CROSS_ENTROPY, params, X, T)


# Finite inputs whose results overflow the float range (crosscheck.ffnn.overflow).
IDENTITY = Network((2, 3, 1), ("identity", "identity"))


def _huge_problem(scale: float) -> tuple:
    params = tuple(Layer(W * scale, b) for W, b in init_params(IDENTITY, seed=3))
    return params, np.full((2, 2), scale), np.ones((1, 2))


@pytest.mark.parametrize("call", call_params())
def test_section_7_finite_inputs_that_overflow_raise_value_error(call):
    # Z^(2) = W^(2) (W^(1) X + b^(1)) + b^(2) ~ 1e300 · 1e300 · 1e300: beyond float64.
    with pytest.raises(ValueError, match="overflows the float range"):
        call(IDENTITY, *_huge_problem(1e300))


@pytest.mark.parametrize("call", call_params(["backprop"]))
def test_section_7_overflow_names_the_first_quantity_eq_1_4_Z_2(call):
    with pytest.raises(ValueError, match=r"^Z\^\(2\) overflows"):
        call(IDENTITY, *_huge_problem(1e120))


# --- imports ----------------------------------------------------------------------------


@pytest.mark.parametrize("implementation", WITHOUT_JAX)
def test_import_does_not_import_jax(implementation):
    code = f"import sys, {implementation.module}; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

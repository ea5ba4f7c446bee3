"""autodiff_oracle/: jax.grad of the forward definitions (eqs 1.4, 2.16), x64 scoping, jit cache."""

from __future__ import annotations

import re

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from crosscheck.autodiff_oracle.compiled import compiled
from crosscheck.autodiff_oracle.padded import Envelope, pad
from crosscheck.ffnn import ACTIVATIONS, Layer, Network, init_params, validate
from hypothesis import given
from hypothesis.extra.numpy import arrays

from crosscheck import autodiff_oracle, vectorized


def _f64(rows):
    return np.array(rows, dtype=np.float64)


def _params(*pairs):
    return tuple(Layer(_f64(W), _f64(b)) for W, b in pairs)


# Problems small enough to differentiate by hand; every value below is worked out in a comment.
HAND_CASES = {
    # 1-1-1 identity, λ = 0.5: W1 = 2, b1 = 1, W2 = 3, b2 = −1, X = [1, 2], T = [0, 1], N = 2.
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
    # ReLU unit exactly at its kink: Z1 = 1·1 − 1 = 0, A1 = 0; Z2 = 2·0 + ½, T = 0, N = 1.
    "relu_at_kink": (
        Network((1, 1, 1), ("relu", "identity")),
        _params(([[1.0]], [-1.0]), ([[2.0]], [0.5])),
        _f64([[1.0]]),
        _f64([[0.0]]),
    ),
}

HAND_VALUES = [
    # identity: Z1 = 2·[1, 2] + 1 = [3, 5]; Z2 = 3·[3, 5] − 1 = [8, 14].
    pytest.param("identity_1_1_1_decay", "Z", 1, [[3.0, 5.0]], id="eq_1_4_Z1"),
    pytest.param("identity_1_1_1_decay", "A", 2, [[8.0, 14.0]], id="eq_1_4_A2"),
    pytest.param("identity_1_1_1_decay", "A", 0, [[1.0, 2.0]], id="eq_1_4_A0_is_X"),
    # Δ2 = (A2 − T)/N = [8, 13]/2 = [4, 6.5] = H2.
    pytest.param("identity_1_1_1_decay", "Delta", 2, [[4.0, 6.5]], id="eq_2_21_Delta2"),
    pytest.param("identity_1_1_1_decay", "H", 2, [[4.0, 6.5]], id="eq_2_13_H2_identity"),
    # ∂J/∂W2 = H2 A1ᵗ + λ W2 = 12 + 32.5 + 1.5 = 46; ∂J/∂b2 = 4 + 6.5 (biases not decayed).
    pytest.param("identity_1_1_1_decay", "dW", 2, [[46.0]], id="eq_2_14_dW2_weight_decay"),
    pytest.param("identity_1_1_1_decay", "db", 2, [10.5], id="eq_2_15_db2"),
    # Δ1 = W2ᵗ H2 = 3·[4, 6.5] = [12, 19.5] = H1.
    pytest.param("identity_1_1_1_decay", "Delta", 1, [[12.0, 19.5]], id="eq_2_32_Delta1"),
    pytest.param("identity_1_1_1_decay", "H", 1, [[12.0, 19.5]], id="eq_2_34_H1_identity"),
    # ∂J/∂W1 = H1 Xᵗ + λ W1 = 12 + 39 + 1 = 52; ∂J/∂b1 = 12 + 19.5 = 31.5.
    pytest.param("identity_1_1_1_decay", "dW", 1, [[52.0]], id="eq_2_33_dW1_weight_decay"),
    pytest.param("identity_1_1_1_decay", "db", 1, [31.5], id="eq_2_37_db1"),
    # Δ0 = ∂J/∂X = W1ᵗ H1 = 2·[12, 19.5] = [24, 39].
    pytest.param("identity_1_1_1_decay", "Delta", 0, [[24.0, 39.0]], id="eq_2_32_Delta0_dJ_dX"),
    # sigmoid at 0: Δ = (½ − 1)/1 = −½, H = −½·¼ = −⅛, ∂J/∂W = H Xᵗ = −⅛, ∂J/∂b = −⅛.
    pytest.param("sigmoid_1_1_at_0", "Delta", 1, [[-0.5]], id="eq_2_21_Delta1_sigmoid"),
    pytest.param("sigmoid_1_1_at_0", "H", 1, [[-0.125]], id="eq_2_13_H1_sigmoid"),
    pytest.param("sigmoid_1_1_at_0", "dW", 1, [[-0.125]], id="eq_2_7_dW1_sigmoid"),
    pytest.param("sigmoid_1_1_at_0", "db", 1, [-0.125], id="eq_2_11_db1_sigmoid"),
    # ReLU'(0) = 0: Δ2 = ½, Δ1 = 2·½ = 1, yet H1 = Δ1·ReLU'(0) = 0 (a `maximum` would give ½).
    pytest.param("relu_at_kink", "Delta", 1, [[1.0]], id="eq_2_32_Delta1_relu_at_kink"),
    pytest.param("relu_at_kink", "H", 1, [[0.0]], id="eq_2_34_H1_relu_prime_0_is_0"),
    pytest.param("relu_at_kink", "dW", 1, [[0.0]], id="eq_2_33_dW1_relu_prime_0_is_0"),
    pytest.param("relu_at_kink", "db", 1, [0.0], id="eq_2_37_db1_relu_prime_0_is_0"),
]

HAND_LOSSES = [
    # (8² + 13²)/(2·2) + 0.25·(2² + 3²) = 58.25 + 3.25.
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
    grads, trace = autodiff_oracle.backprop(*HAND_CASES[case])
    np.testing.assert_allclose(_pick(grads, trace, field, l), expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize(("case", "expected"), HAND_LOSSES)
def test_hand_computed_loss(case, expected):
    assert autodiff_oracle.loss(*HAND_CASES[case]) == pytest.approx(expected, rel=1e-15, abs=0)


@pytest.mark.parametrize(
    ("field", "expected"),
    [pytest.param("W", [[0.0]], id="eq_2_33_dW1"), pytest.param("b", [0.0], id="eq_2_37_db1")],
)
def test_gradients_relu_prime_0_is_0(field, expected):
    grads = autodiff_oracle.gradients(*HAND_CASES["relu_at_kink"])
    np.testing.assert_array_equal(getattr(grads[0], field), expected)


# A fixed architecture whose values hypothesis varies: one compilation serves every example.
_FIXED = Network((2, 3, 2), ("tanh", "sigmoid"), weight_decay=0.25)
_ELEMENTS = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


@st.composite
def fixed_shape_problems(draw, *, N=3):
    """(network, params, X, T) in float64 for ``_FIXED`` with N samples."""
    params = tuple(
        Layer(
            draw(arrays(np.float64, W_shape, elements=_ELEMENTS)),
            draw(arrays(np.float64, b_shape, elements=_ELEMENTS)),
        )
        for W_shape, b_shape in _FIXED.param_shapes()
    )
    X = draw(arrays(np.float64, (_FIXED.sizes[0], N), elements=_ELEMENTS))
    T = draw(arrays(np.float64, (_FIXED.sizes[-1], N), elements=_ELEMENTS))
    return _FIXED, params, X, T


@given(fixed_shape_problems())
def test_eq_2_21_delta_L_squared_error(problem):
    _, _, X, T = problem
    _, trace = autodiff_oracle.backprop(*problem)
    np.testing.assert_allclose(trace.Delta[-1], (trace.A[-1] - T) / X.shape[1], rtol=1e-14, atol=0)


@given(fixed_shape_problems())
def test_gradients_equal_backprop_grads(problem):
    grads, _ = autodiff_oracle.backprop(*problem)
    for got, want in zip(_leaves(autodiff_oracle.gradients(*problem)), _leaves(grads), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def _leaves(result):
    """The arrays (and floats) of a loss, gradients or backprop result, in order."""
    if isinstance(result, tuple):
        return [leaf for item in result for leaf in _leaves(item)]
    return [] if result is None else [result]


ARCHITECTURES = {
    # L = 3 with a width-1 bottleneck, N = 5.
    "L3_bottleneck": ((3, 4, 1, 2), 0.0, 5),
    # L = 1 with weight decay and a single sample.
    "L1_decay_N1": ((2, 3), 0.25, 1),
}


def _random_problem(activation, architecture, seed):
    sizes, lam, N = ARCHITECTURES[architecture]
    network = Network(sizes, (activation,) * (len(sizes) - 1), weight_decay=lam)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((sizes[0], N))
    T = rng.standard_normal((sizes[-1], N))
    return network, init_params(network, seed=seed), X, T


_AGREEMENT = dict(rtol=1e-10, atol=1e-12)


# These agreements go through backprop, so they share its compilation; `gradients` is tied to
# backprop's grads by test_gradients_equal_backprop_grads.
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_eq_2_7_2_11_gradients_agree_with_vectorized(activation, architecture, seed):
    problem = _random_problem(activation, architecture, seed)
    got, _ = autodiff_oracle.backprop(*problem)
    for a, v in zip(_leaves(got), _leaves(vectorized.gradients(*problem)), strict=True):
        np.testing.assert_allclose(a, v, **_AGREEMENT)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("field", ["Z_eq_1_4", "A_eq_1_4", "Delta_eq_2_21_2_32", "H_eq_2_13_2_34"])
def test_trace_agrees_with_vectorized(activation, architecture, seed, field):
    problem = _random_problem(activation, architecture, seed)
    name = field.split("_")[0]
    got = getattr(autodiff_oracle.backprop(*problem)[1], name)
    want = getattr(vectorized.backprop(*problem)[1], name)
    for l, (a, v) in enumerate(zip(got, want, strict=True)):
        if v is None:
            assert a is None, f"{name}[{l}]"
        else:
            np.testing.assert_allclose(a, v, **_AGREEMENT, err_msg=f"{name}[{l}]")


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_eq_2_16_loss_agrees_with_vectorized(activation):
    problem = _random_problem(activation, "L3_bottleneck", seed=1)
    expected = vectorized.loss(*problem)
    assert autodiff_oracle.loss(*problem) == pytest.approx(expected, rel=1e-12)


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
    grads = autodiff_oracle.gradients(*_problem(dtype))
    assert [(g.W.shape, g.b.shape) for g in grads] == [
        ((4, 3), (4,)),
        ((1, 4), (1,)),
        ((2, 1), (2,)),
    ]
    assert {g.W.dtype for g in grads} | {g.b.dtype for g in grads} == {np.dtype(dtype)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("field", ["Z", "A", "Delta", "H"])
def test_eq_1_4_2_32_trace_shapes_and_dtype(dtype, field):
    _, trace = autodiff_oracle.backprop(*_problem(dtype))
    arrays_ = getattr(trace, field)
    first = 1 if field in ("Z", "H") else 0
    assert all(arrays_[l] is None for l in range(first))
    assert [a.shape for a in arrays_[first:]] == [(S, N) for S in SIZES[first:]]
    assert {a.dtype for a in arrays_[first:]} == {np.dtype(dtype)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_eq_2_16_loss_is_python_float(dtype):
    assert type(autodiff_oracle.loss(*_problem(dtype))) is float


@pytest.mark.parametrize("function", [autodiff_oracle.gradients, autodiff_oracle.backprop])
def test_results_are_writable_numpy_arrays(function):
    leaves = _leaves(function(*_problem(np.float64)))
    assert {type(a) for a in leaves} == {np.ndarray}
    assert all(a.flags.writeable for a in leaves)


def test_float32_gradients_match_float64_of_the_same_problem():
    network, params, X, T = _problem(np.float32)
    grads32 = autodiff_oracle.gradients(network, params, X, T)
    upcast = [tuple(Layer(W.astype(np.float64), b.astype(np.float64)) for W, b in params)]
    grads64 = autodiff_oracle.gradients(
        network, *upcast, X.astype(np.float64), T.astype(np.float64)
    )
    for g32, g64 in zip(_leaves(grads32), _leaves(grads64), strict=True):
        # float32 rounding (u ≈ 6e-8) through three layers of sums of at most N = 5 terms.
        np.testing.assert_allclose(g32, g64, rtol=1e-6, atol=1e-7)


FUNCTIONS = [
    pytest.param(autodiff_oracle.loss, id="loss_eq_2_16"),
    pytest.param(autodiff_oracle.gradients, id="gradients_eq_2_7_2_11"),
    pytest.param(autodiff_oracle.backprop, id="backprop_eq_2_32"),
]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_x64_flag_unchanged_after_call(function):
    before = jax.config.jax_enable_x64
    function(*_problem(np.float64))
    assert jax.config.jax_enable_x64 == before


@pytest.mark.parametrize("function", FUNCTIONS)
def test_host_without_x64_keeps_float32(function):
    with jax.enable_x64(False):
        host = jnp.ones(3, dtype=jnp.float32)
        function(*_problem(np.float64))
        assert (host * 2.0).dtype == jnp.float32
        assert jnp.asarray(np.ones(2)).dtype == jnp.float32


@pytest.mark.parametrize("function", FUNCTIONS)
def test_host_with_x64_keeps_x64(function):
    with jax.enable_x64(True):
        function(*_problem(np.float32))
        assert jnp.asarray(np.ones(2)).dtype == jnp.float64


@pytest.mark.parametrize("field", ["Z", "A", "Delta", "H"])
def test_float64_without_host_x64_agrees_with_vectorized(field):
    with jax.enable_x64(False):
        _, trace = autodiff_oracle.backprop(*_problem(np.float64))
    _, expected = vectorized.backprop(*_problem(np.float64))
    for a, v in zip(getattr(trace, field), getattr(expected, field), strict=True):
        if v is not None:
            assert a.dtype == np.float64
            np.testing.assert_allclose(a, v, **_AGREEMENT)


@pytest.fixture
def compile_events():
    """XLA compilations reported through jax.monitoring while the test runs."""
    events = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            events.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    yield events
    jax.monitoring.unregister_event_duration_listener(listener)


def test_compiled_is_cached_per_envelope_and_dtype():
    first = compiled(Envelope((8, 8, 8), 8), np.dtype(np.float64))
    # An equal envelope built anew is the same cache key.
    assert compiled(Envelope((8, 8, 8), 8), np.dtype(np.float64)) is first


def test_compiled_differs_per_dtype():
    envelope = Envelope((8, 8, 8), 8)
    assert compiled(envelope, np.dtype(np.float32)) is not compiled(envelope, np.dtype(np.float64))


def _envelope_problem(seed, sizes, activations, loss, weight_decay, N):
    """A problem in the envelope (24, 16, 8), N' = 16, which no other test uses."""
    network = Network(sizes, activations, loss=loss, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((sizes[0], N))
    T = {
        "squared_error": rng.standard_normal((sizes[-1], N)),
        "binary_cross_entropy": rng.uniform(0.0, 1.0, (sizes[-1], N)),
    }[loss]
    return network, init_params(network, seed=seed), X, T


def test_one_compilation_serves_every_network_and_function_of_an_envelope(compile_events):
    # Widths, N, every σ_l, J and λ differ; depth and padded shapes (24, 16, 8), 16 agree;
    # loss, gradients and backprop share the padded envelope's one compilation.
    autodiff_oracle.loss(
        *_envelope_problem(1, (17, 9, 3), ("softplus", "gelu"), "squared_error", 0.125, 9)
    )
    assert compile_events, "the first call was expected to compile"
    compile_events.clear()
    problem = _envelope_problem(
        2, (23, 16, 8), ("softmax", "sigmoid"), "binary_cross_entropy", 0.0, 16
    )
    for function in (autodiff_oracle.loss, autodiff_oracle.gradients, autodiff_oracle.backprop):
        function(*problem)
    assert compile_events == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_inputs_are_not_mutated(function):
    network, params, X, T = _problem(np.float64)
    before = [a.copy() for a in _leaves((params, X, T))]
    function(network, params, X, T)
    for got, want in zip(_leaves((params, X, T)), before, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_read_only_inputs_give_the_same_result(function):
    network, params, X, T = _problem(np.float64)
    frozen = (tuple(Layer(W.copy(), b.copy()) for W, b in params), X.copy(), T.copy())
    for a in _leaves(frozen):
        a.flags.writeable = False
    got = _leaves(function(network, *frozen))
    for a, b in zip(got, _leaves(function(network, params, X, T)), strict=True):
        np.testing.assert_array_equal(a, b)


def test_eq_1_4_writing_trace_A0_does_not_change_X():
    network, params, X, T = _problem(np.float64)
    before = X.copy()
    _, trace = autodiff_oracle.backprop(network, params, X, T)
    trace.A[0][...] = 99.0
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("N", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_eq_2_21pp_delta_L_underflowed_sigmoid_is_minus_inf_not_nan(dtype, N):
    # sizes (1, 1), W = 237, X = −3: A = σ(−711), subnormal or 0 (XLA flushes it to 0);
    # T = the smallest normal, so the cotangent T/N of J itself would flush to 0 (0/0 = NaN).
    network = Network((1, 1), ("sigmoid",), "binary_cross_entropy")
    params = (Layer(np.array([[237.0]], dtype), np.zeros(1, dtype)),)
    X = np.full((1, N), -3.0, dtype)
    T = np.full((1, N), np.finfo(dtype).smallest_normal, dtype)
    _, trace = autodiff_oracle.backprop(network, params, X, T)
    np.testing.assert_array_equal(trace.Delta[1], np.full((1, N), -np.inf, dtype))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_bad_input_raises_validation_error(function):
    network, params, X, T = _problem(np.float64)
    with pytest.raises(ValueError, match=r"X has shape \(2, 5\)"):
        function(network, params, X[:2], T)


DOT_GENERAL = re.compile(r"stablehlo\.dot_general[^\n]*")


def _lowered_programs(dtype, sizes, N):
    """The StableHLO text of every jitted function the oracle compiles for a problem's
    envelope (padded: one function; exact: loss, gradients, backprop)."""
    network = Network(sizes, ("tanh",) * (len(sizes) - 1))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((sizes[0], N)).astype(dtype)
    T = rng.standard_normal((sizes[-1], N)).astype(dtype)
    padded = pad(network, *validate(network, init_params(network, seed=0, dtype=dtype), X, T))
    functions = compiled(padded.envelope, padded.X.dtype)
    with jax.enable_x64(True):  # as the oracle calls them; precision is left at the default
        return [f.lower(*padded[1:]).as_text() for f in functions if hasattr(f, "lower")]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(("sizes", "N"), [((3, 4, 2), 5), ((40, 3, 2), 3)], ids=["padded", "exact"])
def test_eq_1_4_every_matrix_product_of_the_oracle_runs_at_highest_precision(dtype, sizes, N):
    """Every dot_general of the compiled programs (eq 1.4's forward product and its
    transposes in the backward pass) carries precision HIGHEST, so no backend default
    (TF32 for float32 on a GPU) applies; the lowered text is the same on every platform."""
    programs = _lowered_programs(dtype, sizes, N)
    dots = [line for text in programs for line in DOT_GENERAL.findall(text)]
    assert programs and len(dots) >= 3 * len(programs)
    assert [line for line in dots if "precision = [HIGHEST, HIGHEST]" not in line] == []


def test_oracle_leaves_the_host_matmul_precision_alone():
    before = jax.config.jax_default_matmul_precision
    autodiff_oracle.backprop(*_problem(np.float32))
    assert jax.config.jax_default_matmul_precision == before


def test_device_names_the_jax_backend_and_device():
    device = autodiff_oracle.device()
    assert (device.backend, device.device) == (
        jax.default_backend(),
        jax.devices()[0].device_kind,
    )
    assert str(device) == f"JAX backend {device.backend} ({device.device})"

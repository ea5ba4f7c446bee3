"""Fuzzing the public API (DESIGN §7): arbitrary shapes, dtypes and values into Network,
crosscheck.ffnn.validate and every implementation's loss, gradients and backprop. Only the
documented TypeError and ValueError may escape (pytest turns any warning into an error, so none may
be emitted either); valid inputs with |Z| up to 1e4 give finite results (eqs 1.4, 2.16, 2.21,
2.32). Values the fuzzer found are pinned as explicit tests at the end."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from crosscheck.ffnn import ACTIVATIONS, LOSSES, Layer, Network, get_activation, validate

from helpers.implementations import Call, call_params

DOCUMENTED = (TypeError, ValueError)
OUTPUT = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}

# --- arbitrary values ------------------------------------------------------------------------

_dtypes = st.sampled_from(
    [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8, np.bool_, np.complex128]
).map(np.dtype)
_any_floats = st.floats(allow_nan=True, allow_infinity=True)
_finite_floats = st.floats(allow_nan=False, allow_infinity=False)
_arrays = hnp.arrays(_dtypes, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
_object_arrays = hnp.arrays(
    np.dtype(object), hnp.array_shapes(max_dims=2, max_side=3), elements=st.none() | _any_floats
)
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    _any_floats,
    st.complex_numbers(),
    st.text(max_size=4),
    st.lists(_any_floats, max_size=4),
    st.lists(st.lists(_any_floats, max_size=3), max_size=3),
    _arrays,
    _object_arrays,
)
"""Non-arrays, None, ragged lists, arrays of any dtype and ndim (0..3, empty axes included)."""


@given(
    sizes=st.one_of(anything, st.lists(st.one_of(st.integers(-2, 4), anything), max_size=4)),
    activations=st.one_of(
        anything, st.lists(st.sampled_from([*ACTIVATIONS, "mse", ""]) | anything, max_size=4)
    ),
    loss=st.sampled_from([*LOSSES, "mse", "MSE", "nll"]) | anything,
    weight_decay=st.one_of(anything, st.integers(min_value=10**300)),
)
def test_network_raises_only_type_or_value_error(sizes, activations, loss, weight_decay):
    try:
        network = Network(sizes, activations, loss=loss, weight_decay=weight_decay)
    except DOCUMENTED:
        return
    assert (network.L, len(network.activations)) == (len(network.sizes) - 1, network.L)


# --- problems: a valid one, then some of its parts replaced ----------------------------------


@st.composite
def any_networks(draw) -> Network:
    """L in 1..3, S_l in 1..3, any σ_l (softmax too), any loss (with its output σ_L),
    weight decay λ = 0 or up to 1e300."""
    L = draw(st.integers(1, 3))
    sizes = tuple(draw(st.lists(st.integers(1, 3), min_size=L + 1, max_size=L + 1)))
    loss = draw(st.sampled_from(list(LOSSES)))
    activations = draw(st.lists(st.sampled_from(list(ACTIVATIONS)), min_size=L, max_size=L))
    if loss in OUTPUT:
        activations[-1] = OUTPUT[loss]
    weight_decay = draw(st.just(0.0) | st.floats(0.0, 1e300))
    return Network(sizes, tuple(activations), loss=loss, weight_decay=weight_decay)


FIXED_POOL = st.sampled_from(
    [
        Network((1, 1), ("identity",)),
        Network((2, 3, 1), ("tanh", "identity"), weight_decay=0.5),
        Network((2, 2, 2, 1), ("softplus", "softmax", "gelu")),
        Network((1, 2, 2, 2), ("relu", "leaky_relu", "softmax"), loss="cross_entropy"),
        Network((3, 2, 2), ("elu", "sigmoid"), loss="binary_cross_entropy"),
    ]
)
"""Every σ, loss and weight decay in five networks: for autodiff, which compiles once per
network and shape, with N = 2."""


def _architectures(call: Call) -> tuple[st.SearchStrategy, st.SearchStrategy]:
    """(networks, N) to draw for a call: JAX's (autodiff's) from FIXED_POOL with N = 2."""
    if call.implementation.needs_jax:
        return FIXED_POOL, st.just(2)
    return any_networks(), st.integers(1, 3)


def _targets(draw, network: Network, N: int, elements) -> np.ndarray:
    S_L = network.sizes[-1]
    if network.loss == "cross_entropy":
        return np.eye(S_L)[:, draw(st.lists(st.integers(0, S_L - 1), min_size=N, max_size=N))]
    if network.loss == "binary_cross_entropy":
        return draw(hnp.arrays(np.float64, (S_L, N), elements=st.floats(0.0, 1.0)))
    return draw(hnp.arrays(np.float64, (S_L, N), elements=elements))


@st.composite
def valid_problems(draw, drawn: tuple, elements=_finite_floats) -> tuple:
    """(network, params, X, T), valid for crosscheck.ffnn.validate, entries from `elements`;
    `drawn` is (networks, N) strategies."""
    network, N = draw(drawn[0]), draw(drawn[1])
    S = network.sizes

    def array(shape: tuple[int, ...]) -> np.ndarray:
        return draw(hnp.arrays(np.float64, shape, elements=elements))

    params = [Layer(array((S[l], S[l - 1])), array((S[l],))) for l in range(1, network.L + 1)]
    return network, params, array((S[0], N)), _targets(draw, network, N, elements)


@st.composite
def perturbed_problems(draw, drawn: tuple) -> tuple:
    """A valid problem with at least one part (W^(l), b^(l), X, T, a layer, the params
    container) replaced by anything: another dtype, ndim, shape, value or type."""
    network, params, X, T = draw(valid_problems(drawn))
    parts = {"X": X, "T": T}
    for l, (W, b) in enumerate(params, start=1):
        parts[f"W{l}"], parts[f"b{l}"] = W, b
    chosen = draw(st.lists(st.sampled_from(sorted(parts)), min_size=1, max_size=3, unique=True))
    for name in chosen:
        parts[name] = draw(anything)
    layers: object = [Layer(parts[f"W{l}"], parts[f"b{l}"]) for l in range(1, network.L + 1)]
    layers = draw(
        st.sampled_from(
            [layers, layers[:-1], [*layers, layers[0]], tuple(layers), np.array(0.0), None]
        )
    )
    return network, layers, parts["X"], parts["T"]


@given(perturbed_problems((any_networks(), st.integers(1, 3))))
def test_validate_raises_only_type_or_value_error(problem):
    network, params, X, T = problem
    try:
        layers, X, T = validate(network, params, X, T)
    except DOCUMENTED:
        return
    arrays = [X, T, *(a for layer in layers for a in layer)]
    shapes = [(network.sizes[0], X.shape[1]), (network.sizes[-1], X.shape[1])]
    shapes += [shape for layer in network.param_shapes() for shape in layer]
    assert [a.shape for a in arrays] == shapes
    assert all(a.dtype == X.dtype and np.isfinite(a).all() for a in arrays)


@pytest.mark.parametrize("call", call_params())
@given(data=st.data())
def test_implementation_raises_only_type_or_value_error(call, data):
    problem = data.draw(perturbed_problems(_architectures(call)))
    try:
        call(*problem)
    except DOCUMENTED:
        pass


@pytest.mark.parametrize("call", call_params())
@given(data=st.data())
def test_any_finite_values_give_finite_results_or_value_error(call, data):
    # Finite values up to 1.8e308: the results either fit the float range or are refused.
    problem = data.draw(valid_problems(_architectures(call)))
    try:
        result = call(*problem)
    except ValueError as error:
        assert "overflows the float range" in str(error)
        return
    assert _finite(result, problem[0])


# --- valid but extreme: |Z^(l)| up to 1e4 ----------------------------------------------------

_EXTREME = 1e4


@st.composite
def extreme_problems(draw, drawn: tuple) -> tuple:
    """Valid problems whose |Z^(l)|, |A^(l)| stay <= 2·1e4: |X|, |T| <= 1e4, every row of
    |W^(l)| sums to <= 1 and |b^(l)| <= 1e4 / (L + 1); values include 0, ±1e4 and subnormals."""
    network, N = draw(drawn[0]), draw(drawn[1])
    S, L = network.sizes, network.L
    big = st.sampled_from([0.0, _EXTREME, -_EXTREME, 5e-324]) | st.floats(-_EXTREME, _EXTREME)
    bias = st.floats(-_EXTREME / (L + 1), _EXTREME / (L + 1))
    params = []
    for l in range(1, L + 1):
        rows = st.floats(-1.0 / S[l - 1], 1.0 / S[l - 1])
        W = draw(hnp.arrays(np.float64, (S[l], S[l - 1]), elements=rows))
        params.append(Layer(W, draw(hnp.arrays(np.float64, (S[l],), elements=bias))))
    X = draw(hnp.arrays(np.float64, (S[0], N), elements=big))
    return network, params, X, _targets(draw, network, N, big)


@pytest.mark.parametrize("call", call_params())
@given(data=st.data())
def test_extreme_valid_inputs_give_finite_results_without_warning(call, data):
    problem = data.draw(extreme_problems(_architectures(call)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = call(*problem)
    assert _finite(result, problem[0])


def _finite(result: object, network: Network) -> bool:
    """Every number of a loss, gradients or (grads, trace) result is finite, except Δ^(L) of
    a loss fused with its output (not finite where an output underflows, eqs 2.21', 2.21'')."""
    if isinstance(result, float):
        return bool(np.isfinite(result))
    if len(result) == 2 and hasattr(result[1], "Delta"):
        grads, trace = result
        L = network.L
        fused = network.J.output_activation is not None
        arrays = [a for field in (trace.Z, trace.A, trace.H) for a in field if a is not None]
        arrays += [d for l, d in enumerate(trace.Delta) if not (fused and l == L)]
    else:
        grads, arrays = result, []
    arrays += [a for layer in grads for a in layer]
    return all(np.isfinite(a).all() for a in arrays)


# --- values the fuzzer found, pinned ---------------------------------------------------------


def test_fuzz_found_weight_decay_int_beyond_float_range_is_value_error():
    # was OverflowError from math.isfinite(10**400)
    with pytest.raises(ValueError, match="weight_decay must be finite"):
        Network((2, 1), ("tanh",), weight_decay=10**400)


def test_fuzz_found_cross_entropy_targets_summing_past_float_max_eq_2_16_prime():
    # was RuntimeWarning "overflow encountered in reduce" in crosscheck.ffnn.targets
    network = Network((1, 2), ("softmax",), loss="cross_entropy")
    params = [Layer(np.zeros((2, 1)), np.zeros(2))]
    with pytest.raises(ValueError, match="column 0 of T sums to inf"):
        validate(network, params, np.zeros((1, 1)), np.array([[1e308], [1e308]]))


@pytest.mark.parametrize(
    ("name", "z", "expected"),
    [
        ("tanh", 1e308, 0.0),
        ("tanh", -1e308, 0.0),
        ("gelu", 1e308, 1.0),
        ("gelu", -1e308, 0.0),
        ("gelu", 1e200, 1.0),
    ],
)
def test_fuzz_found_eq_2_2_sigma_prime_of_huge_z_without_overflow(name, z, expected):
    # was RuntimeWarning "overflow encountered in multiply" (2|z| and z² beyond float64)
    assert get_activation(name).sigma_prime(np.array([z])).tolist() == [expected]


@pytest.mark.parametrize("z", [-401.0, -399.0, -38.0, -30.0, 30.0, 38.0, 399.0, 401.0])
def test_eq_2_2_gelu_prime_is_unchanged_by_the_cap_on_z(z):
    # Φ(z) + z φ(z) uncapped (z² fits float64 here): the cap at |z| = 400 changes no value.
    phi = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    expected = 0.5 * scipy.special.erfc(-z / np.sqrt(2)) + z * phi
    assert get_activation("gelu").sigma_prime(np.array([z])).tolist() == [expected]


@pytest.mark.parametrize("call", call_params())
def test_fuzz_found_squared_error_of_1e200_is_value_error_eq_2_17(call):
    # was OverflowError from (a − t)**2 in the reference; silent inf in autodiff
    network = Network((1, 1), ("identity",))
    params = [Layer(np.ones((1, 1)), np.zeros(1))]
    with pytest.raises(ValueError, match="overflows the float range"):
        call(network, params, np.array([[1e200]]), np.array([[-1e200]]))

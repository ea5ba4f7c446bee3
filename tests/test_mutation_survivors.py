"""Tests that kill the real survivors of the mutation runs over ffnn/, reference/, vectorized/
(mutmut 3.8, outside CI, on a copy of the repo, with the JAX-free tests; reports in
/work/mutation/REPORT.md and REPORT2.md). JAX-free except the `jax`-marked test, which
imports JAX only when it runs, so the next such run (with -m "not jax") selects them too."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from crosscheck import reference, vectorized
from crosscheck.ffnn import (
    NUMPY,
    Layer,
    Network,
    Trace,
    check_finite,
    get_activation,
    get_loss,
    init_params,
    validate,
)
from crosscheck.vectorized.workspace import clear_workspaces, workspace

NETWORK = Network((3, 4, 2), ("tanh", "sigmoid"))


def _problem(dtype: type) -> tuple:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 5)).astype(dtype)
    T = rng.standard_normal((2, 5)).astype(dtype)
    return NETWORK, init_params(NETWORK, seed=1, dtype=dtype), X, T


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eq_2_16_vectorized_loss_is_J_of_its_own_trace_in_the_input_dtype(dtype):
    # Killed: crosscheck.vectorized.api.loss with its workspace built for dtype None (float64
    # buffers),
    # which computed a float32 problem partly in float64.
    network, params, X, T = _problem(dtype)
    _, trace = vectorized.backprop(network, params, X, T)
    expected = float(network.J.J(trace.Z[-1], trace.A[-1], T, NUMPY))
    assert (trace.A[-1].dtype, vectorized.loss(network, params, X, T)) == (dtype, expected)


def test_eq_2_2_prime_softmax_sigma_prime_message_quotes_the_jacobian():
    # Killed: five edits of the message text (case, "XX" affixes) that no test pinned.
    with pytest.raises(TypeError) as raised:
        get_activation("softmax").sigma_prime(np.zeros((2, 1)))
    assert str(raised.value) == (
        "softmax is not elementwise: ∂A_kn/∂Z_k'n' = J_kk'(n) δ_nn' (eq 2.2'), so there is"
        " no σ' for eq 2.13's Hadamard product; use Activation.jacobian (eq 2.13')"
    )


# check_finite names the first quantity that overflowed, in forward/backward order (second
# run, over the current code): a synthetic L = 2 trace, finite except for one quantity.

OVERFLOW_TAIL = (
    " overflows the float range: the inputs are finite but too large for their dtype"
    " (scale X, T or the parameters down)"
)


def _finite_results(network: Network) -> dict:
    ones = [np.ones((S_l, 1)) for S_l in network.sizes]  # N = 1
    return {
        "J": 1.0,
        "Z": [None, *ones[1:]],
        "A": list(ones),
        "Delta": list(ones),
        "H": [None, *ones[1:]],
        "W": [np.ones(w) for w, _ in network.param_shapes()],
        "b": [np.ones(b) for _, b in network.param_shapes()],
    }


@pytest.mark.parametrize(
    ("field", "l", "name"),
    [
        ("Z", 1, "Z^(1)"),
        ("A", 1, "A^(1)"),
        ("Z", 2, "Z^(2)"),
        ("J", None, "J"),
        ("Delta", 2, "Δ^(2)"),
        ("H", 2, "H^(2)"),
        ("Delta", 1, "Δ^(1)"),
        ("H", 1, "H^(1)"),
        ("Delta", 0, "Δ^(0)"),
        ("W", 1, "∂J/∂W^(1)"),
        ("b", 1, "∂J/∂b^(1)"),
        ("b", 2, "∂J/∂b^(2)"),
    ],
)
def test_eq_1_4_2_13_2_32_check_finite_names_the_overflowing_quantity(field, l, name):
    # Killed: loops over l shifted or emptied, `named =` for `named +=`, the name "J" edited,
    # Δ^(L) of squared error left unchecked, gradient layers counted from 0 or 2, message text.
    network = Network((2, 3, 2), ("tanh", "identity"))
    results = _finite_results(network)
    if field == "J":
        results["J"] = np.inf
    elif field in ("W", "b"):
        results[field][l - 1] = np.full_like(results[field][l - 1], np.inf)
    else:
        results[field][l] = np.full_like(results[field][l], np.inf)
    trace = Trace(*(tuple(results[f]) for f in ("Z", "A", "Delta", "H")))
    grads = [Layer(W, b) for W, b in zip(results["W"], results["b"], strict=True)]
    with pytest.raises(ValueError) as raised:
        check_finite(network, J=results["J"], grads=grads, trace=trace)
    assert str(raised.value) == name + OVERFLOW_TAIL


@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"])
def test_eq_2_21_prime_delta_L_is_inf_without_warning_where_T_over_A_overflows(loss):
    # Killed: _ratio without errstate(over="ignore"): 1/5e-324 overflows with a warning.
    A, T = np.array([[5e-324], [1.0]]), np.array([[1.0], [0.0]])
    expected = {"cross_entropy": [[-np.inf], [0.0]], "binary_cross_entropy": [[-np.inf], [np.inf]]}
    np.testing.assert_array_equal(get_loss(loss).Delta(A, T), expected[loss])


@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eq_2_21_prime_delta_L_has_the_dtype_of_A(loss, dtype):
    # Killed: _ratio's output buffer built without A's dtype (float64 for a float32 A).
    A, T = np.array([[0.25], [0.75]], dtype=dtype), np.array([[1.0], [0.0]], dtype=dtype)
    assert get_loss(loss).Delta(A, T).dtype == dtype


# W = 0, b = 0: A^(1) = (½, ½); T's column sums to s = 1 + 4e-7 (within the tolerance), so
# H^(1) = (A s − T)/N = (½ s − ¾, ½ s − (¼ + 4e-7)) = (−¼ + 2e-7, ¼ − 2e-7), N = 1.
CE_OFF_ONE = (
    Network((1, 2), ("softmax",), loss="cross_entropy"),
    (Layer(np.zeros((2, 1)), np.zeros(2)),),
    np.array([[1.0]]),
    np.array([[0.75], [0.25 + 4e-7]]),
)
FUSED_BACKPROPS = {
    "reference_literal": lambda *p: reference.backprop(*p, form="literal"),
    "reference_contracted": lambda *p: reference.backprop(*p, form="contracted"),
    "vectorized": vectorized.backprop,
}


@pytest.mark.parametrize("name", list(FUSED_BACKPROPS))
def test_eq_2_8_prime_H_L_uses_the_column_sums_of_T_as_they_are(name):
    # Killed: A / Σ_k T_kn for A · Σ_k T_kn (equal only for columns summing exactly to 1).
    _, trace = FUSED_BACKPROPS[name](*CE_OFF_ONE)
    np.testing.assert_allclose(trace.H[1], [[-0.25 + 2e-7], [0.25 - 2e-7]], rtol=1e-12, atol=0)


def test_eq_2_16_reference_loss_without_weight_decay_never_squares_W():
    # Killed: `lam >= 0` for `lam > 0`: 0·Σ W² still evaluates (1e200)², an OverflowError.
    # X = 0 makes Z^(1) = b = 0 whatever W: J = (0 − 1)²/2 = ½.
    network = Network((1, 1), ("identity",))
    params = (Layer(np.array([[1e200]]), np.zeros(1)),)
    assert reference.loss(network, params, np.zeros((1, 1)), np.ones((1, 1))) == 0.5


def test_eq_2_16_pp_binary_cross_entropy_target_message():
    # Killed: edits of the message's tail, which the catalogue matches only by its start.
    with pytest.raises(ValueError) as raised:
        get_loss("binary_cross_entropy").check_targets(np.array([[0.5, 1.5]]))
    assert str(raised.value) == (
        "T[0, 1] = 1.5 is outside [0, 1]; binary_cross_entropy needs every target entry T_kn"
        " to be a probability in [0, 1]"
    )


def test_eq_2_16_prime_float32_column_sum_is_reported_in_float64():
    # Killed: the column sum taken in float32 (0.8999999761581421) instead of float64.
    T = np.array([[0.5], [0.4]], dtype=np.float32)
    with pytest.raises(ValueError, match=r"^column 0 of T sums to 0\.9000000059604645;"):
        get_loss("cross_entropy").check_targets(T)


def test_eq_2_16_prime_column_summing_to_inf_raises_without_warning():
    # Killed: the sum outside errstate(over="ignore"): 1e308 + 1e308 warns (an error here).
    with pytest.raises(ValueError, match=r"^column 0 of T sums to inf;"):
        get_loss("cross_entropy").check_targets(np.array([[1e308], [1e308]]))


@pytest.mark.parametrize(
    ("X", "described"),
    [
        (np.zeros((1, 1), dtype=np.uint8), "uint8 (unsigned integer)"),
        (np.zeros((1, 1), dtype=np.float16), "float16 (a float width other than 32 or 64 bits)"),
        (np.array([["a"]]), "<U1 (string)"),
        (np.array([[b"a"]]), "|S1 (bytes)"),
        (np.zeros((1, 1), dtype="datetime64[s]"), "datetime64[s] (kind 'M')"),
    ],
    ids=["uint8", "float16", "str", "bytes", "datetime64"],
)
def test_validate_names_the_dtype_kind_of_a_non_float_X(X, described):
    # Killed: edits of the kind table (keys and descriptions) and of its fallback.
    network = Network((1, 1), ("identity",))
    params = (Layer(np.zeros((1, 1)), np.zeros(1)),)
    with pytest.raises(TypeError) as raised:
        validate(network, params, X, np.zeros((1, 1)))
    assert str(raised.value) == f"X has dtype {described}; float64 or float32 is needed"


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [("sizes", (2, 3)), ("activations", ("tanh",)), ("weight_decay", 1.0)],
)
def test_network_stores_its_arguments_normalised(attribute, expected):
    # Killed: the normalised value stored under another attribute name, leaving the list
    # (sizes, activations) or the int (weight_decay) as given.
    network = Network([2, 3], ["tanh"], weight_decay=1)
    value = getattr(network, attribute)
    assert (type(value), value) == (type(expected), expected)


def test_network_single_string_activations_message_counts_the_layers():
    # Killed: the layer count of the message off by one.
    with pytest.raises(TypeError) as raised:
        Network((2, 3, 4), "tanh")
    assert str(raised.value) == (
        "activations must be a sequence of names, one per layer 1..2, got the single string 'tanh'"
    )


def test_eq_2_8_prime_unfit_output_activation_message_names_sigma_L():
    # Killed: σ_L read from activations[1] or [-2], and edits of the message's tail.
    with pytest.raises(ValueError) as raised:
        Network((2, 3, 3, 2), ("sigmoid", "tanh", "relu"), loss="cross_entropy")
    assert str(raised.value) == (
        "loss 'cross_entropy' needs a softmax output layer (σ_3 = 'softmax', eqs 2.16'–2.21',"
        " 2.8'); got σ_3 = 'relu'. Use activations (..., 'softmax'), or loss 'squared_error',"
        " which fits any output"
    )


@pytest.mark.parametrize("form", ["literal", "contracted"])
@pytest.mark.parametrize("layer", [1, 2])
@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"])
def test_eq_2_8_prime_gradient_entry_with_fused_output_matches_gradients(loss, layer, form):
    # Killed: T dropped from the fused H^(L) (eqs 2.8', 2.8'') at l = L and for l < L.
    output = get_loss(loss).output_activation
    network = Network((2, 3, 2), ("tanh", output), loss=loss)
    rng = np.random.default_rng(3)
    params = init_params(network, seed=3)
    X, T = rng.normal(size=(2, 4)), np.eye(2)[:, [0, 1, 1, 0]]
    full = reference.gradients(network, params, X, T, form=form)[layer - 1].W
    entry = reference.gradient_entry(
        network, params, X, T, layer=layer, name="W", index=(1, 0), form=form
    )
    assert entry == full[1, 0]


BACKPROPS_AND_GRADIENTS = {
    "reference_backprop": lambda *p: reference.backprop(*p)[0],
    "reference_gradients": reference.gradients,
    "vectorized_backprop": lambda *p: vectorized.backprop(*p)[0],
    "vectorized_gradients": vectorized.gradients,
}


@pytest.mark.parametrize("name", list(FUSED_BACKPROPS))
def test_eq_1_4_backprop_names_Z_1_when_the_forward_pass_overflows(name):
    # Killed: the trace not passed to check_finite (the gradients, inf too, came first).
    network = Network((1, 1), ("identity",))
    params = (Layer(np.array([[1e200]]), np.zeros(1)),)
    with pytest.raises(ValueError) as raised:
        FUSED_BACKPROPS[name](network, params, np.array([[1e200]]), np.zeros((1, 1)))
    assert str(raised.value) == "Z^(1)" + OVERFLOW_TAIL


@pytest.mark.parametrize("name", list(BACKPROPS_AND_GRADIENTS))
def test_eq_2_7_gradient_that_overflows_by_multiplication_raises(name):
    # Killed: the gradients not passed to check_finite. The trace is finite (H^(1) = 2e300),
    # ∂J/∂W^(1) = H^(1) X^t = 2e300 · 1e300 is inf without an OverflowError.
    network = Network((1, 1), ("identity",))
    params = (Layer(np.ones((1, 1)), np.zeros(1)),)
    X, T = np.array([[1e300]]), np.array([[-1e300]])
    with pytest.raises(ValueError) as raised:
        BACKPROPS_AND_GRADIENTS[name](network, params, X, T)
    assert str(raised.value) == "∂J/∂W^(1)" + OVERFLOW_TAIL


def test_clear_workspaces_drops_the_cached_buffers():
    # Killed: popping another key than "cache", which left the workspace cached.
    network = Network((2, 3, 1), ("tanh", "identity"))
    cached = workspace(network, 4, np.float64)
    clear_workspaces()
    assert workspace(network, 4, np.float64) is not cached


@pytest.mark.jax
@pytest.mark.parametrize(("name", "z"), [("tanh", 20.0), ("elu", -40.0)])
def test_eq_2_13_autodiff_H_is_accurate_where_the_unit_saturates(name, z):
    # Killed: jax_namespace's tanh / expm1 without accuracy=HIGHEST, whose JAX derivatives
    # (1 − t)(1 + t) and ans + 1 round to 0 at tanh(20) = 1, expm1(−40) = −1 in float64,
    # while σ'(z) = sech²(20) ≈ 1.7e-17, exp(−40) ≈ 4.2e-18 (eq 2.13: H = Δ ⊙ σ'(Z)).
    autodiff_oracle = importlib.import_module("crosscheck.autodiff_oracle")
    network = Network((1, 1), (name,))
    problem = (network, (Layer(np.ones((1, 1)), np.zeros(1)),), np.array([[z]]), np.zeros((1, 1)))
    _, expected = vectorized.backprop(*problem)
    _, actual = autodiff_oracle.backprop(*problem)
    assert expected.H[1][0, 0] != 0.0
    np.testing.assert_allclose(actual.H[1], expected.H[1], rtol=1e-12, atol=0)


# init_params (its killing tests left the JAX-free selection; kept here so it has them).
WIDE = Network((50, 50), ("identity",))


@pytest.mark.parametrize(
    ("defaults", "explicit"), [({}, {"seed": 0}), ({"seed": 3}, {"seed": 3, "bias_scale": 0.1})]
)
def test_init_params_defaults_are_seed_0_and_bias_scale_0_1(defaults, explicit):
    # Killed: the default seed 1 for 0, the default bias_scale 1.1 for 0.1.
    flat = [np.concatenate([p.W.ravel(), p.b]) for p in init_params(NETWORK, **defaults)]
    expected = [np.concatenate([p.W.ravel(), p.b]) for p in init_params(NETWORK, **explicit)]
    np.testing.assert_array_equal(np.concatenate(flat), np.concatenate(expected))


def test_init_params_weights_fill_the_glorot_interval():
    # Killed: uniform(−r) (high = 1 by default) for uniform(−r, r); r = √(6/100) here.
    W = init_params(WIDE, seed=0)[0].W
    r = np.sqrt(6.0 / 100)
    assert (np.abs(W).max() <= r, np.abs(W).max() > 0.99 * r) == (True, True)


def test_init_params_bias_standard_deviation_is_bias_scale():
    # Killed: bias_scale / N(0, 1) draws for bias_scale · N(0, 1) (heavy-tailed, unbounded).
    b = init_params(WIDE, seed=0, bias_scale=0.1)[0].b
    assert 0.08 < float(np.std(b)) < 0.12


def test_init_params_bias_scale_0_gives_zero_biases():
    # Killed: bias_scale <= 0 refused (0 is allowed: no bias noise).
    assert not init_params(NETWORK, bias_scale=0.0)[1].b.any()


@pytest.mark.parametrize("bias_scale", [-1.0, np.inf, np.nan])
def test_init_params_bias_scale_negative_or_not_finite_raises(bias_scale):
    # Killed: `and` for `or` in the check (accepts −1 and inf), and the message dropped.
    with pytest.raises(ValueError, match=r"^bias_scale must be finite and >= 0, got "):
        init_params(NETWORK, bias_scale=bias_scale)


def test_init_params_names_the_type_that_is_not_a_network():
    # Killed: the message dropped, or naming NoneType instead of the argument's type.
    with pytest.raises(TypeError) as raised:
        init_params((2, 3))
    assert str(raised.value) == "network must be a crosscheck.ffnn.Network, got tuple"


def test_eq_2_13_vectorized_tanh_H_is_0_where_the_unit_saturates():
    # Killed: e = exp(+2|Z|) for exp(−2|Z|) in sech² = 4e/(1 + e)² (the same in exact
    # arithmetic): at Z = 400, exp(800) = inf and inf/inf = NaN instead of sech² = 0.
    network = Network((1, 1, 1), ("tanh", "identity"))
    params = (Layer(np.array([[400.0]]), np.zeros(1)), Layer(np.ones((1, 1)), np.zeros(1)))
    _, trace = vectorized.backprop(network, params, np.ones((1, 1)), np.zeros((1, 1)))
    np.testing.assert_array_equal(trace.H[1], [[0.0]])


@pytest.mark.parametrize("name", ["tanh", "softmax"])
def test_eq_2_2_jacobian_has_the_dtype_of_Z(name):
    # Killed: the identity matrix built as float64, which promotes a float32 Jacobian.
    Z = np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32)
    assert get_activation(name).jacobian(Z).dtype == np.float32


def test_eq_2_32_vectorized_float32_gradients_equal_those_of_backprop_bit_for_bit():
    # Killed: the workspace's Δ scratch buffer built as float64 for a float32 problem, so
    # `gradients` computed part of the backward pass in float64 (`backprop` uses none).
    network, params, X, T = _problem(np.float32)
    got = vectorized.gradients(network, params, X, T)
    want, _ = vectorized.backprop(network, params, X, T)
    flat = [np.concatenate([layer.W.ravel(), layer.b]) for layer in got]
    expected = [np.concatenate([layer.W.ravel(), layer.b]) for layer in want]
    np.testing.assert_array_equal(np.concatenate(flat), np.concatenate(expected))


# Exact messages of bad input (the catalogue in test_bad_input.py matches their starts).
ONE_LAYER = Network((2, 1), ("identity",))
ONE_LAYER_PARAMS = (Layer(np.zeros((1, 2)), np.zeros(1)),)
TWO_LAYERS = Network((2, 1, 1), ("identity", "identity"))
INF_b2 = (Layer(np.zeros((1, 2)), np.zeros(1)), Layer(np.zeros((1, 1)), np.array([np.inf])))
X0, T0 = np.zeros((2, 2)), np.zeros((1, 2))
BAD_INPUT_MESSAGES = {
    "network": (
        lambda: validate("x", ONE_LAYER_PARAMS, X0, T0),
        "network must be a crosscheck.ffnn.Network, got str",
    ),
    "X-1d": (
        lambda: validate(ONE_LAYER, ONE_LAYER_PARAMS, np.zeros(2), T0),
        "X has 1 dimensions (shape (2,)); expected (S_0, N) = (2, N)",
    ),
    "X-shape": (
        lambda: validate(ONE_LAYER, ONE_LAYER_PARAMS, np.zeros((3, 2)), T0),
        "X has shape (3, 2); sizes (2, 1) need (S_0, N) = (2, N): one column per sample"
        " (the transpose of a data frame)",
    ),
    "X-nan": (
        lambda: validate(ONE_LAYER, ONE_LAYER_PARAMS, np.array([[0.0, np.nan], [0.0, 0.0]]), T0),
        "X contains a non-finite value nan at index (0, 1)",
    ),
    "b2-inf": (
        lambda: validate(TWO_LAYERS, INF_b2, X0, T0),
        "b^(2) (params[1].b) contains a non-finite value inf at index (0,)",
    ),
    "dtype-mix": (
        lambda: validate(ONE_LAYER, ONE_LAYER_PARAMS, X0.astype(np.float32), T0),
        "all arrays must share one float dtype; got X: float32, T: float64,"
        " W^(1) (params[0].W): float64, b^(1) (params[0].b): float64",
    ),
    "params-int": (
        lambda: validate(ONE_LAYER, 5, X0, T0),
        "params must be a sequence of L = 1 (W, b) pairs, got int",
    ),
    "pair-int": (
        lambda: validate(ONE_LAYER, (5,), X0, T0),
        "params[0] (layer 1) must be a (W, b) pair, got 5",
    ),
    "loss-int": (lambda: get_loss(5), "loss name must be a str, got int: 5"),
    "loss-unknown": (
        lambda: get_loss("zzz"),
        "unknown loss 'zzz'; known losses: squared_error, cross_entropy, binary_cross_entropy.",
    ),
    "loss-typo": (
        lambda: get_loss("squared_eror"),
        "unknown loss 'squared_eror'; known losses: squared_error, cross_entropy,"
        " binary_cross_entropy. Did you mean 'squared_error'?",
    ),
    "activation-int": (lambda: get_activation(5), "activation name must be a str, got int: 5"),
    "activation-unknown": (
        lambda: get_activation("zzz"),
        "unknown activation 'zzz'; known activations: identity, sigmoid, tanh, relu,"
        " leaky_relu, softplus, elu, gelu, softmax.",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT_MESSAGES))
def test_bad_input_message_is_exact(case):
    # Killed: edits of names, indices, joins, hints and tails in these messages.
    call, message = BAD_INPUT_MESSAGES[case]
    with pytest.raises((TypeError, ValueError)) as raised:
        call()
    assert str(raised.value) == message

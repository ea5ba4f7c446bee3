"""Tests of the shared formalism: Network and validate errors (DESIGN §7), σ and σ'
(eqs 1.4, 2.2, 2.13), J and Δ^(L) (eqs 2.16–2.21), weight decay, seeded init."""

import math

import numdifftools as nd
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from crosscheck.ffnn import (
    ACTIVATIONS,
    NUMPY,
    Layer,
    Network,
    get_loss,
    init_params,
    validate,
    weight_decay_term,
)

NETWORK = Network((3, 4, 2), ("tanh", "tanh"))  # W^(1) (4, 3), W^(2) (2, 4); N = 5
ELEMENTWISE = [name for name, a in ACTIVATIONS.items() if a.elementwise]


def _problem(**changes):
    """(network, params, X, T) of NETWORK with entries replaced: W1, b1, W2, b2, X, T."""
    params = init_params(NETWORK, seed=0)
    rng = np.random.default_rng(1)
    arrays = {
        "W1": params[0].W,
        "b1": params[0].b,
        "W2": params[1].W,
        "b2": params[1].b,
        "X": rng.standard_normal((3, 5)),
        "T": rng.standard_normal((2, 5)),
    }
    arrays.update(changes)
    layers = [Layer(arrays["W1"], arrays["b1"]), Layer(arrays["W2"], arrays["b2"])]
    return NETWORK, layers, arrays["X"], arrays["T"]


def _array(name: str) -> np.ndarray:
    """A fresh copy of one array of _problem(): W1, b1, W2, b2, X or T."""
    _, params, X, T = _problem()
    arrays = {"X": X, "T": T, "W1": params[0].W, "b1": params[0].b}
    arrays.update({"W2": params[1].W, "b2": params[1].b})
    return arrays[name].copy()


def _with_value(name: str, index, value):
    """_problem() with one entry of one array set to value."""
    array = _array(name)
    array[index] = value
    return _problem(**{name: array})


# --- validate: shapes, layers, N ------------------------------------------------------------


def test_validate_accepts_a_good_problem_without_copies() -> None:
    network, params, X, T = _problem()
    layers, X_out, T_out = validate(network, params, X, T)
    assert X_out is X and T_out is T and layers[1].W is params[1].W


def test_validate_accepts_read_only_arrays() -> None:
    network, params, X, T = _problem()
    for a in (X, T, *(a for layer in params for a in layer)):
        a.flags.writeable = False
    assert validate(network, params, X, T)[1] is X


def test_validate_W_wrong_shape_names_layer_and_expected_shape() -> None:
    with pytest.raises(
        ValueError,
        match=r"W\^\(2\) \(params\[1\]\.W\) has shape \(2, 3\); sizes \(3, 4, 2\) need"
        r" \(S_2, S_1\) = \(2, 4\)",
    ):
        validate(*_problem(W2=np.ones((2, 3))))


def test_validate_b_wrong_shape_names_layer_and_expected_shape() -> None:
    with pytest.raises(
        ValueError, match=r"b\^\(1\) \(params\[0\]\.b\) has shape \(3,\); .* need \(S_1,\) = \(4,\)"
    ):
        validate(*_problem(b1=np.ones(3)))


@pytest.mark.parametrize("n_layers", [1, 3], ids=["too-few", "too-many"])
def test_validate_wrong_number_of_layers(n_layers: int) -> None:
    network, params, X, T = _problem()
    params = (params * 2)[:n_layers]
    with pytest.raises(ValueError, match=rf"params has {n_layers} layers; .* L = 2"):
        validate(network, params, X, T)


def test_validate_params_entry_not_a_pair() -> None:
    network, params, X, T = _problem()
    with pytest.raises(TypeError, match=r"params\[1\] \(layer 2\) must be a \(W, b\) pair"):
        validate(network, [params[0], (params[1].W,)], X, T)


def test_validate_network_not_a_network() -> None:
    _, params, X, T = _problem()
    with pytest.raises(TypeError, match=r"network must be a crosscheck\.ffnn\.Network"):
        validate((3, 4, 2), params, X, T)


def test_validate_X_wrong_width_S_0() -> None:
    with pytest.raises(ValueError, match=r"X has shape \(4, 5\); .* need \(S_0, N\) = \(3, N\)"):
        validate(*_problem(X=np.ones((4, 5))))


def test_validate_T_wrong_width_S_L() -> None:
    with pytest.raises(ValueError, match=r"T has shape \(3, 5\); .* need \(S_L, N\) = \(2, N\)"):
        validate(*_problem(T=np.ones((3, 5))))


def test_validate_X_and_T_different_N() -> None:
    with pytest.raises(ValueError, match="X has N = 5 samples but T has 4"):
        validate(*_problem(T=np.ones((2, 4))))


def test_validate_N_zero() -> None:
    with pytest.raises(ValueError, match=r"X has N = 0 samples"):
        validate(*_problem(X=np.ones((3, 0)), T=np.ones((2, 0))))


@pytest.mark.parametrize(
    ("name", "shape", "match"),
    [
        ("X", (3,), r"X has 1 dimensions \(shape \(3,\)\); expected \(S_0, N\) = \(3, N\)"),
        ("T", (2, 5, 1), r"T has 3 dimensions \(shape \(2, 5, 1\)\); expected \(S_L, N\)"),
        ("W1", (12,), r"W\^\(1\) \(params\[0\]\.W\) has shape \(12,\)"),
        ("b2", (2, 1), r"b\^\(2\) \(params\[1\]\.b\) has shape \(2, 1\)"),
    ],
)
def test_validate_wrong_ndim(name: str, shape: tuple[int, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        validate(*_problem(**{name: np.ones(shape)}))


# --- validate: values and dtypes ------------------------------------------------------------

ARRAY_NAMES = {"X": "X", "T": "T", "W1": r"W\^\(1\)", "b2": r"b\^\(2\)"}


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("name", list(ARRAY_NAMES))
def test_validate_non_finite_value_names_array_and_index(name: str, value: float) -> None:
    index = (1,) if name == "b2" else (1, 2)
    with pytest.raises(ValueError, match=rf"{ARRAY_NAMES[name]}.* non-finite value .* index"):
        validate(*_with_value(name, index, value))


@pytest.mark.parametrize(
    ("dtype", "kind"),
    [(np.int64, "integer"), (np.complex128, "complex"), (object, "object"), (bool, "bool")],
    ids=["int", "complex", "object", "bool"],
)
@pytest.mark.parametrize("name", ["X", "W1"])
def test_validate_non_float_dtype(name: str, dtype, kind: str) -> None:
    with pytest.raises(TypeError, match=rf"{ARRAY_NAMES[name]}.* has dtype .*\({kind}\)"):
        validate(*_problem(**{name: _array(name).astype(dtype)}))


def test_validate_mixed_float32_float64() -> None:
    with pytest.raises(TypeError, match=r"share one float dtype.*X: float32"):
        validate(*_problem(X=_array("X").astype(np.float32)))


def test_validate_float32_throughout_is_accepted() -> None:
    network, params, X, T = _problem()
    params32 = [Layer(W.astype(np.float32), b.astype(np.float32)) for W, b in params]
    assert validate(network, params32, X.astype(np.float32), T.astype(np.float32))[1].dtype == (
        np.float32
    )


# --- Network ------------------------------------------------------------------------------


def test_network_unknown_activation_lists_known_ones() -> None:
    known = ", ".join(ACTIVATIONS)
    with pytest.raises(
        ValueError, match=rf"unknown activation 'swish'; known activations: {known}"
    ):
        Network((2, 2), ("swish",))


def test_network_misspelt_activation_suggests_close_match() -> None:
    with pytest.raises(ValueError, match="Did you mean 'tanh'"):
        Network((2, 2), ("tahn",))


def test_network_unknown_loss_lists_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown loss 'hinge'; known losses: squared_error"):
        Network((2, 2), ("tanh",), loss="hinge")


def test_network_loss_mse_suggests_squared_error() -> None:
    with pytest.raises(ValueError, match=r"unknown loss 'mse'.*Use 'squared_error'.*eq 2\.16"):
        Network((2, 2), ("tanh",), loss="mse")


@pytest.mark.parametrize(
    ("width", "error", "match"),
    [
        (0, ValueError, r"S_1 = sizes\[1\] must be >= 1, got 0"),
        (-2, ValueError, r"S_1 = sizes\[1\] must be >= 1, got -2"),
        (2.5, TypeError, r"S_1 = sizes\[1\] must be an integer width, got 2\.5"),
        (True, TypeError, r"S_1 = sizes\[1\] must be an integer width, got True"),
    ],
    ids=["zero", "negative", "fractional", "bool"],
)
def test_network_bad_width_names_it(width, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        Network((3, width, 2), ("tanh", "tanh"))


def test_network_integral_float_width_is_accepted() -> None:
    assert Network((3, 4.0, 2), ("tanh", "tanh")).sizes == (3, 4, 2)


def test_network_needs_at_least_two_sizes() -> None:
    with pytest.raises(ValueError, match="at least S_0 and S_1"):
        Network((3,), ())


def test_network_wrong_number_of_activations() -> None:
    with pytest.raises(ValueError, match=r"L = 2 non-input layers, so 2 activations are needed"):
        Network((3, 4, 2), ("tanh",))


def test_network_activations_as_one_string() -> None:
    with pytest.raises(TypeError, match="single string 'tanh'"):
        Network((3, 4), "tanh")


@pytest.mark.parametrize(
    ("lam", "error"), [(-0.1, ValueError), (math.nan, ValueError), ("0.1", TypeError)]
)
def test_network_bad_weight_decay(lam, error: type) -> None:
    with pytest.raises(error, match="weight_decay"):
        Network((3, 4), ("tanh",), weight_decay=lam)


def test_network_is_frozen_and_hashable() -> None:
    assert hash(NETWORK) == hash(Network((3, 4, 2), ("tanh", "tanh")))
    with pytest.raises(AttributeError):
        NETWORK.sizes = (1, 1)  # type: ignore[misc]


@pytest.mark.parametrize("l", [0, 3])
def test_network_sigma_layer_out_of_range(l: int) -> None:
    with pytest.raises(ValueError, match=r"layer l must be in 1\.\.2"):
        NETWORK.sigma(l)


# --- σ and σ' ------------------------------------------------------------------------------


def _non_smooth_points(name: str) -> tuple[float, ...]:
    # Kinks, and ELU's 0, where σ is C¹ but not C² (Richardson extrapolation assumes C²).
    return (*ACTIVATIONS[name].kinks, *((0.0,) if name == "elu" else ()))


@pytest.mark.parametrize("name", ELEMENTWISE)
@given(z=st.floats(-20.0, 20.0))
def test_eq_2_2_sigma_prime_matches_numerical_derivative(name: str, z: float) -> None:
    assume(all(abs(z - k) > 1e-2 for k in _non_smooth_points(name)))
    activation = ACTIVATIONS[name]
    numerical = nd.Derivative(lambda x: activation.sigma(np.asarray(x, dtype=float), NUMPY))(z)
    # The numerical derivative carries an absolute error near u/h ~ 1e-13.
    np.testing.assert_allclose(
        activation.sigma_prime(np.array(z)), numerical, rtol=1e-8, atol=1e-12
    )


@given(z=st.lists(st.floats(-20.0, 20.0), min_size=1, max_size=4))
def test_eq_2_2_prime_softmax_jacobian_matches_numerical(z: list[float]) -> None:
    softmax = ACTIVATIONS["softmax"]
    column = np.array(z)
    numerical = nd.Jacobian(lambda x: softmax.sigma(np.asarray(x)[:, None], NUMPY)[:, 0])(column)
    analytic = softmax.jacobian(column[:, None])[:, :, 0]
    np.testing.assert_allclose(analytic, np.reshape(numerical, analytic.shape), atol=1e-10)


def test_softmax_has_no_elementwise_sigma_prime() -> None:
    with pytest.raises(TypeError, match="softmax is not elementwise"):
        ACTIVATIONS["softmax"].sigma_prime(np.zeros((2, 1)))


@pytest.mark.parametrize("z", [40.0, -40.0, 1e4, -1e4])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_sigma_and_sigma_prime_finite_far_out(name: str, z: float) -> None:
    activation = ACTIVATIONS[name]
    Z = np.array([[z]])
    assert np.isfinite(activation.sigma(Z, NUMPY)).all()
    assert np.isfinite(activation.sigma_prime(Z)).all()


E40 = math.exp(-40.0)
SIGMA_PRIME_AT_40 = {  # (σ'(40), σ'(−40)), exact to double precision
    "identity": (1.0, 1.0),
    "sigmoid": (E40 / (1 + E40) ** 2, E40 / (1 + E40) ** 2),
    "tanh": (4 * E40**2 / (1 + E40**2) ** 2, 4 * E40**2 / (1 + E40**2) ** 2),
    "relu": (1.0, 0.0),
    "leaky_relu": (1.0, 0.01),
    "softplus": (1 / (1 + E40), E40 / (1 + E40)),
    "elu": (1.0, E40),
    "gelu": (1.0, 0.0),  # Φ(−40) − 40 φ(40) ~ 1e-348 underflows
}


@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["+40", "-40"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_sigma_prime_at_40_to_full_relative_accuracy(name: str, sign: float) -> None:
    expected = SIGMA_PRIME_AT_40[name][0 if sign > 0 else 1]
    actual = float(ACTIVATIONS[name].sigma_prime(np.array([sign * 40.0]))[0])
    assert actual == pytest.approx(expected, rel=1e-14, abs=0.0)


def test_sigmoid_prime_40_is_4_25e_minus_18() -> None:
    assert float(ACTIVATIONS["sigmoid"].sigma_prime(np.array([40.0]))[0]) == pytest.approx(
        4.248354255291589e-18, rel=1e-14
    )


def test_relu_prime_at_0_is_0() -> None:
    assert ACTIVATIONS["relu"].sigma_prime(np.array([0.0]))[0] == 0.0


def test_leaky_relu_prime_at_0_is_left_slope() -> None:
    assert ACTIVATIONS["leaky_relu"].sigma_prime(np.array([0.0]))[0] == 0.01


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_sigma_prime_keeps_float32(name: str) -> None:
    assert ACTIVATIONS[name].sigma_prime(np.ones((2, 3), dtype=np.float32)).dtype == np.float32


# --- J, Δ^(L), weight decay ----------------------------------------------------------------

A_L = np.array([[1.0, 2.0], [0.0, -1.0]])
T_L = np.array([[0.0, 2.0], [1.0, 1.0]])


def test_eq_2_17_squared_error_value() -> None:
    # 1/(2N) Σ (A − T)² with N = 2: (1 + 0 + 1 + 4) / 4.
    assert get_loss("squared_error").J(None, A_L, T_L, NUMPY) == 1.5


def test_eq_2_21_squared_error_delta() -> None:
    np.testing.assert_array_equal(
        get_loss("squared_error").Delta(A_L, T_L), np.array([[0.5, 0.0], [-0.5, -1.0]])
    )


def test_weight_decay_term_is_half_lambda_frobenius_squared() -> None:
    Ws = [np.array([[1.0, 2.0]]), np.array([[3.0]])]
    assert weight_decay_term(Ws, 0.5, NUMPY) == 0.25 * (1 + 4 + 9)


# --- init_params ---------------------------------------------------------------------------


def test_init_params_same_seed_same_parameters() -> None:
    first, second = init_params(NETWORK, seed=42), init_params(NETWORK, seed=42)
    for p, q in zip(first, second, strict=True):
        assert np.array_equal(p.W, q.W) and np.array_equal(p.b, q.b)


def test_init_params_different_seeds_differ() -> None:
    first, second = init_params(NETWORK, seed=1), init_params(NETWORK, seed=2)
    assert not np.array_equal(first[0].W, second[0].W)


def test_init_params_shapes_and_glorot_bound() -> None:
    params = init_params(NETWORK, seed=0)
    assert [(W.shape, b.shape) for W, b in params] == [((4, 3), (4,)), ((2, 4), (2,))]
    assert np.abs(params[0].W).max() <= math.sqrt(6 / 7)


def test_init_params_float32() -> None:
    params = init_params(NETWORK, seed=0, dtype=np.float32)
    assert {a.dtype for layer in params for a in layer} == {np.dtype(np.float32)}


def test_init_params_rejects_integer_dtype() -> None:
    with pytest.raises(TypeError, match="float64 or float32"):
        init_params(NETWORK, dtype=np.int32)

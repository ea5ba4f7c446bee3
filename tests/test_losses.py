"""Cross-entropy (eqs 2.16'–2.21', 2.8') and binary cross-entropy (eqs 2.16''–2.21'', 2.8''):
hand-worked values in every implementation, saturation, pairing and target domains."""

from typing import Any

import numpy as np
import pytest

from crosscheck import vectorized
from crosscheck.compare.comparison import assert_gradients_close
from crosscheck.ffnn import Layer, Network, get_loss, validate

from helpers.implementations import implementation_params

LN2 = float(np.log(2.0))

NAMES = implementation_params()
NAMES_BUT_VECTORIZED = implementation_params(["literal", "contracted", "autodiff"])


def _zero_params(network: Network) -> tuple[Layer, ...]:
    return tuple(Layer(np.zeros(w), np.zeros(b)) for w, b in network.param_shapes())


# Hand-worked: W = 0 and b = 0 make every softmax column (1/2, 1/2) and every sigmoid 1/2.
X_HAND = np.array([[1.0, 0.0], [2.0, -1.0]])

CE_HAND = (
    Network((2, 2), ("softmax",), loss="cross_entropy"),
    _zero_params(Network((2, 2), ("softmax",), loss="cross_entropy")),
    X_HAND,
    np.array([[1.0, 0.0], [0.0, 1.0]]),
)
# J = −(1/2)(log ½ + log ½) = log 2; H = (A − T)/N = [[−¼, ¼], [¼, −¼]];
# ∂J/∂W = H Xᵗ; ∂J/∂b = H J_N; Δ^(L) = −T/(N A) = −T.
CE_EXPECTED = {
    "J": LN2,
    "H": np.array([[-0.25, 0.25], [0.25, -0.25]]),
    "Delta": np.array([[-1.0, 0.0], [0.0, -1.0]]),
    "W": np.array([[-0.25, -0.75], [0.25, 0.75]]),
    "b": np.array([0.0, 0.0]),
}

BCE_HAND = (
    Network((2, 1), ("sigmoid",), loss="binary_cross_entropy"),
    _zero_params(Network((2, 1), ("sigmoid",), loss="binary_cross_entropy")),
    X_HAND,
    np.array([[1.0, 0.25]]),
)
# J = −(1/2)[log ½ + ¼ log ½ + ¾ log ½] = log 2; H = (A − T)/N = [[−¼, ⅛]];
# Δ^(L) = [(1 − T)/(1 − A) − T/A]/N = [[(0 − 2)/2, (3/2 − 1/2)/2]] = [[−1, ½]].
BCE_EXPECTED = {
    "J": LN2,
    "H": np.array([[-0.25, 0.125]]),
    "Delta": np.array([[-1.0, 0.5]]),
    "W": np.array([[-0.25, -0.625]]),
    "b": np.array([-0.125]),
}

HAND = {"cross_entropy": (CE_HAND, CE_EXPECTED), "binary_cross_entropy": (BCE_HAND, BCE_EXPECTED)}


@pytest.mark.parametrize("implementation", NAMES)
@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"], ids=["2_16p", "2_16pp"])
def test_eq_2_16_prime_loss_hand_worked(loss, implementation):
    problem, expected = HAND[loss]
    assert implementation.loss(*problem) == pytest.approx(expected["J"], rel=1e-15)


@pytest.mark.parametrize("implementation", NAMES)
@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"], ids=["2_8p", "2_8pp"])
def test_eq_2_8_prime_fused_H_L_hand_worked(loss, implementation):
    problem, expected = HAND[loss]
    _, trace = implementation.backprop(*problem)
    np.testing.assert_array_equal(trace.H[1], expected["H"])


@pytest.mark.parametrize("implementation", NAMES)
@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"], ids=["2_21p", "2_21pp"])
def test_eq_2_21_prime_delta_L_hand_worked(loss, implementation):
    problem, expected = HAND[loss]
    _, trace = implementation.backprop(*problem)
    np.testing.assert_array_equal(trace.Delta[1], expected["Delta"])


@pytest.mark.parametrize("implementation", NAMES)
@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"], ids=["2_7p", "2_7pp"])
def test_eq_2_7_2_8_prime_dW_hand_worked(loss, implementation):
    problem, expected = HAND[loss]
    grads, _ = implementation.backprop(*problem)
    np.testing.assert_array_equal(grads[0].W, expected["W"])


@pytest.mark.parametrize("implementation", NAMES)
@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"], ids=["2_11p", "2_11pp"])
def test_eq_2_11_2_8_prime_db_hand_worked(loss, implementation):
    problem, expected = HAND[loss]
    grads, _ = implementation.backprop(*problem)
    np.testing.assert_array_equal(grads[0].b, expected["b"])


# A two-layer cross-entropy case with unequal probabilities: b^(2) = (log 3, 0) makes the
# softmax column (3/4, 1/4); T = (0, 1): J = log 4, H^(2) = (A − T)/1 = (3/4, −3/4),
# Δ^(1) = W^(2)ᵗ H^(2), H^(1) = Δ^(1) (identity), ∂J/∂W^(1) = H^(1) Xᵗ.
TWO_LAYER_CE = (
    Network((1, 2, 2), ("identity", "softmax"), loss="cross_entropy"),
    (
        Layer(np.array([[0.0], [0.0]]), np.array([0.0, 0.0])),
        Layer(np.array([[1.0, 2.0], [0.0, -1.0]]), np.array([np.log(3.0), 0.0])),
    ),
    np.array([[2.0]]),
    np.array([[0.0], [1.0]]),
)
TWO_LAYER_CE_GRADS = (
    # Δ^(1) = W^(2)ᵗ H^(2) = (1·¾ + 0·(−¾), 2·¾ + (−1)(−¾)) = (¾, 9/4); X = 2
    (np.array([[1.5], [4.5]]), np.array([0.75, 2.25])),
    # ∂J/∂W^(2) = H^(2) (A^(1))ᵗ with A^(1) = 0
    (np.zeros((2, 2)), np.array([0.75, -0.75])),
)


@pytest.mark.parametrize("implementation", NAMES)
def test_eq_2_17_prime_two_layer_cross_entropy_loss_hand_worked(implementation):
    assert implementation.loss(*TWO_LAYER_CE) == pytest.approx(np.log(4.0), rel=1e-15)


@pytest.mark.parametrize("implementation", NAMES)
@pytest.mark.parametrize("l", [1, 2])
def test_eq_2_8_prime_2_32_two_layer_cross_entropy_gradients_hand_worked(implementation, l):
    grads, _ = implementation.backprop(*TWO_LAYER_CE)
    expected_W, expected_b = TWO_LAYER_CE_GRADS[l - 1]
    np.testing.assert_allclose(grads[l - 1].W, expected_W, rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(grads[l - 1].b, expected_b, rtol=1e-15, atol=1e-16)


# Saturation: logits of magnitude 1e3..1e4 (eqs 2.17', 2.17'' keep J finite).
SATURATED = {
    # Z^(1) = b = (1e4, −1e4): log A = (0, −2e4) exactly, T = (0, 1): J = 2e4.
    "cross_entropy": (
        Network((1, 2), ("softmax",), loss="cross_entropy"),
        (Layer(np.zeros((2, 1)), np.array([1e4, -1e4])),),
        np.array([[0.5]]),
        np.array([[0.0], [1.0]]),
        2e4,
    ),
    # Z^(1) = (1e4, −3e3), T = (0, 1): −log(1 − σ(1e4)) − log σ(−3e3) = 1e4 + 3e3.
    "binary_cross_entropy": (
        Network((1, 2), ("sigmoid",), loss="binary_cross_entropy"),
        (Layer(np.zeros((2, 1)), np.array([1e4, -3e3])),),
        np.array([[0.5]]),
        np.array([[0.0], [1.0]]),
        1.3e4,
    ),
}


@pytest.mark.parametrize("implementation", NAMES)
@pytest.mark.parametrize("loss", list(SATURATED), ids=["2_17p", "2_17pp"])
def test_eq_2_17_prime_saturated_loss_is_finite_and_exact(loss, implementation):
    *problem, expected = SATURATED[loss]
    assert implementation.loss(*problem) == expected


@pytest.mark.parametrize("implementation", NAMES)
@pytest.mark.parametrize("loss", list(SATURATED), ids=["2_8p", "2_8pp"])
def test_eq_2_8_prime_saturated_H_is_A_minus_T(loss, implementation):
    # A = (1, 0) exactly: H = (A − T)/N = (1, −1).
    *problem, _ = SATURATED[loss]
    _, trace = implementation.backprop(*problem)
    np.testing.assert_array_equal(trace.H[1], [[1.0], [-1.0]])


@pytest.mark.parametrize("implementation", NAMES)
@pytest.mark.parametrize("loss", list(SATURATED), ids=["2_21p", "2_21pp"])
def test_eq_2_21_prime_saturated_delta_L_is_infinite_where_T_is_not_0(loss, implementation):
    # CE: Δ = −T/(N A) with A = (1, 0), T = (0, 1): (0 by convention, −inf).
    # BCE: Δ = [(1 − T)/(1 − A) − T/A]/N with A = (1, 0): (+inf, −inf).
    *problem, _ = SATURATED[loss]
    _, trace = implementation.backprop(*problem)
    expected = {"cross_entropy": [[0.0], [-np.inf]], "binary_cross_entropy": [[np.inf], [-np.inf]]}
    np.testing.assert_array_equal(trace.Delta[1], expected[loss])


def _deep_saturated(loss: str, output: str, scale: float) -> tuple[Any, ...]:
    """L = 3, tanh/elu hidden, a classification output; weights scaled so |Z^(L)| ~ scale."""
    S_L = 3
    network = Network((3, 4, 4, S_L), ("tanh", "elu", output), loss=loss, weight_decay=0.01)
    rng = np.random.default_rng(11)
    params = tuple(
        Layer(rng.uniform(-1, 1, size=w) * (scale if l == 3 else 1.0), rng.uniform(-1, 1, size=b))
        for l, (w, b) in enumerate(network.param_shapes(), start=1)
    )
    X = rng.normal(size=(3, 6))
    if loss == "cross_entropy":
        T = np.eye(S_L)[:, rng.integers(0, S_L, size=6)]
    else:
        T = rng.choice([0.0, 0.3, 1.0], size=(S_L, 6))
    return network, params, X, T


SATURATED_CASES = [
    ("cross_entropy", "softmax", 1e3),
    ("cross_entropy", "softmax", 1e4),
    ("binary_cross_entropy", "sigmoid", 1e3),
    ("binary_cross_entropy", "sigmoid", 1e4),
]


@pytest.mark.parametrize("implementation", NAMES_BUT_VECTORIZED)
@pytest.mark.parametrize(("loss", "output", "scale"), SATURATED_CASES)
def test_eq_2_8_prime_saturated_gradients_finite_and_agree(loss, output, scale, implementation):
    problem = _deep_saturated(loss, output, scale)
    expected_loss, expected = vectorized.loss(*problem), vectorized.gradients(*problem)
    J, (grads, _) = implementation.loss(*problem), implementation.backprop(*problem)
    assert np.isfinite(J)
    assert all(np.isfinite(g).all() for layer in grads for g in layer)
    assert_gradients_close(
        expected,
        grads,
        expected_loss=expected_loss,
        actual_loss=J,
        names=("vectorized", implementation.name),
    )


@pytest.mark.parametrize("implementation", NAMES)
@pytest.mark.parametrize(
    ("loss", "output"), [("cross_entropy", "softmax"), ("binary_cross_entropy", "sigmoid")]
)
def test_eq_2_21_prime_saturated_delta_L_has_underflowed_outputs(loss, output, implementation):
    # The case does saturate: some Δ^(L) entries are infinite, and H^(L) is finite everywhere.
    _, trace = implementation.backprop(*_deep_saturated(loss, output, 1e4))
    assert np.isinf(trace.Delta[-1]).any()
    assert np.isfinite(trace.H[-1]).all()


@pytest.mark.parametrize("implementation", NAMES_BUT_VECTORIZED)
@pytest.mark.parametrize(("loss", "output", "scale"), SATURATED_CASES)
def test_eq_2_21_prime_saturated_delta_L_infinities_coincide(loss, output, scale, implementation):
    problem = _deep_saturated(loss, output, scale)
    _, expected = vectorized.backprop(*problem)
    _, actual = implementation.backprop(*problem)
    infinite = np.isinf(expected.Delta[-1])
    np.testing.assert_array_equal(actual.Delta[-1][infinite], expected.Delta[-1][infinite])
    # The finite entries −T/(N·A) have A = exp(Z − m)/Σ..., whose relative condition number
    # is |Z − m| <= 2·max|Z| ~ 4·scale: rounding of Z (summation order) is amplified by it.
    rtol = 4 * scale * 8 * np.finfo(np.float64).eps
    np.testing.assert_allclose(
        actual.Delta[-1][~infinite], expected.Delta[-1][~infinite], rtol=rtol, atol=0
    )


# Pairing (Network) and target domains (validate).


@pytest.mark.parametrize(
    ("loss", "output", "needed"),
    [
        ("cross_entropy", "sigmoid", "softmax"),
        ("cross_entropy", "identity", "softmax"),
        ("binary_cross_entropy", "softmax", "sigmoid"),
        ("binary_cross_entropy", "tanh", "sigmoid"),
    ],
)
def test_loss_with_unfit_output_activation_raises_at_construction(loss, output, needed):
    with pytest.raises(ValueError, match=rf"loss '{loss}' needs a {needed} output layer"):
        Network((2, 3, 2), ("tanh", output), loss=loss)


@pytest.mark.parametrize(
    "activations", [("softmax", "softmax"), ("softmax", "tanh"), ("tanh", "softmax")]
)
def test_squared_error_fits_softmax_anywhere(activations):
    assert Network((2, 3, 2), activations).activations == activations


def test_cross_entropy_allows_softmax_hidden_layers():
    network = Network((2, 3, 2), ("softmax", "softmax"), loss="cross_entropy")
    assert network.activations == ("softmax", "softmax")


def _validate(loss: str, T: np.ndarray) -> None:
    output = get_loss(loss).output_activation
    network = Network((1, T.shape[0]), (output,), loss=loss)
    params = (Layer(np.zeros((T.shape[0], 1)), np.zeros(T.shape[0])),)
    validate(network, params, np.zeros((1, T.shape[1])), T)


@pytest.mark.parametrize(
    ("T", "message"),
    [
        (np.array([[1.2, 0.0], [-0.2, 1.0]]), r"T\[1, 0\] = -0.2 is negative.*column 0"),
        (np.array([[1.0, 0.5], [0.0, 0.4]]), r"column 1 of T sums to 0\.9"),
        (np.array([[0.0, 1.0], [0.0, 0.0]]), r"column 0 of T sums to 0\.0"),
    ],
    ids=["negative-entry", "sum-below-1", "zero-column"],
)
def test_eq_2_16_prime_cross_entropy_targets_outside_domain_raise(T, message):
    with pytest.raises(ValueError, match=message):
        _validate("cross_entropy", T)


@pytest.mark.parametrize(
    "T",
    [np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[0.3, 0.5], [0.7, 0.5 + 1e-9]])],
    ids=["one-hot", "probabilities-within-tolerance"],
)
def test_eq_2_16_prime_cross_entropy_targets_in_domain_pass(T):
    _validate("cross_entropy", T)


@pytest.mark.parametrize(
    ("T", "message"),
    [
        (np.array([[0.5, 1.5]]), r"T\[0, 1\] = 1.5 is outside \[0, 1\]"),
        (np.array([[-0.1, 0.5]]), r"T\[0, 0\] = -0.1 is outside \[0, 1\]"),
    ],
)
def test_eq_2_16_pp_binary_cross_entropy_targets_outside_unit_interval_raise(T, message):
    with pytest.raises(ValueError, match=message):
        _validate("binary_cross_entropy", T)


@pytest.mark.parametrize(
    ("alias", "suggestion"),
    [
        ("bce", "binary_cross_entropy"),
        ("log_loss", "binary_cross_entropy"),
        ("nll", "cross_entropy"),
    ],
)
def test_loss_alias_suggests_the_registered_name(alias, suggestion):
    with pytest.raises(ValueError, match=rf"Use '{suggestion}'"):
        get_loss(alias)

"""Softmax, the non-elementwise activation (eqs 2.2', 2.13', 2.13''), and the stability of
the forward definitions at |z| up to 1e4."""

import importlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from crosscheck import reference
from crosscheck.ffnn import ACTIVATIONS, NUMPY, Layer, Network, get_activation, jax_namespace
from crosscheck.vectorized.jacobians import softmax_H

from helpers.implementations import implementation_params

SOFTMAX = get_activation("softmax")

_Z = arrays(
    np.float64,
    st.tuples(st.integers(1, 5), st.integers(1, 4)),
    elements=st.floats(-50.0, 50.0, allow_subnormal=False),
)


def test_softmax_is_marked_not_elementwise():
    assert [name for name, sigma in ACTIVATIONS.items() if not sigma.elementwise] == ["softmax"]


def test_softmax_sigma_prime_raises_pointing_to_the_jacobian():
    with pytest.raises(TypeError, match=r"softmax is not elementwise.*Activation.jacobian"):
        SOFTMAX.sigma_prime(np.zeros((2, 1)))


@given(_Z)
def test_softmax_columns_are_probability_vectors(Z):
    A = SOFTMAX.sigma(Z, NUMPY)
    assert (A >= 0).all()
    np.testing.assert_allclose(A.sum(axis=0), 1.0, rtol=0, atol=Z.shape[0] * 2.3e-16)


@pytest.mark.parametrize(
    ("Z", "expected"),
    [
        ([[1e4], [-1e4]], [[1.0], [0.0]]),
        ([[1e4], [1e4]], [[0.5], [0.5]]),
        ([[0.0], [0.0]], [[0.5], [0.5]]),
    ],
)
def test_softmax_without_overflow_at_1e4(Z, expected):
    np.testing.assert_array_equal(SOFTMAX.sigma(np.array(Z), NUMPY), expected)


def test_eq_2_2_prime_jacobian_hand_worked():
    # A = (½, ½): J_kk' = A_k (δ_kk' − A_k') = [[¼, −¼], [−¼, ¼]].
    J = SOFTMAX.jacobian(np.zeros((2, 1)))
    np.testing.assert_array_equal(J[:, :, 0], [[0.25, -0.25], [-0.25, 0.25]])


@pytest.mark.jax
@given(_Z)
def test_eq_2_2_prime_jacobian_equals_jax_jacobian_per_column(Z):
    # An independent derivative: jax.jacobian of the forward definition, column by column.
    jax = importlib.import_module("jax")
    xp = jax_namespace()
    with jax.enable_x64(True):
        expected = np.stack(
            [
                np.asarray(jax.jacobian(lambda z: SOFTMAX.sigma(z[:, None], xp)[:, 0])(Z[:, n]))
                for n in range(Z.shape[1])
            ],
            axis=-1,
        )
    # JAX's diagonal A(1 − A) cancels: absolute error up to a few eps (entries are <= ¼).
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(SOFTMAX.jacobian(Z), expected, rtol=1e-13, atol=4 * eps)


def test_eq_2_2_prime_jacobian_diagonal_is_accurate_when_saturated():
    # Z = (40, 0): A_1 = 1/(1 + e^40) ≈ 4.2e-18, A_0 = 1 − A_1; J_00 = A_0 (1 − A_0) = A_0 A_1,
    # which the cancelling form A_0 − A_0² computes as 0.
    A_1 = 1.0 / (1.0 + np.exp(40.0))
    J = SOFTMAX.jacobian(np.array([[40.0], [0.0]]))
    np.testing.assert_allclose(J[:, :, 0], [[A_1, -A_1], [-A_1, A_1]], rtol=4e-16)


@pytest.mark.parametrize("name", sorted(n for n, s in ACTIVATIONS.items() if s.elementwise))
def test_eq_2_2_elementwise_jacobian_is_diagonal_of_sigma_prime(name):
    Z = np.array([[-1.5, 0.5], [2.0, -0.25], [0.75, 3.0]])
    sigma = ACTIVATIONS[name]
    expected = np.einsum("kl,kn->kln", np.eye(3), sigma.sigma_prime(Z))
    np.testing.assert_array_equal(sigma.jacobian(Z), expected)


@given(_Z, st.data())
def test_eq_2_13_pp_closed_form_equals_jacobian_contraction_2_13_prime(Z, data):
    elements = st.floats(-3.0, 3.0, allow_subnormal=False)
    Delta = data.draw(arrays(np.float64, Z.shape, elements=elements))
    A = SOFTMAX.sigma(Z, NUMPY)
    expected = np.einsum("kln,kn->ln", SOFTMAX.jacobian(Z), Delta)  # Σ_k J_kk'(n) Δ_kn
    # Rounding bound of the closed form, entry by entry: a few u times the magnitude of its
    # terms, A_k'n (|Δ_k'n| + Σ_k A_kn |Δ_kn|) (which need not be small where H is 0), plus
    # the absolute error of products that underflow (below the smallest normal, per term).
    magnitude = A * (np.abs(Delta) + (A * np.abs(Delta)).sum(axis=0, keepdims=True))
    S, info = Z.shape[0], np.finfo(np.float64)
    bound = 8 * S * info.eps * magnitude + 4 * S * info.smallest_normal
    assert (np.abs(softmax_H(A, Delta) - expected) <= bound).all()


# Hand-worked softmax hidden layer: sizes (2, 2, 1), σ = (softmax, identity), squared error.
# W^(1) = 0, b^(1) = 0: A^(1) = (½, ½); W^(2) = (1, −1), b^(2) = 0: A^(2) = 0; T = 1, N = 1.
# Δ^(2) = −1 = H^(2); Δ^(1) = W^(2)ᵗ H^(2) = (−1, 1);
# H^(1) = A ⊙ (Δ − Σ_k A_k Δ_k) = ½ (−1, 1) (eq 2.13''); ∂J/∂W^(1) = H^(1) Xᵗ, X = (1, 2).
HIDDEN_SOFTMAX = (
    Network((2, 2, 1), ("softmax", "identity")),
    (
        Layer(np.zeros((2, 2)), np.zeros(2)),
        Layer(np.array([[1.0, -1.0]]), np.zeros(1)),
    ),
    np.array([[1.0], [2.0]]),
    np.array([[1.0]]),
)
HIDDEN_SOFTMAX_GRADS = (
    (np.array([[-0.5, -1.0], [0.5, 1.0]]), np.array([-0.5, 0.5])),
    (np.array([[-0.5, -0.5]]), np.array([-1.0])),
)


@pytest.mark.parametrize("implementation", implementation_params())
def test_eq_2_13_prime_hidden_softmax_H_hand_worked(implementation):
    _, trace = implementation.backprop(*HIDDEN_SOFTMAX)
    np.testing.assert_array_equal(trace.H[1], [[-0.5], [0.5]])


@pytest.mark.parametrize("implementation", implementation_params())
@pytest.mark.parametrize("l", [1, 2])
def test_eq_2_13_prime_2_32_hidden_softmax_gradients_hand_worked(implementation, l):
    grads, _ = implementation.backprop(*HIDDEN_SOFTMAX)
    np.testing.assert_array_equal(grads[l - 1].W, HIDDEN_SOFTMAX_GRADS[l - 1][0])
    np.testing.assert_array_equal(grads[l - 1].b, HIDDEN_SOFTMAX_GRADS[l - 1][1])


@pytest.mark.parametrize("form", ["literal", "contracted"])
@pytest.mark.parametrize(("layer", "name", "index"), [(1, "W", (1, 0)), (1, "b", (0,))])
def test_eq_2_13_prime_gradient_entry_through_softmax_matches_gradients(form, layer, name, index):
    network = Network((2, 3, 3, 2), ("softmax", "softmax", "tanh"))
    rng = np.random.default_rng(2)
    params = tuple(Layer(rng.normal(size=w), rng.normal(size=b)) for w, b in network.param_shapes())
    X, T = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    full = getattr(reference.gradients(network, params, X, T, form=form)[layer - 1], name)
    entry = reference.gradient_entry(
        network, params, X, T, layer=layer, name=name, index=index, form=form
    )
    assert entry == full[index]


# Stability of the other forward definitions at |z| up to 1e4 (no overflow, no warning).


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sigmoid", [1.0, 0.0, 0.5]),
        ("softplus", [1e4, 0.0, np.log(2.0)]),
        ("tanh", [1.0, -1.0, 0.0]),
        ("elu", [1e4, -1.0, 0.0]),
        ("gelu", [1e4, 0.0, 0.0]),
    ],
)
def test_sigma_at_plus_minus_1e4_is_finite_and_exact(name, expected):
    Z = np.array([[1e4, -1e4, 0.0]])
    np.testing.assert_array_equal(ACTIVATIONS[name].sigma(Z, NUMPY), [expected])


@pytest.mark.parametrize("name", sorted(n for n, s in ACTIVATIONS.items() if s.elementwise))
def test_sigma_prime_at_plus_minus_1e4_is_finite(name):
    Z = np.array([[1e4, -1e4, 1e3, -1e3]])
    assert np.isfinite(ACTIVATIONS[name].sigma_prime(Z)).all()

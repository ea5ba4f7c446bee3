"""The index-level reference: a hand-worked example, literal vs contracted, single entries.

Equation numbers are the seed's (general-ffnn-backprop.md); eq 2.38 is the reference's
extension of eq 2.32 to every layer (Δ^(l-1) = (W^(l))ᵗ H^(l), l = L..1).
"""

from fractions import Fraction
from functools import cache

import hypothesis.extra.numpy as hnp
import numdifftools as nd
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crosscheck import reference
from crosscheck.compare.witness import flatten, unflatten
from crosscheck.ffnn import ACTIVATIONS, Layer, Network, init_params

FORMS = ("literal", "contracted")
F = Fraction  # short, for the arithmetic written out below

# ---------------------------------------------------------------------------------------
# The hand-worked example: sizes (2, 2, 1), ReLU hidden layer, identity output, N = 2.
# Every value is a dyadic rational, so float64 holds each intermediate exactly and the
# reference must reproduce the Fractions below bit for bit.
# ---------------------------------------------------------------------------------------
HAND_NETWORK = Network((2, 2, 1), ("relu", "identity"))
X_HAND = [[F(1), F(2)], [F(-1), F(1)]]  # columns x_1 = (1, −1), x_2 = (2, 1)
W1 = [[F(1), F(1, 2)], [F(-1), F(2)]]
b1 = [F(1, 2), F(5, 4)]
W2 = [[F(2), F(-1)]]
b2 = [F(1, 2)]
T_HAND = [[F(2), F(5)]]
N_HAND = 2

# eq 1.4 / 2.3: Z^(1)_kn = W^(1)_k0 X_0n + W^(1)_k1 X_1n + b^(1)_k
Z1 = [
    [1 * 1 + F(1, 2) * (-1) + F(1, 2), 1 * 2 + F(1, 2) * 1 + F(1, 2)],  # [1, 3]
    [(-1) * 1 + 2 * (-1) + F(5, 4), (-1) * 2 + 2 * 1 + F(5, 4)],  # [−7/4, 5/4]
]
A1 = [[F(1), F(3)], [F(0), F(5, 4)]]  # ReLU: max(Z, 0)
# Z^(2)_0n = W^(2)_00 A^(1)_0n + W^(2)_01 A^(1)_1n + b^(2)_0
Z2 = [[2 * 1 + (-1) * 0 + F(1, 2), 2 * 3 + (-1) * F(5, 4) + F(1, 2)]]  # [5/2, 21/4]
A2 = Z2  # identity
# eq 2.17: J = 1/(2N) Σ_m (A^(2)_0m − T_0m)² = 1/4 · (1/4 + 1/16) = 5/64
J_HAND = F(1, 2 * N_HAND) * ((F(5, 2) - 2) ** 2 + (F(21, 4) - 5) ** 2)
# eq 2.20: Δ^(2)_0n = (A^(2)_0n − T_0n)/N
DELTA2 = [[(F(5, 2) - 2) / 2, (F(21, 4) - 5) / 2]]  # [1/4, 1/8]
H2 = [[DELTA2[0][0] * 1, DELTA2[0][1] * 1]]  # eq 2.13, identity': 1
# eq 2.5: ∂J/∂W^(2)_0j = Σ_n H^(2)_0n A^(1)_jn;  eq 2.10: ∂J/∂b^(2)_0 = Σ_n H^(2)_0n
DW2 = [[F(1, 4) * 1 + F(1, 8) * 3, F(1, 4) * 0 + F(1, 8) * F(5, 4)]]  # [5/8, 5/32]
DB2 = [F(1, 4) + F(1, 8)]  # [3/8]
# eq 2.32: Δ^(1)_in = Σ_k W^(2)_ki H^(2)_kn (one k)
DELTA1 = [[2 * F(1, 4), 2 * F(1, 8)], [(-1) * F(1, 4), (-1) * F(1, 8)]]
# eq 2.34: H^(1) = Δ^(1) ⊙ σ'_1(Z^(1)), ReLU' = 1 where Z^(1) > 0, else 0
H1 = [[F(1, 2) * 1, F(1, 4) * 1], [F(-1, 4) * 0, F(-1, 8) * 1]]  # [[1/2, 1/4], [0, −1/8]]
# eq 2.33: ∂J/∂W^(1)_ij = Σ_n H^(1)_in X_jn;  eq 2.36: ∂J/∂b^(1)_i = Σ_n H^(1)_in
DW1 = [
    [F(1, 2) * 1 + F(1, 4) * 2, F(1, 2) * (-1) + F(1, 4) * 1],  # [1, −1/4]
    [0 * 1 + F(-1, 8) * 2, 0 * (-1) + F(-1, 8) * 1],  # [−1/4, −1/8]
]
DB1 = [F(1, 2) + F(1, 4), 0 + F(-1, 8)]  # [3/4, −1/8]
# eq 2.38 at l = 1: Δ^(0)_kn = Σ_i W^(1)_ik H^(1)_in = ∂J/∂X
DELTA0 = [
    [1 * F(1, 2) + (-1) * 0, 1 * F(1, 4) + (-1) * F(-1, 8)],  # [1/2, 3/8]
    [F(1, 2) * F(1, 2) + 2 * 0, F(1, 2) * F(1, 4) + 2 * F(-1, 8)],  # [1/4, −1/8]
]

EXPECTED = {
    "Z": (None, Z1, Z2),
    "A": (X_HAND, A1, A2),
    "Delta": (DELTA0, DELTA1, DELTA2),
    "H": (None, H1, H2),
}
EXPECTED_GRADS = ((DW1, DB1), (DW2, DB2))


def as_float64(values) -> np.ndarray:
    """Fractions (nested lists) as float64, checking each one is exactly representable."""
    array = np.array(values, dtype=object)
    floats = np.array([float(v) for v in array.ravel()]).reshape(array.shape)
    assert all(F(x) == v for x, v in zip(floats.ravel(), array.ravel(), strict=True))
    return floats


def hand_problem(weight_decay: float = 0.0):
    network = Network((2, 2, 1), ("relu", "identity"), weight_decay=weight_decay)
    params = (Layer(as_float64(W1), as_float64(b1)), Layer(as_float64(W2), as_float64(b2)))
    return network, params, as_float64(X_HAND), as_float64(T_HAND)


@cache
def hand_backprop(form: str):
    return reference.backprop(*hand_problem(), form=form)


def assert_exact(actual: np.ndarray, expected) -> None:
    assert actual.dtype == np.float64
    np.testing.assert_array_equal(actual, as_float64(expected), strict=True)


def test_eq_2_17_loss_hand_worked():
    assert reference.loss(*hand_problem()) == J_HAND == F(5, 64)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("l", [1, 2])
def test_eq_1_4_Z_hand_worked(form, l):
    assert_exact(hand_backprop(form)[1].Z[l], EXPECTED["Z"][l])


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("l", [0, 1, 2])
def test_eq_1_4_A_hand_worked(form, l):
    assert_exact(hand_backprop(form)[1].A[l], EXPECTED["A"][l])


@pytest.mark.parametrize("form", FORMS)
def test_eq_2_20_delta_L_hand_worked(form):
    assert_exact(hand_backprop(form)[1].Delta[2], DELTA2)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("l", [0, 1], ids=["eq_2_38_delta_0_is_dJ_dX", "eq_2_32_delta_L-1"])
def test_eq_2_32_2_38_delta_below_output_hand_worked(form, l):
    assert_exact(hand_backprop(form)[1].Delta[l], EXPECTED["Delta"][l])


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("l", [1, 2], ids=["eq_2_34", "eq_2_13"])
def test_eq_2_13_2_34_H_hand_worked(form, l):
    assert_exact(hand_backprop(form)[1].H[l], EXPECTED["H"][l])


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("l", [1, 2], ids=["eq_2_26_2_27", "eq_2_5"])
def test_eq_2_5_2_27_dW_hand_worked(form, l):
    assert_exact(hand_backprop(form)[0][l - 1].W, EXPECTED_GRADS[l - 1][0])


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("l", [1, 2], ids=["eq_2_36", "eq_2_10"])
def test_eq_2_10_2_36_db_hand_worked(form, l):
    assert_exact(hand_backprop(form)[0][l - 1].b, EXPECTED_GRADS[l - 1][1])


HAND_ENTRIES = [
    pytest.param(l, name, index, id=f"{name}{l}{index}")
    for l, (dW, db) in enumerate(EXPECTED_GRADS, start=1)
    for name, index in [("W", (i, j)) for i in range(len(dW)) for j in range(len(dW[0]))]
    + [("b", (i,)) for i in range(len(db))]
]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("l", "name", "index"), HAND_ENTRIES)
def test_eq_2_5_2_10_2_27_2_36_gradient_entry_hand_worked(form, l, name, index):
    dW, db = EXPECTED_GRADS[l - 1]
    expected = dW[index[0]][index[1]] if name == "W" else db[index[0]]
    value = reference.gradient_entry(*hand_problem(), layer=l, name=name, index=index, form=form)
    assert value == expected


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("l", [1, 2])
@pytest.mark.parametrize("name", ["W", "b"])
def test_gradients_equal_backprop_grads_hand_worked(form, l, name):
    grads = reference.gradients(*hand_problem(), form=form)
    assert_exact(getattr(grads[l - 1], name), EXPECTED_GRADS[l - 1][("W", "b").index(name)])


# ---------------------------------------------------------------------------------------
# Weight decay (extension): J gains (λ/2) Σ W², ∂J/∂W gains λ W, ∂J/∂b is unchanged.
# λ = 1/2 keeps every value dyadic, so the sums are exact.
# ---------------------------------------------------------------------------------------
LAMBDA = F(1, 2)


def test_weight_decay_loss_adds_half_lambda_sum_of_squared_weights():
    sum_W_squared = sum(w**2 for W in (W1, W2) for row in W for w in row)  # 45/4
    assert reference.loss(*hand_problem(float(LAMBDA))) == J_HAND + LAMBDA / 2 * sum_W_squared


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("l", [1, 2])
def test_weight_decay_adds_lambda_W_to_dW(form, l):
    grads = reference.gradients(*hand_problem(float(LAMBDA)), form=form)
    dW, W = EXPECTED_GRADS[l - 1][0], (W1, W2)[l - 1]
    expected = [
        [g + LAMBDA * w for g, w in zip(dW_i, W_i, strict=True)]
        for dW_i, W_i in zip(dW, W, strict=True)
    ]
    assert_exact(grads[l - 1].W, expected)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("l", [1, 2])
def test_weight_decay_leaves_db_unchanged(form, l):
    grads = reference.gradients(*hand_problem(float(LAMBDA)), form=form)
    assert_exact(grads[l - 1].b, EXPECTED_GRADS[l - 1][1])


# ---------------------------------------------------------------------------------------
# ReLU'(0) = 0: a hidden unit whose Z is exactly 0 on every sample gets zero gradient,
# although Δ reaches it.
# ---------------------------------------------------------------------------------------
def kink_problem():
    network = Network((2, 2, 1), ("relu", "identity"))
    W_1 = np.array([[1.0, -1.0], [1.0, 1.0]])  # unit 0: Z_0n = X_0n − X_1n = 0
    X = np.array([[1.0, 2.0], [1.0, 2.0]])
    params = (Layer(W_1, np.zeros(2)), Layer(np.array([[1.0, 1.0]]), np.zeros(1)))
    return network, params, X, np.zeros((1, 2))


@pytest.mark.parametrize("form", FORMS)
def test_relu_prime_zero_at_kink_gives_zero_gradient(form):
    grads, trace = reference.backprop(*kink_problem(), form=form)
    assert np.all(trace.Z[1][0] == 0.0)
    assert np.all(trace.Delta[1][0] != 0.0)
    assert np.all(trace.H[1][0] == 0.0)
    np.testing.assert_array_equal(grads[0].W[0], [0.0, 0.0])
    assert grads[0].b[0] == 0.0


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("name", "index"), [("W", (0, 0)), ("W", (0, 1)), ("b", (0,))])
def test_relu_prime_zero_at_kink_gives_zero_gradient_entry(form, name, index):
    value = reference.gradient_entry(*kink_problem(), layer=1, name=name, index=index, form=form)
    assert value == 0.0


# ---------------------------------------------------------------------------------------
# Literal and contracted forms: the literal sums differ only by terms that a Kronecker
# delta makes exactly zero, and adding an exact zero is exact, so with the nonzero terms
# in the same order the two forms agree bit for bit (eq 2.19's 2(A−T)/(2N) rounds as
# (A−T)/N). A local strategy of small problems; elements bounded so nothing overflows.
# ---------------------------------------------------------------------------------------
ELEMENTS = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


EVERY = tuple(sorted(ACTIVATIONS))
ELEMENTWISE = tuple(sorted(name for name, sigma in ACTIVATIONS.items() if sigma.elementwise))
"""Softmax is left out of the bit-for-bit checks: the literal form writes its derivative as
A_kn (δ_kk' − A_k'n) δ_nn' (eq 2.2'), while ffnn's Jacobian, which the contracted form uses,
sums 1 − A_kn = Σ_{k'≠k} A_k'n without cancellation — equal values, different rounding."""


@st.composite
def small_problems(draw, *, max_L: int = 3, max_width: int = 3, max_N: int = 3, activations=EVERY):
    """(network, params, X, T): L in 1..max_L, widths in 1..max_width, N in 1..max_N."""
    L = draw(st.integers(1, max_L))
    sizes = tuple(draw(st.lists(st.integers(1, max_width), min_size=L + 1, max_size=L + 1)))
    activations = draw(st.lists(st.sampled_from(activations), min_size=L, max_size=L))
    weight_decay = draw(st.sampled_from([0.0, 0.5]) | st.floats(0.0, 1.0))
    network = Network(sizes, tuple(activations), weight_decay=weight_decay)
    N = draw(st.integers(1, max_N))
    params = tuple(
        Layer(
            draw(hnp.arrays(np.float64, W_shape, elements=ELEMENTS)),
            draw(hnp.arrays(np.float64, b_shape, elements=ELEMENTS)),
        )
        for W_shape, b_shape in network.param_shapes()
    )
    X = draw(hnp.arrays(np.float64, (sizes[0], N), elements=ELEMENTS))
    T = draw(hnp.arrays(np.float64, (sizes[-1], N), elements=ELEMENTS))
    return network, params, X, T


@given(small_problems(activations=ELEMENTWISE))
def test_eq_2_5_2_10_2_27_2_36_literal_equals_contracted_gradients(problem):
    literal = reference.gradients(*problem, form="literal")
    contracted = reference.gradients(*problem, form="contracted")
    for lit, con in zip(literal, contracted, strict=True):
        np.testing.assert_array_equal(lit.W, con.W, strict=True)
        np.testing.assert_array_equal(lit.b, con.b, strict=True)


@pytest.mark.parametrize(
    "quantity", ["Z", "A", "Delta", "H"], ids=["eq_1_4_Z", "eq_1_4_A", "eq_2_38_Delta", "eq_2_34_H"]
)
@given(problem=small_problems(activations=ELEMENTWISE))
def test_literal_equals_contracted_trace(quantity, problem):
    literal = getattr(reference.backprop(*problem, form="literal")[1], quantity)
    contracted = getattr(reference.backprop(*problem, form="contracted")[1], quantity)
    for lit, con in zip(literal, contracted, strict=True):
        if lit is None:
            assert con is None
        else:
            np.testing.assert_array_equal(lit, con, strict=True)


@given(small_problems(activations=("softmax", "tanh", "relu")))
def test_eq_2_2_prime_2_13_prime_literal_matches_contracted_through_softmax(problem):
    # Same sums, rounding apart only in the Jacobian's diagonal (see ELEMENTWISE): each
    # entry within 64 u of the largest gradient entry of its array (or of 1).
    literal = reference.gradients(*problem, form="literal")
    contracted = reference.gradients(*problem, form="contracted")
    eps = np.finfo(np.float64).eps
    for lit, con in zip(literal, contracted, strict=True):
        for a, e in ((lit.W, con.W), (lit.b, con.b)):
            np.testing.assert_allclose(a, e, rtol=0, atol=64 * eps * max(1.0, np.abs(e).max()))


# ---------------------------------------------------------------------------------------
# Central differences of `loss` (numdifftools, Richardson-extrapolated; no derivative code
# shared) agree with `gradients` on smooth networks: checks loss and gradients together.
# On these O(1) problems the differences are accurate to ~1e-13; a wrong entry is off by
# far more than the 1e-9 allowed.
# ---------------------------------------------------------------------------------------
SMOOTH_NETWORKS = [
    Network((2, 3, 2, 1), ("tanh", "softplus", "sigmoid"), weight_decay=0.1),
    Network((3, 2, 2), ("gelu", "identity")),
    Network((1, 2, 1, 2), ("sigmoid", "tanh", "identity"), weight_decay=0.5),
]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("network", SMOOTH_NETWORKS, ids=lambda n: str(n.sizes))
def test_eq_2_17_gradients_match_central_differences_of_loss(form, network):
    rng = np.random.default_rng(7)
    params = init_params(network, seed=3)
    X = rng.normal(size=(network.sizes[0], 4))
    T = rng.normal(size=(network.sizes[-1], 4))
    numeric = nd.Gradient(lambda v: reference.loss(network, unflatten(network, v), X, T))(
        flatten(params)
    )
    analytic = flatten(reference.gradients(network, params, X, T, form=form))
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=1e-9)


# ---------------------------------------------------------------------------------------
# gradient_entry: each entry on its own equals the same entry of `gradients`, bit for bit.
# ---------------------------------------------------------------------------------------
def fixed_problem(sizes, activations, weight_decay, N, seed):
    network = Network(sizes, activations, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    params = init_params(network, seed=seed)
    return network, params, rng.normal(size=(sizes[0], N)), rng.normal(size=(sizes[-1], N))


FIXED_PROBLEMS = {
    "2-3-2_tanh_sigmoid": fixed_problem((2, 3, 2), ("tanh", "sigmoid"), 0.0, 3, 0),
    "3-2-2-1_relu_elu_identity_decay": fixed_problem(
        (3, 2, 2, 1), ("relu", "elu", "identity"), 0.25, 4, 1
    ),
    "1-1_softplus": fixed_problem((1, 1), ("softplus",), 0.0, 2, 2),
}


def all_entries(network: Network):
    for l, ((rows, cols), _) in enumerate(network.param_shapes(), start=1):
        for i in range(rows):
            yield l, "b", (i,)
            for j in range(cols):
                yield l, "W", (i, j)


ENTRY_CASES = [
    pytest.param(key, l, name, index, id=f"{key}-{name}{l}{index}")
    for key, (network, *_) in FIXED_PROBLEMS.items()
    for l, name, index in all_entries(network)
]


@cache
def fixed_gradients(key: str, form: str):
    return reference.gradients(*FIXED_PROBLEMS[key], form=form)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("key", "l", "name", "index"), ENTRY_CASES)
def test_gradient_entry_equals_gradients(form, key, l, name, index):
    value = reference.gradient_entry(
        *FIXED_PROBLEMS[key], layer=l, name=name, index=index, form=form
    )
    assert type(value) is float
    assert value == getattr(fixed_gradients(key, form)[l - 1], name)[index]


@st.composite
def problems_and_entries(draw):
    network, params, X, T = draw(small_problems())
    l = draw(st.integers(1, network.L))
    name = draw(st.sampled_from(["W", "b"]))
    shape = params[l - 1].W.shape if name == "W" else params[l - 1].b.shape
    index = tuple(draw(st.integers(0, size - 1)) for size in shape)
    return (network, params, X, T), l, name, index


@pytest.mark.parametrize("form", FORMS)
@given(case=problems_and_entries())
def test_gradient_entry_equals_gradients_on_random_problems(form, case):
    problem, l, name, index = case
    value = reference.gradient_entry(*problem, layer=l, name=name, index=index, form=form)
    assert value == getattr(reference.gradients(*problem, form=form)[l - 1], name)[index]

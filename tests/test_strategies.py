"""Tests of crosscheck.strategies: bounds, validation, and the cases they must reach.

``hypothesis.find`` returns the *minimal* example satisfying a condition, so each find test
shows both that a case is reachable and what the strategy shrinks to.
"""

import math
import random

import numpy as np
import pytest
from hypothesis import find, given

from crosscheck.ffnn import ACTIVATIONS, LOSSES, NUMPY, Network, get_activation, validate
from crosscheck.strategies import (
    LARGE_WEIGHT_RANGE,
    MAX_LARGE_WEIGHTS,
    MAX_WEIGHT_DECAY,
    Problem,
    _probability_columns,
    networks,
    problems,
)

MAX_MAGNITUDE = 4.0  # the stated default of problems(max_magnitude=...)


def _small_problems(**network_kwargs):
    """problems() on L = 1, S_l <= 3, N <= 3, so that find's shrinking stays fast."""
    network_kwargs = {"max_layers": 1, "max_width": 3, **network_kwargs}
    return problems(networks=networks(**network_kwargs), max_samples=3)


def _find(strategy, condition):
    return find(strategy, condition, random=random.Random(0))


def _pre_activations(problem: Problem) -> list[np.ndarray]:
    """Z^(1), ..., Z^(L) of eq 1.4, in float64."""
    network, params, X, _ = problem
    A, Z = X.astype(np.float64), []
    for l, (W, b) in enumerate(params, start=1):
        Z.append(W @ A + b[:, None])
        A = network.sigma(l).sigma(Z[-1], NUMPY)
    return Z


def _min_sigma_prime(problem: Problem) -> float:
    """min |σ'(Z^(l))| over every layer (GELU's σ' is negative below z ≈ -0.75)."""
    network = problem.network
    Z = _pre_activations(problem)
    return min(
        float(np.abs(network.sigma(l).sigma_prime(Z[l - 1])).min()) for l in range(1, network.L + 1)
    )


# --- what they shrink to and reach ---------------------------------------------------------


def test_networks_shrink_to_L_1_and_S_1() -> None:
    assert _find(networks(), lambda n: True) == Network((1, 1), ("identity",))


def test_problems_shrink_to_N_1_and_zeros() -> None:
    problem = _find(problems(), lambda p: True)
    assert problem.X.shape == (1, 1)
    assert all(not W.any() and not b.any() for W, b in problem.params)
    assert not problem.X.any() and not problem.T.any()


def test_reaches_hidden_width_1_between_wider_layers() -> None:
    network = _find(
        networks(), lambda n: n.L >= 2 and min(n.sizes[0], n.sizes[-1]) >= 2 and 1 in n.sizes
    )
    assert network.sizes == (2, 1, 2)


def test_reaches_square_W() -> None:
    network = _find(
        networks(), lambda n: any(n.sizes[l] == n.sizes[l - 1] >= 3 for l in range(1, n.L + 1))
    )
    assert network.sizes == (3, 3)


def test_reaches_N_equal_to_a_width() -> None:
    problem = _find(problems(), lambda p: p.X.shape[1] >= 3 and p.X.shape[1] in p.network.sizes)
    assert problem.X.shape[1] == 3
    assert 3 in problem.network.sizes


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_reaches_every_activation(activation: str) -> None:
    network = _find(networks(), lambda n: activation in n.activations)
    assert network.activations == (activation,)


def test_reaches_exact_zeros_beside_nonzeros_in_W_and_X() -> None:
    def mixed(a: np.ndarray) -> bool:
        return bool((a == 0).any() and (a != 0).any())

    problem = _find(_small_problems(), lambda p: mixed(p.X) and mixed(p.params[0].W))
    assert mixed(problem.X) and mixed(problem.params[0].W)


def test_reaches_Z_exactly_0_at_relu_kink_beside_nonzero_Z() -> None:
    # eq 1.4 with zeros in W^(1) and b^(1): Z^(1) = W X + b is exactly 0 in one entry, not all.
    def kink(p: Problem) -> bool:
        Z = _pre_activations(p)[0]
        return bool(p.X.all() and (Z == 0).any() and Z.any())

    problem = _find(_small_problems(activations=("relu",)), kink)
    Z = _pre_activations(problem)[0]
    assert (Z == 0).any() and Z.any()


def test_reaches_large_weights() -> None:
    problem = _find(
        _small_problems(), lambda p: bool((np.abs(p.params[0].W) > MAX_MAGNITUDE).any())
    )
    large = np.abs(problem.params[0].W)[np.abs(problem.params[0].W) > MAX_MAGNITUDE]
    assert large.size == 1
    assert (
        LARGE_WEIGHT_RANGE[0] * MAX_MAGNITUDE <= large[0] <= LARGE_WEIGHT_RANGE[1] * MAX_MAGNITUDE
    )


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softplus", "elu", "gelu"])
def test_reaches_saturated_unit_through_one_input(activation: str) -> None:
    # One input: |Z| <= 4·4 + 4 = 20 with ordinary weights; |σ'| below both 1e-12 and its
    # value at Z = ±20 (tanh: 1.7e-17, GELU: 1e-86) needs a large one.
    at_20 = np.abs(get_activation(activation).sigma_prime(np.array([-20.0, 20.0]))).min()
    threshold = min(1e-12, float(at_20))
    strategy = problems(
        networks=networks(max_layers=1, max_width=1, activations=(activation,)), max_samples=1
    )
    problem = _find(strategy, lambda p: _min_sigma_prime(p) < threshold)
    assert _min_sigma_prime(problem) < threshold
    assert any((np.abs(W) > MAX_MAGNITUDE).any() for W, _ in problem.params)


def test_weight_decay_true_reaches_positive_lambda() -> None:
    network = _find(networks(weight_decay=True), lambda n: n.weight_decay > 0)
    assert 0 < network.weight_decay <= MAX_WEIGHT_DECAY


@pytest.mark.parametrize("width", [1, 3])
def test_cross_entropy_targets_shrink_to_one_hot(width: int) -> None:
    strategy = _small_problems(losses=("cross_entropy",), min_width=width, max_width=width)
    problem = _find(strategy, lambda p: True)
    assert np.array_equal(problem.T, np.eye(width)[:, :1])


def test_reaches_soft_cross_entropy_targets() -> None:
    strategy = _small_problems(losses=("cross_entropy",), min_width=2, max_width=2)
    problem = _find(strategy, lambda p: bool(((p.T > 0) & (p.T < 1)).any()))
    np.testing.assert_allclose(problem.T.sum(axis=0), 1.0, rtol=0, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_targets_scaled_below_tiny_become_zero(dtype) -> None:
    # Found by review: a normal weight 6·tiny in a column summing to ~8 was scaled to a
    # subnormal 0.75·tiny; entries stay normal or 0, and the column still sums to 1.
    tiny = np.finfo(dtype).tiny
    columns = _probability_columns(np.array([[6 * tiny], [4.0], [4.0]], dtype))
    assert columns.ravel().tolist() == [0.0, 0.5, 0.5]


# --- bounds that hold for every draw -------------------------------------------------------


@given(network=networks(min_layers=2, max_layers=3, min_width=2, max_width=5))
def test_networks_respect_depth_and_width_bounds(network: Network) -> None:
    assert 2 <= network.L <= 3
    assert all(2 <= S <= 5 for S in network.sizes)


@given(network=networks(activations=("tanh", "relu"), weight_decay=False))
def test_networks_draw_only_given_activations_and_no_decay(network: Network) -> None:
    assert set(network.activations) <= {"tanh", "relu"}
    assert network.weight_decay == 0.0


@given(problem=problems())
def test_problems_pass_ffnn_validate(problem: Problem) -> None:
    _, X, T = validate(*problem)
    assert X is problem.X and T is problem.T


@given(network=networks(losses=tuple(LOSSES), activations=("tanh",)))
def test_classification_losses_get_their_output_activation(network: Network) -> None:
    required = LOSSES[network.loss].output_activation
    assert network.activations[:-1] == ("tanh",) * (network.L - 1)
    assert network.activations[-1] == (required or "tanh")


@given(problem=problems(networks=networks(losses=tuple(LOSSES))))
def test_problems_targets_lie_in_the_loss_domain(problem: Problem) -> None:
    validate(*problem)  # raises for targets outside the domain (crosscheck.ffnn.targets)
    if problem.network.loss != "squared_error":
        assert problem.T.min() >= 0.0 and problem.T.max() <= 1.0


@given(problem=problems())
def test_problems_elements_are_finite_and_bounded(problem: Problem) -> None:
    assert np.abs(problem.X).max() <= MAX_MAGNITUDE
    assert np.abs(problem.T).max() <= MAX_MAGNITUDE
    for W, b in problem.params:
        assert np.abs(b).max() <= MAX_MAGNITUDE
        assert np.abs(W).max() <= LARGE_WEIGHT_RANGE[1] * MAX_MAGNITUDE


@given(problem=problems())
def test_problems_draw_at_most_two_large_weights_per_layer(problem: Problem) -> None:
    for W, _ in problem.params:
        assert np.count_nonzero(np.abs(W) > MAX_MAGNITUDE) <= MAX_LARGE_WEIGHTS


@given(problem=problems())
def test_problems_arrays_are_read_only(problem: Problem) -> None:
    arrays = [problem.X, problem.T, *(a for layer in problem.params for a in layer)]
    assert not any(a.flags.writeable for a in arrays)


@given(problem=problems(min_samples=3, max_samples=5))
def test_problems_respect_sample_bounds(problem: Problem) -> None:
    assert 3 <= problem.X.shape[1] <= 5


@given(
    problem=problems(networks=networks(min_layers=4, min_width=6, max_width=6), max_products=300)
)
def test_problems_cap_products_per_pass(problem: Problem) -> None:
    # Σ_l S_l·S_{l-1} = 4·36 = 144, so N <= 300 // 144 = 2.
    assert problem.X.shape[1] <= 2


@given(problem=problems(dtype=np.float32, max_magnitude=0.1))
def test_problems_float32_with_inexact_bound(problem: Problem) -> None:
    arrays = [problem.X, problem.T, *(a for layer in problem.params for a in layer)]
    assert all(a.dtype == np.float32 for a in arrays)
    assert np.abs(problem.X).max() <= 0.1


# --- argument validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"min_width": 0}, ValueError, "min_width", id="min_width=0"),
        pytest.param({"max_width": -1}, ValueError, "max_width", id="max_width=-1"),
        pytest.param(
            {"min_layers": 3, "max_layers": 2},
            ValueError,
            "min_layers = 3 exceeds max_layers",
            id="min_layers=3,max_layers=2",
        ),
        pytest.param({"min_layers": 1.5}, TypeError, "min_layers", id="min_layers=1.5"),
        pytest.param(
            {"activations": ("tanh", "swish")},
            ValueError,
            "activations.*'swish'.*identity",
            id="activations=(tanh,swish)",
        ),
        pytest.param({"activations": ()}, ValueError, "activations", id="activations=()"),
        pytest.param({"activations": "tanh"}, TypeError, "activations", id="activations=tanh"),
        pytest.param(
            {"losses": ("mse",)}, ValueError, "losses.*'mse'.*squared_error", id="losses=(mse,)"
        ),
        pytest.param({"weight_decay": 0.5}, TypeError, "weight_decay", id="weight_decay=0.5"),
    ],
)
def test_networks_reject_bad_argument_by_name(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        networks(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"min_samples": 0}, ValueError, "min_samples", id="min_samples=0"),
        pytest.param(
            {"min_samples": 5, "max_samples": 4},
            ValueError,
            "min_samples = 5 exceeds",
            id="min_samples=5,max_samples=4",
        ),
        pytest.param({"max_products": 0}, ValueError, "max_products", id="max_products=0"),
        pytest.param({"dtype": np.int64}, TypeError, "dtype", id="dtype=np.int64"),
        pytest.param({"max_magnitude": 0.0}, ValueError, "max_magnitude", id="max_magnitude=0.0"),
        pytest.param(
            {"max_magnitude": math.inf}, ValueError, "max_magnitude", id="max_magnitude=math.inf"
        ),
        pytest.param(
            {"max_magnitude": 1e38, "dtype": np.float32},
            ValueError,
            "max_magnitude",
            id="max_magnitude=1e38,dtype=np.float32",
        ),
        pytest.param({"max_magnitude": "4"}, TypeError, "max_magnitude", id="max_magnitude=4"),
        pytest.param(
            {"networks": Network((1, 1), ("tanh",))},
            TypeError,
            "networks",
            id="networks=Network((1,1),(tanh,))",
        ),
    ],
)
def test_problems_reject_bad_argument_by_name(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        problems(**kwargs)

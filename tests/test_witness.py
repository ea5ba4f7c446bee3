"""The finite-difference witness: central differences of J (eqs 1.4, 2.16, 2.16', 2.16'')
by numdifftools.

It agrees with the matrix form (eqs 2.7, 2.11, 2.14–2.15, 2.33, 2.37) on random problems
(every activation and loss) away from kinks, flags the entries a ReLU unit at Z = 0 makes
non-smooth, and catches a gradient that is wrong by a relative 1e-6 in a single entry.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from crosscheck import vectorized
from crosscheck.compare.witness import (
    MAX_PARAMETERS,
    MAX_PRODUCTS,
    assert_agrees_with_witness,
    compare_with_witness,
    finite_difference_gradient,
    flatten,
    unflatten,
)
from crosscheck.ffnn import LOSSES, Layer, Network, init_params
from crosscheck.strategies import networks, problems

SMOOTH = ("identity", "sigmoid", "tanh", "softplus", "elu", "gelu", "softmax")
KINKED = ("relu", "leaky_relu")


def smooth_problem(dtype=np.float64):
    network = Network((3, 4, 2), ("tanh", "sigmoid"), weight_decay=0.1)
    rng = np.random.default_rng(5)
    params = init_params(network, seed=5, dtype=dtype)
    X = rng.uniform(-2.0, 2.0, size=(3, 5)).astype(dtype)
    T = rng.uniform(-1.0, 1.0, size=(2, 5)).astype(dtype)
    return network, params, X, T


def relu_problem():
    """Unit 0 of layer 1 has Z^(1)_0n = X_0n − X_1n = 0 on both samples; unit 1 has Z = 2, 4."""
    network = Network((2, 2, 1), ("relu", "identity"))
    W_1 = np.array([[1.0, -1.0], [1.0, 1.0]])
    X = np.array([[1.0, 2.0], [1.0, 2.0]])
    params = (Layer(W_1, np.zeros(2)), Layer(np.array([[1.0, 1.0]]), np.zeros(1)))
    return network, params, X, np.zeros((1, 2))


# ---------------------------------------------------------------------------------------
# Agreement with the matrix form.
# ---------------------------------------------------------------------------------------
@given(problems(networks=networks(activations=SMOOTH, losses=tuple(LOSSES), weight_decay=True)))
def test_eq_2_14_2_33_witness_agrees_with_vectorized_on_smooth_problems(problem):
    report = finite_difference_gradient(*problem)
    assert report.n_at_kink == 0
    assert_agrees_with_witness(report, vectorized.gradients(*problem))


@given(
    problems(
        networks=networks(activations=SMOOTH + KINKED, losses=tuple(LOSSES), weight_decay=True)
    )
)
def test_eq_2_14_2_33_witness_agrees_with_vectorized_away_from_kinks(problem):
    report = finite_difference_gradient(*problem)
    assert_agrees_with_witness(report, vectorized.gradients(*problem))


def test_eq_2_16_witness_J_is_the_loss_of_vectorized():
    problem = smooth_problem()
    assert finite_difference_gradient(*problem).J == pytest.approx(
        vectorized.loss(*problem), rel=1e-15
    )


def test_error_estimates_are_small_on_a_smooth_problem():
    report = finite_difference_gradient(*smooth_problem())
    assert max(np.max(e.W) for e in report.error_estimate) < 1e-9


# ---------------------------------------------------------------------------------------
# Kinks: the ReLU unit at Z = 0 makes its own row's entries non-smooth, nothing else.
# ---------------------------------------------------------------------------------------
def test_relu_unit_at_Z_0_flags_exactly_its_row_and_bias():
    report = finite_difference_gradient(*relu_problem())
    assert (report.n_at_kink, report.n_entries) == (3, 9)
    np.testing.assert_array_equal(report.at_kink[0].W, [[True, True], [False, False]])
    np.testing.assert_array_equal(report.at_kink[0].b, [True, False])
    np.testing.assert_array_equal(report.at_kink[1].W, [[False, False]])
    np.testing.assert_array_equal(report.at_kink[1].b, [False])


def test_fd_at_a_kink_differs_from_the_relu_prime_0_convention():
    problem = relu_problem()
    report = finite_difference_gradient(*problem)
    grads = vectorized.gradients(*problem)
    # ∂J/∂b^(1)_0 has one-sided slopes 0 and Σ_n Δ^(1)_0n = 1 + 2: differences give ~1.5
    assert report.estimate[0].b[0] == pytest.approx(1.5, abs=1e-3)
    assert grads[0].b[0] == 0.0  # ReLU'(0) = 0


def test_comparison_leaves_kink_entries_out_and_agrees():
    problem = relu_problem()
    comparison = compare_with_witness(
        finite_difference_gradient(*problem), vectorized.gradients(*problem)
    )
    assert comparison.agree
    assert [(row.label, row.n_at_kink, row.n_compared) for row in comparison.rows] == [
        ("∂J/∂W^(2)", 0, 2),
        ("∂J/∂b^(2)", 0, 1),
        ("∂J/∂W^(1)", 2, 2),
        ("∂J/∂b^(1)", 1, 1),
    ]


# ---------------------------------------------------------------------------------------
# A wrong gradient is caught.
# ---------------------------------------------------------------------------------------
def wrong(grads, l, name, index, change):
    layers = [Layer(np.array(W), np.array(b)) for W, b in grads]
    getattr(layers[l - 1], name)[index] = change(getattr(layers[l - 1], name)[index])
    return tuple(layers)


@pytest.mark.parametrize(
    ("l", "name", "index", "change"),
    [
        pytest.param(2, "W", (1, 2), lambda g: g * (1 + 1e-6), id="eq_2_14_relative_1e-6"),
        pytest.param(2, "b", (0,), lambda g: -g, id="eq_2_15_sign"),
        pytest.param(1, "W", (3, 0), lambda g: g + 1e-7, id="eq_2_33_absolute_1e-7"),
        pytest.param(1, "b", (2,), lambda g: g / 5, id="eq_2_37_missing_factor_N"),
    ],
)
def test_wrong_gradient_entry_is_caught_in_its_row(l, name, index, change):
    problem = smooth_problem()
    grads = wrong(vectorized.gradients(*problem), l, name, index, change)
    comparison = compare_with_witness(finite_difference_gradient(*problem), grads)
    failing = [
        (row.label, row.worst_index, row.n_mismatched) for row in comparison.rows if not row.passed
    ]
    assert failing == [(f"∂J/∂{name}^({l})", index, 1)]


def test_assertion_names_the_failing_array():
    problem = smooth_problem()
    grads = wrong(vectorized.gradients(*problem), 2, "W", (0, 0), lambda g: g + 1e-3)
    with pytest.raises(AssertionError, match=r"∂J/∂W\^\(2\): 1/8 mismatched"):
        assert_agrees_with_witness(finite_difference_gradient(*problem), grads)


def test_nan_gradient_is_a_mismatch():
    problem = smooth_problem()
    grads = wrong(vectorized.gradients(*problem), 1, "b", (0,), lambda g: np.nan)
    assert not compare_with_witness(finite_difference_gradient(*problem), grads).agree


# ---------------------------------------------------------------------------------------
# The report and the inputs.
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["estimate", "error_estimate", "final_step", "at_kink"])
def test_report_has_the_structure_of_params(field):
    network, params, X, T = smooth_problem()
    report = finite_difference_gradient(network, params, X, T)
    for layer, param in zip(getattr(report, field), params, strict=True):
        assert (layer.W.shape, layer.b.shape) == (param.W.shape, param.b.shape)


def test_float32_inputs_are_differenced_in_float64():
    network, params, X, T = smooth_problem(np.float32)
    report = finite_difference_gradient(network, params, X, T)
    assert report.estimate[0].W.dtype == np.float64
    params64 = [Layer(W.astype(np.float64), b.astype(np.float64)) for W, b in params]
    grads64 = vectorized.gradients(network, params64, X.astype(np.float64), T.astype(np.float64))
    assert_agrees_with_witness(report, grads64)


def test_flatten_unflatten_round_trip():
    network, params, *_ = smooth_problem()
    for original, back in zip(params, unflatten(network, flatten(params)), strict=True):
        np.testing.assert_array_equal(back.W, original.W)
        np.testing.assert_array_equal(back.b, original.b)


def test_read_only_inputs_are_accepted_and_unchanged():
    network, params, X, T = smooth_problem()
    arrays = [X, T, *(a for layer in params for a in layer)]
    copies = [a.copy() for a in arrays]
    for a in arrays:
        a.flags.writeable = False
    finite_difference_gradient(network, params, X, T)
    for a, copy in zip(arrays, copies, strict=True):
        np.testing.assert_array_equal(a, copy)


def test_too_many_parameters_are_rejected_naming_the_cap():
    network = Network((20, 20, 1), ("tanh", "identity"))
    params = init_params(network)
    with pytest.raises(
        ValueError, match=f"441 parameters, more than MAX_PARAMETERS = {MAX_PARAMETERS}"
    ):
        finite_difference_gradient(network, params, np.zeros((20, 1)), np.zeros((1, 1)))


def test_too_many_products_are_rejected_naming_the_cap():
    network = Network((2, 2), ("tanh",))
    N = MAX_PRODUCTS // 4 + 1
    with pytest.raises(ValueError, match=f"more than MAX_PRODUCTS = {MAX_PRODUCTS}"):
        finite_difference_gradient(
            network, init_params(network), np.zeros((2, N)), np.zeros((2, N))
        )


def test_bad_input_raises_validation_error_first():
    network, params, X, T = smooth_problem()
    with pytest.raises(ValueError, match=r"X has shape \(5, 3\)"):
        finite_difference_gradient(network, params, X.T, T, max_step=-1.0)


@pytest.mark.parametrize("max_step", [0.0, -1e-3, float("inf")])
def test_bad_max_step_is_rejected(max_step):
    with pytest.raises(ValueError, match="max_step must be finite and > 0"):
        finite_difference_gradient(*smooth_problem(), max_step=max_step)


def test_gradients_of_another_shape_are_rejected():
    network, params, X, T = smooth_problem()
    report = finite_difference_gradient(network, params, X, T)
    grads = vectorized.gradients(network, params, X, T)
    with pytest.raises(ValueError, match=r"∂J/∂W\^\(1\) has shape \(3, 4\)"):
        compare_with_witness(report, (Layer(grads[0].W.T, grads[0].b), grads[1]))

"""scikit-learn's MLP backpropagation (1.9.1, private ``_backprop``) under the oracle.

``crosscheck.oracle.external.sklearn_adapter.sklearn_backprop`` runs ``MLPRegressor`` /
``MLPClassifier._backprop`` with our parameters, after translating conventions (rows data,
(in, out) weights, α = λ·N). Findings asserted here (docs/checking-your-backprop.md,
"Adapters: every activation and loss"):

- squared error with S_L > 1 outputs: their J is ours / S_L while their gradient is ours:
  the gradient is not the gradient of their own loss (scikit-learn issue #8349);
- log-loss (softmax or logistic output): J is computed from probabilities clipped to
  [ε, 1 − ε], so it saturates at −log ε = 36.04 per sample where the gradient does not;
- binary log-loss from probabilities: log(1 − A) loses relative accuracy (a small J finding).

Agreements asserted: every hidden activation (identity, logistic, tanh, relu) with each
output; the L2 penalty once α = λ·N; ReLU'(0) = 0.
"""

import inspect

import numpy as np
import pytest
import sklearn
from sklearn.neural_network import MLPRegressor

from crosscheck import vectorized
from crosscheck.compare.comparison import assert_gradients_close
from crosscheck.ffnn import Layer, Network, init_params
from crosscheck.oracle.external.sklearn_adapter import (
    HIDDEN_ACTIVATIONS,
    OUTPUTS,
    SKLEARN_VERSION_CHECKED,
    sklearn_backprop,
)
from crosscheck.oracle.search import GradientMismatch, check_example, check_gradients
from crosscheck.strategies import Problem

OUTPUT_IDS = {"identity": "eq_2_16_regressor", "softmax": "eq_2_16p", "sigmoid": "eq_2_16pp"}


def _problem(activations, loss, weight_decay=0.0, sizes=(3, 4, 1), N=5, seed=1):
    network = Network(sizes, activations, loss=loss, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((sizes[0], N))
    T = rng.uniform(0.0, 1.0, size=(sizes[-1], N))
    if loss == "cross_entropy":
        T = T / T.sum(axis=0)
    return Problem(network, init_params(network, seed=seed), X, T)


def _fixed(activations, loss, Ws, X, T):
    """A problem with the given weights, zero biases."""
    Ws = [np.array(W, dtype=np.float64) for W in Ws]
    sizes = (Ws[0].shape[1], *(W.shape[0] for W in Ws))
    params = tuple(Layer(W, np.zeros(W.shape[0])) for W in Ws)
    return Problem(
        Network(sizes, activations, loss), params, np.array(X, float), np.array(T, float)
    )


def _run(problem):
    network = problem.network
    fn = sklearn_backprop(network.activations, loss=network.loss, weight_decay=network.weight_decay)
    J, dWs, dbs = fn([W for W, _ in problem.params], [b for _, b in problem.params], *problem[2:])
    return J, tuple(Layer(dW, db) for dW, db in zip(dWs, dbs, strict=True))


def test_private_backprop_signature_is_the_one_pinned():
    parameters = list(inspect.signature(MLPRegressor._backprop).parameters)
    assert parameters == [
        "self",
        "X",
        "y",
        "sample_weight",
        "activations",
        "deltas",
        "coef_grads",
        "intercept_grads",
    ]


def test_installed_version_is_recorded():
    assert sklearn.__version__ == SKLEARN_VERSION_CHECKED


@pytest.mark.parametrize("lam", [0.0, 0.75], ids=["lambda_0", "lambda_alpha_is_lambda_N"])
@pytest.mark.parametrize(("output", "loss"), list(OUTPUTS), ids=lambda v: OUTPUT_IDS.get(v, ""))
@pytest.mark.parametrize("hidden", sorted(HIDDEN_ACTIVATIONS), ids=lambda h: f"eq_2_33_{h}")
def test_sklearn_agrees_with_one_output_unit(hidden, output, loss, lam):
    problem = _problem((hidden, hidden, output), loss, lam, sizes=(3, 4, 3, 1))
    J, grads = _run(problem)
    assert_gradients_close(
        vectorized.gradients(*problem),
        grads,
        expected_loss=vectorized.loss(*problem),
        actual_loss=J,
        names=("vectorized", "scikit-learn"),
    )


@pytest.mark.parametrize(
    ("activations", "loss"),
    [
        (("relu", "relu", "identity"), "squared_error"),
        (("tanh", "tanh", "identity"), "squared_error"),
        (("sigmoid", "sigmoid", "identity"), "squared_error"),
    ],
    ids=["eq_2_33_relu", "eq_2_33_tanh", "eq_2_33_logistic"],
)
def test_oracle_search_finds_no_disagreement_with_one_output(activations, loss):
    fn = sklearn_backprop(activations, loss=loss, weight_decay=0.5)
    report = check_gradients(
        fn,
        activations=activations,
        sizes=(3, 4, 3, 1),
        loss=loss,
        weight_decay=0.5,
        max_examples=40,
        seed=0,
    )
    assert report.agree


def test_eq_2_13_relu_derivative_at_0_is_0_as_in_ffnn():
    problem = _fixed(("relu", "identity"), "squared_error", [[[1.0]], [[1.0]]], [[0.0]], [[1.0]])
    assert check_example(sklearn_backprop(("relu", "identity")), problem).agree


@pytest.mark.parametrize("S_L", [2, 3, 5], ids=lambda k: f"eq_2_16_S_L_{k}")
def test_finding_squared_error_J_is_ours_over_S_L(S_L):
    problem = _problem(("tanh", "identity"), "squared_error", sizes=(3, 4, S_L))
    J, _ = _run(problem)
    assert J * S_L == pytest.approx(vectorized.loss(*problem), rel=1e-14)


@pytest.mark.parametrize("S_L", [2, 3], ids=lambda k: f"eq_2_14_S_L_{k}")
def test_finding_squared_error_gradient_is_ours_not_of_their_J(S_L):
    problem = _problem(("tanh", "identity"), "squared_error", sizes=(3, 4, S_L))
    report = check_example(sklearn_backprop(("tanh", "identity")), problem)
    gradient_rows = report.examination.comparison.rows[1:]
    assert report.finding.kind == "loss" and all(row.passed for row in gradient_rows)
    assert report.consistency.verdict == "inconsistent"


def test_finding_squared_error_is_found_by_the_search():
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(
            sklearn_backprop(("tanh", "identity")),
            activations=("tanh", "identity"),
            sizes=(2, 3, 2),
            max_examples=20,
            seed=0,
        )
    assert raised.value.report.finding.kind == "loss"


@pytest.mark.parametrize("S_L", [2, 3, 5], ids=lambda k: f"eq_2_16_S_L_{k}")
def test_finding_squared_error_is_named_as_the_J_over_S_L_convention(S_L):
    problem = _problem(("tanh", "identity"), "squared_error", sizes=(3, 4, S_L))
    report = check_example(sklearn_backprop(("tanh", "identity")), problem)
    factor = f"factor 1/S_L = 1/{S_L}"
    assert any(
        c.startswith(f"J reported over the S_L outputs: {factor}") for c in report.conventions
    )
    J, *gradients = report.relations
    assert J.factor == pytest.approx(1 / S_L) and "1/S_L" in J.text
    assert not any(r.differs for r in gradients) and report.gradient_conventions == ()
    assert "Its gradient is the suite's: the gradient of the suite's J" in str(report)


def test_finding_squared_error_convention_is_named_by_the_search():
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(
            sklearn_backprop(("tanh", "identity")),
            activations=("tanh", "identity"),
            max_examples=50,
            seed=0,
        )
    report = raised.value.report
    S_L = report.example.network.sizes[-1]
    assert S_L > 1 and report.finding.kind == "loss"
    assert any(
        c.startswith(f"J reported over the S_L outputs: factor 1/S_L = 1/{S_L}")
        for c in report.conventions
    )


@pytest.mark.parametrize(
    ("activations", "loss", "Ws", "T"),
    [
        (("relu", "softmax"), "cross_entropy", [[[20.0]], [[-20.0], [0.0]]], [[1.0], [0.0]]),
        (("identity", "sigmoid"), "binary_cross_entropy", [[[1.0]], [[-50.0]]], [[1.0]]),
    ],
    ids=["eq_2_16p_softmax", "eq_2_16pp_logistic"],
)
def test_finding_log_loss_is_clipped_at_minus_log_eps(activations, loss, Ws, T):
    problem = _fixed(activations, loss, Ws, [[1.0]], T)
    report = check_example(sklearn_backprop(activations, loss=loss), problem)
    J_row = report.examination.comparison.rows[0]
    assert report.finding.kind == "loss" and report.consistency.verdict == "inconsistent"
    assert J_row.actual_value == pytest.approx(-np.log(np.finfo(np.float64).eps), rel=1e-12)
    assert J_row.expected_value > 40.0


def test_finding_log_loss_clipping_is_found_by_the_search():
    activations = ("relu", "softmax")
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(
            sklearn_backprop(activations, loss="cross_entropy"),
            activations=activations,
            loss="cross_entropy",
            max_examples=100,
            seed=0,
        )
    report = raised.value.report
    assert report.finding.kind == "loss"
    assert report.examination.comparison.rows[0].actual_value <= 36.05 * report.example.X.shape[1]


def test_finding_binary_log_loss_from_probabilities_is_a_rounding_level_J_difference():
    problem = _fixed(
        ("sigmoid", "sigmoid"), "binary_cross_entropy", [[[0.0]], [[20.0]]], [[0.0]], [[0.0]]
    )
    report = check_example(
        sklearn_backprop(("sigmoid", "sigmoid"), loss="binary_cross_entropy"), problem
    )
    J_row = report.examination.comparison.rows[0]
    assert report.finding.kind == "loss" and 1 < J_row.worst_ratio < 1e3
    assert J_row.max_rel_error < 1e-12

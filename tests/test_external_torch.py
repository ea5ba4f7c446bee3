"""PyTorch autograd (torch 2.13.0, float64) under the oracle: where it agrees, where it parts.

``crosscheck.oracle.external.torch_adapter.torch_backprop`` wraps ``nn.Sequential`` of
``nn.Linear`` and activation modules; its J and ∂J/∂W^(l), ∂J/∂b^(l) (eqs 2.14/2.33,
2.15/2.37) are checked against the suite. Findings asserted here
(docs/checking-your-backprop.md, "Adapters: every activation and loss"):

- Softplus above its threshold 20 is z itself, not log(1 + e^z) (eq 1.4 forward, and σ' = 1);
- GELU(approximate="none") loses relative accuracy in its negative tail (0.5·z·(1 + erf),
  a cancellation).

Agreements asserted: ReLU'(0) = 0, leaky ReLU'(0) = 0.01 and ELU'(0) = 1, as in ffnn; tanh's
backward 1 − tanh² (exactly 0 once tanh(z) rounds to 1) lies within the oracle's bound for
σ' taken from A.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch extra (pip install -e '.[torch]')")

from crosscheck import vectorized  # noqa: E402
from crosscheck.compare.comparison import assert_gradients_close  # noqa: E402
from crosscheck.ffnn import ACTIVATIONS, Layer, Network, init_params  # noqa: E402
from crosscheck.oracle.external.torch_adapter import (  # noqa: E402
    TORCH_ACTIVATIONS,
    torch_backprop,
    torch_sequential,
)
from crosscheck.oracle.search import GradientMismatch, check_example, check_gradients  # noqa: E402
from crosscheck.strategies import Problem  # noqa: E402


def _problem(activations, loss="squared_error", weight_decay=0.0, sizes=(3, 4, 2), N=5):
    network = Network(sizes, activations, loss=loss, weight_decay=weight_decay)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((sizes[0], N))
    if loss == "cross_entropy":
        T = np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], size=N)]
    elif loss == "binary_cross_entropy":
        T = rng.uniform(0.0, 1.0, size=(sizes[-1], N))
    else:
        T = rng.standard_normal((sizes[-1], N))
    return Problem(network, init_params(network, seed=1), X, T)


def _one_unit(sigma, z, T=0.0):
    """sizes 1-1-1, σ_1 = sigma with Z^(1) = z exactly, identity output, squared error."""
    network = Network((1, 1, 1), (sigma, "identity"))
    params = (Layer(np.array([[z]]), np.zeros(1)), Layer(np.ones((1, 1)), np.zeros(1)))
    return Problem(network, params, np.ones((1, 1)), np.full((1, 1), T))


def _run(fn, problem):
    J, dWs, dbs = fn([W for W, _ in problem.params], [b for _, b in problem.params], *problem[2:])
    return J, tuple(Layer(dW, db) for dW, db in zip(dWs, dbs, strict=True))


def test_every_suite_activation_has_a_torch_module():
    assert set(TORCH_ACTIVATIONS) == set(ACTIVATIONS)


def test_eq_1_4_torch_sequential_is_linear_then_sigma_per_layer():
    model = torch_sequential((3, 4, 2), ("tanh", "softmax"))
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "Softmax"]
    assert model[0].weight.shape == (4, 3) and model[0].weight.dtype == torch.float64


@pytest.mark.parametrize("sigma", sorted(ACTIVATIONS), ids=lambda s: f"eq_2_33_hidden_{s}")
def test_eq_2_33_torch_agrees_on_a_seeded_problem(sigma):
    problem = _problem((sigma, "identity"), weight_decay=0.25)
    J, grads = _run(torch_backprop(problem.network.activations, weight_decay=0.25), problem)
    assert_gradients_close(
        vectorized.gradients(*problem),
        grads,
        expected_loss=vectorized.loss(*problem),
        actual_loss=J,
        names=("vectorized", "torch"),
    )


@pytest.mark.parametrize(
    ("loss", "output"),
    [("cross_entropy", "softmax"), ("binary_cross_entropy", "sigmoid")],
    ids=["eq_2_16p_cross_entropy_from_logits", "eq_2_16pp_binary_cross_entropy_from_logits"],
)
def test_torch_classification_losses_agree(loss, output):
    problem = _problem(("elu", output), loss=loss, sizes=(3, 4, 3))
    J, grads = _run(torch_backprop(problem.network.activations, loss=loss), problem)
    assert_gradients_close(
        vectorized.gradients(*problem),
        grads,
        expected_loss=vectorized.loss(*problem),
        actual_loss=J,
    )


@pytest.mark.parametrize(
    ("activations", "loss"),
    [
        (("relu", "leaky_relu", "identity"), "squared_error"),
        (("elu", "sigmoid"), "binary_cross_entropy"),
        (("identity", "softmax"), "cross_entropy"),
    ],
    ids=["eq_2_33_relu_leaky", "eq_2_16pp_elu", "eq_2_16p_softmax"],
)
def test_oracle_search_finds_no_disagreement(activations, loss):
    fn = torch_backprop(activations, loss=loss, weight_decay=0.5)
    report = check_gradients(
        fn, activations=activations, loss=loss, weight_decay=0.5, max_examples=40, seed=0
    )
    assert report.agree and 40 < report.examples_run <= 80  # the search, then the N sweep


@pytest.mark.parametrize("sigma", ["relu", "leaky_relu", "elu"], ids=lambda s: f"eq_2_13_{s}_at_0")
def test_eq_2_13_torch_derivative_at_the_kink_is_ffnn_s(sigma):
    assert check_example(torch_backprop((sigma, "identity")), _one_unit(sigma, 0.0, T=1.0)).agree


def test_softplus_below_threshold_agrees():
    assert check_example(
        torch_backprop(("softplus", "identity")), _one_unit("softplus", 19.5)
    ).agree


def test_eq_1_4_finding_softplus_above_threshold_is_z_itself():
    report = check_example(torch_backprop(("softplus", "identity")), _one_unit("softplus", 20.5))
    J_row = report.examination.comparison.rows[0]
    assert report.finding.kind == "gradient"
    assert J_row.actual_value == 20.5**2 / 2  # A^(1) = z exactly, not z + log1p(e^-z)
    assert J_row.expected_value == pytest.approx((20.5 + np.log1p(np.exp(-20.5))) ** 2 / 2)


def test_finding_softplus_threshold_is_found_by_the_search():
    fn = torch_backprop(("softplus", "identity"))
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(
            fn, activations=("softplus", "identity"), sizes=(1, 1, 1), max_examples=300, seed=1
        )
    params, X = raised.value.report.example.params, raised.value.report.example.X
    assert (params[0].W @ X + params[0].b[:, None]).max() > 20.0  # past the threshold


def test_finding_gelu_negative_tail_loses_relative_accuracy():
    report = check_example(torch_backprop(("gelu", "identity")), _one_unit("gelu", -8.0))
    b_row = next(row for row in report.examination.comparison.rows if row.label == "∂J/∂b^(2)")
    assert report.finding.kind == "gradient"
    assert b_row.max_rel_error > 1e-2  # A^(1) = GELU(-8) ≈ -5e-15 off by ~2%


def test_tanh_backward_from_A_is_zero_past_19_and_the_oracle_accepts_it():
    network = Network((1, 1, 1, 1), ("tanh", "softplus", "identity"))
    params = tuple(Layer(np.array([[20.0]]), np.zeros(1)) for _ in range(3))
    problem = Problem(network, params, np.ones((1, 1)), np.zeros((1, 1)))
    report = check_example(torch_backprop(network.activations), problem)
    W1 = report.examination.comparison.rows[-2]
    assert (W1.label, W1.actual_value) == ("∂J/∂W^(1)", 0.0)  # 1 − tanh²(20) = 0 in float64
    assert W1.expected_value > 0 and report.agree  # sech²(20) = 1.7e-17: within the A-form bound

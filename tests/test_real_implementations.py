"""Real implementations under the oracle, each through the public API with its glue in examples/.

One example file per library (docs/checking-your-backprop.md, "Real implementations checked"):
PyTorch ``nn.Sequential`` in float64 and float32, scikit-learn ``MLPRegressor`` (multi-output)
and ``MLPClassifier``, micrograd's ``MLP``, HIPS autograd, equinox. Each is run by
``crosscheck.check_gradients`` (and two by ``crosscheck check``) as a user would run it; the
tests assert the verdict: correct libraries agree (eqs 2.14, 2.15, 2.16, 2.33, 2.37), and a
documented convention difference is reported as that difference. Packages: the ``real`` and
``torch`` extras; a test is skipped only where its library is not installed.
"""

import importlib.util
import math
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from crosscheck import GradientMismatch, check_gradients
from crosscheck.ffnn import Layer, Network
from crosscheck.oracle.search import check_example
from crosscheck.strategies import Problem

ROOT = Path(__file__).parents[1]

LIBRARIES = {
    "pytorch_sequential": "torch",
    "sklearn_mlp": "sklearn",
    "micrograd_mlp": "micrograd",
    "autograd_numpy": "autograd",
    "equinox_sequential": "equinox",
}
"""examples/NAME.py → the package it needs."""

SKLEARN = {"layout": "rows", "weights": "in_out"}
"""scikit-learn's natural layout: samples as rows, coefs_[l-1] = W^(l)ᵗ."""


@cache
def _module(name):
    spec = importlib.util.spec_from_file_location(
        f"examples_{name}", ROOT / "examples" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def example(name, function):
    """examples/NAME.py's FUNCTION, loaded once; skipped where its library is not installed."""
    pytest.importorskip(LIBRARIES[name], reason=f"the library of examples/{name}.py")
    return getattr(_module(name), function)


def _passed_gradients(report):
    """Every ∂J/∂W^(l), ∂J/∂b^(l) row of the report's comparison within its bound."""
    return all(row.passed for row in report.examination.comparison.rows if row.label != "J")


AGREEING = {
    "pytorch_float64": (
        "pytorch_sequential",
        "backprop",
        {"activations": ("tanh", "tanh", "identity"), "layout": "rows"},
    ),
    "pytorch_float32": (
        "pytorch_sequential",
        "backprop_float32",
        {"activations": ("tanh", "tanh", "identity"), "layout": "rows", "dtype": "float32"},
    ),
    "sklearn_regressor_one_output": (
        "sklearn_mlp",
        "regressor",
        {"activations": ("tanh", "tanh", "identity"), "sizes": (3, 4, 3, 1), **SKLEARN},
    ),
    "micrograd": (
        "micrograd_mlp",
        "backprop",
        {"activations": ("relu", "relu", "identity"), "layout": "rows"},
    ),
    "autograd": ("autograd_numpy", "backprop", {"activations": ("tanh", "relu", "identity")}),
    "equinox_float64": (
        "equinox_sequential",
        "backprop",
        {"activations": ("tanh", "sigmoid", "identity"), "sizes": (3, 4, 3, 2), "layout": "rows"},
    ),
}


@pytest.mark.parametrize(
    ("name", "function", "settings"),
    list(AGREEING.values()),
    ids=[f"eq_2_33_{case}" for case in AGREEING],
)
def test_correct_library_agrees(name, function, settings):
    report = check_gradients(example(name, function), **settings, max_examples=20, seed=0)
    assert report.agree and 20 < report.examples_run <= 40  # the search, then the N sweep


def fault_report(name, function, **settings):
    """The report of ``check_gradients`` on examples/NAME.py's FUNCTION, which must fail."""
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(example(name, function), **settings)
    return raised.value.report


@pytest.fixture(scope="module")
def multi_output_report():
    """MLPRegressor with S_L = 3 outputs (sizes 2-3-3), searched with seed 0."""
    return fault_report(
        "sklearn_mlp",
        "regressor",
        activations=("tanh", "identity"),
        sizes=(2, 3, 3),
        max_examples=20,
        seed=0,
        **SKLEARN,
    )


def test_sklearn_multi_output_J_is_ours_over_S_L_and_gradients_ours(multi_output_report):
    """eq 2.16 with S_L = 3: scikit-learn's J is ½·mean over samples and outputs (J/S_L),
    its gradient the gradient of J itself (scikit-learn issue 8349)."""
    J_row = multi_output_report.examination.comparison.rows[0]
    assert multi_output_report.finding.kind == "loss" and _passed_gradients(multi_output_report)
    assert J_row.actual_value * 3 == pytest.approx(J_row.expected_value, rel=1e-12)


def test_sklearn_multi_output_convention_is_named_in_the_report(multi_output_report):
    assert "8349" in str(multi_output_report)


def test_sklearn_alpha_is_lambda_times_N():
    """scikit-learn's L2 penalty (α/2N) Σ‖W‖² (gradient α W/N): alpha = 0.001 is not λ = 0.001,
    and the example the search finds agrees at λ = α/N."""
    report = fault_report(
        "sklearn_mlp",
        "regressor_alpha",
        activations=("tanh", "tanh", "identity"),
        sizes=(3, 4, 3, 1),
        weight_decay=0.001,
        max_examples=20,
        seed=0,
        **SKLEARN,
    )
    network, params, X, T = report.example
    N = X.shape[1]
    assert N > 1  # at N = 1, α = λ
    rescaled = Problem(
        Network(network.sizes, network.activations, network.loss, 0.001 / N), params, X, T
    )
    assert check_example(example("sklearn_mlp", "regressor_alpha"), rescaled, **SKLEARN).agree


def test_sklearn_classifier_log_loss_is_clipped_gradients_agree():
    """eq 2.16': MLPClassifier's log-loss clips probabilities to [ε, 1 − ε], so its J is at
    most −log ε = 36.04 per sample (so on average), below the suite's, where its gradient
    A − T is unclipped."""
    report = fault_report(
        "sklearn_mlp",
        "classifier",
        activations=("relu", "softmax"),
        loss="cross_entropy",
        max_examples=20,
        seed=1,
        **SKLEARN,
    )
    J_row = report.examination.comparison.rows[0]
    assert report.finding.kind == "loss" and _passed_gradients(report)
    assert J_row.actual_value <= -math.log(np.finfo(np.float64).eps)
    assert J_row.actual_value < J_row.expected_value


def test_pytorch_softplus_is_z_itself_above_its_threshold():
    """eq 1.4: nn.Softplus() returns z (derivative 1) for z > 20, not log(1 + e^z)."""
    report = fault_report(
        "pytorch_sequential",
        "backprop_softplus",
        activations=("softplus", "identity"),
        layout="rows",
        max_examples=100,
        seed=10,
    )
    (W1, b1), X = report.example.params[0], report.example.X
    assert report.finding.kind == "gradient"
    assert (W1 @ X + b1[:, None]).max() > 20.0


def test_autograd_maximum_relu_derivative_half_at_0_is_accepted_as_at_a_kink():
    """eq 2.13: autograd differentiates maximum(Z, 0) as ½ where Z == 0 (suite: 0); the oracle
    accepts any one-sided derivative at a kink (crosscheck.compare.bounds, "Kinks")."""
    network = Network((1, 1, 1, 1), ("tanh", "relu", "identity"))
    params = tuple(Layer(np.full((1, 1), w), np.zeros(1)) for w in (1.0, 0.0, 1.0))
    problem = Problem(network, params, np.ones((1, 1)), np.ones((1, 1)))
    backprop_maximum = example("autograd_numpy", "backprop_maximum")
    _, dWs, _ = backprop_maximum([W for W, _ in params], [b for _, b in params], *problem[2:])
    assert dWs[1][0, 0] == -0.5 * np.tanh(1.0)  # the suite's ∂J/∂W^(2) is 0
    assert check_example(backprop_maximum, problem).agree


def test_equinox_example_leaves_the_host_jax_x64_flag_alone():
    jax = pytest.importorskip("jax")
    backprop = example("equinox_sequential", "backprop")
    Ws = [np.ones((2, 2)), np.ones((2, 2)), np.ones((1, 2))]
    bs = [np.zeros(2), np.zeros(2), np.zeros(1)]
    before = jax.config.jax_enable_x64
    _, dWs, _ = backprop(Ws, bs, np.ones((3, 2)), np.zeros((3, 1)))
    assert jax.config.jax_enable_x64 == before and dWs[0].dtype == np.float64


def _cli(*args):
    command = [sys.executable, "-m", "crosscheck", "check", *args, "--max-examples", "10"]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_cli_micrograd_agrees_exit_0():
    pytest.importorskip("micrograd")
    done = _cli(
        "examples/micrograd_mlp.py:backprop",
        "--activations",
        "relu,relu,identity",
        "--layout",
        "rows",
        "--seed",
        "0",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(
        r"AGREE: the function agrees with the suite on all (1[1-9]|20) examples", done.stdout
    )


def test_cli_sklearn_multi_output_loss_fault_exit_1():
    done = _cli(
        "examples/sklearn_mlp.py:regressor",
        "--activations",
        "tanh,identity",
        "--sizes",
        "2,3,3",
        "--layout",
        "rows",
        "--weights",
        "in_out",
        "--seed",
        "0",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAULT (loss)" in done.stdout

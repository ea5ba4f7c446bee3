"""The known-bug catalogue: a correct base, every mutant rejected and diagnosed, the kill table."""

import io

import numpy as np
import pytest
from hypothesis import given
from rich.console import Console

from crosscheck import GradientMismatch, check_gradients, vectorized
from crosscheck.ffnn import Layer, Network, init_params
from crosscheck.oracle.catalogue import CATALOGUE, MUTANTS, Backprop
from crosscheck.oracle.search import check_example
from crosscheck.oracle.selftest import Kill, kill_table, run_mutant
from crosscheck.strategies import Problem, networks, problems

MAX_EXAMPLES = 30
_kills: dict[str, Kill] = {}


def kill(name):
    """run_mutant once per mutant for the module (seed 0), shared by the tests below."""
    if name not in _kills:
        _kills[name] = run_mutant(MUTANTS[name], max_examples=MAX_EXAMPLES, seed=0)
    return _kills[name]


NAMES = [mutant.name for mutant in CATALOGUE]


def test_catalogue_holds_at_least_15_distinct_bugs():
    assert len(set(NAMES)) == len(NAMES) >= 15


@given(
    problems(
        networks=networks(
            losses=("squared_error", "cross_entropy", "binary_cross_entropy"),
            weight_decay=True,
        )
    )
)
def test_correct_base_matches_vectorized_eqs_2_14_2_15_2_16(problem):
    network, params, X, T = problem
    base = Backprop(network.activations, network.loss, network.weight_decay)
    J, dWs, dbs = base([W for W, _ in params], [b for _, b in params], X, T)
    np.testing.assert_allclose(J, vectorized.loss(network, params, X, T), rtol=1e-12, atol=1e-12)
    for ours, dW, db in zip(vectorized.gradients(network, params, X, T), dWs, dbs, strict=True):
        scale = max(1.0, float(np.max(np.abs(ours.W))), float(np.max(np.abs(ours.b))))
        np.testing.assert_allclose(dW, ours.W, rtol=1e-9, atol=1e-9 * scale)
        np.testing.assert_allclose(db, ours.b, rtol=1e-9, atol=1e-9 * scale)


@pytest.mark.parametrize("name", NAMES)
def test_check_gradients_rejects_every_catalogued_bug(name):
    assert kill(name).rejected


@pytest.mark.parametrize("name", NAMES)
def test_diagnosis_names_the_catalogued_bug_itself(name):
    assert name in kill(name).diagnosis


def test_check_gradients_raises_gradient_mismatch_for_a_mutant():
    mutant = MUTANTS["sign_flipped"]
    with pytest.raises(GradientMismatch, match="FAULT \\(gradient\\)"):
        check_gradients(mutant.function(), max_examples=10, seed=0, **mutant.settings)


def _problem(sizes, activations, N, weight_decay=0.0):
    network = Network(sizes, activations, weight_decay=weight_decay)
    X = np.linspace(-1.0, 1.0, sizes[0] * N).reshape(sizes[0], N)
    T = np.linspace(0.5, -0.5, sizes[-1] * N).reshape(sizes[-1], N)
    params = tuple(Layer(W, b) for W, b in init_params(network, seed=3))
    return Problem(network, params, X, T)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("sigma_prime_at_A", _problem((2, 3, 2), ("identity", "identity"), 4)),
        ("missing_1_over_N", _problem((2, 3, 2), ("tanh", "identity"), 1)),
        ("output_derivative_dropped", _problem((2, 3, 2), ("tanh", "identity"), 4)),
        ("weight_decay_missing", _problem((2, 3, 2), ("tanh", "identity"), 4)),
        ("softmax_elementwise", _problem((2, 3, 2), ("tanh", "sigmoid"), 4)),
        ("sigma_prime_of_next_layer", _problem((2, 3, 2), ("tanh", "tanh"), 4)),
        ("delta_without_sigma_prime", _problem((2, 3, 2), ("identity", "tanh"), 4)),
    ],
    ids=[
        "sigma_prime_at_A-identity",
        "missing_1_over_N-N1",
        "output-identity",
        "decay-lambda0",
        "softmax-none",
        "next_layer-equal",
        "delta-identity_hidden",
    ],
)
def test_mutant_is_invisible_where_the_catalogue_says(name, problem):
    network = problem.network
    fn = MUTANTS[name].bind(network.activations, network.loss, network.weight_decay)
    assert check_example(fn, problem).agree


def test_kill_table_lists_each_variant_with_its_verdict():
    kills = (
        Kill("sign_flipped", {}, True, 3, "gradient", ("sign_flipped",)),
        Kill("imaginary_bug", {}, False, 30, None, ()),
    )
    buffer = io.StringIO()
    Console(file=buffer, width=120).print(kill_table(kills))
    text = buffer.getvalue()
    assert "1 of 2 catalogued bugs rejected" in text
    assert "sign_flipped" in text and "itself" in text and "NO" in text


def test_kill_to_dict_records_self_diagnosis():
    row = Kill("sign_flipped", {"activations": ("tanh",)}, True, 3, "gradient", ("sign_flipped",))
    assert row.to_dict() == {
        "name": "sign_flipped",
        "settings": {"activations": ["tanh"]},
        "rejected": True,
        "examples": 3,
        "finding": "gradient",
        "diagnosis": ["sign_flipped"],
        "self_diagnosed": True,
    }

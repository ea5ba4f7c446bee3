"""Non-determinism judged by size (DESIGN §5 "Verdict rules"): two calls on the same input
may differ by the rounding of sums in another order — at most E + E per entry
(``crosscheck.compare.bounds.repeat_bound``), each evaluation within E of the exact value
whatever its order — and are then correct, reported as a note with the largest
difference/bound; beyond it, a ``non-deterministic`` fault that states the size.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crosscheck import GradientMismatch, check_gradients, vectorized
from crosscheck.compare.bounds import repeat_bound, trace_bounds
from crosscheck.ffnn import Network, init_params
from crosscheck.oracle.catalogue import Backprop
from crosscheck.oracle.search import check_example
from crosscheck.strategies import Problem, networks, problems


def test_repeat_bound_is_twice_the_bound_of_one_evaluation_entry_by_entry():
    network, params, X, T = _problem(N=5)
    _, trace = vectorized.backprop(network, params, X, T)
    once = trace_bounds(network, params, X, T, trace, np.float64)
    twice = repeat_bound(once)
    pairs = [*zip(once.W, twice.W, strict=True), *zip(once.b, twice.b, strict=True)]
    assert all(np.array_equal(2 * E, E2) for E, E2 in pairs)
    assert twice.J == 2 * once.J


@given(
    problems(networks=networks(max_layers=3, max_width=5), max_samples=12),
    st.randoms(use_true_random=False),
)
def test_eq_2_14_2_15_permuted_sample_order_stays_within_the_repeat_bound(problem, random):
    """Eqs 2.14/2.33, 2.15/2.37, 2.16 sum over the N samples: the same problem with its
    columns permuted is the same computation with its sums reordered, so the two results
    differ by at most E + E (the columns' order changes nothing else)."""
    network, params, X, T = problem
    order = list(range(X.shape[1]))
    random.shuffle(order)
    grads, trace = vectorized.backprop(network, params, X, T)
    permuted = vectorized.gradients(network, params, X[:, order], T[:, order])
    allowed = repeat_bound(trace_bounds(network, params, X, T, trace, X.dtype))
    for g, p, E_W, E_b in zip(grads, permuted, allowed.W, allowed.b, strict=True):
        assert (np.abs(g.W - p.W) <= E_W).all() and (np.abs(g.b - p.b) <= E_b).all()
    J, J_permuted = (
        vectorized.loss(network, params, x, t) for x, t in ((X, T), (X[:, order], T[:, order]))
    )
    assert abs(J - J_permuted) <= allowed.J


class ReorderingBackprop(Backprop):
    """A correct backprop whose sums over the samples run in another order on every other
    call: ∂J/∂W^(l) = Σ_n H_:n A_:nᵗ with the samples reversed, ∂J/∂b^(l) summed reversed,
    and J by ``math.fsum`` (exactly rounded) on one call, a plain left-to-right loop on the
    next."""

    def __init__(self, *args):
        super().__init__(*args)
        self.calls = 0

    def __call__(self, Ws, bs, X, T):
        self.calls += 1
        return super().__call__(Ws, bs, X, T)

    def _samples(self, N: int) -> range:
        return range(N - 1, -1, -1) if self.calls % 2 else range(N)

    def weight_gradient(self, l, H, A, Ws):
        total = np.zeros((H.shape[0], A[l - 1].shape[0]))
        for n in self._samples(H.shape[1]):  # eq 2.14: one outer product per sample
            total += np.outer(H[:, n], A[l - 1][:, n])
        return total + self.lam * Ws[l - 1]

    def bias_gradient(self, l, H, Delta, bs):
        total = np.zeros(H.shape[0])
        for n in self._samples(H.shape[1]):  # eq 2.15: H J_N
            total += H[:, n]
        return total

    def objective(self, Z_L, A_L, T, Ws):
        terms = ((A_L - T) ** 2 / (2 * A_L.shape[1])).ravel()
        if self.calls % 2:
            return math.fsum(terms)
        total = 0.0
        for term in terms:
            total += term
        return total


def _problem(N: int, seed: int = 0) -> Problem:
    network = Network((3, 4, 2), ("tanh", "identity"))
    rng = np.random.default_rng(seed)
    X, T = rng.standard_normal((3, N)), rng.standard_normal((2, N))
    return Problem(network, init_params(network, seed=seed), X, T)


def test_correct_code_that_reorders_its_sums_is_accepted_with_a_note_of_the_size():
    fn = ReorderingBackprop(("tanh", "identity"), "squared_error", 0.0)
    report = check_example(fn, _problem(N=64))
    assert report.agree
    assert 0 < report.repeat.ratio <= 1
    assert any(
        "within it, correct (sums in another order)" in note for note in report.verdict_notes
    )


def test_reordering_code_passes_a_whole_search():
    fn = ReorderingBackprop(("tanh", "identity"), "squared_error", 0.0)
    report = check_gradients(fn, activations=("tanh", "identity"), max_examples=30, seed=1)
    assert report.agree and 0 < report.repeat.ratio <= 1


def _drifting(step: float):
    """A backprop whose ∂J/∂W^(1)[0, 0] grows by `step` on every call: far beyond rounding."""
    correct = Backprop(("tanh", "identity"), "squared_error", 0.0)
    calls = []

    def fn(Ws, bs, X, T):
        calls.append(1)
        J, dWs, dbs = correct(Ws, bs, X, T)
        dWs[0][0, 0] += step * len(calls)
        return J, dWs, dbs

    return fn


def test_calls_that_differ_beyond_the_bound_are_a_fault_that_states_the_size():
    report = check_example(_drifting(1e-6), _problem(N=6))
    repeat = report.examination.repeat
    assert (report.finding.kind, repeat.where) == ("non-deterministic", "∂J/∂W^(1) (0, 0)")
    assert repeat.difference == pytest.approx(1e-6, rel=1e-6)
    assert repeat.ratio == pytest.approx(repeat.difference / repeat.bound)
    assert repeat.ratio > 1e3


def test_fault_message_gives_difference_bound_and_ratio():
    report = check_example(_drifting(1e-6), _problem(N=6))
    message = report.finding.message
    assert "differ by up to 1e-06 at ∂J/∂W^(1) (0, 0)" in message
    assert "the bound of a reordered sum there is" in message
    assert "beyond the rounding of a reordered sum" in message


def test_json_carries_the_size_of_a_repeat_difference():
    report = check_example(_drifting(1e-6), _problem(N=6))
    data = report.to_dict()["repeat"]
    assert (data["where"], data["difference"]) == (
        "∂J/∂W^(1) (0, 0)",
        pytest.approx(1e-6, rel=1e-6),
    )


def test_a_drifting_function_is_caught_by_the_search():
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(_drifting(1e-9), activations=("tanh", "identity"), max_examples=20, seed=0)
    assert raised.value.report.sighting.kind == "non-deterministic"


# --- micrograd (PyPI 0.1.0): a real package whose topological order changes call to call ----


def micrograd_backprop(Ws, bs, X, T):
    """micrograd's gradients of eq 2.16, ReLU hidden layers and an identity output: each
    weight a ``Value``, J summed over the samples and divided by 2N here (eq 2.16's
    convention), ``J.backward()`` for the gradients."""
    from micrograd.engine import Value

    N = T.shape[1]
    W = [[[Value(float(w)) for w in row] for row in Wl] for Wl in Ws]
    b = [[Value(float(v)) for v in bl] for bl in bs]
    J = Value(0.0)
    for n in range(N):
        a = [Value(float(x)) for x in X[:, n]]
        for l, (Wl, bl) in enumerate(zip(W, b, strict=True)):
            z = [
                sum((w * x for w, x in zip(row, a, strict=True)), bias)
                for row, bias in zip(Wl, bl, strict=True)
            ]
            a = z if l == len(W) - 1 else [v.relu() for v in z]
        J = J + sum(((ak - float(t)) ** 2 for ak, t in zip(a, T[:, n], strict=True)), Value(0.0))
    J = J * (1.0 / (2 * N))
    J.backward()
    dWs = [[[w.grad for w in row] for row in Wl] for Wl in W]
    dbs = [[v.grad for v in bl] for bl in b]
    return J.data, dWs, dbs


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_micrograd_mlp_is_accepted_on_every_seed(seed):
    pytest.importorskip("micrograd", reason="micrograd comes with the [real] extra")
    report = check_gradients(
        micrograd_backprop, activations=("relu", "identity"), max_examples=15, seed=seed
    )
    assert report.agree
    assert report.repeat is None or report.repeat.ratio <= 1

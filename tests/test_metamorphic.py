"""Metamorphic properties of ∂J/∂W^(l), ∂J/∂b^(l): relations between the gradients of
related problems, which hold whatever the values are.

- J is a mean over samples (eq 2.16: 1/(2N) Σ_n; the cross-entropies: 1/N Σ_n), so the batch
  gradient is the mean of the N per-sample gradients. Weight decay (λ/2)‖W‖² is not divided
  by N: each per-sample gradient carries λ W once, and so does their mean — the property
  holds with λ > 0 as it stands.
- Permuting the units of a hidden layer l (rows of W^(l) and b^(l), columns of W^(l+1))
  permutes Z^(l), A^(l) and H^(l) the same way (σ_l is elementwise, or softmax, which
  commutes with a permutation), so ∂J/∂W^(l) = H^(l) (A^(l-1))^t (eq 2.33) has its rows
  permuted, ∂J/∂b^(l) = H^(l) J_N (eq 2.37) its entries, ∂J/∂W^(l+1) its columns (eq 2.14),
  and every other layer's gradient is unchanged.
- Duplicating every sample leaves J and its gradient unchanged (a mean over 2N samples, each
  twice).

Each is checked on vectorized and the contracted reference under the derived per-entry
bound (crosscheck.compare.bounds): the two sides sum the same terms in a different order (and,
for the mean, divide by N at a different point), which changes only rounding — and
rounding of a sum scales with Σ|terms|, not with the result, which may cancel to ~1e-16
where the exact value is 0. The allowed difference is the sum of both sides' bounds
(``bounds.sum_of_bounds``; the mean's own rounding, ``bounds.mean_bound``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crosscheck import vectorized
from crosscheck.compare.bounds import mean_bound, sum_of_bounds, trace_bounds
from crosscheck.compare.comparison import assert_gradients_close
from crosscheck.ffnn import LOSSES, Layer
from crosscheck.implementations import by_key
from crosscheck.strategies import Problem, networks, problems

GRADIENTS = {key: by_key(key).gradients for key in ("vectorized", "contracted")}

ALL_NETWORKS = networks(losses=tuple(LOSSES), weight_decay=True)


def bound(network, params, X, T) -> tuple[Layer, ...]:
    """Per-entry rounding-error bound of ∂J/∂W^(l), ∂J/∂b^(l) for one problem (float64)."""
    _, trace = vectorized.backprop(network, params, X, T)
    return trace_bounds(network, params, X, T, trace, np.float64).grads


def mean_of(per_sample: list[tuple[Layer, ...]]) -> tuple[Layer, ...]:
    N = len(per_sample)
    return tuple(
        Layer(sum(g[l].W for g in per_sample) / N, sum(g[l].b for g in per_sample) / N)
        for l in range(len(per_sample[0]))
    )


@pytest.mark.parametrize("name", list(GRADIENTS))
@given(problem=problems(networks=ALL_NETWORKS))
def test_eq_2_16_batch_gradient_is_the_mean_of_per_sample_gradients(name, problem):
    gradients = GRADIENTS[name]
    network, params, X, T = problem
    columns = [(X[:, [n]], T[:, [n]]) for n in range(X.shape[1])]
    per_sample = [gradients(network, params, x, t) for x, t in columns]
    # the mean's error: the per-sample bounds / N, plus γ_{N+1}·Σ_n|g_n|/N for summing and dividing
    of_the_mean = mean_bound(per_sample, [bound(network, params, x, t) for x, t in columns])
    allowed = sum_of_bounds(bound(*problem), of_the_mean)
    assert_gradients_close(
        gradients(*problem), mean_of(per_sample), names=("batch", "mean"), allowed=allowed
    )


@st.composite
def permuted_problems(draw):
    """(problem, l, π): a problem with L >= 2, a hidden layer l and a permutation of its units."""
    problem = draw(
        problems(networks=networks(min_layers=2, losses=tuple(LOSSES), weight_decay=True))
    )
    l = draw(st.integers(1, problem.network.L - 1))
    pi = np.array(draw(st.permutations(range(problem.network.sizes[l]))), dtype=int)
    return problem, l, pi


def permute_units(layers, l: int, pi: np.ndarray) -> tuple[Layer, ...]:
    """Rows of W^(l), b^(l) and columns of W^(l+1) in the order π (new arrays)."""
    out = [Layer(np.array(W), np.array(b)) for W, b in layers]
    out[l - 1] = Layer(out[l - 1].W[pi], out[l - 1].b[pi])
    out[l] = Layer(out[l].W[:, pi], out[l].b)
    return tuple(out)


@pytest.mark.parametrize("name", list(GRADIENTS))
@given(case=permuted_problems())
def test_eq_2_14_2_33_2_37_permuting_hidden_units_permutes_the_gradients(name, case):
    (network, params, X, T), l, pi = case
    gradients = GRADIENTS[name]
    permuted = permute_units(params, l, pi)
    expected = permute_units(gradients(network, params, X, T), l, pi)
    actual = gradients(network, permuted, X, T)
    allowed = sum_of_bounds(
        permute_units(bound(network, params, X, T), l, pi), bound(network, permuted, X, T)
    )
    assert_gradients_close(
        expected, actual, names=("permuted gradients", "of permuted units"), allowed=allowed
    )


@pytest.mark.parametrize("name", list(GRADIENTS))
@given(problem=problems(networks=ALL_NETWORKS))
def test_eq_2_16_duplicating_every_sample_leaves_the_gradient_unchanged(name, problem: Problem):
    gradients = GRADIENTS[name]
    network, params, X, T = problem
    X2, T2 = np.repeat(X, 2, axis=1), np.repeat(T, 2, axis=1)
    allowed = sum_of_bounds(bound(*problem), bound(network, params, X2, T2))
    assert_gradients_close(
        gradients(*problem),
        gradients(network, params, X2, T2),
        names=("N samples", "each twice"),
        allowed=allowed,
    )

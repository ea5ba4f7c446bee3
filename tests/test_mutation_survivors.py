"""Tests that kill the real survivors of a mutation run over ffnn/, reference/, vectorized/
(mutmut 3.8, outside CI, on a copy of the repo, with the JAX-free tests). JAX-free
themselves, so the next such run selects them too."""

from __future__ import annotations

import numpy as np
import pytest

import vectorized
from ffnn import NUMPY, Network, get_activation, init_params

NETWORK = Network((3, 4, 2), ("tanh", "sigmoid"))


def _problem(dtype: type) -> tuple:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 5)).astype(dtype)
    T = rng.standard_normal((2, 5)).astype(dtype)
    return NETWORK, init_params(NETWORK, seed=1, dtype=dtype), X, T


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eq_2_16_vectorized_loss_is_J_of_its_own_trace_in_the_input_dtype(dtype):
    # Killed: vectorized.api.loss with its workspace built for dtype None (float64 buffers),
    # which computed a float32 problem partly in float64.
    network, params, X, T = _problem(dtype)
    _, trace = vectorized.backprop(network, params, X, T)
    expected = float(network.J.J(trace.Z[-1], trace.A[-1], T, NUMPY))
    assert (trace.A[-1].dtype, vectorized.loss(network, params, X, T)) == (dtype, expected)


def test_eq_2_2_prime_softmax_sigma_prime_message_quotes_the_jacobian():
    # Killed: five edits of the message text (case, "XX" affixes) that no test pinned.
    with pytest.raises(TypeError) as raised:
        get_activation("softmax").sigma_prime(np.zeros((2, 1)))
    assert str(raised.value) == (
        "softmax is not elementwise: ∂A_kn/∂Z_k'n' = J_kk'(n) δ_nn' (eq 2.2'), so there is"
        " no σ' for eq 2.13's Hadamard product; use Activation.jacobian (eq 2.13')"
    )

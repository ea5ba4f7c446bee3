"""vectorized/parallel.py: a kernel split among threads gives the same bits (eqs 1.4, 2.13)."""

from __future__ import annotations

import numpy as np
import pytest

from crosscheck import vectorized
from crosscheck.ffnn import Network, init_params, overflow_guard
from crosscheck.vectorized import parallel
from crosscheck.vectorized.kernels import KERNELS


@pytest.fixture
def always_split(monkeypatch):
    """Split every kernel, however small."""
    monkeypatch.setattr(parallel, "MIN_SECONDS", 0.0)


def _evaluate(name, Z, threads):
    with parallel.elementwise_threads_set(threads), overflow_guard():
        Z = Z.copy()
        other = np.empty_like(Z)
        A, S = parallel.evaluate(KERNELS[name], Z, other, np.empty_like(Z), True)
    return A is Z, A.copy(), S.copy()


@pytest.mark.parametrize("threads", [2, 3, 7])
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_eqs_1_4_2_13_split_kernel_gives_the_same_bits(name, threads, always_split):
    rng = np.random.default_rng(0)
    Z = rng.normal(scale=5.0, size=(7, 9))  # 7 rows: blocks of 1 to 4 rows
    one_block_in_Z, A, S = _evaluate(name, Z, 1)
    split_in_Z, A_split, S_split = _evaluate(name, Z, threads)
    assert split_in_Z == one_block_in_Z  # A named in the same buffer
    np.testing.assert_array_equal(A_split, A)
    np.testing.assert_array_equal(S_split, S)


@pytest.mark.parametrize("hidden", ["gelu", "softplus", "tanh"])
def test_eqs_2_32_2_34_gradients_with_split_kernels_equal_backprop_bit_for_bit(
    hidden, always_split
):
    network = Network((5, 8, 6, 3), (hidden, hidden, "sigmoid"))
    rng = np.random.default_rng(1)
    X, T = rng.normal(size=(5, 11)), rng.normal(size=(3, 11))
    params = init_params(network, seed=1)
    with parallel.elementwise_threads_set(2):
        split = vectorized.gradients(network, params, X, T)
    with parallel.elementwise_threads_set(1):
        whole, _ = vectorized.backprop(network, params, X, T)
    for got, want in zip(split, whole, strict=True):
        np.testing.assert_array_equal(got.W, want.W)
        np.testing.assert_array_equal(got.b, want.b)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_set_elementwise_threads_rejects_anything_but_a_positive_int(threads):
    with pytest.raises(ValueError, match="threads must be a positive int or None"):
        parallel.set_elementwise_threads(threads)


def test_elementwise_threads_set_restores_the_previous_setting():
    parallel.set_elementwise_threads(3)
    try:
        with parallel.elementwise_threads_set(1):
            inside = parallel.elementwise_threads()
        assert (inside, parallel.elementwise_threads()) == (1, 3)
    finally:
        parallel.set_elementwise_threads(None)


def test_a_small_kernel_runs_in_the_calling_thread(monkeypatch):
    # 4 entries of tanh are nanoseconds of work, far under MIN_SECONDS: no pool is used
    monkeypatch.setattr(parallel, "_pool", lambda workers: pytest.fail("the pool was used"))
    Z = np.zeros((2, 2))
    with parallel.elementwise_threads_set(2):
        parallel.evaluate(KERNELS["tanh"], Z, np.empty_like(Z), None, True)

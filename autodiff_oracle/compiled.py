"""jit-compiled loss, gradient and trace functions, cached per (network, dtype)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from autodiff_oracle.objective import Probe, objective
from ffnn import Network, jax_namespace

CACHE_SIZE = 256
"""How many (network, dtype) entries ``compiled`` keeps (least recently used dropped)."""


class Compiled(NamedTuple):
    """The jitted functions of one (network, dtype); call them inside ``jax.enable_x64(True)``.

    loss: ``(params, X, T) -> J``, a scalar.
    gradients: ``(params, X, T) -> grads``, L Layers shaped like params (jax.grad of J).
    backprop: ``(params, X, T) -> ((grads, ∂J/∂X, probe gradients, Δ^(L)), (Z, A))``: one
        jax.grad over (params, X, zero probes), ``probe gradients[l-1]`` is
        Probe(Z=H^(l), A=Δ^(l)); and Δ^(L) = jax.grad of N·``network.J.J_of_A`` at A^(L),
        divided by N (eq 2.12; finite or ±inf, never NaN, where A^(L) underflows), since a J
        computed from the logits Z^(L) does not read A^(L).
    """

    loss: Callable
    gradients: Callable
    backprop: Callable


@functools.lru_cache(maxsize=CACHE_SIZE)
def compiled(network: Network, dtype: np.dtype) -> Compiled:
    """Build (once per (network, dtype)) the jitted functions that differentiate the network's J.

    Args:
        network: the architecture (hashable; the cache key with `dtype`).
        dtype: float64 or float32, the dtype the functions will be called with.

    Returns:
        A ``Compiled``; the same object for equal (network, dtype), so JAX's jit cache is
        reused and a second call with the same shapes does not recompile.

    Raises:
        Nothing of its own.
    """

    def J(params, X, T):
        return objective(network, params, X, T)[0]

    def backprop(params, X, T):
        N = X.shape[1]
        probes = tuple(
            Probe(jnp.zeros((S, N), dtype), jnp.zeros((S, N), dtype)) for S in network.sizes[1:]
        )
        grad = jax.grad(
            lambda p, x, q: objective(network, p, x, T, q), argnums=(0, 1, 2), has_aux=True
        )
        (grads, dX, probe_grads), (Z, A) = grad(params, X, probes)
        # eq 2.12: Δ^(L) = ∂J/∂A^(L) of J written as a function of A^(L) (eqs 2.16, 2.16',
        # 2.16''), by linearity (1/N)·∂(N·J)/∂A^(L): differentiating J itself would carry
        # its 1/N into the cotangent T_kn/N before the division by A_kn in ∂(T log A)/∂A,
        # and for T_kn near the underflow threshold that flushes to 0 (XLA flushes
        # subnormals), giving 0/0 = NaN where A_kn has underflowed too. With N·J the
        # cotangent is T_kn itself (N·(1/N) is exactly 1), so Δ^(L)_kn is ±inf there, or 0
        # where the target factor is 0 (ffnn.losses); 1/N is applied last, as in Loss.Delta.
        Delta_L = jax.grad(lambda A_L: N * network.J.J_of_A(A_L, T, jax_namespace()))(A[-1]) / N
        return (grads, dX, probe_grads, Delta_L), (Z, A)

    return Compiled(loss=jax.jit(J), gradients=jax.jit(jax.grad(J)), backprop=jax.jit(backprop))

"""jit-compiled loss, gradient and trace functions, cached per (envelope, dtype).

The functions take a padded problem (``crosscheck.autodiff_oracle.padded``): in a padded envelope
σ_l, J, λ and N are run-time values, so one compilation serves every network whose padded shapes
match; an exact envelope (a problem beyond ``SMALL``) has σ_l and J compiled in.

A padded envelope compiles once, not three times: loss and gradients read their parts of
backprop's results (its arrays are tiny, the extra work microseconds), and it compiles with
``FAST_COMPILE``. An exact envelope's arrays can be large, so it compiles a forward-only loss,
a gradient without probes and the trace function separately, with XLA's default optimisation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from crosscheck.autodiff_oracle.objective import Probe, choose, padded_objective
from crosscheck.autodiff_oracle.padded import Envelope
from crosscheck.ffnn import LOSSES, jax_namespace

FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}
"""XLA options for padded envelopes: without LLVM's optimisation passes compiling takes about
half as long (0.65 s against 1.2 s for the float64 envelope of the ``crosscheck-ci`` sizes on
the benchmark machine), while its (8, 8)-sized arrays run in microseconds either way. The
arithmetic is the same IEEE operations: optimisation passes do not change XLA's semantics
(no fast-math on CPU), and ``crosscheck.compare.bounds`` bounds any summation order."""

CACHE_SIZE = 64
"""How many (envelope, dtype) entries ``compiled`` keeps (least recently used dropped)."""


class Compiled(NamedTuple):
    """The jitted functions of one (envelope, dtype); call them inside ``jax.enable_x64(True)``.

    Each takes the padded ``(params, X, T, spec)`` of ``crosscheck.autodiff_oracle.padded.pad``.
    loss: J, a scalar.
    gradients: L padded Layers (jax.grad of J with respect to params).
    backprop: ``(J, (grads, ∂J/∂X, probe gradients, Δ^(L)), (Z, A))``, all padded: one
        jax.value_and_grad over (params, X, zero probes), ``probe gradients[l-1]`` is
        Probe(Z=H^(l), A=Δ^(l)); and Δ^(L) = jax.grad of N·``J_of_A`` at A^(L), divided
        by N (eq 2.12; finite or ±inf, never NaN, where A^(L) underflows), since a J
        computed from the logits Z^(L) does not read A^(L).
    """

    loss: Callable
    gradients: Callable
    backprop: Callable


@functools.lru_cache(maxsize=CACHE_SIZE)
def compiled(envelope: Envelope, dtype: np.dtype) -> Compiled:
    """Build (once per (envelope, dtype)) the jitted functions that differentiate J.

    Args:
        envelope: the padded shapes (hashable; the cache key with `dtype`).
        dtype: float64 or float32, the dtype the functions will be called with.

    Returns:
        A ``Compiled``; the same object for equal (envelope, dtype), so JAX's jit cache is
        reused and a second call with the same padded shapes does not recompile.

    Raises:
        Nothing of its own.
    """

    fixed = envelope.fixed

    def J(params, X, T, spec):
        return padded_objective(params, X, T, spec, fixed=fixed)[0]

    def backprop(params, X, T, spec):
        probes = tuple(
            Probe(jnp.zeros((S, envelope.N), dtype), jnp.zeros((S, envelope.N), dtype))
            for S in envelope.sizes[1:]
        )
        value_and_grad = jax.value_and_grad(
            lambda p, x, q: padded_objective(p, x, T, spec, q, fixed),
            argnums=(0, 1, 2),
            has_aux=True,
        )
        (J_value, (Z, A)), (grads, dX, probe_grads) = value_and_grad(params, X, probes)
        # eq 2.12: Δ^(L) = ∂J/∂A^(L) of J written as a function of A^(L) (eqs 2.16, 2.16',
        # 2.16''), by linearity (1/N)·∂(N·J)/∂A^(L): differentiating J itself would carry
        # its 1/N into the cotangent T_kn/N before the division by A_kn in ∂(T log A)/∂A,
        # and for T_kn near the underflow threshold that flushes to 0 (XLA flushes
        # subnormals), giving 0/0 = NaN where A_kn has underflowed too. With N·J the
        # cotangent is T_kn itself (N·(1/N) is exactly 1), so Δ^(L)_kn is ±inf there, or 0
        # where the target factor is 0 (crosscheck.ffnn.losses); 1/N is applied last, as in
        # Loss.Delta.
        xp = jax_namespace()

        def N_J_of_A(A_L):
            # padded entries read as A = 0 = T: a term 0 in every J_of_A (crosscheck.ffnn.losses)
            mask = spec.rows[-1][:, None] & spec.columns[None, :]
            A_fill = xp.where(mask, A_L, 0.0)
            branches = [lambda A, J=J: J.J_of_A(A, T, xp, spec.N) for J in LOSSES.values()]
            return spec.N * choose(fixed and fixed[1], spec.loss, branches, A_fill)

        Delta_L = jax.grad(N_J_of_A)(A[-1]) / spec.N
        return J_value, (grads, dX, probe_grads, Delta_L), (Z, A)

    if fixed is None:  # padded: one compilation serves all three
        trace = jax.jit(backprop, compiler_options=FAST_COMPILE)
        return Compiled(
            loss=lambda *problem: trace(*problem)[0],
            gradients=lambda *problem: trace(*problem)[1][0],
            backprop=trace,
        )
    return Compiled(loss=jax.jit(J), gradients=jax.jit(jax.grad(J)), backprop=jax.jit(backprop))

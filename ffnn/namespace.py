"""Array namespaces: the few array functions the forward definitions use.

Every activation σ and loss J in `ffnn` is written once against a namespace `xp`, so the
same definition runs on NumPy arrays (reference, vectorized) and on JAX tracers
(autodiff_oracle, which differentiates it). `erfc` lives in `scipy.special` and
`jax.scipy.special` rather than in the array modules, hence this small adapter.

``stop_gradient`` is the identity in NumPy and ``jax.lax.stop_gradient`` under JAX: the
max subtracted in log-sum-exp (softmax, eq 2.17') is a constant for differentiation, as
the shift-invariance of softmax makes it mathematically.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import scipy.special

_ARRAY_FUNCTIONS = (
    "abs",
    "asarray",
    "exp",
    "expm1",
    "log",
    "log1p",
    "logaddexp",
    "maximum",
    "minimum",
    "sqrt",
    "sum",
    "tanh",
    "where",
    "zeros_like",
    "ones_like",
    "max",
)


def _make(module: object, special: object, stop_gradient: object) -> SimpleNamespace:
    functions = {name: getattr(module, name) for name in _ARRAY_FUNCTIONS}
    return SimpleNamespace(
        **functions,
        erfc=special.erfc,
        stop_gradient=stop_gradient,
    )


def _identity(x: object) -> object:
    return x


NUMPY = _make(np, scipy.special, _identity)
"""NumPy namespace (erfc from scipy.special)."""


def jax_namespace() -> SimpleNamespace:
    """Return the jax.numpy namespace; imports JAX only when called (ffnn never needs it).

    ``tanh`` and ``expm1`` are ``jax.lax``'s with ``accuracy=HIGHEST``: same forward values,
    but JAX then differentiates them as 4σ(2z)σ(−2z) and exp(z) instead of (1 − t)(1 + t)
    and ans + 1, which lose all relative accuracy as a tanh or ELU unit saturates.
    """
    from functools import partial

    import jax.numpy as jnp
    import jax.scipy.special
    from jax import lax

    xp = _make(jnp, jax.scipy.special, lax.stop_gradient)
    xp.tanh = partial(lax.tanh, accuracy=lax.AccuracyMode.HIGHEST)
    xp.expm1 = partial(lax.expm1, accuracy=lax.AccuracyMode.HIGHEST)
    return xp

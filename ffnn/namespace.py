"""Array namespaces: the few array functions the forward definitions use.

Every activation σ and loss J in `ffnn` is written once against a namespace `xp`, so the
same definition runs on NumPy arrays (reference, vectorized) and on JAX tracers
(autodiff_oracle, which differentiates it). `erf`/`erfc` live in `scipy.special` and
`jax.scipy.special` rather than in the array modules, hence this small adapter.
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


def _make(module: object, special: object) -> SimpleNamespace:
    functions = {name: getattr(module, name) for name in _ARRAY_FUNCTIONS}
    return SimpleNamespace(**functions, erf=special.erf, erfc=special.erfc, name=module.__name__)


NUMPY = _make(np, scipy.special)
"""NumPy namespace (erf/erfc from scipy.special)."""


def jax_namespace() -> SimpleNamespace:
    """Return the jax.numpy namespace; imports JAX only when called (ffnn never needs it)."""
    import jax.numpy as jnp
    import jax.scipy.special

    return _make(jnp, jax.scipy.special)

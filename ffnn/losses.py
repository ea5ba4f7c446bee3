"""Error functions J(T, A^(L)) and their output "errors" Δ^(L) = ∂J/∂A^(L).

`squared_error` is the seed's eq 2.16/2.17,

    J = 1/(2N) Σ_m Σ_j (A^(L)_jm − T_jm)²,

with Δ^(L) = (A^(L) − T)/N (eqs 2.18–2.21). It is *not* the "MSE" of other libraries
(mean over all S_L·N entries, without the ½).

Weight decay (an extension, DESIGN §4) adds (λ/2) Σ_l ‖W^(l)‖_F² to any loss; biases are
not decayed and the term is not divided by N. Its gradient adds λ·W^(l) to ∂J/∂W^(l).

The reference implementation writes these sums out index by index itself; this module
serves the matrix-form and autodiff implementations.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from ffnn.namespace import NUMPY


@dataclass(frozen=True)
class Loss:
    """One error function J with its derivative Δ^(L).

    Attributes:
        name: registry key, e.g. ``"squared_error"``.
        J: ``J(A, T, xp) -> scalar``; A and T of shape (S_L, N). Written once against the
            namespace ``xp``; dimensionless.
        Delta: ``Delta(A, T) -> ∂J/∂A``, NumPy, shape (S_L, N), same dtype as A.
        equations: the seed equations defining it.
    """

    name: str
    J: Callable[[Any, Any, SimpleNamespace], Any]
    Delta: Callable[[np.ndarray, np.ndarray], np.ndarray]
    equations: str

    def __call__(self, A: Any, T: Any, xp: SimpleNamespace = NUMPY) -> Any:
        return self.J(A, T, xp)


def _squared_error(A, T, xp):
    N = A.shape[1]
    return xp.sum((A - T) ** 2) / (2 * N)  # eq 2.17


def _squared_error_delta(A, T):
    N = A.shape[1]
    return (A - T) / N  # eq 2.21


LOSSES: dict[str, Loss] = {
    "squared_error": Loss("squared_error", _squared_error, _squared_error_delta, "2.16–2.21"),
}
"""Registry name → Loss."""

_OTHER_NAMES = {
    "mse": "squared_error",
    "mean_squared_error": "squared_error",
    "l2": "squared_error",
    "quadratic": "squared_error",
}


def weight_decay_term(Ws: Any, lam: float, xp: SimpleNamespace = NUMPY) -> Any:
    """(λ/2) Σ_l ‖W^(l)‖_F² for weights ``Ws[l-1]`` = W^(l) of shape (S_l, S_{l-1})."""
    return 0.5 * lam * sum(xp.sum(W * W) for W in Ws)


def get_loss(name: str) -> Loss:
    """Return the registered loss called `name`.

    Raises:
        TypeError: `name` is not a string.
        ValueError: unknown name; the message lists the known losses and, for names such
            as ``"mse"``, explains how they differ from eq 2.16 and which one to use.
    """
    if not isinstance(name, str):
        raise TypeError(f"loss name must be a str, got {type(name).__name__}: {name!r}")
    try:
        return LOSSES[name]
    except KeyError:
        pass
    known = ", ".join(LOSSES)
    if name.lower() in _OTHER_NAMES:
        suggestion = _OTHER_NAMES[name.lower()]
        hint = (
            f" Use {suggestion!r}: J = 1/(2N) Σ_n ‖a_n − t_n‖² (eq 2.16). Note it is not the"
            " 'MSE' of other libraries, which averages over all S_L·N entries without the ½."
        )
    else:
        close = difflib.get_close_matches(name, LOSSES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown loss {name!r}; known losses: {known}.{hint}")

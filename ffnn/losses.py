"""Error functions J and their output "errors" Δ^(L) = ∂J/∂A^(L) (eqs 2.12, 2.16–2.21).

`squared_error` is the seed's eq 2.16/2.17,

    J = 1/(2N) Σ_m Σ_j (A^(L)_jm − T_jm)²,

with Δ^(L) = (A^(L) − T)/N (eqs 2.18–2.21). It is *not* the "MSE" of other libraries
(mean over all S_L·N entries, without the ½). It fits any output activation.

Two classification losses extend the seed (docs/extensions.md):

- `cross_entropy` (eq 2.16'), with a softmax output layer:
  J = −1/N Σ_n Σ_k T_kn log A_kn, computed from the logits Z^(L) by log-sum-exp (eq 2.17');
  Δ^(L) = −T ⊘ (N A^(L)) (eq 2.21'); fused H^(L) = (A^(L) ⊙ 1 sᵗ − T)/N with
  s_n = Σ_k T_kn, i.e. (A^(L) − T)/N for columns summing to 1 (eq 2.8').
- `binary_cross_entropy` (eq 2.16''), with a sigmoid output layer:
  J = −1/N Σ_k Σ_n [T_kn log A_kn + (1 − T_kn) log(1 − A_kn)], computed from Z^(L) as
  log σ(z) = −log(1 + e^{−z}) by logaddexp (eq 2.17''); Δ^(L) (eq 2.21''); fused
  H^(L) = (A^(L) − T)/N (eq 2.8'').

Where an output underflows (A_kn = 0, or 1 − A_kn = 0 in float), Δ^(L) is ±inf — the exact
∂J/∂A^(L) of the definition at the rounded A — while J, H^(L) and every gradient stay
finite: they come from Z^(L) (eqs 2.17', 2.17'', 2.8', 2.8''). A term whose target factor
is 0 (T_kn = 0 in cross-entropy; T_kn = 0 or 1 in binary cross-entropy) is identically 0 in
A, so its contribution to Δ^(L) is 0, even at A_kn = 0 (no NaN), and its contribution to J
is 0 even at an infinite logit.

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

from crosscheck.ffnn import targets
from crosscheck.ffnn.namespace import NUMPY


@dataclass(frozen=True)
class Loss:
    """One error function J with its derivatives Δ^(L) and, if fused, H^(L).

    Attributes:
        name: registry key, e.g. ``"squared_error"``.
        J: ``J(Z, A, T, xp, N=None) -> scalar``, the value, with Z = Z^(L), A = A^(L) and T
            of shape (S_L, N); computed stably from whichever of Z and A suits (the logits Z
            for the classification losses). Written once against the namespace ``xp``. `N`,
            the count that divides the sum over samples, defaults to the number of columns;
            an evaluation on zero-padded arrays (``crosscheck.autodiff_oracle.padded``) passes the
            true N.
        J_of_A: ``J_of_A(A, T, xp, N=None) -> scalar``, the same J as a function of A^(L) alone:
            the definition whose ∂/∂A^(L) is Δ^(L) (eq 2.12). May be −log 0 = inf where an
            output has underflowed; the autodiff oracle differentiates it for Δ^(L) only.
        Delta: ``Delta(A, T) -> ∂J/∂A``, NumPy, shape (S_L, N), dtype of A; ±inf where an
            output has underflowed (no warning is emitted).
        equations: the equations defining it (seed numbers, primes for extensions).
        output_activation: the σ_L it requires (``"softmax"``, ``"sigmoid"``), or None for
            any output.
        H: for a loss with an `output_activation`, ``H(Z, A, T) -> ∂J/∂Z^(L)``, the fused
            closed form (eqs 2.8', 2.8''), NumPy, (S_L, N), finite; None otherwise.
        check_targets: ``check_targets(T)`` raises ValueError for targets outside the
            loss's domain (``crosscheck.ffnn.targets``); called by ``crosscheck.ffnn.validate``.
    """

    name: str
    J: Callable[[Any, Any, Any, SimpleNamespace], Any]
    J_of_A: Callable[[Any, Any, SimpleNamespace], Any]
    Delta: Callable[[np.ndarray, np.ndarray], np.ndarray]
    equations: str
    output_activation: str | None = None
    H: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None
    check_targets: Callable[[np.ndarray], None] = targets.any_targets


def _samples(A, N):
    # N divides the sums: the number of columns, unless a padded evaluation gives the true N.
    return A.shape[1] if N is None else N


def _squared_error(Z, A, T, xp, N=None):
    return _squared_error_of_A(A, T, xp, N)


def _squared_error_of_A(A, T, xp, N=None):
    return xp.sum((A - T) ** 2) / (2 * _samples(A, N))  # eq 2.17


def _squared_error_delta(A, T):
    N = A.shape[1]
    return (A - T) / N  # eq 2.21


def log_softmax(Z: Any, xp: SimpleNamespace = NUMPY) -> Any:
    """Eq 2.17': log A_kn = (Z_kn − m_n) − log Σ_k' exp(Z_k'n − m_n), m_n = max_k Z_kn.

    Log-sum-exp: every exp is <= 1 and the sum is >= 1, so there is no overflow and no
    log 0; the result is finite for finite Z. (S_L, N) in, (S_L, N) out, dtype of Z.
    """
    shifted = Z - xp.stop_gradient(xp.max(Z, axis=0, keepdims=True))
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=0, keepdims=True))


def _cross_entropy(Z, A, T, xp, N=None):
    # a term with T_kn = 0 is 0 even at a logit of −inf (a padded row,
    # crosscheck.autodiff_oracle.padded)
    terms = xp.where(T != 0, T * log_softmax(Z, xp), 0.0)
    return -xp.sum(terms) / _samples(Z, N)  # eqs 2.16', 2.17'


def _xlogy(T, A, xp):
    # T log A, 0 where T = 0 whatever A; the inner where keeps ∂/∂A at T = 0 equal to 0.
    positive = T > 0
    return xp.where(positive, T * xp.log(xp.where(positive, A, 1.0)), 0.0)


def _cross_entropy_of_A(A, T, xp, N=None):
    return -xp.sum(_xlogy(T, A, xp)) / _samples(A, N)  # eq 2.16'


def _ratio(T, A):
    # T/A, 0 where T = 0 (the term T log A is identically 0 there); +inf where A = 0 < T,
    # or where A is so small (subnormal) that T/A overflows.
    with np.errstate(divide="ignore", over="ignore"):
        return np.divide(T, A, out=np.zeros(np.broadcast(T, A).shape, A.dtype), where=T != 0)


def _cross_entropy_delta(A, T):
    N = A.shape[1]
    return -_ratio(T, A) / N  # eq 2.21'


def _cross_entropy_H(Z, A, T):
    N = A.shape[1]
    return (A * T.sum(axis=0) - T) / N  # eq 2.8'


def _binary_cross_entropy(Z, A, T, xp, N=None):
    # −log σ(z) = log(1 + e^{−z}), −log(1 − σ(z)) = −log σ(−z) = log(1 + e^{z})   (eq 2.17'');
    # a term whose target factor is 0 is 0 even at an infinite logit
    # (crosscheck.autodiff_oracle.padded)
    terms = xp.where(T != 0, T * xp.logaddexp(0.0, -Z), 0.0) + xp.where(
        T != 1, (1 - T) * xp.logaddexp(0.0, Z), 0.0
    )
    return xp.sum(terms) / _samples(Z, N)


def _binary_cross_entropy_of_A(A, T, xp, N=None):
    return -xp.sum(_xlogy(T, A, xp) + _xlogy(1 - T, 1 - A, xp)) / _samples(A, N)  # eq 2.16''


def _binary_cross_entropy_delta(A, T):
    N = A.shape[1]
    return (_ratio(1 - T, 1 - A) - _ratio(T, A)) / N  # eq 2.21''


def _binary_cross_entropy_H(Z, A, T):
    N = A.shape[1]
    return (A - T) / N  # eq 2.8''


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            "squared_error",
            _squared_error,
            _squared_error_of_A,
            _squared_error_delta,
            "2.16–2.21",
        ),
        Loss(
            "cross_entropy",
            _cross_entropy,
            _cross_entropy_of_A,
            _cross_entropy_delta,
            "2.16'–2.21', 2.8'",
            output_activation="softmax",
            H=_cross_entropy_H,
            check_targets=targets.probability_columns,
        ),
        Loss(
            "binary_cross_entropy",
            _binary_cross_entropy,
            _binary_cross_entropy_of_A,
            _binary_cross_entropy_delta,
            "2.16''–2.21'', 2.8''",
            output_activation="sigmoid",
            H=_binary_cross_entropy_H,
            check_targets=targets.unit_interval,
        ),
    )
}
"""Registry name → Loss."""

_OTHER_NAMES = {
    "mse": "squared_error",
    "mean_squared_error": "squared_error",
    "l2": "squared_error",
    "quadratic": "squared_error",
    "categorical_crossentropy": "cross_entropy",
    "categorical_cross_entropy": "cross_entropy",
    "crossentropy": "cross_entropy",
    "nll": "cross_entropy",
    "log_loss": "binary_cross_entropy",
    "bce": "binary_cross_entropy",
    "binary_crossentropy": "binary_cross_entropy",
}

_HINTS = {
    "squared_error": (
        " Use 'squared_error': J = 1/(2N) Σ_n ‖a_n − t_n‖² (eq 2.16). Note it is not the"
        " 'MSE' of other libraries, which averages over all S_L·N entries without the ½."
    ),
    "cross_entropy": (
        " Use 'cross_entropy': J = −1/N Σ_n Σ_k T_kn log A_kn (eq 2.16'), with a softmax"
        " output layer."
    ),
    "binary_cross_entropy": (
        " Use 'binary_cross_entropy': J = −1/N Σ_k,n [T log A + (1 − T) log(1 − A)]"
        " (eq 2.16''), with a sigmoid output layer."
    ),
}


def weight_decay_term(Ws: Any, lam: float, xp: SimpleNamespace = NUMPY) -> Any:
    """(λ/2) Σ_l ‖W^(l)‖_F² for weights ``Ws[l-1]`` = W^(l) of shape (S_l, S_{l-1})."""
    return 0.5 * lam * sum(xp.sum(W * W) for W in Ws)


def get_loss(name: str) -> Loss:
    """Return the registered loss called `name`.

    Raises:
        TypeError: `name` is not a string.
        ValueError: unknown name; the message lists the known losses and, for names such
            as ``"mse"`` or ``"bce"``, says which one to use and what it computes.
    """
    if not isinstance(name, str):
        raise TypeError(f"loss name must be a str, got {type(name).__name__}: {name!r}")
    try:
        return LOSSES[name]
    except KeyError:
        pass
    known = ", ".join(LOSSES)
    if name.lower() in _OTHER_NAMES:
        hint = _HINTS[_OTHER_NAMES[name.lower()]]
    else:
        close = difflib.get_close_matches(name, LOSSES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown loss {name!r}; known losses: {known}.{hint}")

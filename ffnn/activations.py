"""Activation functions σ_l and their derivatives σ'_l (eq 1.4, eqs 2.2, 2.13, 2.34, 2.2').

Each activation pairs a forward definition `sigma(Z, xp)`, written once against an array
namespace (`crosscheck.ffnn.namespace`), with a derivative `sigma_prime(Z)` in NumPy computed stably
*from Z* — never from A: σ' written as A(1−A) or 1−A² loses all relative accuracy as a
unit saturates (at z = 40 the form 1−tanh² gives 0 where sech² gives 7e-35).

The autodiff oracle differentiates `sigma` and never calls `sigma_prime`.

Conventions (documented extensions of the seed, DESIGN §4):
- ReLU'(0) = 0 and leaky ReLU'(0) = 0.01: the derivative at the kink is the left one.
  `relu` is written with `where(z > 0, z, 0)`, whose autodiff derivative at 0 is 0
  (a plain `maximum(z, 0)` gives ½ under JAX).
- ELU (α = 1) is continuously differentiable; its expm1 branch is evaluated at
  min(z, 0) only, so autodiff never multiplies a zero cotangent by an overflowed exp.
- GELU is the exact form 0.5·z·erfc(−z/√2) (erfc keeps the far-negative tail accurate).
- softmax is *not* elementwise: it acts on each column, A_kn = exp(Z_kn)/Σ_k' exp(Z_k'n),
  computed as exp(Z_kn − m_n)/Σ_k' exp(Z_k'n − m_n) with m_n = max_k Z_kn (no overflow).
  Its derivative is the per-column Jacobian (docs/extensions.md, eq 2.2'):

      ∂A_kn/∂Z_k'n' = J_kk'(n) δ_nn',   J_kk'(n) = A_kn (δ_kk' − A_k'n),

  offered by ``Activation.jacobian``; its ``sigma_prime`` raises TypeError, since eq 2.13's
  Hadamard product does not apply (eq 2.13' replaces it).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import scipy.special

from crosscheck.ffnn.namespace import NUMPY

_SQRT2 = float(np.sqrt(2.0))
_INV_SQRT_2PI = float(1.0 / np.sqrt(2.0 * np.pi))
_TAIL = 400.0
"""|z| beyond which e^{−2|z|} and e^{−z²/2} are 0 in float64 (e^{−800}); σ' caps |z| here."""


@dataclass(frozen=True)
class Activation:
    """One activation σ with its derivative σ'.

    Attributes:
        name: registry key, e.g. ``"tanh"``.
        sigma: ``sigma(Z, xp) -> A``; Z of any shape (S_l, N), same shape and dtype out.
            Written once against the namespace ``xp`` (``crosscheck.ffnn.namespace.NUMPY`` or
            JAX's).
        sigma_prime: ``sigma_prime(Z) -> dA/dZ`` elementwise, NumPy, same shape and dtype
            as Z, evaluated stably from Z.
            For a non-elementwise σ (softmax) it raises TypeError.
        kinks: points z where σ is not differentiable (derivative there is by convention).
        elementwise: True if A_kn depends on Z_kn alone (eq 2.2); False for softmax, whose
            A_kn depends on the whole column Z_:n (eq 2.2').
        column_jacobian: for a non-elementwise σ, ``column_jacobian(Z) -> J`` of shape
            (S_l, S_l, N) with ``J[k, k', n]`` = ∂A_kn/∂Z_k'n (eq 2.2'); None otherwise.
    """

    name: str
    sigma: Callable[[Any, SimpleNamespace], Any]
    sigma_prime: Callable[[np.ndarray], np.ndarray]
    kinks: tuple[float, ...] = ()
    elementwise: bool = True
    column_jacobian: Callable[[np.ndarray], np.ndarray] | None = None

    def __call__(self, Z: Any, xp: SimpleNamespace = NUMPY) -> Any:
        return self.sigma(Z, xp)

    def jacobian(self, Z: np.ndarray) -> np.ndarray:
        """Eqs 2.2, 2.2': the per-column Jacobian J_kk'(n) = ∂A_kn/∂Z_k'n, stable from Z.

        The full derivative is ∂A_kn/∂Z_k'n' = J_kk'(n) δ_nn' (columns never mix). For an
        elementwise σ, J_kk'(n) = σ'(Z_kn) δ_kk'; for softmax, A_kn (δ_kk' − A_k'n).

        Args:
            Z: (S_l, N) pre-activations Z^(l), float32 or float64 (NumPy).

        Returns:
            (S_l, S_l, N) array ``J[k, k', n]``, the dtype of Z; a new array.

        Raises:
            Nothing of its own.
        """
        if self.column_jacobian is not None:
            return self.column_jacobian(Z)
        sigma_prime = self.sigma_prime(Z)
        eye = np.eye(Z.shape[0], dtype=sigma_prime.dtype)
        return eye[:, :, None] * sigma_prime[:, None, :]  # δ_kk' σ'(Z_kn)


def _identity(Z, xp):
    return Z


def _identity_prime(Z):
    return np.ones_like(Z)


def _sigmoid(Z, xp):
    # σ(z) = 1/(1 + e^{-z}) = exp(−log(1 + e^{−z})): no overflow, full relative accuracy.
    return xp.exp(-xp.logaddexp(0.0, -Z))


def _sigmoid_prime(Z):
    # σ'(z) = σ(z)·σ(−z) = e^{−|z|}/(1 + e^{−|z|})²: one exp, symmetric, no overflow, and
    # no u·|z| lost in an exponent as exp(−logaddexp(0, −z) − logaddexp(0, z)) would.
    e = np.exp(-np.abs(Z))
    return e / (1.0 + e) ** 2


def _tanh(Z, xp):
    return xp.tanh(Z)


def _tanh_prime(Z):
    # sech²(z) = 4e^{−2|z|}/(1 + e^{−2|z|})², not 1 − tanh²(z). |z| is capped at _TAIL,
    # where e^{−2|z|} is 0 in float64 already, so that 2|z| cannot overflow for |z| > 9e307.
    e = np.exp(-2.0 * np.minimum(np.abs(Z), _TAIL))
    return 4.0 * e / (1.0 + e) ** 2


def _relu(Z, xp):
    return xp.where(Z > 0, Z, 0.0)


def _relu_prime(Z):
    return np.where(Z > 0, 1.0, 0.0).astype(np.result_type(Z))


LEAKY_SLOPE = 0.01
"""Slope of leaky ReLU for z ≤ 0."""


def _leaky_relu(Z, xp):
    return xp.where(Z > 0, Z, LEAKY_SLOPE * Z)


def _leaky_relu_prime(Z):
    return np.where(Z > 0, 1.0, LEAKY_SLOPE).astype(np.result_type(Z))


def _softplus(Z, xp):
    return xp.logaddexp(0.0, Z)


def _softplus_prime(Z):
    # softplus'(z) = σ(z), computed stably.
    return _sigmoid(Z, NUMPY)


def _elu(Z, xp):
    return xp.where(Z > 0, Z, xp.expm1(xp.where(Z > 0, 0.0, Z)))


def _elu_prime(Z):
    return np.where(Z > 0, 1.0, np.exp(np.minimum(Z, 0.0))).astype(np.result_type(Z))


def _gelu(Z, xp):
    return 0.5 * Z * xp.erfc(-Z / _SQRT2)


def _gelu_prime(Z):
    # Φ(z) + z·φ(z); z² is taken of |z| capped at _TAIL, where φ(z) is 0 in float64 already,
    # so that it cannot overflow for |z| > 1.3e154.
    capped = np.minimum(np.abs(Z), _TAIL)
    phi = _INV_SQRT_2PI * np.exp(-0.5 * capped * capped)
    return 0.5 * scipy.special.erfc(-Z / _SQRT2) + Z * phi


def _softmax(Z, xp):
    # A_kn = exp(Z_kn − m_n)/Σ_k' exp(Z_k'n − m_n): m_n = max_k Z_kn keeps exp <= 1, and
    # one term is exp(0) = 1, so the sum is >= 1. The shift is constant under autodiff.
    E = xp.exp(Z - xp.stop_gradient(xp.max(Z, axis=0, keepdims=True)))
    return E / xp.sum(E, axis=0, keepdims=True)


def _softmax_prime(Z):
    raise TypeError(
        "softmax is not elementwise: ∂A_kn/∂Z_k'n' = J_kk'(n) δ_nn' (eq 2.2'), so there is"
        " no σ' for eq 2.13's Hadamard product; use Activation.jacobian (eq 2.13')"
    )


def _softmax_jacobian(Z):
    # J_kk'(n) = A_kn (δ_kk' − A_k'n): −A_kn A_k'n off the diagonal; on it A_kn (1 − A_kn),
    # with 1 − A_kn = Σ_{k'≠k} A_k'n summed directly (1 − A loses all relative accuracy as a
    # unit saturates, at z = 40 against 0 it gives 0 where the value is 4e-18).
    A = _softmax(Z, NUMPY)
    S = Z.shape[0]
    eye = np.eye(S, dtype=A.dtype)
    J = -A[:, None, :] * A[None, :, :]
    others = (1 - eye) @ A  # Σ_{k'≠k} A_k'n, a sum of non-negative terms
    J[np.arange(S), np.arange(S), :] = A * others
    return J


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("identity", _identity, _identity_prime),
        Activation("sigmoid", _sigmoid, _sigmoid_prime),
        Activation("tanh", _tanh, _tanh_prime),
        Activation("relu", _relu, _relu_prime, kinks=(0.0,)),
        Activation("leaky_relu", _leaky_relu, _leaky_relu_prime, kinks=(0.0,)),
        Activation("softplus", _softplus, _softplus_prime),
        Activation("elu", _elu, _elu_prime),
        Activation("gelu", _gelu, _gelu_prime),
        Activation(
            "softmax",
            _softmax,
            _softmax_prime,
            elementwise=False,
            column_jacobian=_softmax_jacobian,
        ),
    )
}
"""Registry name → Activation. All are elementwise except ``softmax`` (over each column)."""


def get_activation(name: str) -> Activation:
    """Return the registered activation called `name`.

    Raises:
        TypeError: `name` is not a string.
        ValueError: unknown name; the message lists the known ones and a close match.
    """
    if not isinstance(name, str):
        raise TypeError(f"activation name must be a str, got {type(name).__name__}: {name!r}")
    try:
        return ACTIVATIONS[name]
    except KeyError:
        close = difflib.get_close_matches(name, ACTIVATIONS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown activation {name!r}; known activations: {', '.join(ACTIVATIONS)}.{hint}"
        ) from None

"""Activation functions σ_l and their derivatives σ'_l (eq 1.4, eqs 2.2, 2.13, 2.34).

Each activation pairs a forward definition `sigma(Z, xp)`, written once against an array
namespace (`ffnn.namespace`), with a derivative `sigma_prime(Z)` in NumPy computed stably
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
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import scipy.special

from ffnn.namespace import NUMPY

_SQRT2 = float(np.sqrt(2.0))
_INV_SQRT_2PI = float(1.0 / np.sqrt(2.0 * np.pi))


@dataclass(frozen=True)
class Activation:
    """One activation σ with its derivative σ'.

    Attributes:
        name: registry key, e.g. ``"tanh"``.
        sigma: ``sigma(Z, xp) -> A``; Z of any shape (S_l, N), same shape and dtype out.
            Written once against the namespace ``xp`` (``ffnn.namespace.NUMPY`` or JAX's).
        sigma_prime: ``sigma_prime(Z) -> dA/dZ`` elementwise, NumPy, same shape and dtype
            as Z, evaluated stably from Z.
        kinks: points z where σ is not differentiable (derivative there is by convention).
    """

    name: str
    sigma: Callable[[Any, SimpleNamespace], Any]
    sigma_prime: Callable[[np.ndarray], np.ndarray]
    kinks: tuple[float, ...] = ()

    def __call__(self, Z: Any, xp: SimpleNamespace = NUMPY) -> Any:
        return self.sigma(Z, xp)


def _identity(Z, xp):
    return Z


def _identity_prime(Z):
    return np.ones_like(Z)


def _sigmoid(Z, xp):
    # σ(z) = 1/(1 + e^{-z}) = exp(−log(1 + e^{−z})): no overflow, full relative accuracy.
    return xp.exp(-xp.logaddexp(0.0, -Z))


def _sigmoid_prime(Z):
    # σ'(z) = σ(z)·σ(−z), both factors from Z.
    return np.exp(-np.logaddexp(0.0, -Z) - np.logaddexp(0.0, Z))


def _tanh(Z, xp):
    return xp.tanh(Z)


def _tanh_prime(Z):
    # sech²(z) = 4e^{−2|z|}/(1 + e^{−2|z|})², not 1 − tanh²(z).
    e = np.exp(-2.0 * np.abs(Z))
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
    # Φ(z) + z·φ(z)
    return 0.5 * scipy.special.erfc(-Z / _SQRT2) + Z * _INV_SQRT_2PI * np.exp(-0.5 * Z * Z)


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
    )
}
"""Registry name → Activation. Every entry is elementwise."""


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

"""Elementwise steps of the matrix form, fused and written into given buffers where it pays.

A straightforward pass spends a large share of its time outside the matrix products: fresh
(S_l, N) temporaries (page faults) and several passes over memory per elementwise step.
These kernels write into a buffer chosen by the caller (``out``) and fuse what they can:

- σ = tanh: A = tanh(Z) in place; σ' = sech²(Z) (eq 2.13) with ffnn's stable form
  sech²(z) = 4e/(1 + e)², e = exp(−2|z|), evaluated operation for operation as ffnn does
  (so H = Δ ⊙ σ' is bit-identical to ``Delta * sigma.sigma_prime(Z)``) but in two buffers,
  in place.
- σ = identity: A = Z (no copy) and H = Δ (σ' = 1).
- J = squared error: Δ^(L) = (A^(L) − T)/N (eq 2.21) in two in-place passes.
Any other σ or J falls back to its definition in ``ffnn`` (a fresh array).
"""

from __future__ import annotations

import numpy as np
from crosscheck.ffnn import NUMPY, Activation, Loss


def activate(sigma: Activation, Z: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """Eq 1.4: A^(l) = σ_l(Z^(l)), into `out` where σ has an in-place kernel.

    Args:
        sigma: the activation σ_l.
        Z: (S_l, N) pre-activations, float32 or float64.
        out: (S_l, N) buffer of Z's dtype for A^(l), or None for a fresh array. Ignored
            where σ has no in-place kernel (``needs_buffer(sigma)`` is False).

    Returns:
        (S_l, N) A^(l): Z itself for identity, `out` (or a fresh array) for tanh, else
        σ's own result (fresh).

    Raises:
        Nothing beyond NumPy's own errors.
    """
    if sigma.name == "identity":
        return Z
    if sigma.name == "tanh":
        return np.tanh(Z, out=out)
    return sigma.sigma(Z, NUMPY)


def needs_buffer(sigma: Activation) -> bool:
    """True if `sigma` has in-place kernels (tanh): A^(l) and σ'_l's scratch are buffers."""
    return sigma.name == "tanh"


def sigma_prime(
    sigma: Activation, Z: np.ndarray, out: np.ndarray, scratch: np.ndarray
) -> np.ndarray:
    """Eq 2.13's σ'_l(Z^(l)) for an elementwise σ_l other than identity, into `out` for tanh.

    Args:
        sigma: the elementwise activation σ_l.
        Z: (S_l, N) pre-activations Z^(l).
        out: (S_l, N) buffer of Z's dtype for σ'(Z) (tanh); may be Z itself (then Z is
            destroyed).
        scratch: (S_l, N) buffer of Z's dtype, overwritten (tanh); shares memory with
            neither Z nor out.

    Returns:
        `out` holding sech²(Z) for tanh; ``sigma.sigma_prime(Z)`` (fresh) for any other σ.

    Raises:
        Nothing beyond NumPy's own errors.
    """
    if sigma.name != "tanh":
        return sigma.sigma_prime(Z)
    # sech²(Z) = 4e/(1 + e)², e = exp(−2|Z|), as ffnn computes it
    e = np.exp(np.multiply(np.abs(Z, out=out), -2.0, out=out), out=out)
    denominator = np.square(np.add(e, 1.0, out=scratch), out=scratch)
    return np.divide(np.multiply(e, 4.0, out=out), denominator, out=out)


def hadamard_sigma_prime(
    sigma: Activation, Z: np.ndarray, Delta: np.ndarray, out: np.ndarray, scratch: np.ndarray
) -> np.ndarray:
    """Eqs 2.13, 2.34: H^(l) = Δ^(l) ⊙ σ'_l(Z^(l)) for an elementwise σ_l, written into `out`.

    Args:
        sigma: the elementwise activation σ_l.
        Z: (S_l, N) pre-activations Z^(l).
        Delta: (S_l, N) Δ^(l) = ∂J/∂A^(l), Z's dtype.
        out: (S_l, N) buffer of Z's dtype for H^(l); may be Z itself (then Z is destroyed),
            must not share memory with Delta.
        scratch: (S_l, N) buffer of Z's dtype, overwritten (tanh); shares memory with
            none of Z, Delta, out.

    Returns:
        `out`, holding H^(l).

    Raises:
        Nothing beyond NumPy's own errors.
    """
    if sigma.name == "identity":
        np.copyto(out, Delta)  # σ' = 1
        return out
    # σ'(Z) is complete before out (which may be Z) receives the product
    return np.multiply(Delta, sigma_prime(sigma, Z, out, scratch), out=out)


def output_delta(loss: Loss, A_L: np.ndarray, T: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """Eq 2.21 (2.21', 2.21''): Δ^(L) = ∂J/∂A^(L), into `out` for squared error.

    Args:
        loss: the network's J.
        A_L: (S_L, N) outputs A^(L).
        T: (S_L, N) targets, A_L's dtype.
        out: (S_L, N) buffer for Δ^(L) (may be A_L itself), or None for a fresh array.

    Returns:
        (S_L, N) Δ^(L): `out` (or a fresh array) for squared error, (A^(L) − T)/N;
        ``loss.Delta(A_L, T)`` (fresh) for any other J.

    Raises:
        Nothing beyond NumPy's own errors.
    """
    if loss.name != "squared_error":
        return loss.Delta(A_L, T)
    Delta = np.subtract(A_L, T, out=out)
    return np.divide(Delta, A_L.shape[1], out=Delta)  # eq 2.21: (A^(L) − T)/N

"""Elementwise kernels of the matrix form: A = σ(Z) and σ'(Z) in one step, in given buffers.

Every built-in elementwise σ has a kernel made of NumPy's vectorised (SIMD) ufuncs, each
writing into a buffer the caller chose, so a pass allocates nothing and reads Z^(l) once
for both A^(l) (eq 1.4) and σ'_l(Z^(l)) (eqs 2.13, 2.34). The forms are stable in both
tails and evaluate σ and σ' from Z, never from A (σ' as A(1 − A) or 1 − A² loses all
relative accuracy as a unit saturates). ffnn's definitions (``Activation.sigma``,
``Activation.sigma_prime``) stay the formalism; these kernels agree with them to a few ulps
(tests/test_kernels.py), within the ``SIGMA_ULPS`` that the derived bound assumes
(``crosscheck.compare.bounds``):

=========== ======================================= =========================================
σ           A = σ(z)                                 σ'(z)
=========== ======================================= =========================================
tanh        tanh(z)                                  1/(1 + sinh²(z))
sigmoid     1 − t (z >= 0), t (z < 0);               t(1 − t) = σ(z)σ(−z)
            t = σ(−|z|) = e^{−|z|}/(1 + e^{−|z|})
softplus    max(z, 0) + log1p(e^{−|z|})              1/(1 + e^{−z})
relu        max(z, 0)                                [z > 0]           (ReLU'(0) = 0)
leaky_relu  max(z, 0.01 z)                           max([z > 0], 0.01)
elu         max(z, expm1(min(z, 0)))                 exp(min(z, 0))
gelu        z Φ(z): Φ = 1 − T (z >= 0), T (z < 0);  Φ(z) + z φ(z), φ(z) = e^{−z²/2}/√(2π)
            T = Φ(−|z|) = ndtr(−|z|)                 (z φ(z) in float64)
=========== ======================================= =========================================

Where e^{−z}, sinh² or cosh overflows (|z| beyond about 355 in float64, 44 in float32) the
forms give 0 where the exact value is below the smallest normal number, which the bound's
underflow term covers; the kernels run inside ``crosscheck.ffnn.overflow_guard``, which
silences those overflow warnings. GELU evaluates Φ with ``scipy.special.ndtr`` on its small
side only (8.5 ns an entry on standard normal z against 12.6 for ndtr(z) and 12.8 for
erfc(−z/√2): its branch on the sign goes one way), the one σ here without a SIMD form.
Measured margins (the largest error over the allowance, tools/kernel_margins.py) are in
docs/performance.md.
Identity needs no kernel (A is Z, σ' = 1); softmax is not elementwise
(``crosscheck.vectorized.jacobians``). An elementwise σ registered in ffnn without a kernel
here falls back to ffnn's definitions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import scipy.special

from crosscheck.ffnn import NUMPY, Activation, Loss
from crosscheck.ffnn.activations import LEAKY_SLOPE

_SQRT2 = float(np.sqrt(2.0))
_INV_SQRT_2PI = float(1.0 / np.sqrt(2.0 * np.pi))

Result = tuple[np.ndarray, np.ndarray | None]
"""``(A, S)``: σ(Z) and σ'(Z) (None where not asked for), each in one of the given buffers."""


class Kernel(NamedTuple):
    """The kernel of one elementwise σ.

    evaluate: ``evaluate(Z, other, scratch, derivative) -> (A, S)``. Z, other and scratch
        are distinct (S_l, N) arrays of one float dtype, Z holding Z^(l). Writes A = σ(Z)
        and, if `derivative`, S = σ'(Z) into Z and other (which holds which is the
        kernel's choice; the result says); scratch is overwritten. Without `derivative`,
        A goes into other and Z is left intact.
    scratch: whether `evaluate` uses scratch (callers may pass None otherwise).
    cost: about the nanoseconds per entry of `evaluate` with the derivative on one core
        (float64, a layer in cache; AMD Zen 4, NumPy 2.4), which decides whether splitting
        it among threads pays (``crosscheck.vectorized.parallel``).
    wide: whether scratch is float64 whatever Z's dtype (``scratch_dtype``): the kernel
        evaluates part of σ' in float64 where float32 would use up the allowance.
    """

    evaluate: Callable[[np.ndarray, np.ndarray, np.ndarray | None, bool], Result]
    scratch: bool = False
    cost: float = 3.0
    wide: bool = False

    def scratch_dtype(self, dtype: np.dtype) -> np.dtype:
        """The dtype of the scratch `evaluate` takes for Z of `dtype`: float64 if `wide`."""
        return np.dtype(np.float64) if self.wide else np.dtype(dtype)


def _sech_squared(X: np.ndarray) -> np.ndarray:
    # 1/cosh²(x) = 1/(1 + sinh²(x)) in place: sinh(x) keeps its relative accuracy next to 0,
    # where cosh(x) = 1 + x²/2 falls on the coarse spacing of floats just above 1 (squared
    # and inverted that used 7 of float32's 8 allowed ulps at x = 0.1); sinh² overflows to
    # inf beyond |x| ≈ 355 (44 in float32), where the exact value is below the smallest
    # normal number; 1/inf = 0 then.
    np.sinh(X, out=X)
    np.square(X, out=X)
    np.add(X, 1.0, out=X)
    return np.divide(1.0, X, out=X)


def _logistic(X: np.ndarray) -> np.ndarray:
    # σ(x) = 1/(1 + e^{−x}) in place: e^{−x} overflows (to inf, σ to 0) only below x ≈ −709,
    # where σ(x) < 2·tiny.
    np.negative(X, out=X)
    np.exp(X, out=X)
    np.add(X, 1.0, out=X)
    return np.divide(1.0, X, out=X)


def _tanh(Z: np.ndarray, other: np.ndarray, scratch: np.ndarray | None, derivative: bool) -> Result:
    """A = tanh(z); σ'(z) = sech²(z) = 1/(1 + sinh²(z)) (not 1 − A²)."""
    A = np.tanh(Z, out=other)
    return A, _sech_squared(Z) if derivative else None


def _sigmoid(
    Z: np.ndarray, other: np.ndarray, scratch: np.ndarray | None, derivative: bool
) -> Result:
    """With t = σ(−|z|) = e/(1 + e), e = e^{−|z|} in (0, ½]: A = 1 − t for z >= +0 and t for
    z <= −0, so that A rounds correctly next to 1 as well as next to 0 (1/(1 + e^{−z}) gives
    1 where 1 − e^{−z} is the nearest float); σ'(z) = σ(z)σ(−z) = t(1 − t) (not A(1 − A))."""
    e = np.abs(Z, out=other)
    np.negative(e, out=e)
    np.exp(e, out=e)
    t = np.divide(e, np.add(e, 1.0, out=scratch), out=scratch)
    S = None
    if derivative:
        S = np.subtract(1.0, t, out=other)
        np.multiply(S, t, out=S)
    signed = np.negative(np.copysign(t, Z, out=t), out=t)  # −t for z >= +0, +t for z <= −0
    A = other if S is None else Z
    np.signbit(Z, out=A)
    np.subtract(1.0, A, out=A)  # 1 for z >= +0, 0 for z <= −0: exact
    return np.add(A, signed, out=A), S


def _softplus(
    Z: np.ndarray, other: np.ndarray, scratch: np.ndarray | None, derivative: bool
) -> Result:
    """A = log(1 + e^z) = max(z, 0) + log1p(e^{−|z|}) (logaddexp's form); σ'(z) = σ(z)."""
    tail = np.abs(Z, out=scratch)
    np.negative(tail, out=tail)
    np.exp(tail, out=tail)
    np.log1p(tail, out=tail)  # log1p(e^{−|z|}) in (0, log 2]
    A = np.maximum(Z, 0.0, out=other)
    np.add(A, tail, out=A)
    return A, _logistic(Z) if derivative else None


def _relu(Z: np.ndarray, other: np.ndarray, scratch: np.ndarray | None, derivative: bool) -> Result:
    """A = max(z, 0); σ'(z) = 1 for z > 0, else 0 (ReLU'(0) = 0)."""
    A = np.maximum(Z, 0.0, out=other)
    return A, np.greater(Z, 0.0, out=Z) if derivative else None


def _leaky_relu(
    Z: np.ndarray, other: np.ndarray, scratch: np.ndarray | None, derivative: bool
) -> Result:
    """A = max(z, 0.01 z); σ'(z) = max([z > 0], 0.01): 1 for z > 0, else 0.01."""
    A = np.multiply(Z, LEAKY_SLOPE, out=other)
    np.maximum(Z, A, out=A)
    if not derivative:
        return A, None
    S = np.greater(Z, 0.0, out=Z)
    return A, np.maximum(S, LEAKY_SLOPE, out=S)


def _elu(Z: np.ndarray, other: np.ndarray, scratch: np.ndarray | None, derivative: bool) -> Result:
    """A = max(z, expm1(min(z, 0))) (expm1(z) >= z); σ'(z) = exp(min(z, 0)): 1 for z > 0."""
    negative_part = np.minimum(Z, 0.0, out=scratch)
    A = np.expm1(negative_part, out=other)
    np.maximum(Z, A, out=A)
    return A, np.exp(negative_part, out=Z) if derivative else None


def _gelu(Z: np.ndarray, other: np.ndarray, scratch: np.ndarray | None, derivative: bool) -> Result:
    """A = z Φ(z), σ'(z) = Φ(z) + z φ(z), φ(z) = e^{−z²/2}/√(2π). Φ from its small side,
    T = Φ(−|z|) (``scipy.special.ndtr`` of a non-positive argument, in float64 whatever Z's
    dtype, rounded once): Φ = T for z <= −0 and 1 − T (T <= ½, no cancellation) for
    z >= +0. z φ(z) in float64 (`scratch` is float64): z² of a float32 z is exact there,
    where float32's rounded z² and exp would use most of the allowance next to z = −√2
    (σ'' = 0 there, so the argument term allows nothing)."""
    T = np.negative(np.abs(Z, out=other), out=other)
    scipy.special.ndtr(T, out=T)
    H = np.signbit(Z, out=scratch)
    np.subtract(1.0, H, out=H)  # 1 for z >= +0, 0 for z <= −0: exact
    Phi = np.subtract(H, np.copysign(T, Z, out=T), out=other)
    if not derivative:
        return np.multiply(Z, Phi, out=other), None
    z_phi = np.multiply(Z, Z, out=scratch, dtype=np.float64)  # 0 in exp where z² overflows
    np.multiply(z_phi, -0.5, out=z_phi)
    np.exp(z_phi, out=z_phi)
    np.multiply(z_phi, _INV_SQRT_2PI, out=z_phi)
    np.multiply(z_phi, Z, out=z_phi)
    A = np.multiply(Z, Phi, out=Z)
    return A, np.add(Phi, z_phi, out=other)


KERNELS: dict[str, Kernel] = {
    "tanh": Kernel(_tanh, cost=3.0),
    "sigmoid": Kernel(_sigmoid, scratch=True, cost=3.5),
    "softplus": Kernel(_softplus, scratch=True, cost=4.0),
    "relu": Kernel(_relu, cost=0.8),
    "leaky_relu": Kernel(_leaky_relu, cost=1.1),
    "elu": Kernel(_elu, scratch=True, cost=2.6),
    "gelu": Kernel(_gelu, scratch=True, cost=13.0, wide=True),  # scipy.special.ndtr: 8.5 ns
}
"""Name of an elementwise activation → its kernel. Identity needs none (A = Z, σ' = 1)."""


def _definitions(sigma: Activation) -> Kernel:
    """ffnn's own σ and σ' (fresh arrays, then copied in) for a σ without a kernel here."""

    def evaluate(
        Z: np.ndarray, other: np.ndarray, scratch: np.ndarray | None, derivative: bool
    ) -> Result:
        np.copyto(other, sigma.sigma(Z, NUMPY))
        if derivative:
            np.copyto(Z, sigma.sigma_prime(Z))
        return other, Z if derivative else None

    return Kernel(evaluate, cost=20.0)  # ffnn's fresh arrays: a cost to split


def kernel(sigma: Activation) -> Kernel | None:
    """The kernel of σ: None for identity (A = Z) and for a σ that is not elementwise.

    Raises:
        Nothing of its own.
    """
    if sigma.name == "identity" or not sigma.elementwise:
        return None
    return KERNELS.get(sigma.name) or _definitions(sigma)


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

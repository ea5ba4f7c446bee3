"""X @ Y for non-negative float64 X, Y, bounded from above in float32 arithmetic where that is
cheaper: the matrix products of the running error bound (``crosscheck.compare.bounds``).

The bound's products multiply magnitudes (|W|, |A|, |H| and the propagated bounds), and the
bound need not be exact, only an upper bound no looser than it must be. A float32 product
(SGEMM) costs half a float64 one, so ``upper_product`` computes a large one in float32 and
rounds the result up:

1. Scale. X' = X/s_X and Y' = Y/s_Y with s_X, s_Y powers of two above max X, max Y
   (exact in float64), so every entry lies in [0, 1) and no sum of k of their products
   overflows float32.
2. Round to float32, to nearest: X̃ = X'(1 + δ), |δ| <= v = 2⁻²⁴, where X' is normal in
   float32; |X' − X̃| <= t below that (t = float32's smallest normal, 1.2e-38, whether the
   conversion keeps subnormals or flushes them). Either way X' <= X̃/(1 − v) + t, and so
   X'Y' <= X̃Ỹ/(1 − v)² + k(2t/(1 − v) + t²) <= X̃Ỹ/(1 − v)² + 3k·t (X̃, Ỹ <= 1).
3. Multiply: P̃ = fl₃₂(X̃Ỹ). In the standard model with underflow, fl(a ∘ b) =
   (a ∘ b)(1 + δ) + η, |δ| <= v, |η| <= t (gradual underflow, flush-to-zero and
   denormals-are-zero alike), so each entry's k products and k − 1 sums, in any order and
   with or without FMA, err by at most γ_k(v)·(X̃Ỹ) (Higham §3.1) plus 2k absolute errors
   of t, each carried through at most k further roundings (factor <= 1 + γ_k <= 2):
   X̃Ỹ(1 − γ_k) <= P̃ + 4k·t.

Together, entry by entry:

    X'Y' <= (P̃ + 4k·t)/((1 − γ_k)(1 − v)²) + 3k·t <= (P̃ + 8k·t)/((1 − γ_k)(1 − v)²).

The absolute part 8k·t is what float32's range costs; it is kept at most 2⁻²⁰ of P̃ by
requiring P̃ >= 2²⁰·8k·t (about 4e-26 at k = 4096, against entries of order 1 to k after
the scaling) at every entry. Then

    XY <= s_X·s_Y·P̃·(1 + 2⁻¹⁹)/((1 − γ_k(v))(1 − v)²),

the second 2⁻²⁰ covering the float64 rounding of the factor and of the last product (a few
units of 2⁻⁵³; the product is taken in float64, never in float32, where the factor s_X·s_Y
could underflow to 0). Where any entry of P̃ is below the threshold — an entry far below
the array's largest (a dynamic range beyond about 1e25: exact zeros, saturated units,
underflowed terms), or an operand that is all zeros or not finite, or a scale or a result
entry beyond float64's normal range (a subnormal result errs absolutely) — the product
is computed in float64 instead, where such entries keep their relative accuracy.

How much looser than the float64 product. Every entry of the result lies between the exact
XY and XY·(1 + 2γ_k(2⁻²⁴) + 2⁻²² + 2⁻¹⁸) ≈ XY·(1 + k·1.2e-7) (P̃ may itself exceed X̃Ỹ by
γ_k, and the factor adds γ_k again): 3e-5 relative at k = 256, 1.2e-4 at k = 1024, 5e-4
at k = 4096 — uniformly, every entry, and never below the exact value. A bound looser by a
relative 5e-4 lets no real bug through: a wrong entry misses by
a factor of 1e3 and more (DESIGN §5), and the float64 bound's own γ_n is itself a worst case
over every order of summation, typically √n times the error actually made.

Small products stay in float64 (``FLOAT32_FROM``): converting the operands and the result
costs three passes over memory, more than a small product saves, and the hand-worked values
of tests/test_tolerance.py keep their float64 arithmetic.
"""

from __future__ import annotations

import math

import numpy as np

FLOAT32_FROM = 2**22
"""Multiply-adds (m·k·n) from which a float64 product is computed in float32 and rounded up:
about a 160³ product, where SGEMM's saving (half of DGEMM's time) passes the cost of the
conversions."""

_V = 2.0**-24
"""float32's unit roundoff."""

_TINY32 = float(np.finfo(np.float32).tiny)
"""float32's smallest positive normal, t."""

_TINY64 = float(np.finfo(np.float64).tiny)
"""float64's smallest positive normal."""

_FLOOR_SHARE = 2.0**20
"""P̃ >= _FLOOR_SHARE·8k·t at every entry: float32's underflow costs at most 2⁻²⁰ of it."""


def upper_product(X: np.ndarray, Y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """An upper bound on X @ Y, into `out` (module docstring): in float32 with the result
    rounded up for a float64 product of ``FLOAT32_FROM`` multiply-adds or more whose float32
    form keeps every entry within range, else X @ Y as NumPy computes it.

    Args:
        X: (m, k) non-negative, float64 or float32 (any strides: a transposed view is fine).
        Y: (k, n) non-negative, the dtype of X.
        out: (m, n) C-contiguous array of X's dtype, written; allocated when None.

    Returns:
        `out`: every entry at or above the exact (X @ Y)_ij and, in float32, at most
        (1 + k·1.2e-7 + 2⁻¹⁸) times it.

    Raises:
        Nothing of its own (NumPy's errors for mismatched shapes).
    """
    (m, k), n = X.shape, Y.shape[1]
    if out is None:
        out = np.empty((m, n), dtype=np.result_type(X, Y))
    if X.dtype == np.float64 and m * k * n >= FLOAT32_FROM and _in_float32(X, Y, out):
        return out
    return np.matmul(X, Y, out=out)


def _in_float32(X: np.ndarray, Y: np.ndarray, out: np.ndarray) -> bool:
    """Write the rounded-up float32 bound of X @ Y into `out` and return True, or return
    False (nothing written) where float32's range does not hold it (module docstring)."""
    scaled = [_scaled(M) for M in (X, Y)]
    if any(s is None for s in scaled):
        return False
    (X32, s_X), (Y32, s_Y) = scaled
    k = X.shape[1]
    gamma_k = k * _V / (1 - k * _V)
    factor = s_X * s_Y * (1 + 2.0**-19) / ((1 - gamma_k) * (1 - _V) ** 2)
    if not (_TINY64 <= factor < math.inf):
        return False
    P = X32 @ Y32
    smallest = float(P.min())
    if not smallest >= _FLOOR_SHARE * 8 * k * _TINY32:  # NaN fails too
        return False
    if not smallest * factor >= _TINY64:  # a float64 result below normals rounds absolutely
        return False
    np.multiply(P, factor, out=out, dtype=np.float64)  # never in float32 (docstring)
    return True


def _scaled(M: np.ndarray) -> tuple[np.ndarray, float] | None:
    """(fl₃₂(M/s), s) with s the power of two at or above max M (M/s in [0, 1]), or None
    where max M is 0 or not finite, or s is not a float64 normal."""
    largest = float(M.max())
    if not (0 < largest < math.inf):
        return None
    s = math.ldexp(1.0, math.frexp(largest)[1])  # 2^e >= largest
    if not (_TINY64 <= s < math.inf):
        return None
    # computed in float64 (exact: a power of two), rounded to float32 on the way out; a
    # transposed view is converted as the array it views, then viewed again
    transposed = M.flags.f_contiguous and not M.flags.c_contiguous
    source = M.T if transposed else M
    M32 = np.empty(source.shape, dtype=np.float32)
    np.multiply(source, 1 / s, out=M32, casting="same_kind")
    return (M32.T if transposed else M32), s

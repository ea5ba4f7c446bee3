"""Every allowed error of the suite, in one module (DESIGN §5): the derived per-entry bound,
the allowed difference of two sides, the fixed rule, and the oracle's allowance.

Public functions, from one side's rounding to what a comparison allows:

- ``trace_bounds``: E(u), a bound on |computed − exact| for every entry of Z^(l), A^(l),
  Δ^(l), H^(l), ∂J/∂W^(l), ∂J/∂b^(l) and J of one implementation computing in a dtype with
  unit roundoff u (the running error analysis below).
- ``allowed_differences`` / ``allowed_difference``: the allowed |ŷ_expected − ŷ_actual| of
  two sides, E(u_expected) + E(u_actual), both on the expected (trusted) side's trace so
  that a wrong actual value cannot widen its own bound: |ŷ_e − ŷ_a| <= |ŷ_e − y| + |y − ŷ_a|.
- ``oracle_allowed``: the same for a function under ``crosscheck check`` (the suite's side
  float64, the function's in the dtype it is judged in), widened for σ' evaluated from A as
  textbooks write it (below).
- ``repeat_bound``, ``repeat_allowed``: the allowed difference of two evaluations of one
  computation on the same input, E + E, and under ``crosscheck check`` the same plus the
  σ'-from-A allowance (two calls of the function under check).
- ``scaled_allowed``, ``measured_ratio_allowed``, ``decay_term_allowed``,
  ``without_sigma_prime_allowed``, ``catalogue_allowed``: the diagnosis of a failing
  function — a claim F = c·G + K about its value, a weight-decay term, the value without
  σ'_l, a catalogued bug's output matched against another.
- ``sum_of_bounds``, ``mean_bound``: the allowed difference of results of two related
  problems, each with its own bound, and the bound of a mean of N bounded results (the
  metamorphic properties).
- The fixed rule: ``Tolerance``, ``default_tolerance``, ``fixed_tolerance`` and
  ``fixed_allowed`` (atol' + rtol·|expected|, ``crosscheck.compare.comparison`` describes
  when it applies); ``DerivedBound`` names the derived rule in a report.
- ``dtype_constants``, ``gamma``, ``rounding_dtype``: the per-dtype constants, γ_n and the
  dtype whose rounding applies to a side.

``crosscheck.compare.comparison``, ``crosscheck.verify`` and ``crosscheck.oracle`` call these
and never add terms of their own (the finite-difference checks aside —
``crosscheck.compare.witness`` and the diagnosis's ``consistency`` — which allow
numdifftools' own error estimate, not a rounding bound).

The running error bound
-----------------------
Two correct implementations of eqs 1.4, 2.7–2.38 differ only by rounding, and rounding
error scales with the magnitudes of the summands, not of the result. ``trace_bounds``
returns, for one implementation computing in a dtype with unit roundoff u, a bound E on
|computed − exact| for every entry, taking X, T and the parameters as exact.

Constants (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., ch. 3)
---------------------------------------------------------------------------------------
Each floating-point operation returns (x op y)(1 + δ), |δ| <= u (u = 2⁻⁵³ in float64, 2⁻²⁴
in float32; Higham §2.2, the standard model). A product of n such factors is 1 + θ_n with
|θ_n| <= γ_n = n·u/(1 − n·u) (Lemma 3.1), so an inner product of length n, in any order of
summation, has |fl(xᵗy) − xᵗy| <= γ_n |x|ᵗ|y| (Higham §3.1, bound (3.5)): the error is γ_n
times the same sum over absolute values, M. Blocked, pairwise or FMA-based orders (BLAS,
XLA) only lower the constant. Per product:

- Z^(l) = W^(l) A^(l-1) + b^(l) (eq 1.4): n = S_{l-1} + 1 (the bias is one more term),
  M = |W||A^(l-1)| + |b|.
- ∂J/∂W^(l) = H^(l) (A^(l-1))ᵗ [+ λW] (eqs 2.14, 2.33): n = N + 1, M = |H||A|ᵗ, plus
  n = 3, M = λ|W| for the decay (λ rounded to float32, λ·W, the sum; in float64 λ is exact
  and γ_3 overestimates harmlessly).
- ∂J/∂b^(l) = H^(l) J_N (eqs 2.15, 2.37): n = N, M = |H| J_N.
- Δ^(l-1) = (W^(l))ᵗ H^(l) (eqs 2.32, 2.38): n = S_l, M = |W|ᵗ|H|.
- J (eqs 2.16, 2.16', 2.16''): a sum of S_L·N terms of a few operations each:
  n = S_L·N + 4, M = Σ |terms|; weight decay adds n = Σ_l S_l S_{l-1} + 2.
- Hadamard products and scalings (eqs 2.13, 2.21): n = 2 or 3 per entry.

Accumulated over depth: the inputs of each product carry the errors of the layers before
(above) it, propagated to first order through the same products over absolute values,
|W| E_A for Z, |H| E_Aᵗ + E_H |A|ᵗ for ∂W, and so on. This is a running error analysis
(Higham §3.3): the bound of every entry is c·u·M with c built from the γ_n of the path
that produced it, never a multiple of the array's size. Second-order terms (u²) are
dropped where a first-order term dominates them. Three are kept, each the whole error at a
perfect fit (A^(L) = T on the expected side, so J = 0 and H^(L) = 0 there): squared error's
Σ E_A²/N in J, 2E_H E_Aᵗ in ∂J/∂W^(l) (where A^(l-1) = 0 too, behind a unit whose Z
cancelled to 0), as E_H(|A| + 2E_A)ᵗ, and a softmax layer's E_A E_Δ, as (A + 2E_A)E_Δ; each
side's share is doubled because the other side's value deviates about this side's, not
about the exact one. Where a relative error is of order 1 (Z cancelled), 1/A and softmax
are bounded exactly, not to first order.
Each propagated term and its own γ_n term share a product by linearity, so the
bound costs about as many matrix products as the pass it bounds: |W| E_A + γ_n |W||A| =
|W| (E_A + γ_n |A|), likewise for ∂W and Δ. Both forms are the same exact value, and a sum
of non-negative terms is computed to a relative γ_k whichever way it is grouped, so the
rewrite moves the bound by O(u) of itself — the order of the terms already dropped.

The bound's own arithmetic. A float64 trace is bounded in float64: its own rounding, a
relative n·2⁻⁵³, is second order. Its four large matrix products per layer (|W|·(E_A +
γ|A|) for E_Z, (E_H + γ|H|)·|A|ᵗ and |H|·E_Aᵗ for E_W, |W|ᵗ·(E_H + γ|H|) for E_Δ) run
through ``upper_product``: from about a 160³ product on they are computed in float32
(SGEMM, half of DGEMM's time) and rounded up to a true upper bound of the exact product,
every entry, any summation order, FMA or not — at most a relative k·1.2e-7 looser than
the float64 product (k the inner dimension), and in float64 where float32's range does not
hold the product (crosscheck/compare/upper_product.py derives both).
A float32 trace bounded for float32 (the pass it checks computes in float32) is bounded
in float32, at half the cost: there the bound's own rounding
is first order, so the result of every stage — E_Z (before the kink test reads it), E_A,
E_Δ, E_H, E_W, E_b — is multiplied by 1 + 2γ_k(2⁻²⁴), k the stage's longest chain of
roundings (a product's inner dimension, plus ``ROUNDINGS_OF_SIGMA`` for σ' and the σ''
bound), and the underflow terms are doubled. Every stage is a monotone function of its
inputs (sums and products of non-negative terms, the maximum of a σ'' bound over a wider
interval, a kink test against a larger E_Z), so each stage's result stays above the exact
bound of its inputs and the whole bound above the exact one. J is summed in float64 (S_L·N
terms). A bound that overflows float32 (|W||A| beyond 3.4e38 while Z stays finite), or
stages too long for float32 (k·2⁻²⁴ > 0.01), are computed in float64 instead.

Activations. σ is evaluated to within ``SIGMA_ULPS`` ulps of σ at an argument perturbed
by as many ulps (libm's and XLA's exp, log1p, tanh, erfc are within a few ulps;
``exp(−logaddexp(0, −z))`` loses u·|z| in the argument): eval error
``SIGMA_ULPS·u·(|A| + |Z||σ'(Z)|)``. Forward, E_A = |σ'(Z)| E_Z + that. σ' is evaluated
stably from Z (``crosscheck.ffnn.Activation.sigma_prime``: sech² not 1 − A², σ(z)σ(−z) not
A(1 − A); ``crosscheck.vectorized.kernels``' SIMD forms, held to this model against 60-digit
values in both dtypes by tests/test_kernels.py; autodiff's JAX forms are the accurate ones
too, ``crosscheck.ffnn.jax_namespace``), so its error is
|σ''| E_Z + ``SIGMA_ULPS``·u·(|σ'| + |Z||σ''|): |σ''| is bounded per activation
(``SECOND_DERIVATIVE_BOUNDS``, the maximum over [Z − E_Z, Z + E_Z], since each bound is
monotone in |z| or in z). Then H = Δ ⊙ σ'(Z) (eqs 2.13, 2.34) has E_H = |σ'| E_Δ +
|Δ| E_σ' + u|Δ||σ'|. Where cancellation in Z makes E_Z large these first-order forms grow
without limit, so the slope is capped by sup |σ'| and σ''s error by twice it
(``SIGMA_PRIME_SUPS``), and E_A by the width of a bounded σ's range (``RANGE_WIDTHS``).

Softmax (eq 2.13''): H = A ⊙ (Δ − Σ_k A_k Δ_k) cancels; its magnitude over absolute values
|A| ⊙ (|Δ| + Σ_k |A_k||Δ_k|) bounds every order of evaluation, the Jacobian form of the
reference included (|J_kk'| <= A_k(δ_kk' + A_k')): that is its rounding term. Errors
carried in reach H_k through 1 − A_k = Σ_{j≠k} A_j, not 1 + A_k, which matters at a
saturated unit. Forward, each exp(Z_k − m) carries an argument error E_Z + u(|Z| + |m|), and
A_k = E_k/Σ E a relative γ_{S+3}; how far those argument errors move A is bounded exactly,
for moves of any size (``_softmax_spread``).

Kinks. Where |Z − k| <= E_Z for a kink k of σ_l (``Activation.kinks``: 0 for ReLU and
leaky ReLU), the two sides may round Z to different sides of k and take σ' from different
branches (0 vs 1). Such an entry is "at a kink": its E_σ' is the jump |σ'(k⁺) − σ'(k⁻)| and
its forward slope the larger one-sided slope. The widening then propagates, by the same
rules as everything else, to that sample's downstream entries only (H^(l) of that entry,
column n of Δ^(l-1) and of earlier H, and the sums ∂W, ∂b that the entry enters). This is
sound (it bounds either choice of branch) and needs no exclusion logic; ``Bounds.at_kink``
lets the report count them. An exact Z = 0 at a ReLU is at a kink (E_Z >= the underflow
term > 0).

Underflow. Products below the smallest normal lose relative accuracy, and XLA may flush
them to zero: every bound gets ``tiny`` (the smallest normal) × the number of terms, and
the evaluations of σ and σ' tiny × (4 + |Z|), since an intermediate flushed to 0 may then be
scaled by 4 (sech² = 4e/(1 + e)²) or by z (GELU).

Non-finite Δ^(L) (an underflowed softmax/sigmoid output under cross-entropy, eqs 2.21',
2.21''): its bound is inf there; ``crosscheck.compare.comparison`` compares such entries only where
both sides are finite. The fused H^(L) (eqs 2.8', 2.8'') never uses Δ^(L).

σ' from A: the oracle's allowance
---------------------------------
The suite evaluates σ' stably from Z, and the bound above bounds exactly that. Other
people's backprop usually evaluates it from A, as textbooks write it: 1 − A² for tanh,
A(1 − A) for sigmoid, A + 1 for ELU below 0, 1 − e^{−A} for softplus. Those forms are
correct but only *absolutely* accurate: as a unit saturates, σ' → 0 while their rounding
error stays about u — relative accuracy is lost (at z = 3.5, 1 − tanh² is 3.6e-3 with an
error near 2e-16, a relative 5e-14, past the stable form's bound). An oracle must not call
that a bug, so ``oracle_allowed`` adds, per entry of ∂W and ∂b, the first-order effect of

    e_σ'(l) = 2·E_A^(l) + 4u     (|σ'_A(a)'| <= 2 on the forms above, a few roundings)

on every smooth elementwise σ_l (not identity, ReLU, leaky ReLU, whose σ' from A is exact;
not softmax, whose Jacobian the derived bound already takes from A's magnitudes), carried
through the backward pass over absolute values like every other error:

    a_H^(l) = |Δ^(l)| e_σ'(l) + |σ'_l(Z^(l))| a_Δ^(l),   a_Δ^(l-1) = |W^(l)|ᵗ a_H^(l),
    a_W^(l) = a_H^(l) |A^(l-1)|ᵗ,   a_b^(l) = a_H^(l) J_N,

from a_Δ^(L) = 0, and doubled for the first-order terms dropped. A fused output H^(L) (eqs
2.8', 2.8'') has no σ'. A bug moves entries by O(|Δ| σ'), far beyond O(u |Δ|).

A function judged in float32 (``crosscheck check --dtype float32``, or one that returns
float32) evaluates its σ' from A in float32: E_A^(l) and u above are then float32's, while
the suite's side keeps its float64 bound (``oracle_allowed(..., dtype=np.float32)``).

The fixed rule
--------------
With explicit ``rtol=``/``atol=``, or ``compare_gradients`` without bounds, allowed =
atol' + rtol·|expected|, with the dtype's fallback rtol = atol from ``DTYPE_CONSTANTS``
(float64 2⁻³⁰, float32 2⁻¹⁰) and

    atol' = atol·max|expected| + tiny·n     (``Tolerance.scale_atol``)

over the array of n entries, tiny the dtype's smallest normal. The absolute part is
relative to the array's own magnitude, whatever it is: an array of vanishing gradients
(all entries ~1e-6..1e-11) is held to the same relative accuracy as one of order 1, so a
sign flip or a 5e-4 relative error there fails (a floor of max(1, ·) would let an
absolute 2⁻³⁰ swallow them). tiny·n only keeps an all-zero expected array from demanding
exact zeros below the underflow threshold (a stand-in for the unknown number of terms).
J alone keeps atol·max(1, |J|) (``J_LEAST_SCALE``): J >= 0 is a sum of logs and squares
whose rounding near a perfect fit is absolute (log A at A ≈ 1, (a − t)² at a ≈ t err by
~u, not ~u·J), so a J of 0 may come back as 1e-16 from correct code.
The rule cannot see an entry whose terms are large while its array is small (a saturated
softmax, cancelling pre-activations behind large activations): steered searches found
correct code at ratios 0.3–50 under it, which the derived bound covers. Explicit
``rtol``/``atol`` override one at a time; an explicit atol is absolute (not scaled, no
floor). The table used is that of the less precise of the two sides' dtypes (integers
count as float64). Relative errors below rtol + atol (float64 ≈ 1.9e-9, float32 ≈
2.0e-3 at an array's largest entry) pass by design.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from crosscheck.compare.upper_product import upper_product
from crosscheck.ffnn import NUMPY, Activation, Layer, Network, Trace

SIGMA_ULPS = 8.0
"""Ulps within which σ and σ' are evaluated (value and argument), see the module docstring."""

# --- per-dtype constants --------------------------------------------------------------------


@dataclass(frozen=True)
class DtypeConstants:
    """The per-dtype constants of a comparison.

    Attributes:
        u: unit roundoff, 2⁻⁵³ (float64) or 2⁻²⁴ (float32).
        tiny: smallest positive normal; the underflow term is tiny × the number of terms.
        rtol, atol: the fixed rule's fallback (``default_tolerance``; atol scaled by
            max|expected|), used when a comparison has no problem to derive a bound from.
    """

    u: float
    tiny: float
    rtol: float
    atol: float


DTYPE_CONSTANTS: dict[np.dtype, DtypeConstants] = {
    np.dtype(np.float64): DtypeConstants(
        2.0**-53, float(np.finfo(np.float64).tiny), 2.0**-30, 2.0**-30
    ),
    np.dtype(np.float32): DtypeConstants(
        2.0**-24, float(np.finfo(np.float32).tiny), 2.0**-10, 2.0**-10
    ),
}
"""dtype → DtypeConstants: the one table of per-dtype constants."""


def dtype_constants(dtype: Any) -> DtypeConstants:
    """The constants of `dtype` (float64 or float32).

    Raises:
        TypeError: `dtype` is not a NumPy dtype specifier.
        ValueError: no constants for `dtype` (e.g. float16); the message lists the known ones.
    """
    dtype = np.dtype(dtype)
    try:
        return DTYPE_CONSTANTS[dtype]
    except KeyError:
        known = ", ".join(str(d) for d in DTYPE_CONSTANTS)
        raise ValueError(
            f"no default tolerance for dtype {dtype}; defaults exist for {known}."
            " Pass rtol and atol explicitly."
        ) from None


def gamma(n: int, u: float) -> float:
    """γ_n = n·u/(1 − n·u) (Higham, Lemma 3.1); requires n·u < 1.

    Raises:
        ValueError: n·u >= 1 (no bound exists: the sum is too long for the dtype).
    """
    nu = n * u
    if nu >= 1:
        raise ValueError(f"n·u = {nu:g} >= 1: the sums are too long for this dtype")
    return nu / (1 - nu)


def rounding_dtype(dtypes: Iterable[Any]) -> np.dtype:
    """The dtype whose rounding bounds a side made of arrays of `dtypes`: the least precise
    float dtype among them; float64 if none is floating (integers are exact)."""
    floats = {np.dtype(d) for d in dtypes if np.dtype(d).kind == "f"}
    return max(floats, key=lambda d: np.finfo(d).eps, default=np.dtype(np.float64))


# --- the rules a report names ---------------------------------------------------------------


@dataclass(frozen=True)
class Tolerance:
    """The fixed rule: |actual − expected| <= atol' + rtol·|expected| per entry.

    Attributes:
        rtol: relative part, >= 0.
        atol: absolute part, >= 0.
        scale_atol: if True, atol' = atol·max|expected| + tiny·n over the compared array
            of n entries (the magnitude stand-in of the fallback; J: atol·max(1, |J|) +
            tiny); if False, atol' = atol.
        tiny: with `scale_atol`, the dtype's smallest normal (the floor per entry counted);
            unused otherwise.
    """

    rtol: float
    atol: float
    scale_atol: bool = False
    tiny: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: {"rule": "fixed", "rtol", "atol", "scale_atol", "tiny"}."""
        return {
            "rule": "fixed",
            "rtol": _json_float(self.rtol),
            "atol": _json_float(self.atol),
            "scale_atol": self.scale_atol,
            "tiny": _json_float(self.tiny),
        }


@dataclass(frozen=True)
class DerivedBound:
    """The derived rule: allowed = E(u_expected) + E(u_actual) per entry
    (``allowed_differences``).

    Attributes:
        expected_dtype, actual_dtype: the dtypes the two sides computed in ("float64", ...).
    """

    expected_dtype: str
    actual_dtype: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: {"rule": "derived", the dtypes, "unit_roundoff" of each side}."""
        return {
            "rule": "derived",
            "expected_dtype": self.expected_dtype,
            "actual_dtype": self.actual_dtype,
            "unit_roundoff": {
                "expected": dtype_constants(self.expected_dtype).u,
                "actual": dtype_constants(self.actual_dtype).u,
            },
        }


def _json_float(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


# --- the fixed rule -------------------------------------------------------------------------


def default_tolerance(dtype: Any) -> Tolerance:
    """The fixed rule's fallback Tolerance for results of `dtype` (float64 or float32).

    Raises:
        TypeError: `dtype` is not a NumPy dtype specifier.
        ValueError: no default for `dtype` (e.g. float16); pass rtol and atol explicitly.
    """
    c = dtype_constants(dtype)
    return Tolerance(rtol=c.rtol, atol=c.atol, scale_atol=True, tiny=c.tiny)


DEFAULT_TOLERANCES: dict[np.dtype, Tolerance] = {
    dtype: default_tolerance(dtype) for dtype in DTYPE_CONSTANTS
}
"""dtype → the fixed rule's fallback Tolerance (from ``DTYPE_CONSTANTS``)."""

J_LEAST_SCALE = 1.0
"""The fixed rule scales J's atol by max(1, |J|): J's rounding is absolute near 0 (module
docstring); gradient arrays scale by their own max|expected| alone."""


def fixed_tolerance(dtype: Any, rtol: float | None, atol: float | None) -> Tolerance:
    """The fixed rule for results of `dtype` with the caller's rtol and/or atol, each
    overriding the dtype's fallback (an explicit atol is absolute, not scaled).

    Raises:
        ValueError: a negative or non-finite rtol/atol; no default for `dtype` where one
            is needed.
    """
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    if rtol is not None and atol is not None:
        return Tolerance(rtol=float(rtol), atol=float(atol))
    default = default_tolerance(dtype)
    if atol is not None:
        return Tolerance(rtol=default.rtol, atol=float(atol))
    if rtol is not None:
        return Tolerance(
            rtol=float(rtol), atol=default.atol, scale_atol=default.scale_atol, tiny=default.tiny
        )
    return default


def fixed_allowed(
    expected: np.ndarray, tolerance: Tolerance, *, least_scale: float = 0.0
) -> np.ndarray:
    """Per-entry allowed |actual − expected| under the fixed rule (module docstring).

    With ``scale_atol``, atol' = atol·max(least_scale, max|expected|) + tiny·n over the
    finite entries: gradient arrays use least_scale 0 (relative to their own magnitude), J
    uses ``J_LEAST_SCALE``.

    Args:
        expected: the trusted side's array (any shape), or J.
        tolerance: the rule.
        least_scale: the smallest magnitude atol is scaled by.

    Returns:
        float64 array of expected's shape.
    """
    magnitude = np.abs(np.asarray(expected, dtype=np.float64))
    finite = magnitude[np.isfinite(magnitude)]
    atol = tolerance.atol
    if tolerance.scale_atol:
        scale = max(least_scale, float(np.max(finite, initial=0.0)))
        atol = atol * scale + tolerance.tiny * magnitude.size
    return atol + tolerance.rtol * magnitude


# --- the running error bound of one side ----------------------------------------------------


class Bounds(NamedTuple):
    """Per-entry bounds for one trace: on |computed − exact| of one side (``trace_bounds``)
    or on the difference of two sides (``allowed_differences``).

    Z, A, Delta, H: tuples of length L+1 like ``crosscheck.ffnn.Trace``, (S_l, N) arrays,
        float64 (float32 for a float32 trace bounded for float32, module docstring); Z[0]
        and H[0] None, A[0] zeros (X is exact); Delta[l] may hold inf where Δ^(L) is not
        finite.
    W, b: tuples of length L: W[l-1] (S_l, S_{l-1}), b[l-1] (S_l,).
    J: bound on |Ĵ − J|, a float.
    at_kink: tuple of length L+1, at_kink[l] a bool (S_l, N) array (None at l = 0): Z^(l)
        within its own bound (the expected side's, for a difference) of a kink of σ_l.
    """

    Z: tuple[np.ndarray | None, ...]
    A: tuple[np.ndarray, ...]
    Delta: tuple[np.ndarray, ...]
    H: tuple[np.ndarray | None, ...]
    W: tuple[np.ndarray, ...]
    b: tuple[np.ndarray, ...]
    J: float
    at_kink: tuple[np.ndarray | None, ...]

    @property
    def grads(self) -> tuple[Layer, ...]:
        """The bounds of ∂J/∂W^(l), ∂J/∂b^(l) as L Layers, shaped like the gradients."""
        return tuple(Layer(W, b) for W, b in zip(self.W, self.b, strict=True))


def _decreasing(f: Callable[[np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    """A bound f(|z|) non-increasing in |z|: its maximum over [Z − E, Z + E] at the point
    nearest 0, at a distance d = max(|Z| − E, 0) rounded down (|Z| − E rounded to nearest
    may land above it, which in a far tail lowers e^{−d} by hundreds of ulps). f takes d in
    an array of its own, may overwrite it, and makes room for its own roundings (``_room``)."""

    def at_nearest(Z: np.ndarray, E: np.ndarray) -> np.ndarray:
        distance = np.abs(Z)
        distance -= E
        np.maximum(distance, 0.0, out=distance)
        return f(np.nextafter(distance, 0.0, out=distance))  # 0 stays 0

    return at_nearest


def _room(dtype: np.dtype) -> float:
    """1 + 2·SIGMA_ULPS·ε: a σ'' bound's factor for the roundings of its own evaluation (an
    exp or cosh within SIGMA_ULPS ulps, then squared), folded into one of its constants."""
    return 1.0 + 2.0 * SIGMA_ULPS * float(np.finfo(dtype).eps)


def _over_cosh_squared(c: float, scale: float) -> Callable[[np.ndarray], np.ndarray]:
    """d ↦ c/cosh²(scale·d), in d's array (cosh overflows to inf where the value is 0)."""

    def bound(d: np.ndarray) -> np.ndarray:
        if scale != 1.0:
            d *= scale
        with np.errstate(over="ignore"):  # c/inf = 0: the value is below tiny there
            np.cosh(d, out=d)
            np.square(d, out=d)
        return np.divide(c * _room(d.dtype), d, out=d)

    return bound


def _gelu_second(d: np.ndarray) -> np.ndarray:
    """φ(d)(2 + d²), in d's array. d is capped at 40, where the value is below the smallest
    subnormal already: beyond, d² overflows (|z| > 1.3e154, 1.8e19 in float32) and
    e^{−d²/2}·(2 + d²) would be 0·inf = NaN."""
    np.minimum(d, 40.0, out=d)
    np.square(d, out=d)
    phi = np.multiply(d, -0.5)
    np.exp(phi, out=phi)
    phi *= _room(d.dtype) / math.sqrt(2 * math.pi)
    d += 2.0
    d *= phi
    return d


def _elu_second(Z: np.ndarray, E: np.ndarray) -> np.ndarray:
    """max |ELU''| over [Z − E, Z + E]: ELU'' is e^z below 0 (1 at the jump at 0) and 0 above,
    so e^{min(Z + E, 0)} with Z + E rounded up, and 0 where the interval lies above 0 (Z > E,
    a comparison without rounding)."""
    top = np.add(Z, E)
    np.nextafter(top, np.inf, out=top)
    np.minimum(top, 0.0, out=top)
    np.exp(top, out=top)
    top *= _room(top.dtype)
    np.copyto(top, 0.0, where=np.greater(Z, E))
    return top


RANGE_WIDTHS: dict[str, float] = {"sigmoid": 1.0, "tanh": 2.0, "softmax": 1.0}
"""σ name → the width of σ's range: two values of σ, exact or computed, differ by at most
this, which caps E_A where cancellation in Z makes the first-order bound explode."""

SIGMA_PRIME_SUPS: dict[str, float] = {
    "identity": 1.0,
    "relu": 1.0,
    "leaky_relu": 1.0,
    "sigmoid": 0.25,
    "tanh": 1.0,
    "softplus": 1.0,
    "elu": 1.0,
    "gelu": 1.129,  # Φ(√2) + √2 φ(√2) = 1.12899
}
"""Elementwise σ name → sup |σ'|, which caps the slope bound (and twice it the error bound of
σ'(Z)); applied with a margin of 0.1% for the roundings of a computed σ'."""


def _zero(Z: np.ndarray, E: np.ndarray) -> np.ndarray:
    return np.zeros_like(Z)


SECOND_DERIVATIVE_BOUNDS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "identity": _zero,
    "relu": _zero,  # piecewise linear: the kink is handled apart
    "leaky_relu": _zero,
    # σ'' = σ'(1 − 2σ), |1 − 2σ| <= 1, and σ'(z) = e^{−|z|}/(1 + e^{−|z|})² = 1/(4cosh²(z/2))
    "sigmoid": _decreasing(_over_cosh_squared(0.25, 0.5)),
    "tanh": _decreasing(_over_cosh_squared(2.0, 1.0)),  # −2 tanh sech², |tanh| <= 1
    "softplus": _decreasing(_over_cosh_squared(0.25, 0.5)),  # softplus'' = sigmoid'
    "gelu": _decreasing(_gelu_second),  # φ(z)(2 − z²); φ(z)(2 + z²) decreases in |z|
    "elu": _elu_second,
}
"""Elementwise σ name → (Z, E) ↦ max |σ''| over [Z − E, Z + E], (S_l, N) in Z's dtype.

An upper bound wherever that maximum is at least the dtype's smallest normal number (the
distance to 0 rounded toward the interval, the value widened for its own evaluation;
tests/test_second_derivative_bounds.py holds it against 60-digit values); below it, a σ''
that small means E_Z < |Z|, and the underflow term tiny·(4 + |Z|) covers the rest."""


def trace_bounds(
    network: Network,
    params: Sequence[Layer],
    X: np.ndarray,
    T: np.ndarray,
    trace: Trace,
    dtype: Any,
) -> Bounds:
    """Running error bounds for eqs 1.4, 2.16, 2.21, 2.13/2.34, 2.13'', 2.8', 2.8'', 2.14/2.33,
    2.15/2.37, 2.32/2.38, for an implementation computing in `dtype` (module docstring).

    Args:
        network: the architecture, sizes (S_0, ..., S_L), σ_l, J, λ.
        params: L validated Layers, W^(l) (S_l, S_{l-1}), b^(l) (S_l,).
        X: (S_0, N) inputs; T: (S_L, N) targets (validated).
        trace: a trusted side's ``Trace`` of this problem, whose Z^(l), A^(l), Δ^(l), H^(l)
            ((S_l, N), any float dtype) supply the magnitudes.
        dtype: the dtype the bounded implementation computes in (float64 or float32).

    Returns:
        Bounds in the shapes of the trace and the gradients: float64 arrays, or float32
        ones computed in float32 and rounded up for a float32 trace and dtype (module
        docstring).

    Raises:
        ValueError: no constants for `dtype`; an elementwise σ without an entry in
            ``SECOND_DERIVATIVE_BOUNDS``; sums too long for the dtype (n·u >= 1).
    """
    c = dtype_constants(dtype)
    N = X.shape[1]
    if _float32_suffices(network, N, trace, dtype):
        up = 1 + 2 * gamma(_stage_length(network, N), c.u)
        bounds = _trace_bounds(network, params, T, trace, c.u, 2 * c.tiny, np.float32, up)
        if _finite(bounds):
            return bounds
    return _trace_bounds(network, params, T, trace, c.u, c.tiny, np.float64, 1.0)


ROUNDINGS_OF_SIGMA = 300
"""Roundings, at most, in evaluating σ' or the σ'' bound and the few sums and products around
them in float32: an exp or log whose argument carries u·|z| errs by u·(|z| + a few), and σ'
underflows in float32 beyond |z| ≈ 104."""


def _stage_length(network: Network, N: int) -> int:
    """The longest chain of roundings in one stage of the bound's float32 arithmetic: a
    product's inner dimension (S_{l-1}, S_l or N), the bias, σ's evaluation."""
    return max(*network.sizes, N) + 1 + ROUNDINGS_OF_SIGMA


def _float32_suffices(network: Network, N: int, trace: Trace, dtype: Any) -> bool:
    """True for a float32 trace bounded for float32 whose stages are short enough that
    rounding each stage up by 1 + 2γ_k(u₃₂) widens the bound by at most 2%."""
    float32 = np.dtype(np.float32)
    arrays = [np.asarray(a) for field in trace for a in field if a is not None]
    return (
        np.dtype(dtype) == float32
        and all(a.dtype == float32 for a in arrays)
        and _stage_length(network, N) * dtype_constants(float32).u <= 0.01
    )


def _finite(bounds: Bounds) -> bool:
    """True if no bound overflowed in float32 arithmetic: every entry finite but Δ^(L)'s.
    Δ^(L)'s is inf where the exact value may be unbounded (T/A where E_A reaches A,
    ``_sensitivity``), or beyond float32's range, where a float32 side's own Δ^(L)
    overflows too and a finite bound that large would pass every float32 value anyway.
    Where another bound reads it (squared error's H^(L)), that bound is checked here."""
    for name in ("Z", "A", "Delta", "H", "W", "b"):
        for E in getattr(bounds, name):
            if E is None or E.size == 0 or E is bounds.Delta[-1]:
                continue
            if not math.isfinite(E.max()):
                return False
    return math.isfinite(bounds.J)


def _trace_bounds(
    network: Network,
    params: Sequence[Layer],
    T: np.ndarray,
    trace: Trace,
    u: float,
    tiny: float,
    work: Any,
    up: float,
) -> Bounds:
    """``trace_bounds`` computed in `work`: float64, or float32 with the result of every stage
    multiplied by `up` >= 1 to cover that stage's own rounding (module docstring)."""
    L = network.L
    N = T.shape[1]
    T = np.asarray(T, dtype=work)
    Z = [None] + [np.asarray(trace.Z[l], dtype=work) for l in range(1, L + 1)]
    abs_A = [np.abs(A, dtype=work) for A in trace.A]
    Ws = [np.abs(W, dtype=work) for W, _ in params]
    bs = [np.abs(b, dtype=work) for _, b in params]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        E_Z, E_A, slopes, sigma_prime_errors, at_kink = _forward(
            network, Ws, bs, Z, abs_A, u, tiny, up
        )
        A_L = np.asarray(trace.A[L], dtype=work)
        E_J = _loss_bound(network, params, Z[L], A_L, T, E_Z[L], E_A[L], u, tiny)
        E_Delta: list[Any] = [None] * (L + 1)
        E_H: list[Any] = [None] * (L + 1)
        E_W: list[Any] = [None] * L
        E_b: list[Any] = [None] * L
        E_Delta[L] = _rounded_up(_output_delta_bound(network, A_L, T, E_A[L], u, tiny), up)
        lam = network.weight_decay
        for l in range(L, 0, -1):
            abs_Delta = np.abs(trace.Delta[l], dtype=work)  # then scratch, below
            E_H[l] = _H_bound(
                network, l, Z[l], abs_A[l], abs_Delta, T, E_A[l], E_Delta[l],
                slopes[l], sigma_prime_errors[l], u, tiny,
            )  # fmt: skip
            E_H[l] = _rounded_up(E_H[l], up)
            abs_H, W = np.abs(trace.H[l], dtype=work), Ws[l - 1]
            E_b[l - 1] = E_H[l].sum(axis=1) + gamma(N, u) * abs_H.sum(axis=1) + tiny * N
            E_b[l - 1] = _rounded_up(E_b[l - 1], up)
            # eqs 2.14, 2.33: E_H(|A| + 2E_A)ᵗ + |H|E_Aᵗ + γ_{N+1}|H||A|ᵗ, the γ term folded
            # into the first product (module docstring). 2E_H E_Aᵗ is second order, but all
            # there is where H = 0 and A = 0 on the expected side (a perfect fit behind a
            # unit whose Z cancelled to 0); two sides' 2E_H E_A cover (E_H₁ + E_H₂)(E_A₁ + E_A₂)
            # as both E grow with u. E_A^(0) = 0 (X is exact) needs none of it.
            scaled = _scaled_sum(abs_H, gamma(N + 1, u), E_H[l], out=abs_Delta)
            if l > 1:
                E_W[l - 1] = upper_product(scaled, _scaled_sum(E_A[l - 1], 2, abs_A[l - 1]).T)
                E_W[l - 1] += upper_product(abs_H, E_A[l - 1].T)
            else:
                E_W[l - 1] = upper_product(scaled, abs_A[0].T)
            E_W[l - 1] += gamma(3, u) * lam * W  # fl(λ)·W, then the sum: at N = 1 beyond γ_(N+1)
            E_W[l - 1] += tiny * (N + 1 + 4 * W * (lam > 0))  # λ/2 below tiny is flushed, ×2W
            E_W[l - 1] = _rounded_up(E_W[l - 1], up)
            # eqs 2.32, 2.38: |W|ᵗE_H + γ_S|W|ᵗ|H| = |W|ᵗ(E_H + γ_S|H|)
            S_l = network.sizes[l]
            E_Delta[l - 1] = upper_product(
                W.T, _scaled_sum(abs_H, gamma(S_l, u), E_H[l], out=abs_H)
            )
            E_Delta[l - 1] += tiny * S_l
            E_Delta[l - 1] = _rounded_up(E_Delta[l - 1], up)
    return Bounds(
        Z=_unbounded(E_Z),
        A=(E_A[0], *_unbounded(E_A[1:])),  # A^(0) = X is exact: zeros
        Delta=_unbounded(E_Delta),
        H=_unbounded(E_H),
        W=_unbounded(E_W),
        b=_unbounded(E_b),
        J=math.inf if math.isnan(E_J) else E_J,
        at_kink=tuple(at_kink),
    )


def _rounded_up(E: np.ndarray, up: float) -> np.ndarray:
    """E·up in place (up = 1 in float64: nothing to do)."""
    if up != 1:
        E *= up
    return E


def _scaled_sum(
    magnitude: np.ndarray, factor: float, bound: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """factor·magnitude + bound (into `out` if given): a propagated bound and a product's own
    γ term, which then share one matrix product."""
    result = np.multiply(magnitude, factor, out=out)
    result += bound
    return result


def _unbounded(bounds: list[Any]) -> tuple[Any, ...]:
    """`bounds` (arrays of this module's own, or None) with NaN made inf in place: a NaN
    comes from inf·0 or inf − inf once magnitudes overflow the float range, where the
    analysis bounds nothing. (fmin(E, inf) is E except at NaN, where fmin takes inf.)"""
    for E in bounds:
        if E is not None:
            np.fmin(E, np.inf, out=E)
    return tuple(bounds)


def _times(A: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """A ⊙ bound, with 0 where A = 0 even where the bound is inf (no NaN)."""
    return np.where(A == 0, 0.0, A * np.where(A == 0, 0.0, bound))


def _forward(
    network: Network,
    Ws: list[np.ndarray],
    bs: list[np.ndarray],
    Z: list[Any],
    abs_A: list[np.ndarray],
    u: float,
    tiny: float,
    up: float,
) -> tuple[list[Any], list[Any], list[Any], list[Any], list[Any]]:
    """Eq 1.4 over absolute values: E_Z, E_A per layer, and per elementwise layer the slope
    bound |σ'| and the error bound of σ'(Z) (None for softmax), and the kink mask.

    Z[l] (None at l = 0), abs_A[l] = |A^(l)|, Ws, bs = |W^(l)|, |b^(l)|, all in the working
    dtype; E_Z and E_A rounded up by `up` (``_trace_bounds``)."""
    L = network.L
    E_Z: list[Any] = [None] * (L + 1)
    E_A: list[Any] = [np.zeros_like(abs_A[0])] + [None] * L
    slopes: list[Any] = [None] * (L + 1)
    sp_errors: list[Any] = [None] * (L + 1)
    at_kink: list[Any] = [None] * (L + 1)
    for l in range(1, L + 1):
        n = network.sizes[l - 1] + 1  # eq 1.4: S_{l-1} products and the bias
        # |W| E_A + γ_n (|W||A| + |b|) + tiny·n, the γ term folded into the product
        # (module docstring); E_A^(0) = 0 (X is exact)
        carried = np.multiply(abs_A[l - 1], gamma(n, u))
        if l > 1:
            carried += E_A[l - 1]
        E_Z[l] = upper_product(Ws[l - 1], carried)
        E_Z[l] += (gamma(n, u) * bs[l - 1] + tiny * n)[:, None]
        E_Z[l] = _rounded_up(E_Z[l], up)  # before the kink test and σ's bounds read it
        sigma = network.sigma(l)
        if sigma.elementwise:
            abs_Z = np.abs(Z[l])
            flushed = _flushed(abs_Z, tiny)
            slopes[l], sp_errors[l], at_kink[l], scratch = _sigma_prime_bounds(
                sigma, Z[l], abs_Z, E_Z[l], flushed, u
            )
            # E_A = |σ'| E_Z + SIGMA_ULPS·u·(|A| + |Z||σ'|) + tiny(4 + |Z|)
            evaluation = np.multiply(abs_Z, slopes[l], out=abs_Z)
            evaluation += abs_A[l]
            evaluation *= SIGMA_ULPS * u
            evaluation += flushed
            E_A[l] = np.multiply(slopes[l], E_Z[l], out=scratch)
            E_A[l] += evaluation
            E_A[l] = _rounded_up(E_A[l], up)
            _capped_by_range(E_A[l], sigma.name)
        else:  # softmax: A_k = exp(Z_k − m)/Σ_k' exp(Z_k' − m), per column
            at_kink[l] = np.zeros(Z[l].shape, dtype=bool)
            A = abs_A[l]  # A >= 0
            m = np.max(np.abs(Z[l]), axis=0, keepdims=True)
            with np.errstate(over="ignore"):  # |Z| + m beyond the float range: no bound
                argument = E_Z[l] + SIGMA_ULPS * u * (np.abs(Z[l]) + m)
            S = network.sizes[l]
            E_A[l] = _softmax_spread(A, argument)
            E_A[l] += gamma(S + 3, u) * A + tiny * (S + 3)
            E_A[l] = _rounded_up(E_A[l], up)
            _capped_by_range(E_A[l], sigma.name)
    return E_Z, E_A, slopes, sp_errors, at_kink


def _softmax_spread(A: np.ndarray, argument: np.ndarray) -> np.ndarray:
    """How far softmax's A_k = exp(Z_k − lse(Z)) moves when each Z_j moves by up to
    `argument`_j = E_j (column by column; A >= 0 computed).

    log A_k moves by δ_k − Σ_j A_j(ξ) δ_j at some ξ between the two Z (mean value theorem),
    = Σ_{j≠k} A_j(ξ) δ_k − Σ_{j≠k} A_j(ξ) δ_j, where A_j(ξ) <= A_j e^{2M}, M = max_j E_j;
    and by at most E_k + M. So |ΔA_k| <= A_k·expm1(min(e^{2M} F_k, E_k + M)), with
    F_k = Σ_{j≠k} A_j · E_k + Σ_{j≠k} A_j E_j. Near a saturated A_k ≈ 1 this is
    (1 − A_k) E_k, not 2E_k (the first-order A_k(E_k + Σ_j A_j E_j) this replaces: 3400
    times a saturated unit's real error, and a zeroed ∂J/∂W passed)."""
    weighted = _times(A, argument)
    largest = argument.max(axis=0, keepdims=True)
    F = _times(_others(A), argument)
    F += _others(weighted)
    # F·e^{2M} is NaN where it is 0·inf; fmin then takes E_k + M
    exponent = np.fmin(F * np.exp(2 * largest), argument + largest)
    return _times(A, np.expm1(exponent))


def _others(x: np.ndarray) -> np.ndarray:
    """Σ_{j≠k} x_j for every row k, column by column (x >= 0), from exclusive prefix and
    suffix sums: Σ_j x_j − x_k would cancel next to a dominant x_k, losing the small terms
    (1 − A_k = 0 at A_k = 1 − 1e-20), and a subtraction is not monotone in x, which the
    float32 arithmetic of the bound needs (module docstring)."""
    others = np.zeros_like(x)
    others[1:] += np.cumsum(x[:-1], axis=0)
    others[:-1] += np.cumsum(x[:0:-1], axis=0)[::-1]
    return others


def _capped_by_range(E_A: np.ndarray, name: str) -> None:
    """E_A at most the width of σ's range (``RANGE_WIDTHS``), in place."""
    if name in RANGE_WIDTHS:
        np.minimum(E_A, RANGE_WIDTHS[name], out=E_A)


def _flushed(abs_Z: np.ndarray, tiny: float) -> np.ndarray:
    """Underflow term of evaluating σ or σ' at Z (abs_Z = |Z|): an intermediate below
    tiny, which XLA flushes to 0, may then be scaled by up to 4 + |z| — 4 in
    sech²(z) = 4e/(1 + e)², e = e^{−2|z|} (tanh' at z = 43.7 in float32: e = 1.1e-38
    flushed, 4.3e-38 lost), |z| in GELU's z·erfc(−z/√2)/2 (z = −13.09 in float32) and its
    derivative's z·φ(z)."""
    term = np.add(abs_Z, 4)
    term *= tiny
    return term


def _sigma_prime_bounds(
    sigma: Activation,
    Z: np.ndarray,
    abs_Z: np.ndarray,
    E_Z: np.ndarray,
    flushed: np.ndarray,
    u: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(|σ'| bound over [Z ± E_Z], error bound of computed σ'(Z), at-kink mask, an array of
    Z's shape and dtype free for the caller to write); abs_Z = |Z|, flushed =
    ``_flushed(abs_Z, tiny)``. Each array is new but the last, which the caller's own
    arithmetic reuses: a fresh array of a trace's size costs as much as a pass over it."""
    if sigma.name not in SECOND_DERIVATIVE_BOUNDS:
        raise ValueError(
            f"no bound on σ'' for activation {sigma.name!r}; add it to"
            " crosscheck.compare.bounds.SECOND_DERIVATIVE_BOUNDS"
        )
    sigma_prime = np.abs(sigma.sigma_prime(Z))  # a σ' may return an array it keeps
    second = SECOND_DERIVATIVE_BOUNDS[sigma.name](Z, E_Z)
    spread = np.multiply(second, E_Z)  # σ' moves by up to |σ''| E_Z within Z's bound
    # error = SIGMA_ULPS·u·(|Z||σ''| + |σ'|) + spread + flushed, in σ'' bound's array
    error = second
    error *= abs_Z
    error += sigma_prime
    error *= SIGMA_ULPS * u
    error += spread
    error += flushed
    slope = sigma_prime
    slope += spread  # |σ'| + spread, over [Z ± E_Z]
    at_kink = np.zeros(Z.shape, dtype=bool)
    for k in sigma.kinks:
        near = np.abs(Z - k) <= E_Z
        sides = np.abs(
            sigma.sigma_prime(np.array([np.nextafter(k, -np.inf), np.nextafter(k, np.inf)]))
        )
        np.maximum(slope, sides.max(), out=slope, where=near)
        np.maximum(error, abs(sides[1] - sides[0]), out=error, where=near)
        at_kink |= near
    if sigma.name in SIGMA_PRIME_SUPS:  # |σ'| <= sup however wide Z's interval
        sup = 1.001 * SIGMA_PRIME_SUPS[sigma.name]
        np.minimum(slope, sup, out=slope)
        np.minimum(error, 2 * sup, out=error)
    return slope, error, at_kink, spread


def _loss_bound(
    network: Network,
    params: Sequence[Layer],
    Z: np.ndarray,
    A: np.ndarray,
    T: np.ndarray,
    E_Z: np.ndarray,
    E_A: np.ndarray,
    u: float,
    tiny: float,
) -> float:
    """Eqs 2.16, 2.16', 2.16'' (+ weight decay): the bound on |Ĵ − J|; Z, A = Z^(L), A^(L).

    Summed in float64 whatever the working dtype: S_L·N terms, too many for float32's u."""
    Z, A, T, E_Z, E_A = (np.asarray(x, dtype=np.float64) for x in (Z, A, T, E_Z, E_A))
    S_L, N = A.shape
    n = S_L * N + 4 + SIGMA_ULPS
    if network.loss == "squared_error":  # Σ (A − T)²/(2N)
        # (Ã − T)² − (A − T)² = (Ã − A)(Ã + A − 2T), Ã either side's A^(L): about this
        # side's Â, |Â − T| E_A per term and a second-order E_A², which is all there is at a
        # perfect fit (Â = T, J = 0 here); the two sides' E₁² + E₂² >= (E₁ + E₂)²/2
        difference = np.subtract(A, T)
        magnitude = np.vdot(difference, difference) / (2 * N)
        propagated = (np.vdot(np.abs(difference, out=difference), E_A) + np.vdot(E_A, E_A)) / N
    elif network.loss == "cross_entropy":  # −Σ T (Z − m − log Σ exp(Z − m))/N
        m = np.max(np.abs(Z), axis=0, keepdims=True)
        spread = E_Z + (A * E_Z).sum(axis=0, keepdims=True)
        propagated = (np.abs(T) * spread).sum() / N
        magnitude = (np.abs(T) * (np.abs(Z) + m + np.log(S_L) + 1)).sum() / N
    else:  # binary cross-entropy: Σ [T softplus(−Z) + (1 − T) softplus(Z)]/N
        sensitivity = np.abs(T) * (1 - A) + np.abs(1 - T) * A
        propagated = (sensitivity * E_Z).sum() / N
        magnitude = ((np.abs(T) + np.abs(1 - T)) * (np.abs(Z) + np.log(2))).sum() / N
    bound = propagated + gamma(n, u) * magnitude + tiny * n
    if network.weight_decay:
        squares = sum(float((np.asarray(W, dtype=np.float64) ** 2).sum()) for W, _ in params)
        n_W = sum(np.size(W) for W, _ in params) + 2
        decay = 0.5 * network.weight_decay * squares
        bound += gamma(n_W, u) * decay + u * (magnitude + decay) + 4 * tiny * (1 + squares)
    return float(bound)


def _output_delta_bound(
    network: Network, A: np.ndarray, T: np.ndarray, E_A: np.ndarray, u: float, tiny: float
) -> np.ndarray:
    """Eqs 2.21, 2.21', 2.21'': the bound on Δ^(L) (inf where Δ^(L) is not finite)."""
    N = A.shape[1]
    if network.loss == "squared_error":  # (A − T)/N: (E_A + γ_3(|A| + |T|))/N + tiny
        E = np.abs(A)
        E += np.abs(T)
        E *= gamma(3, u)
        E += E_A
        E /= N
        E += tiny
        return E
    if network.loss == "cross_entropy":  # −T/(N A); a term with T = 0 is identically 0
        ratio = _over(T, A)
        # an intermediate of T below tiny (flushed by XLA) is then divided by A
        propagated = _sensitivity(T, A, E_A)
        return propagated / N + (gamma(3, u) * ratio + 4 * tiny * _over(T != 0, A)) / N
    one_minus = np.abs(1 - A)  # binary cross-entropy: ((1 − T)/(1 − A) − T/A)/N
    propagated = _sensitivity(T, A, E_A) + _sensitivity(1 - T, one_minus, E_A)
    magnitude = _over(T, A) + _over(1 - T, one_minus)
    underflow = 4 * tiny * (_over(T != 0, A) + _over(T != 1, one_minus))  # divided, as above
    return propagated / N + (gamma(4, u) * magnitude + underflow) / N


def _sensitivity(numerator: np.ndarray, denominator: np.ndarray, E: np.ndarray) -> np.ndarray:
    """One side's share of the allowed |n/d₁ − n/d₂|: n = `numerator`, d₁ = `denominator`
    (the expected side's computed d), E = `E` (a side's bound on its distance from the exact
    d). The share is |n|E/(d₁ − 2E)², as (|n|/(d₁ − 2E))·(E/(d₁ − 2E)) (a square below
    1.5e-154 underflows to 0 while both ratios are finite); the two sides' shares sum to at
    least |n|(E₁ + E₂)/(d₁(d₁ − E₁ − E₂)) >= |n/d₁ − n/d₂|. Not first order (|n|E/d₁²), which
    fails where Z^(L) cancelled and E is d's size. inf where d₁ <= 2E (the exact d may be
    0), 0 where n = 0 (the term vanishes identically)."""
    room = denominator - 2 * E
    room = np.where(room > 0, room, 0.0)
    return _times(_over(numerator, room), E / room)


def _over(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """|numerator|/denominator, 0 where the numerator is 0 (the term vanishes identically),
    inf where only the denominator is."""
    numerator = np.abs(numerator, dtype=denominator.dtype)
    return np.where(numerator != 0, numerator / denominator, 0.0)


def _H_bound(
    network: Network,
    l: int,
    Z: np.ndarray,
    A: np.ndarray,
    Delta: np.ndarray,
    T: np.ndarray,
    E_A: np.ndarray,
    E_Delta: np.ndarray,
    slope: np.ndarray | None,
    sigma_prime_error: np.ndarray | None,
    u: float,
    tiny: float,
) -> np.ndarray:
    """Eqs 2.8', 2.8'' (fused output), 2.13/2.34 (elementwise), 2.13'' (softmax): E_H.

    Z = Z^(l); A, Delta = |A^(l)|, |Δ^(l)| (float64). The elementwise case overwrites
    Delta and `sigma_prime_error` (their last use)."""
    S, N = A.shape
    if l == network.L and network.J.H is not None:
        if network.loss == "cross_entropy":  # (A Σ_k T_k − T)/N
            s = np.abs(T).sum(axis=0, keepdims=True)
            return E_A * s / N + gamma(S + 3, u) * (A * s + np.abs(T)) / N + tiny * (S + 3)
        # (A − T)/N, which autodiff forms as ((1 − T) σ(Z) − T σ(−Z))/N: σ(±Z) <= 1 is
        # evaluated on its own as exp(±Z − log(1 + e^{±Z})), a relative error u·(1 + |Z|)
        # of σ(±Z), which is e^{−|Z|} small on a fitted, saturated sample.
        weight = np.abs(T) + np.abs(1 - T)
        Z = np.asarray(Z, dtype=np.float64)
        sigmoid = network.sigma(l).sigma
        evaluated = np.abs(1 - T) * sigmoid(Z, NUMPY)
        evaluated += np.abs(T) * sigmoid(-Z, NUMPY)
        evaluation = evaluated * (SIGMA_ULPS * u * (1 + np.abs(Z)))
        # either form's own roundings are relative to its terms: A − T, or (1 − T)σ(Z) and
        # Tσ(−Z) (not to |T| + |1 − T| >= 1, which let a zeroed ∂J/∂W pass at A = 1e-17, T = 0)
        magnitude = np.abs(T) + evaluated
        magnitude += A
        return (weight * E_A + evaluation) / N + gamma(3, u) * magnitude / N + tiny
    if network.sigma(l).elementwise:  # Δ ⊙ σ'(Z): |σ'| E_Δ + |Δ| E_σ' + u|Δ||σ'| + tiny
        E_H = slope * E_Delta
        E_H += np.multiply(Delta, sigma_prime_error, out=sigma_prime_error)
        Delta *= u
        Delta *= slope
        E_H += Delta
        E_H += tiny
        return E_H
    # softmax: H_k = A_k((1 − A_k)Δ_k − Σ_{j≠k} A_j Δ_j), so Δ's error reaches a saturated
    # unit's H through 1 − A_k (as in ``_softmax_spread``), not 1 + A_k. Where A multiplies
    # another factor's error it is A + 2E_A, the other side's A (as in ∂W's bound): the
    # E_A E_Δ terms are second order but all there is at a perfect fit behind a cancelled
    # Z, where Δ = 0 and A moves by its own size on the other side.
    wide = _scaled_sum(E_A, 2, A)
    others = _others(wide * E_Delta)
    others += _scaled_sum(E_A, 2, _others(A)) * E_Delta  # Σ_{j≠k} A_j = 1 − A_k, + 2E_A
    weighted = (A * Delta).sum(axis=0, keepdims=True)
    propagated = wide * others
    propagated += E_A * (Delta + (wide * Delta).sum(axis=0, keepdims=True))
    propagated += wide * (E_A * Delta).sum(axis=0, keepdims=True)
    return propagated + gamma(S + 3, u) * A * (Delta + weighted) + tiny * (S + 3)


# --- what a comparison allows ---------------------------------------------------------------


def allowed_differences(
    network: Network,
    params: Sequence[Layer],
    X: np.ndarray,
    T: np.ndarray,
    trace: Trace,
    expected_dtype: Any,
    actual_dtypes: Iterable[Any],
) -> dict[np.dtype, Bounds]:
    """The allowed |ŷ_expected − ŷ_actual| of every entry, E(u_expected) + E(u_actual), for
    an expected side computing in `expected_dtype` and actual sides in `actual_dtypes`.

    Both terms come from the expected side's `trace` (a wrong actual value cannot widen its
    own bound); each dtype's ``trace_bounds`` is computed once.

    Args:
        network, params, X, T, trace: as in ``trace_bounds``.
        expected_dtype: the dtype the expected side computes in.
        actual_dtypes: the dtypes of the actual sides (repeats allowed).

    Returns:
        actual dtype → Bounds of the sum (its ``at_kink`` the expected side's), one entry
        per distinct dtype.

    Raises:
        As ``trace_bounds``.
    """
    e_dtype = np.dtype(expected_dtype)
    actual = list(dict.fromkeys(np.dtype(d) for d in actual_dtypes))
    e_bounds = trace_bounds(network, params, X, T, trace, e_dtype)
    sums = {
        a_dtype: _added(e_bounds, trace_bounds(network, params, X, T, trace, a_dtype))
        for a_dtype in actual
        if a_dtype != e_dtype
    }
    if e_dtype in actual:  # E + E, in E's own arrays: their last use
        sums[e_dtype] = _added(e_bounds, e_bounds)
    return {a_dtype: sums[a_dtype] for a_dtype in actual}


def allowed_difference(
    network: Network,
    params: Sequence[Layer],
    X: np.ndarray,
    T: np.ndarray,
    trace: Trace,
    expected_dtype: Any,
    actual_dtype: Any,
) -> Bounds:
    """``allowed_differences`` for one actual side: E(u_expected) + E(u_actual) per entry.

    Raises:
        As ``trace_bounds``.
    """
    (bounds,) = allowed_differences(
        network, params, X, T, trace, expected_dtype, [actual_dtype]
    ).values()
    return bounds


def _added(expected: Bounds, actual: Bounds) -> Bounds:
    """expected + actual, entry by entry, into actual's arrays; expected's kink mask."""
    fields = {}
    for name in ("Z", "A", "Delta", "H", "W", "b"):
        for e, a in zip(getattr(expected, name), getattr(actual, name), strict=True):
            if a is not None:
                a += e
        fields[name] = getattr(actual, name)
    return Bounds(**fields, J=expected.J + actual.J, at_kink=expected.at_kink)


def repeat_bound(bounds: Bounds) -> Bounds:
    """The allowed difference of two evaluations of the same computation on the same input,
    in the same dtype, whose sums may run in different orders: E(u) + E(u) per entry.

    Why: ``trace_bounds`` bounds |computed − exact| for *any* order of summation (each inner
    product of length n errs by at most γ_n times its sum over absolute values, whatever the
    order, Higham §3.1), so each evaluation lies within E of the exact value, and
    |ŷ_1 − ŷ_2| <= |ŷ_1 − y| + |y − ŷ_2| <= 2E. Code that sums in an order that changes from
    call to call (a topological order built from a set, a parallel or blocked reduction,
    ``math.fsum`` on one call and a loop on the next) is correct within it; a difference
    beyond it is not rounding.

    Args:
        bounds: ``trace_bounds`` of the problem for the dtype the evaluations compute in.

    Returns:
        Bounds with every per-entry array and J doubled (``at_kink`` unchanged).
    """

    def doubled(arrays: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(None if E is None else 2 * E for E in arrays)

    return Bounds(
        Z=doubled(bounds.Z),
        A=doubled(bounds.A),
        Delta=doubled(bounds.Delta),
        H=doubled(bounds.H),
        W=doubled(bounds.W),
        b=doubled(bounds.b),
        J=2 * bounds.J,
        at_kink=bounds.at_kink,
    )


# --- the oracle: a function under ``crosscheck check`` ---------------------------------------

TEXTBOOK_EXACT = ("identity", "relu", "leaky_relu", "softmax")
"""Activations whose σ' from A adds nothing to the derived bound."""


def oracle_allowed(
    network: Network,
    params: Sequence[Layer],
    X: np.ndarray,
    T: np.ndarray,
    trace: Trace,
    dtype: Any = np.float64,
) -> Bounds:
    """The allowed |function − suite| under ``crosscheck check``: the suite's float64 bound
    plus the function's in the dtype it is judged in, E(u₆₄) + E(u_dtype), with ∂J/∂W^(l),
    ∂J/∂b^(l) widened for σ' evaluated from A in that dtype (module docstring).

    Args:
        network: the architecture. params: W^(l) (S_l, S_{l-1}), b^(l) (S_l,). X: (S_0, N);
            T: (S_L, N): the values the function is judged on, as float64 (a function
            judged in float32 gets them as float32, which float64 holds exactly).
        trace: the suite's float64 trace of the problem (Z, A, Δ, H of shape (S_l, N)).
        dtype: the dtype the function is judged in, float64 or float32 (its u and E_A enter
            the σ'-from-A allowance).

    Returns:
        Bounds: E(u₆₄) + E(u_dtype) for every entry and J (``at_kink``: the suite's), plus
        the σ'-from-A allowance in W and b.

    Raises:
        As ``trace_bounds``.
    """
    suite = trace_bounds(network, params, X, T, trace, np.float64)
    same = np.dtype(dtype) == np.dtype(np.float64)
    function = suite if same else trace_bounds(network, params, X, T, trace, dtype)
    widening = _textbook_allowance(network, params, trace, function, dtype)
    return _widened(_added(suite, function), widening)  # after: _added writes into function's


def repeat_allowed(
    network: Network,
    params: Sequence[Layer],
    X: np.ndarray,
    T: np.ndarray,
    trace: Trace,
    dtype: Any = np.float64,
) -> Bounds:
    """The allowed |first − second| of two calls of one function on the same input under
    ``crosscheck check``: ``repeat_bound`` (E + E in the judged `dtype`, sums in any order)
    plus, in ∂J/∂W^(l) and ∂J/∂b^(l), the σ'-from-A allowance of `dtype` (module docstring),
    each call being a correct evaluation in `dtype`.

    Args:
        network, params, X, T, trace: as for ``oracle_allowed``.
        dtype: the dtype the function is judged in (float64 or float32).

    Returns:
        Bounds of the difference of the two calls, every entry and J.

    Raises:
        As ``trace_bounds``.
    """
    bounds = trace_bounds(network, params, X, T, trace, dtype)
    widening = _textbook_allowance(network, params, trace, bounds, dtype)
    return _widened(repeat_bound(bounds), widening)


def _widened(allowed: Bounds, widening: Sequence[Layer]) -> Bounds:
    """`allowed` with the σ'-from-A allowance added to its W and b."""
    return allowed._replace(
        W=tuple(E + a.W for E, a in zip(allowed.W, widening, strict=True)),
        b=tuple(E + a.b for E, a in zip(allowed.b, widening, strict=True)),
    )


def _textbook_allowance(
    network: Network, params: Sequence[Layer], trace: Trace, bounds: Bounds, dtype: Any
) -> list[Layer]:
    """a_W^(l), a_b^(l) of the module docstring, doubled, for one side computing in `dtype`
    (unit roundoff u) whose derived bounds are `bounds` (its E_A^(l) enters e_σ'(l))."""
    u = dtype_constants(dtype).u
    L = network.L
    a_Delta = np.zeros_like(np.asarray(trace.A[L], dtype=np.float64))
    allowance: list[Layer] = [None] * L  # type: ignore[list-item]
    for l in range(L, 0, -1):
        sigma = network.sigma(l)
        through = _through_sigma(sigma, trace.Z[l], a_Delta)
        if l == L and network.J.H is not None:
            a_H = np.zeros_like(a_Delta)  # fused H^(L): no σ'
        elif sigma.name in TEXTBOOK_EXACT:
            a_H = through
        else:
            Delta = np.abs(np.asarray(trace.Delta[l], dtype=np.float64))
            a_H = Delta * (2 * bounds.A[l] + 4 * u) + through
        A_prev = np.abs(np.asarray(trace.A[l - 1], dtype=np.float64))
        allowance[l - 1] = Layer(2 * (a_H @ A_prev.T), 2 * a_H.sum(axis=1))
        a_Delta = np.abs(np.asarray(params[l - 1].W, dtype=np.float64)).T @ a_H
    return allowance


def _through_sigma(sigma: Activation, Z: np.ndarray, a_Delta: np.ndarray) -> np.ndarray:
    """|∂A/∂Z|ᵗ a_Δ per column: |σ'| ⊙ a_Δ, or |J(n)|ᵗ a_Δ for softmax (eq 2.13')."""
    Z = np.asarray(Z, dtype=np.float64)
    if sigma.elementwise:
        return np.abs(sigma.sigma_prime(Z)) * a_Delta
    return np.einsum("kjn,kn->jn", np.abs(sigma.jacobian(Z)), a_Delta)


# --- the diagnosis: claims about a failing function's values --------------------------------
#
# ``crosscheck.oracle.relations`` and ``crosscheck.oracle.conventions`` claim F = c·G + K for
# a function's value F, the suite's value G (or a form of it) and a fixed part K; each claim is
# made only within the allowed errors below (all float64, the suite's precision).

U64 = dtype_constants(np.float64).u
"""float64's unit roundoff, 2⁻⁵³: the diagnosis computes its candidate values in float64."""


def scaled_allowed(c: float, B_G: Any, B_K: Any, value: Any) -> Any:
    """The allowed |F − (c·G + K)| of a claim F = c·G + K, per entry:
    |c|·B_G + B_K + 2u·|c·G + K|.

    Why: F within B_G of G means, scaled by c, within |c|·B_G of c·G; K's own allowed error
    B_K adds; and the candidate c·G + K, computed in float64, is rounded twice (the product,
    the sum): 2u of itself to first order.

    Args:
        c: the factor (1 for a form of G alone).
        B_G: the allowed error of G (an array of G's shape, or a float for J).
        B_K: the allowed error of the fixed part K (array or float; 0 without one).
        value: the candidate c·G + K as computed.

    Returns:
        float64 array (or float) of value's shape.
    """
    return abs(c) * B_G + B_K + 2 * U64 * np.abs(value)


def measured_ratio_allowed(c: float, G: np.ndarray, B_G: np.ndarray, k: tuple[int, ...]) -> Any:
    """The allowed |F − c·G| per entry where c = F_k/G_k was measured at entry k:
    ``scaled_allowed(c, B_G + B_G[k]·|G|/|G_k|, 0, c·G)``.

    Why: G_k is known within B_G[k], so c is known within a relative B_G[k]/|G_k|, which at
    entry j is |c|·B_G[k]·|G_j|/|G_k|, beside G_j's own |c|·B_G[j].

    Args:
        c: the measured ratio. G: the suite's value (or a form of it). B_G: its allowed
            error, G's shape. k: the entry c was measured at (G[k] != 0).

    Returns:
        float64 array of G's shape.
    """
    spread = B_G + B_G[k] * np.abs(G) / abs(G[k])
    return scaled_allowed(c, spread, 0.0, c * G)


def decay_term_allowed(term: Any) -> Any:
    """The allowed difference of a weight-decay term computed by two sides, float64:
    2·γ_3·|term| — γ_3 per side, as in ``trace_bounds``' E_W (fl(λ), the product λ·W, the
    sum the term joins).

    Args:
        term: λW^(l) or λb^(l) (arrays), or the bias term (λ/2)Σ‖b^(l)‖² of J (a float).

    Returns:
        float64 array (or float) of term's shape.
    """
    return 2 * gamma(3, U64) * np.abs(term)


def without_sigma_prime_allowed(trace: Trace, bounds: Bounds, l: int) -> Layer:
    """The allowed difference of ∂J/∂W^(l), ∂J/∂b^(l) computed with Δ^(l) in place of H^(l)
    (eqs 2.14, 2.15 without the σ'_l factor of eqs 2.13, 2.34, weight decay apart): by the
    rules of ``trace_bounds``' E_W, E_b with H → Δ, for each of two float64 sides,

        B_W = 2·(E_Δ |A^(l-1)|ᵗ + |Δ| E_A^(l-1)ᵗ + γ_{N+1} |Δ||A^(l-1)|ᵗ + tiny·(N + 1)),
        B_b = 2·(E_Δ J_N + γ_N |Δ| J_N + tiny·N).

    Args:
        trace: the suite's float64 trace (Δ^(l), A^(l-1) of shape (S_l, N), (S_{l-1}, N)).
        bounds: ``trace_bounds`` of that trace for float64.
        l: the layer, 1..L.

    Returns:
        Layer(B_W (S_l, S_{l-1}), B_b (S_l,)), float64.
    """
    tiny = dtype_constants(np.float64).tiny
    abs_Delta = np.abs(np.asarray(trace.Delta[l], dtype=np.float64))
    abs_A = np.abs(np.asarray(trace.A[l - 1], dtype=np.float64))
    E_Delta, N = bounds.Delta[l], abs_Delta.shape[1]
    B_b = 2 * (E_Delta.sum(axis=1) + gamma(N, U64) * abs_Delta.sum(axis=1) + tiny * N)
    B_W = 2 * (
        E_Delta @ abs_A.T
        + abs_Delta @ bounds.A[l - 1].T
        + gamma(N + 1, U64) * (abs_Delta @ abs_A.T)
        + tiny * (N + 1)
    )
    return Layer(B_W, B_b)


def catalogue_allowed(expected: np.ndarray, *dtypes: Any) -> np.ndarray:
    """The allowed |mutant − expected| per entry when a catalogued bug's output is matched
    against another output (``crosscheck.oracle.diagnosis``): rtol·(|e| + max|e|), rtol the
    fixed rule's constant (``DTYPE_CONSTANTS``) of the least precise of `dtypes`.

    Why: a mutant is run on the minimal failing example, whose values may be of any scale;
    the allowance is relative to each array's own largest entry (so a tiny example is judged
    as finely as an ordinary one) and to the entry itself, at the fixed rule's constant of
    the coarser precision (2⁻³⁰ for float64, 2⁻¹⁰ where float32 is involved).

    Args:
        expected: one array (or J) of the output matched against, any shape.
        dtypes: the dtypes the two outputs were computed in (float64, float32).

    Returns:
        float64 array of expected's shape.
    """
    rtol = dtype_constants(rounding_dtype(dtypes)).rtol
    magnitude = np.abs(np.asarray(expected, dtype=np.float64))
    return rtol * (magnitude + float(np.max(magnitude, initial=0.0)))


# --- related problems (the metamorphic properties) ------------------------------------------


def sum_of_bounds(*bounds: Sequence[Layer]) -> tuple[Layer, ...]:
    """The allowed difference of results that each lie within their own bound of one exact
    value (two related problems, e.g. a permuted one): Σ_k E_k entry by entry, since
    |ŷ_1 − ŷ_2| <= |ŷ_1 − y| + |y − ŷ_2|.

    Args:
        bounds: per-entry bounds of ∂J/∂W^(l), ∂J/∂b^(l), each L Layers of the same shapes.

    Returns:
        L Layers of float64 arrays.
    """
    return tuple(
        Layer(sum(side[l].W for side in bounds), sum(side[l].b for side in bounds))
        for l in range(len(bounds[0]))
    )


def mean_bound(
    values: Sequence[Sequence[Layer]], bounds: Sequence[Sequence[Layer]]
) -> tuple[Layer, ...]:
    """The bound of fl(Σ_n ŷ_n / N) in float64 for N results ŷ_n (e.g. per-sample gradients),
    each within bounds[n] of its exact value: Σ_n E_n/N for the inputs, plus γ_{N+1}·Σ_n|ŷ_n|/N
    for summing and dividing.

    Args:
        values: N results, each L Layers. bounds: their N bounds, the same structure.

    Returns:
        L Layers of float64 arrays.
    """
    N = len(values)
    g = gamma(N + 1, dtype_constants(np.float64).u)

    def mean(layers: Sequence[Sequence[Layer]], l: int, field: int) -> np.ndarray:
        return sum(np.abs(layer[l][field]) for layer in layers) / N

    return tuple(
        Layer(
            mean(bounds, l, 0) + g * mean(values, l, 0), mean(bounds, l, 1) + g * mean(values, l, 1)
        )
        for l in range(len(values[0]))
    )

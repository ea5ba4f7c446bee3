"""A per-entry error bound for every quantity of backprop, by running error analysis (DESIGN §5).

Two correct implementations of eqs 1.4, 2.7–2.38 differ only by rounding, and rounding
error scales with the magnitudes of the summands, not of the result. ``trace_bounds``
returns, for one implementation computing in a dtype with unit roundoff u, a bound E on
|computed − exact| for every entry of Z^(l), A^(l), Δ^(l), H^(l), ∂J/∂W^(l), ∂J/∂b^(l) and
J, taking X, T and the parameters as exact. Two sides of a comparison both round, so the
allowed difference of an entry is the sum of both sides' bounds, E(u_expected) +
E(u_actual) (``crosscheck.compare.comparison``): |ŷ_e − ŷ_a| <= |ŷ_e − y| + |y − ŷ_a|.

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
dropped.

Activations. σ is evaluated to within ``SIGMA_ULPS`` ulps of σ at an argument perturbed
by as many ulps (libm's and XLA's exp, log1p, tanh, erfc are within a few ulps;
``exp(−logaddexp(0, −z))`` loses u·|z| in the argument): eval error
``SIGMA_ULPS·u·(|A| + |Z||σ'(Z)|)``. Forward, E_A = |σ'(Z)| E_Z + that. σ' is evaluated
stably from Z (``crosscheck.ffnn.Activation.sigma_prime``: sech² not 1 − A², σ(z)σ(−z) not A(1 − A);
autodiff's JAX forms are the accurate ones too, ``crosscheck.ffnn.jax_namespace``), so its error is
|σ''| E_Z + ``SIGMA_ULPS``·u·(|σ'| + |Z||σ''|): |σ''| is bounded per activation
(``SECOND_DERIVATIVE_BOUNDS``, the maximum over [Z − E_Z, Z + E_Z], since each bound is
monotone in |z| or in z). Then H = Δ ⊙ σ'(Z) (eqs 2.13, 2.34) has E_H = |σ'| E_Δ +
|Δ| E_σ' + u|Δ||σ'|.

Softmax (eq 2.13''): H = A ⊙ (Δ − Σ_k A_k Δ_k) cancels; its magnitude over absolute values
|A| ⊙ (|Δ| + Σ_k |A_k||Δ_k|) bounds every order of evaluation, the Jacobian form of the
reference included (|J_kk'| <= A_k(δ_kk' + A_k')). Forward, each exp(Z_k − m) carries an
argument error E_Z + u(|Z| + |m|), and A_k = E_k/Σ E a relative γ_{S+3}.

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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from crosscheck.ffnn import Activation, Layer, Network, Trace

SIGMA_ULPS = 8.0
"""Ulps within which σ and σ' are evaluated (value and argument), see the module docstring."""


@dataclass(frozen=True)
class DtypeConstants:
    """The per-dtype constants of a comparison.

    Attributes:
        u: unit roundoff, 2⁻⁵³ (float64) or 2⁻²⁴ (float32).
        tiny: smallest positive normal; the underflow term is tiny × the number of terms.
        rtol, atol: the fixed rule's fallback (``crosscheck.compare.comparison.Tolerance``, atol
        scaled
            by max(1, max|expected|)), used when a comparison has no problem to derive a
            bound from.
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


def gamma(n: int | np.ndarray, u: float) -> Any:
    """γ_n = n·u/(1 − n·u) (Higham, Lemma 3.1); requires n·u < 1.

    Raises:
        ValueError: n·u >= 1 (no bound exists: the sum is too long for the dtype).
    """
    if isinstance(n, np.ndarray):
        nu = n.astype(np.float64) * u
        largest = float(nu.max(initial=0.0))
    else:  # a scalar in plain floats: the bounds take a dozen per trace
        nu = largest = float(n) * u
    if largest >= 1:
        raise ValueError(f"n·u = {largest:g} >= 1: the sums are too long for this dtype")
    return nu / (1 - nu)


class Bounds(NamedTuple):
    """Per-entry bounds on |computed − exact| for one implementation (module docstring).

    Z, A, Delta, H: tuples of length L+1 like ``crosscheck.ffnn.Trace``, (S_l, N) float64 arrays;
        Z[0] and H[0] None, A[0] zeros (X is exact); Delta[l] may hold inf where Δ^(L) is
        not finite.
    W, b: tuples of length L: W[l-1] (S_l, S_{l-1}), b[l-1] (S_l,).
    J: bound on |Ĵ − J|, a float.
    at_kink: tuple of length L+1, at_kink[l] a bool (S_l, N) array (None at l = 0): Z^(l)
        within its own bound of a kink of σ_l.
    """

    Z: tuple[np.ndarray | None, ...]
    A: tuple[np.ndarray, ...]
    Delta: tuple[np.ndarray, ...]
    H: tuple[np.ndarray | None, ...]
    W: tuple[np.ndarray, ...]
    b: tuple[np.ndarray, ...]
    J: float
    at_kink: tuple[np.ndarray | None, ...]


def _decreasing(f: Callable[[np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    """A bound f(|z|) non-increasing in |z|: its maximum over [Z − E, Z + E] at the point
    nearest 0."""
    return lambda Z, E: f(np.maximum(np.abs(Z) - E, 0.0))


def _sigmoid_prime(Z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -Z) - np.logaddexp(0.0, Z))


def _tanh_prime(Z: np.ndarray) -> np.ndarray:
    e = np.exp(-2.0 * np.abs(Z))
    return 4.0 * e / (1.0 + e) ** 2


def _gelu_second(Z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * Z * Z) / np.sqrt(2 * np.pi) * (2.0 + Z * Z)


def _zero(Z: np.ndarray, E: np.ndarray) -> np.ndarray:
    return np.zeros(Z.shape)


SECOND_DERIVATIVE_BOUNDS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "identity": _zero,
    "relu": _zero,  # piecewise linear: the kink is handled apart
    "leaky_relu": _zero,
    "sigmoid": _decreasing(_sigmoid_prime),  # σ'' = σ'(1 − 2σ), |1 − 2σ| <= 1
    "tanh": _decreasing(lambda Z: 2.0 * _tanh_prime(Z)),  # −2 tanh sech², |tanh| <= 1
    "softplus": _decreasing(_sigmoid_prime),  # softplus'' = sigmoid'
    "gelu": _decreasing(_gelu_second),  # φ(z)(2 − z²); φ(z)(2 + z²) decreases in |z|
    "elu": lambda Z, E: np.exp(np.minimum(Z + E, 0.0)),  # e^z for z < 0, 0 above; increasing
}
"""Elementwise σ name → (Z, E) ↦ max |σ''| over [Z − E, Z + E], (S_l, N) float64."""


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
        Bounds, float64 arrays in the shapes of the trace and the gradients.

    Raises:
        ValueError: no constants for `dtype`; an elementwise σ without an entry in
            ``SECOND_DERIVATIVE_BOUNDS``; sums too long for the dtype (n·u >= 1).
    """
    c = dtype_constants(dtype)
    u, tiny = c.u, c.tiny
    L, N = network.L, X.shape[1]
    f64 = _float64_trace(trace)
    T = np.asarray(T, dtype=np.float64)
    Ws = [np.abs(np.asarray(W, dtype=np.float64)) for W, _ in params]
    bs = [np.abs(np.asarray(b, dtype=np.float64)) for _, b in params]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        E_Z, E_A, slopes, sigma_prime_errors, at_kink = _forward(network, Ws, bs, f64, u, tiny)
        E_J = _loss_bound(network, params, f64, T, E_Z[L], E_A[L], u, tiny)
        E_Delta: list[Any] = [None] * (L + 1)
        E_H: list[Any] = [None] * (L + 1)
        E_W: list[Any] = [None] * L
        E_b: list[Any] = [None] * L
        E_Delta[L] = _output_delta_bound(network, f64.A[L], T, E_A[L], u, tiny)
        for l in range(L, 0, -1):
            E_H[l] = _H_bound(
                network, l, f64, T, E_A[l], E_Delta[l], slopes[l], sigma_prime_errors[l], u, tiny
            )
            H, A_prev, W = np.abs(f64.H[l]), np.abs(f64.A[l - 1]), Ws[l - 1]
            lam = network.weight_decay
            E_W[l - 1] = (
                E_H[l] @ A_prev.T
                + H @ E_A[l - 1].T
                + gamma(N + 1, u) * (H @ A_prev.T)
                + gamma(3, u) * lam * W  # fl(λ)·W, then the sum: at N = 1 beyond γ_(N+1)
                + tiny * (N + 1 + 4 * W * (lam > 0))  # λ/2 below tiny is flushed, then ×2W
            )
            E_b[l - 1] = E_H[l].sum(axis=1) + gamma(N, u) * H.sum(axis=1) + tiny * N
            S_l = network.sizes[l]
            E_Delta[l - 1] = W.T @ E_H[l] + gamma(S_l, u) * (W.T @ H) + tiny * S_l
    return Bounds(
        Z=_unbounded(E_Z),
        A=_unbounded(E_A),
        Delta=_unbounded(E_Delta),
        H=_unbounded(E_H),
        W=_unbounded(E_W),
        b=_unbounded(E_b),
        J=math.inf if math.isnan(E_J) else E_J,
        at_kink=tuple(at_kink),
    )


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


def _unbounded(bounds: list[Any]) -> tuple[Any, ...]:
    """`bounds` (arrays of this module's own, or None) with NaN made inf in place: a NaN
    comes from inf·0 or inf − inf once magnitudes overflow the float range, where the
    analysis bounds nothing. (fmin(E, inf) is E except at NaN, where fmin takes inf.)"""
    for E in bounds:
        if E is not None:
            np.fmin(E, np.inf, out=E)
    return tuple(bounds)


def _float64_trace(trace: Trace) -> Trace:
    def cast(arrays: Sequence[Any]) -> tuple[Any, ...]:
        return tuple([None if a is None else np.asarray(a, dtype=np.float64) for a in arrays])

    return Trace(*[cast(field) for field in trace])


def _times(A: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """A ⊙ bound, with 0 where A = 0 even where the bound is inf (no NaN)."""
    return np.where(A == 0, 0.0, A * np.where(A == 0, 0.0, bound))


def _forward(
    network: Network,
    Ws: list[np.ndarray],
    bs: list[np.ndarray],
    trace: Trace,
    u: float,
    tiny: float,
) -> tuple[list[Any], list[Any], list[Any], list[Any], list[Any]]:
    """Eq 1.4 over absolute values: E_Z, E_A per layer, and per elementwise layer the slope
    bound |σ'| and the error bound of σ'(Z) (None for softmax), and the kink mask."""
    L = network.L
    E_Z: list[Any] = [None] * (L + 1)
    E_A: list[Any] = [np.zeros(trace.A[0].shape)] + [None] * L
    slopes: list[Any] = [None] * (L + 1)
    sp_errors: list[Any] = [None] * (L + 1)
    at_kink: list[Any] = [None] * (L + 1)
    for l in range(1, L + 1):
        W, b, A_prev = Ws[l - 1], bs[l - 1], np.abs(trace.A[l - 1])
        n = network.sizes[l - 1] + 1  # eq 1.4: S_{l-1} products and the bias
        E_Z[l] = W @ E_A[l - 1] + gamma(n, u) * (W @ A_prev + b[:, None]) + tiny * n
        sigma, Z, A = network.sigma(l), trace.Z[l], trace.A[l]
        if sigma.elementwise:
            abs_Z = np.abs(Z)
            slopes[l], sp_errors[l], at_kink[l] = _sigma_prime_bounds(
                sigma, Z, abs_Z, E_Z[l], u, tiny
            )
            evaluation = SIGMA_ULPS * u * (np.abs(A) + abs_Z * slopes[l]) + _flushed(abs_Z, tiny)
            E_A[l] = slopes[l] * E_Z[l] + evaluation
        else:  # softmax: A_k = exp(Z_k − m)/Σ_k' exp(Z_k' − m), per column
            at_kink[l] = np.zeros(Z.shape, dtype=bool)
            m = np.max(np.abs(Z), axis=0, keepdims=True)
            with np.errstate(over="ignore"):  # |Z| + m beyond the float range: no bound
                argument = E_Z[l] + SIGMA_ULPS * u * (np.abs(Z) + m)
            S = network.sizes[l]
            E_A[l] = _times(A, argument + _times(A, argument).sum(axis=0, keepdims=True))
            E_A[l] += gamma(S + 3, u) * A + tiny * (S + 3)
    return E_Z, E_A, slopes, sp_errors, at_kink


def _flushed(abs_Z: np.ndarray, tiny: float) -> np.ndarray:
    """Underflow term of evaluating σ or σ' at Z (abs_Z = |Z|): an intermediate below
    tiny, which XLA flushes to 0, may then be scaled by up to 4 + |z| — 4 in
    sech²(z) = 4e/(1 + e)², e = e^{−2|z|} (tanh' at z = 43.7 in float32: e = 1.1e-38
    flushed, 4.3e-38 lost), |z| in GELU's z·erfc(−z/√2)/2 (z = −13.09 in float32) and its
    derivative's z·φ(z)."""
    return tiny * (4 + abs_Z)


def _sigma_prime_bounds(
    sigma: Activation, Z: np.ndarray, abs_Z: np.ndarray, E_Z: np.ndarray, u: float, tiny: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(|σ'| bound over [Z ± E_Z], error bound of computed σ'(Z), at-kink mask); abs_Z = |Z|."""
    if sigma.name not in SECOND_DERIVATIVE_BOUNDS:
        raise ValueError(
            f"no bound on σ'' for activation {sigma.name!r}; add it to"
            " crosscheck.compare.bounds.SECOND_DERIVATIVE_BOUNDS"
        )
    sigma_prime = np.abs(sigma.sigma_prime(Z))
    second = SECOND_DERIVATIVE_BOUNDS[sigma.name](Z, E_Z)
    spread = second * E_Z
    slope = sigma_prime + spread
    error = spread + SIGMA_ULPS * u * (sigma_prime + abs_Z * second) + _flushed(abs_Z, tiny)
    at_kink = np.zeros(Z.shape, dtype=bool)
    for k in sigma.kinks:
        near = np.abs(Z - k) <= E_Z
        sides = np.abs(
            sigma.sigma_prime(np.array([np.nextafter(k, -np.inf), np.nextafter(k, np.inf)]))
        )
        slope = np.where(near, np.maximum(slope, sides.max()), slope)
        error = np.where(near, np.maximum(error, abs(sides[1] - sides[0])), error)
        at_kink |= near
    return slope, error, at_kink


def _loss_bound(
    network: Network,
    params: Sequence[Layer],
    trace: Trace,
    T: np.ndarray,
    E_Z: np.ndarray,
    E_A: np.ndarray,
    u: float,
    tiny: float,
) -> float:
    """Eqs 2.16, 2.16', 2.16'' (+ weight decay): the bound on |Ĵ − J|."""
    Z, A = trace.Z[-1], trace.A[-1]
    S_L, N = A.shape
    n = S_L * N + 4 + SIGMA_ULPS
    if network.loss == "squared_error":  # Σ (A − T)²/(2N)
        propagated = (np.abs(A - T) * E_A).sum() / N
        magnitude = ((A - T) ** 2).sum() / (2 * N)
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
    if network.loss == "squared_error":  # (A − T)/N
        return E_A / N + gamma(3, u) * (np.abs(A) + np.abs(T)) / N + tiny
    if network.loss == "cross_entropy":  # −T/(N A); a term with T = 0 is identically 0
        ratio, sensitivity = _over(T, A), _over(T, A * A)
        # an intermediate of T below tiny (flushed by XLA) is then divided by A
        return sensitivity * E_A / N + (gamma(3, u) * ratio + 4 * tiny * _over(T != 0, A)) / N
    one_minus = np.abs(1 - A)  # binary cross-entropy: ((1 − T)/(1 − A) − T/A)/N
    sensitivity = _over(T, A * A) + _over(1 - T, one_minus * one_minus)
    magnitude = _over(T, A) + _over(1 - T, one_minus)
    underflow = 4 * tiny * (_over(T != 0, A) + _over(T != 1, one_minus))  # divided, as above
    return sensitivity * E_A / N + (gamma(4, u) * magnitude + underflow) / N


def _over(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """|numerator|/denominator, 0 where the numerator is 0 (the term vanishes identically),
    inf where only the denominator is."""
    numerator = np.abs(np.asarray(numerator, dtype=np.float64))
    return np.where(numerator != 0, numerator / denominator, 0.0)


def _H_bound(
    network: Network,
    l: int,
    trace: Trace,
    T: np.ndarray,
    E_A: np.ndarray,
    E_Delta: np.ndarray,
    slope: np.ndarray | None,
    sigma_prime_error: np.ndarray | None,
    u: float,
    tiny: float,
) -> np.ndarray:
    """Eqs 2.8', 2.8'' (fused output), 2.13/2.34 (elementwise), 2.13'' (softmax): E_H."""
    A, Delta = np.abs(trace.A[l]), np.abs(trace.Delta[l])
    S, N = A.shape
    if l == network.L and network.J.H is not None:
        if network.loss == "cross_entropy":  # (A Σ_k T_k − T)/N
            s = np.abs(T).sum(axis=0, keepdims=True)
            return E_A * s / N + gamma(S + 3, u) * (A * s + np.abs(T)) / N + tiny * (S + 3)
        # (A − T)/N, which autodiff forms as ((1 − T) σ(Z) − T σ(−Z))/N: σ(±Z) <= 1 is
        # evaluated on its own as exp(±Z − log(1 + e^{±Z})), a relative error u·(1 + |Z|).
        weight = np.abs(T) + np.abs(1 - T)
        evaluation = SIGMA_ULPS * u * (1 + np.abs(trace.Z[l]))
        return weight * (E_A + evaluation) / N + gamma(3, u) * (A + weight) / N + tiny
    if network.sigma(l).elementwise:  # Δ ⊙ σ'(Z)
        return slope * E_Delta + Delta * sigma_prime_error + u * Delta * slope + tiny
    # softmax: A ⊙ (Δ − Σ_k A_k Δ_k)
    weighted = (A * Delta).sum(axis=0, keepdims=True)
    propagated = A * (E_Delta + (A * E_Delta).sum(axis=0, keepdims=True))
    propagated += E_A * (Delta + weighted) + A * (E_A * Delta).sum(axis=0, keepdims=True)
    return propagated + gamma(S + 3, u) * A * (Delta + weighted) + tiny * (S + 3)

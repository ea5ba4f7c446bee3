"""How much of the derived bound's allowance each elementwise kernel uses: max |error|/allowance.

The derived bound (``crosscheck.compare.bounds``) assumes σ and σ' are evaluated within
``SIGMA_ULPS`` ulps of the exact value at an argument perturbed by as many ulps:

    allowance_A = SIGMA_ULPS·u·(|σ(z)| + |z||σ'(z)|) + tiny·(4 + |z|)
    allowance_S = SIGMA_ULPS·u·(|σ'(z)| + |z||σ''(z)|) + tiny·(4 + |z|)

tests/test_kernels.py holds every kernel to that on a grid; this script measures the margin
(the largest |kernel − exact|/allowance, 1 = the whole allowance) over many more arguments:

- float32: every float32 z with ``--lo`` <= |z| < ``--hi``, both signs (``--every`` k: every
  k-th one). The exact values are float64 evaluations of the stable forms (each within a few
  float64 ulps, 2⁻²⁹ of a float32 ulp), so the figure is the float32 kernel's own error.
- float64: ``--samples`` arguments drawn log-uniformly in [lo, hi), both signs, against
  40-digit values (mpmath).

    python tools/kernel_margins.py [--dtype float32] [--kernels tanh,gelu]
                                   [--lo 0.00390625] [--hi 16] [--every 1] [--samples 20000]

The default float32 run (every float32 in [2⁻⁸, 16), ~2^27 arguments per kernel) takes a
few minutes per kernel on one core.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import mpmath
import numpy as np
import scipy.special

from crosscheck.compare.bounds import SIGMA_ULPS
from crosscheck.ffnn import overflow_guard
from crosscheck.vectorized.kernels import KERNELS

CHUNK = 1 << 22


def exact_float64(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """σ, σ', σ'' at float64 `z` in float64 through stable forms (for float32 kernels)."""
    a = np.abs(z)
    if name == "tanh":
        t, s2 = np.tanh(z), 1.0 / np.cosh(z) ** 2
        return t, s2, -2.0 * t * s2
    if name in ("sigmoid", "softplus"):
        e = np.exp(-a)
        s = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        ds = e / (1.0 + e) ** 2
        if name == "sigmoid":
            return s, ds, ds * (1.0 - 2.0 * s)
        return np.maximum(z, 0.0) + np.log1p(e), s, ds
    if name == "elu":
        negative = np.minimum(z, 0.0)
        return (
            np.where(z > 0, z, np.expm1(negative)),
            np.where(z > 0, 1.0, np.exp(negative)),
            np.where(z > 0, 0.0, np.exp(negative)),
        )
    if name == "gelu":
        Phi = 0.5 * scipy.special.erfc(-z / np.sqrt(2.0))
        phi = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
        return z * Phi, Phi + z * phi, phi * (2.0 - z * z)
    if name == "relu":
        return np.maximum(z, 0.0), (z > 0).astype(float), np.zeros_like(z)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z), np.where(z > 0, 1.0, 0.01), np.zeros_like(z)
    raise ValueError(f"no exact values for {name!r}")


def exact_mpmath(name: str, z: float) -> tuple[float, float, float]:
    """σ, σ', σ'' at `z` in 40-digit arithmetic, rounded to float64 (for float64 kernels)."""
    with mpmath.workdps(40):
        x = mpmath.mpf(z)
        if name == "tanh":
            t, s2 = mpmath.tanh(x), mpmath.sech(x) ** 2
            values = (t, s2, -2 * t * s2)
        elif name in ("sigmoid", "softplus"):
            e = mpmath.exp(-abs(x))
            s = 1 / (1 + e) if x >= 0 else e / (1 + e)
            ds = e / (1 + e) ** 2
            values = (
                (s, ds, ds * (1 - 2 * s))
                if name == "sigmoid"
                else (max(x, 0) + mpmath.log1p(e), s, ds)
            )
        elif name == "elu":
            values = (x, 1, 0) if x > 0 else (mpmath.expm1(x), mpmath.exp(x), mpmath.exp(x))
        elif name == "gelu":
            Phi = mpmath.erfc(-x / mpmath.sqrt(2)) / 2
            phi = mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)
            values = (x * Phi, Phi + x * phi, phi * (2 - x * x))
        elif name == "relu":
            values = (max(x, 0), 1 if x > 0 else 0, 0)
        else:
            slope = mpmath.mpf(0.01)
            values = (x if x > 0 else slope * x, 1 if x > 0 else slope, 0)
        return tuple(float(v) for v in values)


def margins(name: str, z: np.ndarray, exact: tuple[np.ndarray, ...]) -> tuple[float, ...]:
    """(max ratio of A, its z, max ratio of S, its z) of the kernel at `z`."""
    dtype = z.dtype
    fused = KERNELS[name]
    scratch = np.empty(z.shape, fused.scratch_dtype(dtype))
    with overflow_guard():
        A, S = fused.evaluate(z.copy(), np.empty_like(z), scratch, True)
    sigma, sigma_prime, second = exact
    u, tiny = float(np.finfo(dtype).eps) / 2, float(np.finfo(dtype).tiny)
    abs_z = np.abs(z.astype(float))
    flushed = tiny * (4 + abs_z)
    ulps = SIGMA_ULPS * u
    allow_A = ulps * np.abs(sigma) + ulps * abs_z * np.abs(sigma_prime) + flushed
    allow_S = ulps * np.abs(sigma_prime) + ulps * abs_z * np.abs(second) + flushed
    ratio_A = np.abs(A.astype(float) - sigma) / allow_A
    ratio_S = np.abs(S.astype(float) - sigma_prime) / allow_S
    i, j = int(np.argmax(ratio_A)), int(np.argmax(ratio_S))
    return float(ratio_A[i]), float(z[i]), float(ratio_S[j]), float(z[j])


def float32_arguments(lo: float, hi: float, every: int):
    """Chunks of every `every`-th float32 z with lo <= |z| < hi, both signs."""
    start = int(np.array(lo, np.float32).view(np.int32))
    stop = int(np.array(hi, np.float32).view(np.int32))
    for first in range(start, stop, CHUNK * every):
        bits = np.arange(first, min(first + CHUNK * every, stop), every, dtype=np.int32)
        positive = bits.view(np.float32)
        yield np.concatenate([positive, -positive])


def worst(found: list[tuple[float, ...]]) -> tuple[float, ...]:
    best_A = max(found, key=lambda m: m[0])
    best_S = max(found, key=lambda m: m[2])
    return best_A[0], best_A[1], best_S[2], best_S[3]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--kernels", default=",".join(sorted(KERNELS)))
    parser.add_argument("--lo", type=float, default=2.0**-8)
    parser.add_argument("--hi", type=float, default=16.0)
    parser.add_argument("--every", type=int, default=1, help="float32: every k-th float")
    parser.add_argument("--samples", type=int, default=20000, help="float64: arguments")
    args = parser.parse_args()
    print(
        f"{args.dtype}, {args.lo:g} <= |z| < {args.hi:g}; NumPy {np.__version__},"
        f" {platform.machine()}; load {os.getloadavg()[0]:.2f}"
    )
    print("| kernel | max error/allowance of A | at z | of S | at z | arguments | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name in args.kernels.split(","):
        started, count, found = time.perf_counter(), 0, []
        if args.dtype == "float32":
            for z in float32_arguments(args.lo, args.hi, args.every):
                found.append(margins(name, z, exact_float64(name, z.astype(np.float64))))
                count += z.size
        else:
            rng = np.random.default_rng(0)
            half = np.exp(rng.uniform(np.log(args.lo), np.log(args.hi), args.samples // 2))
            z = np.concatenate([half, -half])
            exact = np.array([exact_mpmath(name, v) for v in z]).T
            found.append(margins(name, z, tuple(exact)))
            count = z.size
        ratio_A, z_A, ratio_S, z_S = worst(found)
        print(
            f"| {name} | {ratio_A:.3f} | {z_A:.7g} | {ratio_S:.3f} | {z_S:.7g} | {count} |"
            f" {time.perf_counter() - started:.0f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""vectorized/kernels.py: σ and σ' (eqs 1.4, 2.13, 2.34) as the matrix form evaluates them.

The derived bound (``crosscheck.compare.bounds``) assumes σ is evaluated within
``SIGMA_ULPS`` ulps of σ at an argument perturbed by as many ulps, i.e. within
SIGMA_ULPS·u·(|σ(z)| + |z||σ'(z)|), and σ' within SIGMA_ULPS·u·(|σ'(z)| + |z||σ''(z)|), both
plus the underflow term tiny·(4 + |z|). Each kernel is held to exactly that against values
computed in 60-digit arithmetic (mpmath), and, since ffnn's definitions meet the same
assumption, to twice it against ffnn's ``sigma`` and ``sigma_prime``, over a grid reaching
both tails, ±0, subnormals and the largest floats, in float64 and float32. In float32 each
kernel is also held to it on about 2^20 arguments evenly spread over every float32 with
2⁻⁸ <= |z| < 16 (every 191st), against float64 evaluations of stable forms, within a few
float64 ulps, 2⁻²⁹ of a float32 ulp (tools/kernel_margins.py runs every one of them).
"""

from __future__ import annotations

from functools import cache

import mpmath
import numpy as np
import pytest
import scipy.special

from crosscheck.compare.bounds import SIGMA_ULPS
from crosscheck.ffnn import ACTIVATIONS, NUMPY, Activation, overflow_guard
from crosscheck.vectorized.kernels import KERNELS, kernel

DTYPES = [np.float64, np.float32]
NAMES = sorted(KERNELS)


def _grid(dtype: type) -> np.ndarray:
    """z over both tails, ±0, subnormals and up to the largest float of `dtype`."""
    info = np.finfo(dtype)
    positive = np.concatenate(
        [
            [float(info.smallest_subnormal), float(info.tiny)],
            np.geomspace(float(info.tiny), 1e-3, 40),
            np.linspace(1e-3, 40.0, 240),
            np.geomspace(40.0, 1e4, 30),
            [float(info.max) / 4, float(info.max)],
        ]
    )
    return np.unique(np.concatenate([-positive, [0.0, -0.0], positive]).astype(dtype))


def _exact(name: str, z: float) -> tuple[float, float, float]:
    """σ(z), σ'(z), σ''(z) in 60-digit arithmetic, rounded to float64 at the end."""
    with mpmath.workdps(60):
        z = mpmath.mpf(z)
        if name == "tanh":
            t, s2 = mpmath.tanh(z), mpmath.sech(z) ** 2
            values = (t, s2, -2 * t * s2)
        elif name in ("sigmoid", "softplus"):
            e = mpmath.exp(-abs(z))  # σ(|z|) = 1/(1 + e), σ(−|z|) = e/(1 + e)
            s = 1 / (1 + e) if z >= 0 else e / (1 + e)
            ds = e / (1 + e) ** 2  # σ' = σ(z)σ(−z)
            if name == "sigmoid":
                values = (s, ds, ds * (1 - 2 * s))
            else:
                values = (max(z, 0) + mpmath.log1p(e), s, ds)
        elif name == "relu":
            values = (max(z, 0), 1 if z > 0 else 0, 0)
        elif name == "leaky_relu":
            slope = mpmath.mpf(0.01)  # the float 0.01, as ffnn multiplies by it
            values = (z if z > 0 else slope * z, 1 if z > 0 else slope, 0)
        elif name == "elu":
            values = (z, 1, 0) if z > 0 else (mpmath.expm1(z), mpmath.exp(z), mpmath.exp(z))
        elif abs(z) > 1e3:  # gelu beyond its tails: Φ is 0 or 1 and φ is 0 to any precision
            values = (max(z, 0), 1 if z > 0 else 0, 0)
        else:  # gelu
            Phi = mpmath.erfc(-z / mpmath.sqrt(2)) / 2
            phi = mpmath.exp(-z * z / 2) / mpmath.sqrt(2 * mpmath.pi)
            values = (z * Phi, Phi + z * phi, phi * (2 - z * z))
        return tuple(float(v) for v in values)


def _evaluate(name: str, Z: np.ndarray, derivative: bool = True):
    """The kernel on a copy of Z, with fresh buffers (scratch in the kernel's dtype)."""
    fused = KERNELS[name]
    scratch = np.empty(Z.shape, fused.scratch_dtype(Z.dtype))
    with overflow_guard():
        return fused.evaluate(Z.copy(), np.empty_like(Z), scratch, derivative)


def _allowances(z: np.ndarray, sigma, sigma_prime, second) -> tuple[np.ndarray, np.ndarray]:
    """The bound's allowance for A and S at `z` (float32 or float64), from exact values."""
    u, tiny = float(np.finfo(z.dtype).eps) / 2, float(np.finfo(z.dtype).tiny)
    abs_z = np.abs(z.astype(float))
    flushed = tiny * (4 + abs_z)
    ulps = SIGMA_ULPS * u  # scaled first: |σ| + |z||σ'| overflows at the largest floats
    allow_A = ulps * np.abs(sigma) + ulps * abs_z * np.abs(sigma_prime) + flushed
    allow_S = ulps * np.abs(sigma_prime) + ulps * abs_z * np.abs(second) + flushed
    return allow_A, allow_S


def _exact_float64(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """σ, σ', σ'' at float64 `z` through stable float64 forms (exact for float32 kernels)."""
    if name == "tanh":
        t, s2 = np.tanh(z), 1.0 / np.cosh(z) ** 2
        return t, s2, -2.0 * t * s2
    if name in ("sigmoid", "softplus"):
        e = np.exp(-np.abs(z))
        s = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        ds = e / (1.0 + e) ** 2
        if name == "sigmoid":
            return s, ds, ds * (1.0 - 2.0 * s)
        return np.maximum(z, 0.0) + np.log1p(e), s, ds
    if name == "elu":
        e = np.exp(np.minimum(z, 0.0))
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))), np.minimum(e, 1.0), e * (z <= 0)
    if name == "gelu":
        Phi = 0.5 * scipy.special.erfc(-z / np.sqrt(2.0))
        phi = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
        return z * Phi, Phi + z * phi, phi * (2.0 - z * z)
    if name == "relu":
        return np.maximum(z, 0.0), 1.0 * (z > 0), 0.0 * z
    slope = 0.01  # leaky_relu
    return np.where(z > 0, z, slope * z), np.where(z > 0, 1.0, slope), 0.0 * z


@cache
def _dense(name: str):
    """(z, kernel's A and S, exact σ and σ', allowances): every 191st float32 in [2⁻⁸, 16)."""
    first, stop = (int(np.float32(v).view(np.int32)) for v in (2.0**-8, 16.0))
    positive = np.arange(first, stop, 191, dtype=np.int32).view(np.float32)
    z = np.concatenate([-positive, positive])
    A, S = _evaluate(name, z)
    sigma, sigma_prime, second = _exact_float64(name, z.astype(np.float64))
    return z, (A, S), (sigma, sigma_prime), _allowances(z, sigma, sigma_prime, second)


@pytest.mark.parametrize("name", NAMES)
def test_eq_1_4_float32_kernel_sigma_within_the_bounds_sigma_ulps_densely(name):
    z, (A, _), (sigma, _), (allow_A, _) = _dense(name)
    assert z.size > 2**20
    assert _excess(A, sigma, allow_A) <= 0


@pytest.mark.parametrize("name", NAMES)
def test_eq_2_13_float32_kernel_sigma_prime_within_the_bounds_sigma_ulps_densely(name):
    # tanh' as 1/cosh² used 0.89 of the allowance at z = 0.1022 (cosh(z) next to 1 sits on
    # float32's coarse spacing above 1), GELU' with float32's z² and exp 0.93 at z = −1.44
    _, (_, S), (_, sigma_prime), (_, allow_S) = _dense(name)
    assert _excess(S, sigma_prime, allow_S) <= 0


@cache
def _case(name: str, dtype: type):
    """(z, kernel's A and S, ffnn's σ and σ', exact σ, σ', σ'', allowances for A and S)."""
    z = _grid(dtype)
    A, S = _evaluate(name, z)
    with overflow_guard():
        ffnn_A = ACTIVATIONS[name].sigma(z, NUMPY)
        ffnn_S = ACTIVATIONS[name].sigma_prime(z)
    exact = np.array([_exact(name, v) for v in z.astype(float)])
    sigma, sigma_prime, second = exact.T
    allowances = _allowances(z, sigma, sigma_prime, second)
    return z, (A, S), (ffnn_A, ffnn_S), (sigma, sigma_prime), allowances


def _excess(actual: np.ndarray, expected: np.ndarray, allowed: np.ndarray) -> float:
    """max(|actual − expected| − allowed): <= 0 when every entry is within its allowance."""
    return float(np.max(np.abs(actual.astype(float) - expected.astype(float)) - allowed))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_eq_1_4_kernel_sigma_within_the_bounds_sigma_ulps(name, dtype):
    _, (A, _), _, (sigma, _), (allow_A, _) = _case(name, dtype)
    assert A.dtype == dtype
    assert _excess(A, sigma, allow_A) <= 0


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_eq_2_13_kernel_sigma_prime_within_the_bounds_sigma_ulps(name, dtype):
    _, (_, S), _, (_, sigma_prime), (_, allow_S) = _case(name, dtype)
    assert S.dtype == dtype
    assert _excess(S, sigma_prime, allow_S) <= 0


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_eq_1_4_kernel_sigma_agrees_with_ffnn(name, dtype):
    # both within the allowance of the exact value, so within twice it of each other
    _, (A, _), (ffnn_A, _), _, (allow_A, _) = _case(name, dtype)
    assert _excess(A, ffnn_A, 2 * allow_A) <= 0


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_eq_2_13_kernel_sigma_prime_agrees_with_ffnn(name, dtype):
    _, (_, S), (_, ffnn_S), _, (_, allow_S) = _case(name, dtype)
    assert _excess(S, ffnn_S, 2 * allow_S) <= 0


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_kernel_is_ffnns_definition_bit_for_bit(name, dtype):
    # these kernels evaluate ffnn's own forms, operation for operation
    _, (A, S), (ffnn_A, ffnn_S), _, _ = _case(name, dtype)
    np.testing.assert_array_equal(A, ffnn_A)
    np.testing.assert_array_equal(S, ffnn_S)


@pytest.mark.parametrize(
    ("name", "z", "sigma_prime"),
    [
        pytest.param("relu", 0.0, 0.0, id="relu_prime_at_0_is_0"),
        pytest.param("leaky_relu", 0.0, 0.01, id="leaky_relu_prime_at_0_is_the_slope"),
        pytest.param("elu", 0.0, 1.0, id="elu_prime_at_0_is_1"),
        pytest.param("sigmoid", 0.0, 0.25, id="sigmoid_prime_at_0"),
        pytest.param("tanh", 0.0, 1.0, id="tanh_prime_at_0"),
        pytest.param("softplus", 0.0, 0.5, id="softplus_prime_at_0"),
        pytest.param("gelu", 0.0, 0.5, id="gelu_prime_at_0"),
    ],
)
def test_eq_2_13_kernel_sigma_prime_at_zero(name, z, sigma_prime):
    _, S = _evaluate(name, np.array([[z]]))
    assert S[0, 0] == sigma_prime


@pytest.mark.parametrize("name", NAMES)
def test_kernel_without_the_derivative_gives_the_same_A_and_keeps_Z(name):
    Z = _grid(np.float64)
    kept = Z.copy()
    fused = KERNELS[name]
    with overflow_guard():
        A, S = fused.evaluate(Z, np.empty_like(Z), np.empty_like(Z), False)
    A_with, _ = _evaluate(name, Z)
    assert S is None
    np.testing.assert_array_equal(Z, kept)
    np.testing.assert_array_equal(A, A_with)


def test_every_elementwise_activation_but_identity_has_a_kernel():
    elementwise = {n for n, a in ACTIVATIONS.items() if a.elementwise and n != "identity"}
    assert set(KERNELS) == elementwise


def test_an_activation_without_a_kernel_uses_ffnns_definitions():
    cube = Activation("cube", lambda Z, xp: Z**3, lambda Z: 3 * Z**2)
    Z = np.array([[-2.0, 0.5, 3.0]])
    A, S = kernel(cube).evaluate(Z.copy(), np.empty_like(Z), None, True)
    np.testing.assert_array_equal(A, Z**3)
    np.testing.assert_array_equal(S, 3 * Z**2)


@pytest.mark.parametrize("name", ["identity", "softmax"])
def test_identity_and_softmax_have_no_kernel(name):
    assert kernel(ACTIVATIONS[name]) is None


@pytest.mark.parametrize(
    ("dtype", "z", "A"),
    [
        # exact σ(17.25) = 1 − 3.2e-8: nearest float32 1 − 2⁻²⁴ (1/(1 + e^{−z}) gave 1.0)
        pytest.param(np.float32, 17.25, 1 - 2.0**-24, id="float32"),
        # exact σ(37) = 1 − 8.5e-17: nearest float64 1 − 2⁻⁵³
        pytest.param(np.float64, 37.0, 1 - 2.0**-53, id="float64"),
    ],
)
def test_eq_1_4_sigmoid_rounds_below_1_where_the_exact_value_does(dtype, z, A):
    # Found by the float32 agreement property (thorough profile): with A = 1 and T = 1,
    # J = 0 against autodiff's 1.8e-15, beyond the bound of J, which has no second-order term.
    got, _ = _evaluate("sigmoid", np.array([[z]], dtype=dtype))
    assert got[0, 0] == dtype(A)

"""Tests of crosscheck.compare.upper_product: the float32 product of non-negative float64
operands rounded up is at or above the exact product at every entry (never a false pass) and
at most a relative 2γ_k(2⁻²⁴) + 2⁻²² + 2⁻¹⁸ above it; where float32's range does not hold
the product it is NumPy's float64 product."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from crosscheck.compare import upper_product as module
from crosscheck.compare.upper_product import upper_product

V = 2.0**-24


def exact_product(X: np.ndarray, Y: np.ndarray) -> list[list[Fraction]]:
    """X @ Y in exact rational arithmetic, entry by entry."""
    m, k = X.shape
    n = Y.shape[1]
    return [
        [sum(Fraction(X[i, p]) * Fraction(Y[p, j]) for p in range(k)) for j in range(n)]
        for i in range(m)
    ]


def looseness(k: int) -> Fraction:
    """The module's stated relative looseness, 2γ_k(v) + 2⁻²² + 2⁻¹⁸, a little rounded up."""
    return Fraction(2.5 * k * V + 2.0**-22 + 2.0**-17)


@st.composite
def operands(draw, zeros: bool = False, exponents: int = 900) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y): (m, k), (k, n) float64, positive entries within a range of 2⁴⁰ (2⁸⁰ in the
    product), each operand scaled by 2^e, |e| <= `exponents`, optionally with zeros."""
    m, k, n = (draw(st.integers(1, 5)) for _ in range(3))
    lowest = 0.0 if zeros else 2.0**-20

    def operand(shape: tuple[int, int]) -> np.ndarray:
        scale = 2.0 ** draw(st.integers(-exponents, exponents))
        entries = arrays(np.float64, shape, elements=st.floats(lowest, 2.0**20))
        return draw(entries) * scale

    return operand((m, k)), operand((k, n))


@given(operands(zeros=True))
def test_float32_product_is_at_or_above_the_exact_product(XY):
    """Every entry of the rounded-up float32 product is >= the exact (X @ Y)_ij, whenever
    the float32 path is taken (the module's steps 1–3)."""
    X, Y = XY
    out = np.empty((X.shape[0], Y.shape[1]))
    if module._in_float32(X, Y, out):
        exact = exact_product(X, Y)
        assert all(Fraction(out[i, j]) >= exact[i][j] for i, j in np.ndindex(out.shape))


@given(operands(exponents=450))
def test_float32_product_is_taken_and_at_most_the_stated_looseness_above(XY):
    """Positive operands with a dynamic range of 2⁸⁰ and a product within float64's normal
    range take the float32 path, and every entry
    lies within (1 + 2γ_k + 2⁻²² + 2⁻¹⁸) of the exact one."""
    X, Y = XY
    out = np.empty((X.shape[0], Y.shape[1]))
    assert module._in_float32(X, Y, out)
    exact = exact_product(X, Y)
    loose = 1 + looseness(X.shape[1])
    for i, j in np.ndindex(out.shape):
        assert exact[i][j] <= Fraction(out[i, j]) <= exact[i][j] * loose


def test_products_below_the_threshold_are_numpys_float64_product():
    """Below FLOAT32_FROM multiply-adds the result is X @ Y itself, bit for bit."""
    rng = np.random.default_rng(0)
    X, Y = rng.random((8, 9)), rng.random((9, 7))
    np.testing.assert_array_equal(upper_product(X, Y), X @ Y)


def test_products_from_the_threshold_on_are_rounded_up(monkeypatch):
    """At FLOAT32_FROM multiply-adds and above, the rounded-up float32 product is taken:
    above X @ Y's exact value and within the stated looseness."""
    monkeypatch.setattr(module, "FLOAT32_FROM", 8 * 9 * 7)
    rng = np.random.default_rng(1)
    X, Y = rng.random((8, 9)), rng.random((9, 7))
    out = upper_product(X, Y)
    exact = exact_product(X, Y)
    for i, j in np.ndindex(out.shape):
        assert exact[i][j] <= Fraction(out[i, j]) <= exact[i][j] * (1 + looseness(9))


def test_transposed_views_give_the_product_of_the_arrays_they_view():
    """A transposed (F-ordered) operand gives what its C-ordered copy gives, bit for bit."""
    rng = np.random.default_rng(2)
    A, B = rng.random((9, 8)), rng.random((7, 9))
    out_views, out_copies = np.empty((8, 7)), np.empty((8, 7))
    assert module._in_float32(A.T, B.T, out_views)
    assert module._in_float32(np.ascontiguousarray(A.T), np.ascontiguousarray(B.T), out_copies)
    np.testing.assert_array_equal(out_views, out_copies)


@pytest.mark.parametrize(
    ("name", "X", "Y"),
    [
        ("all-zero operand", np.zeros((3, 4)), np.ones((4, 2))),
        (
            "dynamic range 2^100: an entry far below the largest",
            np.array([[1.0, 0.0], [0.0, 2.0**-100]]),
            np.eye(2),
        ),
        ("an exact zero in the product", np.array([[1.0, 0.0]]), np.array([[0.0], [1.0]])),
        ("inf", np.array([[np.inf, 1.0]]), np.ones((2, 2))),
        ("NaN", np.array([[np.nan, 1.0]]), np.ones((2, 2))),
        ("scale product below float64's normals", np.full((2, 2), 1e-200), np.full((2, 2), 1e-200)),
        (
            "a result entry below float64's normals",
            np.array([[1.0], [3 * 2.0**-60]]) * 2.0**-500,
            np.array([[2.0**-500]]),
        ),
    ],
)
def test_out_of_float32_range_falls_back_to_float64(monkeypatch, name, X, Y):
    """Where float32's range does not hold the product, the float32 path declines and the
    result is NumPy's float64 product (NaN where it is NaN)."""
    out = np.empty((X.shape[0], Y.shape[1]))
    assert not module._in_float32(X, Y, out)
    monkeypatch.setattr(module, "FLOAT32_FROM", 1)
    np.testing.assert_array_equal(upper_product(X, Y), X @ Y)


def test_entries_beyond_float32s_range_are_scaled_into_it():
    """Operands of 1e300 and 1e-250 (beyond float32's range either way) are scaled by powers of
    two and still bounded from above."""
    X, Y = np.full((2, 3), 1e300), np.full((3, 2), 1e-250)
    out = np.empty((2, 2))
    assert module._in_float32(X, Y, out)
    exact = exact_product(X, Y)
    assert all(Fraction(out[i, j]) >= exact[i][j] for i, j in np.ndindex(out.shape))


def test_float32_operands_are_multiplied_as_numpy_does(monkeypatch):
    """float32 operands (the bound's own float32 arithmetic, rounded up by its caller) are
    multiplied as X @ Y, whatever their size."""
    monkeypatch.setattr(module, "FLOAT32_FROM", 1)
    rng = np.random.default_rng(3)
    X, Y = rng.random((6, 5), dtype=np.float32), rng.random((5, 4), dtype=np.float32)
    result = upper_product(X, Y)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, X @ Y)

"""Compare two sets of gradients (and losses) entry by entry, with a report (DESIGN §5).

Two correct implementations of eqs 2.7–2.37 agree up to rounding; a real bug does not.
``compare_gradients`` checks, per entry of each array,

    |actual − expected| <= allowed,   allowed = atol' + rtol·|expected|,

and reports, per array, the mismatched count, the worst entry and its error/allowed ratio,
in derivation order: J (eq 2.16), then layers L..1 (∂J/∂W^(l), ∂J/∂b^(l)) as the backward
pass produces them, so the first failing row is the first equation at which the two part.

Default tolerances (``DEFAULT_TOLERANCES``, one dtype-keyed table)
-----------------------------------------------------------------
Rounding error of a sum such as ∂J/∂W_ij = Σ_n H_in A_jn scales with Σ_n |H_in A_jn|, the
magnitude of its terms, not with |result|: an entry that cancels to nearly 0 carries an
error of order u·Σ|terms| that no rtol can cover. Until a per-entry running error bound
replaces it (``_allowed_error`` is the one function to swap), the magnitude of an array's
terms is stood in for by its largest entry, floored at 1:

    atol' = atol · max(1, max_ij |expected_ij|)        (``Tolerance.scale_atol=True``)

The floor 1 is the scale of the bounded problems of ``crosscheck.strategies`` (inputs,
targets and most weights in [−4, 4]); it covers arrays whose every entry cancels. Nothing
is scaled by the array's size: the bound grows with the lengths of the sums (at most
S·N = 48 terms here) and the depth (L <= 4), which c below absorbs with a wide margin.

- float64: rtol = atol = c·u with u = 2⁻⁵³ and c = 2²³, i.e. 2⁻³⁰ ≈ 9.3e-10. Measured
  with the default strategies (every activation, λ = 0 and λ > 0): over 10,000 random
  problems the worst error/allowed ratio between vectorized and the contracted reference
  was 3.4e-3 (99.9% of problems below 2e-4), and between vectorized and autodiff over
  1,500 random problems 7.7e-4. A real bug (a wrong sign, a wrong
  factor 1/N, σ' of the wrong layer, a dropped bias or weight-decay term), wherever it
  shows at all, typically moves entries by 1e-3 or more of the array's magnitude: a ratio
  of 1e6 or more.
- float32: rtol = atol = 2⁻¹⁰ ≈ 9.8e-4 (c = 2¹⁴ with u = 2⁻²⁴). Measured: float32
  vectorized against the float64 reference on the same float32 inputs, σ without kinks
  and other than softmax, worst ratio 6e-3 over 1,000 steered problems.

Known limits of the array-max stand-in (the per-entry bound must lift them). Correct
implementations can differ by u·Σ|terms| where an entry's terms are large but the whole
array is small, which the stand-in cannot see:
- a softmax unit saturated in every sample: A ⊙ (Δ − Σ_k A_k Δ_k) (or A(1 − A)) cancels,
  an absolute error of about u·|Δ| behind an array of size (1 − A)·|Δ|;
- an output that nearly fits (A^(L) ≈ T) or pre-activations that cancel, behind
  activations of size 1e3–1e5 (identity or ReLU chains of large weights);
- σ' evaluated as 1 − A² or A(1 − A) (JAX's default derivatives of tanh and expm1 are of
  this kind; ``ffnn.jax_namespace`` asks for their accurate forms).
Random draws stay far below 1 (above), but a search steered towards the ratio reached
0.3–50 in float64, and float32 with softmax fails outright.

Explicit ``rtol``/``atol`` arguments override their entries one at a time; an explicit atol
is absolute (not scaled). The table used is the one of the less precise of the two sides'
dtypes (integers count as float64).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """Per-entry bound: |actual − expected| <= atol' + rtol·|expected|.

    Attributes:
        rtol: relative part, >= 0.
        atol: absolute part, >= 0.
        scale_atol: if True, atol' = atol · max(1, max|expected|) over the compared array
            (the magnitude stand-in of the defaults); if False, atol' = atol.
    """

    rtol: float
    atol: float
    scale_atol: bool = False


DEFAULT_TOLERANCES: dict[np.dtype, Tolerance] = {
    np.dtype(np.float64): Tolerance(rtol=2.0**-30, atol=2.0**-30, scale_atol=True),
    np.dtype(np.float32): Tolerance(rtol=2.0**-10, atol=2.0**-10, scale_atol=True),
}
"""dtype → default Tolerance (see the module docstring for how they were chosen)."""


def default_tolerance(dtype: Any) -> Tolerance:
    """The default Tolerance for results of `dtype` (float64 or float32).

    Raises:
        TypeError: `dtype` is not a NumPy dtype specifier.
        ValueError: no default for `dtype` (e.g. float16); pass rtol and atol explicitly.
    """
    dtype = np.dtype(dtype)
    try:
        return DEFAULT_TOLERANCES[dtype]
    except KeyError:
        known = ", ".join(str(d) for d in DEFAULT_TOLERANCES)
        raise ValueError(
            f"no default tolerance for dtype {dtype}; defaults exist for {known}."
            " Pass rtol and atol explicitly."
        ) from None


@dataclass(frozen=True)
class ArrayReport:
    """The comparison of one array (or of J) between the expected and the actual side.

    Attributes:
        quantity: "J", "W" or "b".
        layer: l = 1..L; None for J.
        equation: seed equation of the quantity ("2.16" J, "2.14"/"2.33" W, "2.15"/"2.37" b).
        shape: shape of the array; () for J.
        n_mismatched: entries with |a − e| > allowed (a NaN or inf in actual always counts).
        max_abs_error: max |a − e| (inf where actual is not finite).
        max_rel_error: max |a − e|/|e| over e != 0; inf where e == 0 != a.
        worst_index: index of the entry with the largest error/allowed ratio.
        expected_value: expected value at worst_index.
        actual_value: actual value at worst_index.
        worst_ratio: max |a − e| / allowed; < 1 passes.
        passed: no entry mismatched.
    """

    quantity: str
    layer: int | None
    equation: str
    shape: tuple[int, ...]
    n_mismatched: int
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...]
    expected_value: float
    actual_value: float
    worst_ratio: float
    passed: bool

    @property
    def label(self) -> str:
        """The row's name: "J", "∂J/∂W^(l)" or "∂J/∂b^(l)"."""
        return "J" if self.layer is None else f"∂J/∂{self.quantity}^({self.layer})"

    @property
    def size(self) -> int:
        """Number of compared entries (1 for J)."""
        return math.prod(self.shape)


@dataclass(frozen=True)
class Comparison:
    """All rows of one comparison, in derivation order: J, then layers L..1 (W, b).

    Attributes:
        expected_name: name of the trusted side (e.g. "vectorized").
        actual_name: name of the side under test.
        tolerance: the Tolerance applied to every row.
        rows: one ArrayReport per compared array.
    """

    expected_name: str
    actual_name: str
    tolerance: Tolerance
    rows: tuple[ArrayReport, ...]

    @property
    def agree(self) -> bool:
        """True if every row passed."""
        return all(row.passed for row in self.rows)

    @property
    def first_mismatch(self) -> ArrayReport | None:
        """The first failing row in derivation order, or None if all agree."""
        return next((row for row in self.rows if not row.passed), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: plain str/int/float/bool/None/lists/dicts.

        Non-finite floats (an infinite relative error, a NaN actual value) are written as
        the strings "inf", "-inf", "nan", so the result passes ``json.dumps(allow_nan=False)``.
        """
        first = self.first_mismatch
        return {
            "expected_name": self.expected_name,
            "actual_name": self.actual_name,
            "tolerance": {
                "rtol": _json_float(self.tolerance.rtol),
                "atol": _json_float(self.tolerance.atol),
                "scale_atol": self.tolerance.scale_atol,
            },
            "agree": self.agree,
            "first_mismatch": None if first is None else first.label,
            "rows": [_row_dict(row) for row in self.rows],
        }


def compare_gradients(
    expected: Sequence[Any],
    actual: Sequence[Any],
    *,
    expected_loss: float | None = None,
    actual_loss: float | None = None,
    names: tuple[str, str] = ("expected", "actual"),
    rtol: float | None = None,
    atol: float | None = None,
) -> Comparison:
    """Compare ∂J/∂W^(l), ∂J/∂b^(l) (eqs 2.14/2.33, 2.15/2.37) and J (eq 2.16) entry by entry.

    Args:
        expected: L pairs (W, b) from the trusted side; ``expected[l-1].W`` of shape
            (S_l, S_{l-1}), ``expected[l-1].b`` of shape (S_l,); finite, real.
        actual: the same structure from the side under test; NaN/inf entries count as
            mismatches.
        expected_loss, actual_loss: J from each side (a J row is added when both are given).
        names: (expected_name, actual_name) for the report.
        rtol, atol: override the dtype's default (an explicit atol is absolute).

    Returns:
        A Comparison whose rows are J (if given), then (W, b) for l = L..1.

    Raises:
        TypeError: an array or loss that is not real numeric; a params entry that is not a
            (W, b) pair; names that are not two strings.
        ValueError: different numbers of layers, different shapes (named by layer and
            array), an empty array, a non-finite expected value, only one of the two
            losses, a negative or non-finite rtol/atol, no default tolerance for the dtype.
    """
    if not (len(names) == 2 and all(isinstance(name, str) for name in names)):
        raise TypeError(f"names must be two strings (expected, actual), got {names!r}")
    pairs = _checked_layers(expected, actual)
    losses = _checked_losses(expected_loss, actual_loss)
    dtype = _comparison_dtype([a for pair in pairs for a in pair])
    tolerance = _tolerance(dtype, rtol, atol)
    rows = []
    if losses is not None:
        rows.append(_report("J", None, "2.16", *losses, tolerance))
    L = len(pairs) // 2
    for l in range(L, 0, -1):  # backward order: the layer the backward pass reaches first
        (eW, aW), (eb, ab) = pairs[2 * (l - 1)], pairs[2 * (l - 1) + 1]
        rows.append(_report("W", l, "2.14" if l == L else "2.33", eW, aW, tolerance))
        rows.append(_report("b", l, "2.15" if l == L else "2.37", eb, ab, tolerance))
    return Comparison(names[0], names[1], tolerance, tuple(rows))


def assert_gradients_close(expected: Sequence[Any], actual: Sequence[Any], **kwargs: Any) -> None:
    """Assert that `actual` gradients (and loss) agree with `expected` (see compare_gradients).

    Takes the arguments of ``compare_gradients``.

    Raises:
        AssertionError: listing, per failing array, the mismatched count and size, the
            worst index, both values there, the max absolute and relative errors and the
            worst error/allowed ratio.
        TypeError, ValueError: as ``compare_gradients``.
    """
    __tracebackhide__ = True
    comparison = compare_gradients(expected, actual, **kwargs)
    if not comparison.agree:
        raise AssertionError(_failure_text(comparison))


def _allowed_error(expected: np.ndarray, tolerance: Tolerance) -> np.ndarray:
    """Per-entry allowed |actual − expected|: the one place the bound is defined."""
    atol = tolerance.atol
    if tolerance.scale_atol:
        atol *= max(1.0, float(np.max(np.abs(expected))))
    return atol + tolerance.rtol * np.abs(expected)


def _report(
    quantity: str,
    layer: int | None,
    equation: str,
    expected: np.ndarray,
    actual: np.ndarray,
    tolerance: Tolerance,
) -> ArrayReport:
    e = expected.astype(np.float64)
    a = actual.astype(np.float64)
    allowed = _allowed_error(e, tolerance)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        error = np.abs(a - e)
        error = np.where(np.isnan(error), np.inf, error)  # a NaN actual is infinitely wrong
        ratio = np.where(error == 0, 0.0, error / allowed)
        relative = np.where(error == 0, 0.0, error / np.abs(e))
    worst = np.unravel_index(int(np.argmax(ratio)), e.shape)
    worst_index = tuple(int(i) for i in worst)
    n_mismatched = int(np.count_nonzero(~(error <= allowed)))
    return ArrayReport(
        quantity=quantity,
        layer=layer,
        equation=equation,
        shape=tuple(e.shape),
        n_mismatched=n_mismatched,
        max_abs_error=float(np.max(error)),
        max_rel_error=float(np.max(relative)),
        worst_index=worst_index,
        expected_value=float(e[worst_index]),
        actual_value=float(a[worst_index]),
        worst_ratio=float(ratio[worst_index]),
        passed=n_mismatched == 0,
    )


def _checked_layers(
    expected: Sequence[Any], actual: Sequence[Any]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Flatten to [(e, a) for W^(1), b^(1), W^(2), ...] after checking structure and shapes."""
    for side, layers in (("expected", expected), ("actual", actual)):
        if isinstance(layers, np.ndarray) or not isinstance(layers, Sequence):
            raise TypeError(f"{side} must be a sequence of (W, b) pairs, got {type(layers)}")
    if len(expected) != len(actual):
        raise ValueError(
            f"expected has {len(expected)} layers but actual has {len(actual)}; the same L is"
            " needed"
        )
    if len(expected) == 0:
        raise ValueError("no layers to compare: expected and actual are empty")
    pairs = []
    for l, (e_pair, a_pair) in enumerate(zip(expected, actual, strict=True), start=1):
        for side, pair in (("expected", e_pair), ("actual", a_pair)):
            if isinstance(pair, np.ndarray) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise TypeError(f"{side}[{l - 1}] (layer {l}) must be a (W, b) pair")
        for k, quantity in enumerate("Wb"):
            name = f"∂J/∂{quantity}^({l})"
            e = _real_array(e_pair[k], f"expected {name}")
            a = _real_array(a_pair[k], f"actual {name}")
            if e.shape != a.shape:
                raise ValueError(
                    f"{name}: actual has shape {a.shape} but expected has shape {e.shape}"
                )
            if e.size == 0:
                raise ValueError(f"{name} is empty (shape {e.shape}); nothing to compare")
            if not np.isfinite(e).all():
                raise ValueError(f"expected {name} contains a non-finite value")
            pairs.append((e, a))
    return pairs


def _checked_losses(expected_loss: Any, actual_loss: Any) -> tuple[np.ndarray, np.ndarray] | None:
    if expected_loss is None and actual_loss is None:
        return None
    if expected_loss is None or actual_loss is None:
        raise ValueError("expected_loss and actual_loss must be given together (or neither)")
    e = _real_array(expected_loss, "expected_loss")
    a = _real_array(actual_loss, "actual_loss")
    for name, value in (("expected_loss", e), ("actual_loss", a)):
        if value.shape != ():
            raise ValueError(f"{name} must be a scalar J, got shape {value.shape}")
    if not np.isfinite(e):
        raise ValueError(f"expected_loss must be finite, got {float(e)}")
    return e, a


def _real_array(value: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged lists, objects numpy cannot hold
        raise TypeError(f"{name} cannot be read as an array: {error}") from None
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name} has dtype {array.dtype}; a real (float) array is needed")
    return array


def _comparison_dtype(arrays: Sequence[np.ndarray]) -> np.dtype:
    """The least precise float dtype among `arrays`; float64 if none is floating."""
    floats = [a.dtype for a in arrays if a.dtype.kind == "f"]
    return max(floats, key=lambda d: np.finfo(d).eps, default=np.dtype(np.float64))


def _tolerance(dtype: np.dtype, rtol: float | None, atol: float | None) -> Tolerance:
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    if rtol is not None and atol is not None:
        return Tolerance(rtol=float(rtol), atol=float(atol))
    default = default_tolerance(dtype)
    if atol is not None:
        return Tolerance(rtol=default.rtol, atol=float(atol))
    if rtol is not None:
        return Tolerance(rtol=float(rtol), atol=default.atol, scale_atol=default.scale_atol)
    return default


def _failure_text(comparison: Comparison) -> str:
    tol = comparison.tolerance
    atol = f"{tol.atol:.3g}·max(1, max|expected|)" if tol.scale_atol else f"{tol.atol:.3g}"
    lines = [
        f"Gradients not equal to tolerance rtol={tol.rtol:.3g}, atol={atol}",
        f"expected: {comparison.expected_name}, actual: {comparison.actual_name}",
    ]
    for row in comparison.rows:
        if row.passed:
            continue
        where = f"at index {row.worst_index}" if row.shape else ""
        lines += [
            "",
            f"{row.label} (eq {row.equation}), shape {row.shape}:",
            f"  Mismatched elements: {row.n_mismatched} / {row.size}"
            f" ({100 * row.n_mismatched / row.size:.3g}%)",
            f"  Worst entry {where}".rstrip() + ":",
            f"    expected ({comparison.expected_name}): {row.expected_value!r}",
            f"    actual   ({comparison.actual_name}): {row.actual_value!r}",
            f"  Max absolute difference: {row.max_abs_error:.6g}",
            f"  Max relative difference: {row.max_rel_error:.6g}",
            f"  Worst error / allowed: {row.worst_ratio:.6g}",
        ]
    return "\n".join(lines)


def _row_dict(row: ArrayReport) -> dict[str, Any]:
    return {
        "quantity": row.quantity,
        "layer": row.layer,
        "label": row.label,
        "equation": row.equation,
        "shape": list(row.shape),
        "size": row.size,
        "n_mismatched": row.n_mismatched,
        "max_abs_error": _json_float(row.max_abs_error),
        "max_rel_error": _json_float(row.max_rel_error),
        "worst_index": list(row.worst_index),
        "expected_value": _json_float(row.expected_value),
        "actual_value": _json_float(row.actual_value),
        "worst_ratio": _json_float(row.worst_ratio),
        "passed": row.passed,
    }


def _json_float(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)

"""Compare two backprop results entry by entry, in derivation order, with a report (DESIGN §5).

Two correct implementations of eqs 1.4, 2.7–2.38 agree up to rounding; a real bug does not.
Every compared entry must satisfy |actual − expected| <= allowed, and each array's row
reports the mismatched count, the worst entry, the allowed error there (its bound) and
``worst_ratio`` = max |a − e|/allowed: < 1 passes.

``compare_backprop`` compares whole traces (``(grads, crosscheck.ffnn.Trace)`` from any
implementation's ``backprop``), every quantity, in derivation order:

- forward: Z^(l), A^(l) for l = 1..L (eq 1.4), then J (eq 2.16, or the loss's own: 2.16',
  2.16''), which depends on the forward pass alone;
- backward: Δ^(L) (eq 2.21 / 2.21' / 2.21''), H^(L) (2.13; 2.13' for softmax; the fused
  2.8', 2.8''), ∂J/∂W^(L) (2.14), ∂J/∂b^(L) (2.15), Δ^(L-1) (2.32), H^(L-1) (2.34),
  ∂J/∂W^(L-1) (2.33), ∂J/∂b^(L-1) (2.37), Δ^(L-2) (2.38, the recursion carried to every
  layer, as ``reference`` numbers it), ... down to Δ^(0) = ∂J/∂X.

so ``Comparison.first_mismatch`` names the first equation at which two implementations
part. Δ^(L) entries that are not finite on either side (an underflowed softmax or sigmoid
output under cross-entropy, eqs 2.21', 2.21'') are compared only where finite on both; the
row's ``n_skipped`` counts the others.

The allowed error
-----------------
By default it is derived per entry (``crosscheck.compare.bounds``): a running rounding-error
bound E(u) on |computed − exact| for each side, from the same backprop over absolute
values, and allowed = E(u_expected) + E(u_actual), both evaluated on the expected (trusted)
side's trace so that a wrong actual value cannot widen its own bound. Entries whose Z lies
within its own bound of a kink of σ (ReLU at 0) are "at a kink": σ' may differ there, the
bound of the sample's downstream entries widens accordingly, and the Z^(l) and H^(l) rows
count them (``n_at_kink``).

``compare_gradients`` compares ∂J/∂W^(l), ∂J/∂b^(l) (and J) alone, for callers without a
trace. It takes per-entry bounds (``allowed=``, e.g. from ``tolerance.trace_bounds`` of a
trusted trace) or else falls back to the fixed rule below.

Fixed rule (explicit ``rtol=``/``atol=``, or ``compare_gradients`` without bounds)
-----------------------------------------------------------------------------------
allowed = atol' + rtol·|expected|, with the dtype's fallback rtol = atol from
``tolerance.DTYPE_CONSTANTS`` (float64 2⁻³⁰, float32 2⁻¹⁰) and

    atol' = atol·max|expected| + tiny·n     (``Tolerance.scale_atol``)

over the array of n entries, tiny the dtype's smallest normal. The absolute part is
relative to the array's own magnitude, whatever it is: an array of vanishing gradients
(all entries ~1e-6..1e-11) is held to the same relative accuracy as one of order 1, so a
sign flip or a 5e-4 relative error there fails (a floor of max(1, ·) would let an
absolute 2⁻³⁰ swallow them). tiny·n only keeps an all-zero expected array from demanding
exact zeros below the underflow threshold (a stand-in for the unknown number of terms).
J alone keeps atol·max(1, |J|): J >= 0 is a sum of logs and squares whose rounding near a
perfect fit is absolute (log A at A ≈ 1, (a − t)² at a ≈ t err by ~u, not ~u·J), so a J
of 0 may come back as 1e-16 from correct code.
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from typing import Any, NamedTuple

import numpy as np

from crosscheck.compare.bounds import DTYPE_CONSTANTS, Bounds, dtype_constants, trace_bounds
from crosscheck.ffnn import Layer, Network, Trace, validate


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
    (crosscheck.compare.bounds).

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


DEFAULT_TOLERANCES: dict[np.dtype, Tolerance] = {
    dtype: Tolerance(rtol=c.rtol, atol=c.atol, scale_atol=True, tiny=c.tiny)
    for dtype, c in DTYPE_CONSTANTS.items()
}
"""dtype → the fixed rule's fallback Tolerance (from ``tolerance.DTYPE_CONSTANTS``)."""


def default_tolerance(dtype: Any) -> Tolerance:
    """The fixed rule's fallback Tolerance for results of `dtype` (float64 or float32).

    Raises:
        TypeError: `dtype` is not a NumPy dtype specifier.
        ValueError: no default for `dtype` (e.g. float16); pass rtol and atol explicitly.
    """
    c = dtype_constants(dtype)
    return Tolerance(rtol=c.rtol, atol=c.atol, scale_atol=True, tiny=c.tiny)


J_LEAST_SCALE = 1.0
"""The fixed rule scales J's atol by max(1, |J|): J's rounding is absolute near 0 (module
docstring); gradient arrays scale by their own max|expected| alone."""

QUANTITY_SYMBOLS = {"Z": "Z", "A": "A", "Delta": "Δ", "H": "H"}
"""Trace quantity → its symbol in labels."""


@dataclass(frozen=True)
class ArrayReport:
    """The comparison of one array (or of J) between the expected and the actual side.

    Attributes:
        quantity: "Z", "A", "J", "Delta", "H", "W" or "b".
        layer: l (0..L for Delta, 1..L otherwise); None for J.
        equation: the equation computing it (``crosscheck.equations``), e.g. "2.33".
        shape: shape of the array; () for J.
        n_mismatched: compared entries with |a − e| > allowed (NaN/inf in actual counts).
        max_abs_error: max |a − e| over compared entries (inf where actual is not finite).
        max_rel_error: max |a − e|/|e| over e != 0; inf where e == 0 != a.
        worst_index: index of the entry with the largest error/allowed ratio.
        expected_value: expected value at worst_index.
        actual_value: actual value at worst_index.
        worst_ratio: max |a − e|/allowed; < 1 passes.
        passed: no entry mismatched.
        allowed: the allowed error (the bound) at worst_index.
        n_skipped: entries not compared: not finite on either side (Δ^(L) only).
        n_at_kink: entries of Z^(l) within their bound of a kink of σ_l (Z and H rows).
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
    allowed: float = math.nan
    n_skipped: int = 0
    n_at_kink: int = 0

    @property
    def label(self) -> str:
        """The row's name: "J", "Z^(l)", "A^(l)", "Δ^(l)", "H^(l)", "∂J/∂W^(l)", "∂J/∂b^(l)"."""
        if self.layer is None:
            return "J"
        if self.quantity in QUANTITY_SYMBOLS:
            return f"{QUANTITY_SYMBOLS[self.quantity]}^({self.layer})"
        return f"∂J/∂{self.quantity}^({self.layer})"

    @property
    def size(self) -> int:
        """Number of entries of the array (1 for J), skipped ones included."""
        return math.prod(self.shape)


@dataclass(frozen=True)
class Comparison:
    """All rows of one comparison, in derivation order (module docstring).

    Attributes:
        expected_name: name of the trusted side (e.g. "vectorized").
        actual_name: name of the side under test.
        tolerance: the rule applied to every row: a DerivedBound or a fixed Tolerance.
        rows: one ArrayReport per compared array.
    """

    expected_name: str
    actual_name: str
    tolerance: Tolerance | DerivedBound
    rows: tuple[ArrayReport, ...]

    @property
    def agree(self) -> bool:
        """True if every row passed."""
        return all(row.passed for row in self.rows)

    @property
    def first_mismatch(self) -> ArrayReport | None:
        """The first failing row in derivation order, or None if all agree."""
        return next((row for row in self.rows if not row.passed), None)

    @property
    def worst_ratio(self) -> float:
        """The largest error/allowed ratio over all rows (0 for identical results)."""
        return max((row.worst_ratio for row in self.rows), default=0.0)

    @property
    def n_at_kink(self) -> int:
        """Entries of Z^(l), over all layers, at a kink of σ_l."""
        return sum(row.n_at_kink for row in self.rows if row.quantity == "Z")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: plain str/int/float/bool/None/lists/dicts.

        Non-finite floats (an infinite relative error, a NaN actual value) are written as
        the strings "inf", "-inf", "nan", so the result passes ``json.dumps(allow_nan=False)``.
        Each row carries ``worst_error_to_bound`` (= worst_ratio) and ``bound`` (allowed).
        """
        first = self.first_mismatch
        return {
            "expected_name": self.expected_name,
            "actual_name": self.actual_name,
            "tolerance": self.tolerance.to_dict(),
            "agree": self.agree,
            "first_mismatch": None if first is None else first.label,
            "first_mismatch_equation": None if first is None else first.equation,
            "worst_error_to_bound": _json_float(self.worst_ratio),
            "n_at_kink": self.n_at_kink,
            "rows": [_row_dict(row) for row in self.rows],
        }


def equation_labels(network: Network) -> dict[tuple[str, int | None], str]:
    """(quantity, layer) → the equation that computes it, for this network's σ_l and J.

    Z^(l), A^(l): "1.4". J, Δ^(L): the loss's own (``network.J.equations``, e.g.
    "2.16'–2.21', 2.8'" gives J "2.16'", Δ^(L) "2.21'"). H^(L): the loss's fused form
    ("2.8'", "2.8''") if it has one, else "2.13" (elementwise σ_L) or "2.13'" (softmax);
    H^(l), l < L: "2.34" or "2.13'". ∂J/∂W^(l): "2.14" (l = L), "2.33"; ∂J/∂b^(l): "2.15",
    "2.37". Δ^(L-1): "2.32"; Δ^(l-1) below: "2.38" (the recursion, numbered by reference).

    Raises:
        Nothing of its own.
    """
    L = network.L
    defining, *fused = (part.strip() for part in network.J.equations.split(","))
    J_eq, Delta_eq = (part.strip() for part in defining.split("–"))
    labels: dict[tuple[str, int | None], str] = {("J", None): J_eq, ("Delta", L): Delta_eq}
    for l in range(1, L + 1):
        labels["Z", l] = labels["A", l] = "1.4"
        primed = "'" if not network.sigma(l).elementwise else ""
        labels["H", l] = ("2.13" if l == L else "2.34") if not primed else "2.13'"
        labels["W", l], labels["b", l] = ("2.14", "2.15") if l == L else ("2.33", "2.37")
        labels["Delta", l - 1] = "2.32" if l == L else "2.38"
    if network.J.H is not None and fused:
        labels["H", L] = fused[0]
    return labels


BackpropResult = tuple[Sequence[Layer], Trace]
"""``(grads, trace)`` as every implementation's ``backprop`` returns it."""


def compare_backprop(
    network: Network,
    params: Sequence[Any],
    X: Any,
    T: Any,
    expected: BackpropResult,
    actual: BackpropResult,
    *,
    expected_loss: float | None = None,
    actual_loss: float | None = None,
    names: tuple[str, str] = ("expected", "actual"),
    rtol: float | None = None,
    atol: float | None = None,
) -> Comparison:
    """Compare two backprop results quantity by quantity: eqs 1.4, 2.16, 2.21, 2.13/2.34,
    2.14/2.33, 2.15/2.37, 2.32/2.38 (and their primed extensions), in derivation order.

    Args:
        network: the architecture, sizes (S_0, ..., S_L).
        params: L pairs (W, b), W^(l) (S_l, S_{l-1}), b^(l) (S_l,); X: (S_0, N); T: (S_L, N):
            the problem both sides solved (checked by ``crosscheck.ffnn.validate`` first).
        expected: the trusted side's ``(grads, trace)``: grads L Layers shaped like params;
            trace an ``crosscheck.ffnn.Trace`` with Z[l], A[l], Delta[l], H[l] of shape (S_l, N)
            (Z[0], H[0] None). Every entry finite except Δ^(L). Its magnitudes set the bound.
        actual: the side under test, the same structure; NaN/inf entries are mismatches
            (except in Δ^(L), where they are skipped and counted).
        expected_loss, actual_loss: J from each side (a J row is added when both are given).
        names: (expected_name, actual_name) for the report.
        rtol, atol: use the fixed rule instead of the derived bound (module docstring).

    Returns:
        A Comparison: rows Z^(1), A^(1), ..., Z^(L), A^(L), J (if given), then per layer
        l = L..1: Δ^(l), H^(l), ∂J/∂W^(l), ∂J/∂b^(l); last Δ^(0).

    Raises:
        TypeError, ValueError: from ``crosscheck.ffnn.validate``; a result that is not (grads,
        Trace)
            of the problem's shapes (named by layer and quantity); a non-finite expected
            value outside Δ^(L); only one loss; a negative or non-finite rtol/atol; a dtype
            without constants.
    """
    _check_names(names)
    actual_losses = None if actual_loss is None else {names[1]: actual_loss}
    return compare_backprop_many(
        network,
        params,
        X,
        T,
        expected,
        {names[1]: actual},
        expected_loss=expected_loss,
        actual_losses=actual_losses,
        expected_name=names[0],
        rtol=rtol,
        atol=atol,
    )[names[1]]


def compare_backprop_many(
    network: Network,
    params: Sequence[Any],
    X: Any,
    T: Any,
    expected: BackpropResult,
    actuals: Mapping[str, BackpropResult],
    *,
    expected_loss: float | None = None,
    actual_losses: Mapping[str, float] | None = None,
    expected_name: str = "expected",
    rtol: float | None = None,
    atol: float | None = None,
) -> dict[str, Comparison]:
    """``compare_backprop`` of several actual results against one expected result, with the
    problem validated and the derived bound computed once (per actual dtype) for all.

    Args:
        network, params, X, T, expected, rtol, atol: as in ``compare_backprop``.
        actuals: name → ``(grads, trace)`` of each side under test (the name is the actual
            side's name in its Comparison).
        expected_loss: J of the expected side, or None.
        actual_losses: name → J of each actual side (same keys as `actuals`), or None; a J row
            is added when both J are given.
        expected_name: the expected side's name in the reports.

    Returns:
        name → Comparison, in the order of `actuals`.

    Raises:
        As ``compare_backprop``; also TypeError when `actuals` or `actual_losses` is not a
        mapping, and ValueError when their names differ.
    """
    params, X, T = validate(network, params, X, T)
    for argument, mapping in (("actuals", actuals), ("actual_losses", actual_losses)):
        if mapping is not None and not isinstance(mapping, Mapping):
            raise TypeError(
                f"{argument} must be a mapping name → result, got {type(mapping).__name__}"
            )
    if actual_losses is not None and set(actual_losses) - set(actuals):
        raise ValueError(
            f"actual_losses names sides not in actuals: {sorted(set(actual_losses) - set(actuals))}"
        )
    N = X.shape[1]
    e_grads, e_trace = _checked_result(network, N, expected, "expected")
    e_layers = _checked_expected_layers(e_grads)
    e_dtype = _comparison_dtype(_arrays(e_layers, e_trace))
    sides: dict[str, _Side] = {}
    for name, actual in actuals.items():
        _check_names((expected_name, name))
        if actual_losses is not None and name not in actual_losses:
            raise ValueError(f"actual_losses has no J for {name!r}")
        actual_loss = None if actual_losses is None else actual_losses[name]
        a_grads, a_trace = _checked_result(network, N, actual, "actual")
        a_layers = _checked_actual_layers(e_layers, a_grads)
        losses = _checked_losses(expected_loss, actual_loss)
        a_J = None if losses is None else losses[1]
        a_arrays = _in_derivation_order(a_trace, a_layers, a_J)
        sides[name] = _Side(losses, a_arrays, _comparison_dtype(_arrays(a_layers, a_trace)))
    if not sides:
        return {}
    losses = next(iter(sides.values())).losses  # a J row for every side or for none
    e_arrays = _in_derivation_order(e_trace, e_layers, None if losses is None else losses[0])
    keys = _row_keys(network.L, with_J=losses is not None)
    e = _flat(e_arrays)
    labels = equation_labels(network)
    bounds: dict[np.dtype, tuple[Bounds, np.ndarray]] = {}  # dtype → Bounds and them flat

    def bounds_of(dtype: np.dtype) -> tuple[Bounds, np.ndarray]:
        if dtype not in bounds:
            dtype_bounds = trace_bounds(network, params, X, T, e_trace, dtype)
            layers = [E for pair in zip(dtype_bounds.W, dtype_bounds.b, strict=True) for E in pair]
            J = None if losses is None else dtype_bounds.J
            flat = _flat(_in_derivation_order(Trace(*dtype_bounds[:4]), layers, J))
            bounds[dtype] = dtype_bounds, flat
        return bounds[dtype]

    by_dtype: dict[np.dtype, list[str]] = {}  # the sides that share a rule and a bound
    for name, side in sides.items():
        by_dtype.setdefault(side.dtype, []).append(name)
    comparisons = {}
    for a_dtype, names in by_dtype.items():
        if rtol is not None or atol is not None:
            rule: Tolerance | DerivedBound = _tolerance(
                max(e_dtype, a_dtype, key=lambda d: np.finfo(d).eps), rtol, atol
            )
            allowed = _flat(
                [
                    _allowed_error(array, rule, least_scale=J_LEAST_SCALE if q == "J" else 0.0)
                    for (q, _), array in zip(keys, e_arrays, strict=True)
                ]
            )
            kinks = [0] * (network.L + 1)
        else:
            rule = DerivedBound(str(e_dtype), str(a_dtype))
            (e_bounds, e_allowed), (_, a_allowed) = bounds_of(e_dtype), bounds_of(a_dtype)
            allowed = e_allowed + a_allowed
            kinks = [0] + [int(np.count_nonzero(m)) for m in e_bounds.at_kink[1:]]
        specs = [
            _RowSpec(  # positionally: keywords cost a third more, on dozens of rows
                q,
                l,
                labels[q, l],
                array.shape,
                q == "Delta" and l == network.L,  # skip_non_finite
                kinks[l] if q in ("Z", "H") else 0,  # n_at_kink
            )
            for (q, l), array in zip(keys, e_arrays, strict=True)
        ]
        a = _flat([array for name in names for array in sides[name].arrays])
        rows = _reports(specs, e, a.reshape(len(names), e.size), allowed)
        for name, side_rows in zip(names, rows, strict=True):
            comparisons[name] = Comparison(expected_name, name, rule, side_rows)
    return {name: comparisons[name] for name in actuals}


def assert_backprop_close(*args: Any, **kwargs: Any) -> None:
    """Assert that two backprop results agree (see ``compare_backprop``, same arguments).

    Raises:
        AssertionError: naming the first equation at which they part and, per failing
            array, the mismatched count, the worst index, both values, the max absolute and
            relative errors, the bound there and the worst error/bound ratio.
        TypeError, ValueError: as ``compare_backprop``.
    """
    __tracebackhide__ = True
    comparison = compare_backprop(*args, **kwargs)
    if not comparison.agree:
        raise AssertionError(_failure_text(comparison))


def compare_gradients(
    expected: Sequence[Any],
    actual: Sequence[Any],
    *,
    expected_loss: float | None = None,
    actual_loss: float | None = None,
    names: tuple[str, str] = ("expected", "actual"),
    rtol: float | None = None,
    atol: float | None = None,
    allowed: Sequence[Layer] | None = None,
    allowed_loss: float | None = None,
) -> Comparison:
    """Compare ∂J/∂W^(l), ∂J/∂b^(l) (eqs 2.14/2.33, 2.15/2.37) and J (eq 2.16) entry by entry.

    Args:
        expected: L pairs (W, b) from the trusted side; ``expected[l-1].W`` of shape
            (S_l, S_{l-1}), ``expected[l-1].b`` of shape (S_l,); finite, real.
        actual: the same structure from the side under test; NaN/inf entries count as
            mismatches.
        expected_loss, actual_loss: J from each side (a J row is added when both are given).
        names: (expected_name, actual_name) for the report.
        rtol, atol: override the dtype's fixed fallback (an explicit atol is absolute).
        allowed: per-entry allowed errors in the same structure as `expected` (e.g. the sum
            of both sides' ``tolerance.trace_bounds``); the rule is then the derived one.
            Without it, the fixed rule applies: allowed = atol·max|e| + tiny·n + rtol·|e|
            per array of n entries (module docstring), so an array of small gradients
            keeps its relative accuracy.
        allowed_loss: the allowed error of J, required with `allowed` when losses are given.

    Returns:
        A Comparison whose rows are J (if given), then (W, b) for l = L..1; equations as
        for a squared-error network ("2.16", "2.14"/"2.33", "2.15"/"2.37").

    Raises:
        TypeError: an array or loss that is not real numeric; a params entry that is not a
            (W, b) pair; names that are not two strings.
        ValueError: different numbers of layers, different shapes (named by layer and
            array), an empty array, a non-finite expected value, only one of the two
            losses, a negative or non-finite rtol/atol, no default tolerance for the dtype,
            `allowed` of the wrong shapes or without `allowed_loss` where J is compared,
            both `allowed` and rtol/atol.
    """
    _check_names(names)
    pairs = _checked_layers(expected, actual)
    losses = _checked_losses(expected_loss, actual_loss)
    arrays = [a for pair in pairs for a in pair]
    if allowed is not None:
        if rtol is not None or atol is not None:
            raise ValueError("give either allowed (the derived bound) or rtol/atol, not both")
        limits = [limit for limit, _ in _checked_layers(allowed, expected)]
        if losses is not None and allowed_loss is None:
            raise ValueError("allowed_loss is needed with allowed when losses are compared")
        dtypes = [
            _comparison_dtype([e for e, _ in pairs]),
            _comparison_dtype([a for _, a in pairs]),
        ]
        rule: Tolerance | DerivedBound = DerivedBound(*(str(d) for d in dtypes))
    else:
        rule = _tolerance(_comparison_dtype(arrays), rtol, atol)
        limits = [_allowed_error(e, rule) for e, _ in pairs]
    specs, e, a, limit = [], [], [], []
    if losses is not None:
        specs.append(_RowSpec("J", None, "2.16", ()))
        e.append(losses[0])
        a.append(losses[1])
        limit.append(
            _allowed_error(losses[0], rule, least_scale=J_LEAST_SCALE)
            if allowed is None
            else np.broadcast_to(allowed_loss, ())
        )
    L = len(pairs) // 2
    for l in range(L, 0, -1):  # backward order: the layer the backward pass reaches first
        for k, quantity in enumerate("Wb"):
            e_array, a_array = pairs[2 * (l - 1) + k]
            equation = {"W": ("2.33", "2.14"), "b": ("2.37", "2.15")}[quantity][l == L]
            specs.append(_RowSpec(quantity, l, equation, e_array.shape))
            e.append(e_array)
            a.append(a_array)
            limit.append(limits[2 * (l - 1) + k])
    (rows,) = _reports(specs, _flat(e), _flat(a)[None], _flat(limit))
    return Comparison(names[0], names[1], rule, rows)


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


def _allowed_error(
    expected: np.ndarray, tolerance: Tolerance, *, least_scale: float = 0.0
) -> np.ndarray:
    """Per-entry allowed |actual − expected| under the fixed rule (module docstring).

    With ``scale_atol``, atol' = atol·max(least_scale, max|expected|) + tiny·n: gradient
    arrays use least_scale 0 (relative to their own magnitude), J uses J_LEAST_SCALE.
    """
    magnitude = np.abs(np.asarray(expected, dtype=np.float64))
    finite = magnitude[np.isfinite(magnitude)]
    atol = tolerance.atol
    if tolerance.scale_atol:
        scale = max(least_scale, float(np.max(finite, initial=0.0)))
        atol = atol * scale + tolerance.tiny * magnitude.size
    return atol + tolerance.rtol * magnitude


def _in_derivation_order(trace: Trace, layers: Sequence[Any], J: Any) -> list[Any]:
    """The entries of a trace, its gradients `layers` ([∂W^(1), ∂b^(1), ∂W^(2), ...]) and J
    in the order of ``compare_backprop``'s rows: Z^(1), A^(1), ..., Z^(L), A^(L), J (unless
    None), then per l = L..1: Δ^(l), H^(l), ∂W^(l), ∂b^(l); last Δ^(0)."""
    L = len(layers) // 2
    order = [field[l] for l in range(1, L + 1) for field in (trace.Z, trace.A)]
    if J is not None:
        order.append(J)
    for l in range(L, 0, -1):
        order += [trace.Delta[l], trace.H[l], layers[2 * l - 2], layers[2 * l - 1]]
    order.append(trace.Delta[0])
    return order


@cache
def _row_keys(L: int, *, with_J: bool) -> tuple[tuple[str, int | None], ...]:
    """(quantity, layer) of each row of ``compare_backprop``, in derivation order."""
    keys = Trace(*(tuple((q, l) for l in range(L + 1)) for q in ("Z", "A", "Delta", "H")))
    layers = [(q, l) for l in range(1, L + 1) for q in "Wb"]
    return tuple(_in_derivation_order(keys, layers, ("J", None) if with_J else None))


def _flat(arrays: Sequence[Any]) -> np.ndarray:
    """The entries of `arrays` (arrays or scalars), each raveled, in one float64 vector."""
    return np.concatenate(arrays, axis=None, dtype=np.float64)


class _Side(NamedTuple):
    """One checked actual side of ``compare_backprop_many``."""

    losses: tuple[np.ndarray, np.ndarray] | None  # (expected J, actual J)
    arrays: list[Any]  # the actual side's, in derivation order
    dtype: np.dtype  # the least precise among them


class _RowSpec(NamedTuple):
    """What an ArrayReport states besides the comparison's numbers."""

    quantity: str
    layer: int | None
    equation: str
    shape: tuple[int, ...]
    skip_non_finite: bool = False
    n_at_kink: int = 0


def _reports(
    specs: Sequence[_RowSpec], e: np.ndarray, a: np.ndarray, allowed: np.ndarray
) -> list[tuple[ArrayReport, ...]]:
    """The ArrayReports of k actual sides against one expected side.

    The rows' entries are raveled into one vector (`e` and `allowed`, (n,)), each side's
    into a row of `a` ((k, n)), so the elementwise work is done once for all rows and sides
    (a comparison has 6L + 2 small arrays).
    """
    sizes = [math.prod(spec.shape) for spec in specs]
    starts = np.array([0, *accumulate(sizes[:-1])])  # np.cumsum of a list costs 3× more
    skip = np.repeat([spec.skip_non_finite for spec in specs], sizes)
    compared = ~skip | (np.isfinite(e) & np.isfinite(a))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        error = np.where(compared, np.abs(a - e), 0.0)
        error[np.isnan(error)] = np.inf  # a NaN actual is infinitely wrong
        exact = error == 0
        ratio = np.where(exact, 0.0, error / allowed)
        ratio[np.isnan(ratio)] = np.inf  # no bound (NaN) allows no error
        relative = np.where(exact, 0.0, error / np.abs(e))
    mismatched = compared & ~exact & ~(error <= allowed)
    worst_ratio = np.maximum.reduceat(ratio, starts, axis=1)
    # the worst entry of each row: its first at the row's largest ratio, as np.argmax picks
    at_worst = ratio == np.repeat(worst_ratio, sizes, axis=1)
    worst = np.minimum.reduceat(np.where(at_worst, np.arange(e.size), e.size), starts, axis=1)
    columns = [
        column.tolist()  # (k, R) → per side, per row
        for column in (
            np.add.reduceat(mismatched, starts, axis=1),
            np.maximum.reduceat(error, starts, axis=1),
            np.maximum.reduceat(relative, starts, axis=1),
            worst - starts,
            e[worst],
            a[np.arange(len(a))[:, None], worst],
            worst_ratio,
            allowed[worst],
            np.add.reduceat(~compared, starts, axis=1),
        )
    ]
    return [
        tuple(
            [
                ArrayReport(
                    quantity=spec.quantity,
                    layer=spec.layer,
                    equation=spec.equation,
                    shape=spec.shape,
                    n_mismatched=n_mismatched,
                    max_abs_error=max_abs_error,
                    max_rel_error=max_rel_error,
                    worst_index=_unravel(offset, spec.shape),
                    expected_value=expected_value,
                    actual_value=actual_value,
                    worst_ratio=worst_ratio_k,
                    passed=n_mismatched == 0,
                    allowed=allowed_k,
                    n_skipped=n_skipped,
                    n_at_kink=spec.n_at_kink,
                )
                for (
                    spec,
                    n_mismatched,
                    max_abs_error,
                    max_rel_error,
                    offset,
                    expected_value,
                    actual_value,
                    worst_ratio_k,
                    allowed_k,
                    n_skipped,
                ) in zip(specs, *side, strict=True)
            ]
        )
        for side in zip(*columns, strict=True)
    ]


def _unravel(offset: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """``np.unravel_index(offset, shape)`` in plain ints."""
    if len(shape) == 2:  # W^(l) and the trace's arrays, in one step
        return divmod(offset, shape[1])
    index = []
    for extent in reversed(shape):
        offset, i = divmod(offset, extent)
        index.append(i)
    return tuple(reversed(index))


def _check_names(names: Any) -> None:
    if not (len(names) == 2 and all(isinstance(name, str) for name in names)):
        raise TypeError(f"names must be two strings (expected, actual), got {names!r}")


def _checked_result(network: Network, N: int, result: Any, side: str) -> tuple[Any, Trace]:
    """(grads, trace) after checking that the trace has the problem's shapes."""
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(f"{side} must be a (grads, trace) pair as backprop returns it")
    grads, trace = result
    if not isinstance(trace, tuple) or len(trace) != 4:
        raise TypeError(f"{side} trace must be a crosscheck.ffnn.Trace (Z, A, Delta, H)")
    L = network.L
    checked = []
    for q, low, field in zip(("Z", "A", "Delta", "H"), (1, 0, 0, 1), trace, strict=True):
        if not isinstance(field, Sequence) or len(field) != L + 1:
            raise ValueError(f"{side} trace.{q} must hold L + 1 = {L + 1} layers")
        arrays = [None] * low
        for l in range(low, L + 1):
            array = field[l]
            if not _is_real_array(array):
                array = _real_array(array, _trace_name(side, q, l))
            expected_shape = (network.sizes[l], N)
            if array.shape != expected_shape:
                raise ValueError(
                    f"{_trace_name(side, q, l)} has shape {array.shape}; the problem needs"
                    f" {expected_shape}"
                )
            finite_required = side == "expected" and not (q == "Delta" and l == L)
            if finite_required and not np.isfinite(array).all():
                raise ValueError(f"{_trace_name(side, q, l)} contains a non-finite value")
            arrays.append(array)
        checked.append(tuple(arrays))
    return grads, Trace(*checked)


def _trace_name(side: str, q: str, l: int) -> str:
    return f"{side} {QUANTITY_SYMBOLS[q]}^({l})"


def _arrays(layers: list[np.ndarray], trace: Trace) -> list[np.ndarray]:
    return layers + [a for field in trace for a in field if a is not None]


def _checked_layers(
    expected: Sequence[Any], actual: Sequence[Any]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Flatten to [(e, a) for W^(1), b^(1), W^(2), ...] after checking structure and shapes."""
    e_layers = _checked_expected_layers(expected)
    return list(zip(e_layers, _checked_actual_layers(e_layers, actual), strict=True))


def _checked_expected_layers(expected: Any) -> list[np.ndarray]:
    """The expected side's [∂W^(1), ∂b^(1), ∂W^(2), ...], each real, non-empty and finite."""
    e_layers = _layer_arrays(expected, "expected")
    for k, e in enumerate(e_layers):
        if e.size == 0:
            raise ValueError(f"{_layer_name(k)} is empty (shape {e.shape}); nothing to compare")
        if not np.isfinite(e).all():
            raise ValueError(f"expected {_layer_name(k)} contains a non-finite value")
    return e_layers


def _checked_actual_layers(e_layers: list[np.ndarray], actual: Any) -> list[np.ndarray]:
    """The actual side's [∂W^(1), ∂b^(1), ...], each real and shaped as the expected one."""
    a_layers = _layer_arrays(actual, "actual")
    if len(e_layers) != len(a_layers):
        raise ValueError(
            f"expected has {len(e_layers) // 2} layers but actual has {len(a_layers) // 2};"
            " the same L is needed"
        )
    if not e_layers:
        raise ValueError("no layers to compare: expected and actual are empty")
    for k, (e, a) in enumerate(zip(e_layers, a_layers, strict=True)):
        if e.shape != a.shape:
            raise ValueError(
                f"{_layer_name(k)}: actual has shape {a.shape} but expected has shape {e.shape}"
            )
    return a_layers


def _layer_arrays(layers: Any, side: str) -> list[np.ndarray]:
    """[∂W^(1), ∂b^(1), ∂W^(2), ...] of `side`'s sequence of (W, b) pairs, each real."""
    if isinstance(layers, np.ndarray) or not isinstance(layers, Sequence):
        raise TypeError(f"{side} must be a sequence of (W, b) pairs, got {type(layers)}")
    arrays = []
    for l, pair in enumerate(layers, start=1):
        if isinstance(pair, np.ndarray) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise TypeError(f"{side}[{l - 1}] (layer {l}) must be a (W, b) pair")
        for k, array in enumerate(pair):
            if not _is_real_array(array):
                array = _real_array(array, f"{side} {_layer_name(2 * l - 2 + k)}")
            arrays.append(array)
    return arrays


def _layer_name(k: int) -> str:
    """The name of entry k of [∂W^(1), ∂b^(1), ∂W^(2), ...]."""
    return f"∂J/∂{'Wb'[k % 2]}^({k // 2 + 1})"


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


def _is_real_array(value: Any) -> bool:
    """True if ``_real_array(value, name)`` would return `value` itself: the check then needs
    no name (whose formatting costs more than the check, on dozens of arrays)."""
    return type(value) is np.ndarray and value.dtype.kind in "fiu"


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
    floats = [d for d in dict.fromkeys([a.dtype for a in arrays]) if d.kind == "f"]  # distinct
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
        return Tolerance(
            rtol=float(rtol), atol=default.atol, scale_atol=default.scale_atol, tiny=default.tiny
        )
    return default


def _failure_text(comparison: Comparison) -> str:
    rule = comparison.tolerance
    if isinstance(rule, DerivedBound):
        header = (
            "Not equal within the derived error bound"
            f" (expected {rule.expected_dtype}, actual {rule.actual_dtype})"
        )
    else:
        atol = f"{rule.atol:.3g}"
        if rule.scale_atol:
            atol += f"·max|expected| + {rule.tiny:.3g}·n (J: ·max(1, |J|))"
        header = f"Not equal to tolerance rtol={rule.rtol:.3g}, atol={atol}"
    first = comparison.first_mismatch
    lines = [
        header,
        f"expected: {comparison.expected_name}, actual: {comparison.actual_name}",
        f"first mismatch: {first.label} (eq {first.equation})",
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
            f"  Allowed there (bound): {row.allowed:.6g}",
            f"  Worst error / bound: {row.worst_ratio:.6g}",
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
        "worst_error_to_bound": _json_float(row.worst_ratio),
        "bound": _json_float(row.allowed),
        "n_skipped": row.n_skipped,
        "n_at_kink": row.n_at_kink,
        "passed": row.passed,
    }


def _json_float(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)

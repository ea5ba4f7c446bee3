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
output under cross-entropy, eqs 2.21', 2.21'') are compared only where finite on both, and
an entry finite on the expected side is skipped only where its bound reaches the actual
dtype's largest float (elsewhere a non-finite actual value is a mismatch); the row's
``n_skipped`` counts the skipped.

The allowed error
-----------------
Every allowed error comes from ``crosscheck.compare.bounds``. By default it is derived per
entry: a running rounding-error bound E(u) on |computed − exact| for each side, from the
same backprop over absolute values, and allowed = E(u_expected) + E(u_actual), both
evaluated on the expected (trusted) side's trace so that a wrong actual value cannot
widen its own bound (``bounds.allowed_differences``). Entries whose Z lies within its own
bound of a kink of σ (ReLU at 0) are "at a kink": σ' may differ there, the bound of the
sample's downstream entries widens accordingly, and the Z^(l) and H^(l) rows count them
(``n_at_kink``).

``compare_gradients`` compares ∂J/∂W^(l), ∂J/∂b^(l) (and J) alone, for callers without a
trace. It takes per-entry bounds (``allowed=``, e.g. ``bounds.allowed_difference(...).grads``)
or else falls back to the fixed rule (explicit ``rtol=``/``atol=`` select it in
``compare_backprop`` too): allowed = atol·max|expected| + tiny·n + rtol·|expected| per
array of n entries, with the dtype's fallback rtol = atol (float64 2⁻³⁰, float32 2⁻¹⁰),
J scaled by max(1, |J|); ``crosscheck.compare.bounds`` gives the reasons. The table used is
that of the less precise of the two sides' dtypes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from crosscheck.compare.bounds import (
    J_LEAST_SCALE,
    DerivedBound,
    Tolerance,
    allowed_differences,
    fixed_allowed,
    fixed_tolerance,
    rounding_dtype,
)
from crosscheck.ffnn import Layer, Network, Trace, validate

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
        n_skipped: entries not compared (Δ^(L) only): not finite on the expected side, or
            on the actual side where |expected| + allowed reaches the dtype's largest float.
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
    e_dtype = rounding_dtype(a.dtype for a in _arrays(e_layers, e_trace))
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
        sides[name] = _Side(
            losses=losses,
            arrays=_in_derivation_order(a_trace, a_layers, a_J),
            dtype=rounding_dtype(a.dtype for a in _arrays(a_layers, a_trace)),
        )
    if not sides:
        return {}
    losses = next(iter(sides.values())).losses  # a J row for every side or for none
    e_arrays = _in_derivation_order(e_trace, e_layers, None if losses is None else losses[0])
    keys = _row_keys(network.L, with_J=losses is not None)
    labels = equation_labels(network)
    by_dtype: dict[np.dtype, list[str]] = {}  # the sides that share a rule and a bound
    for name, side in sides.items():
        by_dtype.setdefault(side.dtype, []).append(name)
    fixed = rtol is not None or atol is not None
    if not fixed:
        derived = allowed_differences(network, params, X, T, e_trace, e_dtype, by_dtype)
    comparisons = {}
    for a_dtype, names in by_dtype.items():
        if fixed:
            rule: Tolerance | DerivedBound = fixed_tolerance(
                rounding_dtype([e_dtype, a_dtype]), rtol, atol
            )
            allowed = [
                fixed_allowed(array, rule, least_scale=J_LEAST_SCALE if q == "J" else 0.0)
                for (q, _), array in zip(keys, e_arrays, strict=True)
            ]
            kinks = [0] * (network.L + 1)
        else:
            rule = DerivedBound(str(e_dtype), str(a_dtype))
            bounds = derived[a_dtype]
            layers = [E for layer in bounds.grads for E in layer]
            allowed = _in_derivation_order(
                Trace(*bounds[:4]), layers, None if losses is None else np.asarray(bounds.J)
            )
            kinks = [0] + [int(np.count_nonzero(mask)) for mask in bounds.at_kink[1:]]
        scratch = _scratch(len(names), e_arrays)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            rows = [
                _row_reports(
                    _RowSpec(
                        quantity=q,
                        layer=l,
                        equation=labels[q, l],
                        shape=np.shape(e),
                        skip_non_finite=q == "Delta" and l == network.L,
                        n_at_kink=kinks[l] if q in ("Z", "H") else 0,
                    ),
                    e,
                    [sides[name].arrays[k] for name in names],
                    limit,
                    scratch,
                )
                for k, ((q, l), e, limit) in enumerate(zip(keys, e_arrays, allowed, strict=True))
            ]
        for n, name in enumerate(names):
            side_rows = tuple(row[n] for row in rows)
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
            of both sides' ``trace_bounds``, ``bounds.allowed_difference(...).grads``); the rule
            is then the derived one.
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
    if allowed is not None:
        if rtol is not None or atol is not None:
            raise ValueError("give either allowed (the derived bound) or rtol/atol, not both")
        limits = [_checked_allowed(limit) for limit, _ in _checked_layers(allowed, expected)]
        if losses is not None and allowed_loss is None:
            raise ValueError("allowed_loss is needed with allowed when losses are compared")
        rule: Tolerance | DerivedBound = DerivedBound(
            str(rounding_dtype(e.dtype for e, _ in pairs)),
            str(rounding_dtype(a.dtype for _, a in pairs)),
        )
        J_limit = None if losses is None else _checked_allowed(np.asarray(allowed_loss))
    else:
        rule = fixed_tolerance(rounding_dtype(a.dtype for pair in pairs for a in pair), rtol, atol)
        limits = [fixed_allowed(e, rule) for e, _ in pairs]
        J_limit = (
            None if losses is None else fixed_allowed(losses[0], rule, least_scale=J_LEAST_SCALE)
        )
    rows = []
    if losses is not None:
        spec = _RowSpec(quantity="J", layer=None, equation="2.16", shape=())
        rows.append((spec, losses[0], losses[1], J_limit))
    L = len(pairs) // 2
    for l in range(L, 0, -1):  # backward order: the layer the backward pass reaches first
        for k, quantity in enumerate("Wb"):
            e, a = pairs[2 * (l - 1) + k]
            equation = {"W": ("2.33", "2.14"), "b": ("2.37", "2.15")}[quantity][l == L]
            spec = _RowSpec(quantity=quantity, layer=l, equation=equation, shape=e.shape)
            rows.append((spec, e, a, limits[2 * (l - 1) + k]))
    scratch = _scratch(1, [e for _, e, _, _ in rows])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        reports = [_row_reports(spec, e, [a], limit, scratch)[0] for spec, e, a, limit in rows]
    return Comparison(names[0], names[1], rule, tuple(reports))


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


def _row_keys(L: int, *, with_J: bool) -> list[tuple[str, int | None]]:
    """(quantity, layer) of each row of ``compare_backprop``, in derivation order."""
    keys = Trace(*(tuple((q, l) for l in range(L + 1)) for q in ("Z", "A", "Delta", "H")))
    layers = [(q, l) for l in range(1, L + 1) for q in "Wb"]
    return _in_derivation_order(keys, layers, ("J", None) if with_J else None)


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


def _scratch(k: int, arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Room for the |a − e| and the ratios of k sides, reused array after array: a fresh
    array of a trace's size costs as much as the arithmetic on it."""
    return np.empty((2, k, max(array.size for array in arrays)))


def _row_reports(
    spec: _RowSpec,
    expected: np.ndarray,
    actuals: Sequence[np.ndarray],
    allowed: np.ndarray,
    scratch: np.ndarray,
) -> list[ArrayReport]:
    """The ArrayReports of one array for k actual sides against one expected side.

    Each side's |a − e| is one row of a (k, n) float64 array (in `scratch`, from
    ``_scratch``), so the rest is whole-array work over all sides at once. A NaN in an
    actual value is an infinitely wrong entry; a NaN ratio is 0 at an exact entry (0/0) and
    inf elsewhere (no bound allows no error). Call under ``np.errstate(over="ignore",
    invalid="ignore", divide="ignore")``.
    """
    e, limit = expected.reshape(-1), allowed.reshape(-1)
    a = [actual.reshape(-1) for actual in actuals]
    k = len(a)
    error, ratio = scratch[0, :k, : e.size], scratch[1, :k, : e.size]
    for side, values in zip(error, a, strict=True):
        np.subtract(values, e, out=side, dtype=np.float64)
    np.abs(error, out=error)
    n_skipped = [0] * k
    if spec.skip_non_finite:  # compared only where finite on both sides, and an entry
        # non-finite on the actual side only where the exact value may overflow: the
        # expected one did, or its bound reaches the actual dtype's largest float
        finite = np.isfinite(e)
        for n, (side, values) in enumerate(zip(error, a, strict=True)):
            largest = float(np.finfo(np.result_type(values.dtype, np.float16)).max)
            may_overflow = ~finite | ~(np.abs(e) + limit < largest)
            skipped = may_overflow & ~(finite & np.isfinite(values))
            side[skipped] = 0.0
            n_skipped[n] = int(np.count_nonzero(skipped))
    # per side, the row's numbers as Python values (k of each)
    max_abs_error = error.max(axis=1).tolist()
    if any(math.isnan(value) for value in max_abs_error):  # a NaN actual value
        error[np.isnan(error)] = np.inf
        max_abs_error = error.max(axis=1).tolist()
    np.divide(error, limit, out=ratio)
    worst_ratio = ratio.max(axis=1).tolist()
    if any(math.isnan(value) for value in worst_ratio):
        undefined = np.isnan(ratio)
        ratio[undefined] = np.where(error[undefined] == 0, 0.0, np.inf)
        worst_ratio = ratio.max(axis=1).tolist()
    worst = ratio.argmax(axis=1)  # the first entry at the largest ratio
    # fl(error/allowed) < 1 only where error < allowed: a side below 1 has no mismatch
    n_mismatched = [0] * k
    if max(worst_ratio) >= 1:
        n_mismatched = np.count_nonzero((error != 0) & ~(error <= limit), axis=1).tolist()
    relative = np.abs(np.divide(error, e, out=ratio), out=ratio)  # NaN: exact entries, e = 0
    max_rel_error = [  # the largest, NaN left out; 0 if every entry is exact
        0.0 if math.isnan(value) else value for value in np.fmax.reduce(relative, axis=1).tolist()
    ]
    indices = np.unravel_index(worst, spec.shape) if spec.shape else ()  # an array per axis
    expected_values, limits = e[worst].tolist(), limit[worst].tolist()
    return [
        ArrayReport(
            quantity=spec.quantity,
            layer=spec.layer,
            equation=spec.equation,
            shape=spec.shape,
            n_mismatched=n_mismatched[side],
            max_abs_error=max_abs_error[side],
            max_rel_error=max_rel_error[side],
            worst_index=tuple(int(axis[side]) for axis in indices),
            expected_value=expected_values[side],
            actual_value=float(a[side][worst[side]]),
            worst_ratio=worst_ratio[side],
            passed=n_mismatched[side] == 0,
            allowed=limits[side],
            n_skipped=n_skipped[side],
            n_at_kink=spec.n_at_kink,
        )
        for side in range(k)
    ]


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
            array = _real_array(field[l], _trace_name(side, q, l))
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
            arrays.append(_real_array(array, f"{side} {_layer_name(2 * l - 2 + k)}"))
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


def _checked_allowed(allowed: Any) -> np.ndarray:
    """A caller's per-entry allowed errors as float64, refused where negative (-0.0 made 0);
    NaN stays: no bound allows no error."""
    allowed = np.asarray(allowed, dtype=np.float64)
    if (allowed < 0).any():
        raise ValueError(f"allowed errors must be >= 0 (bounds), got {float(allowed.min())!r}")
    return allowed + 0.0


def _real_array(value: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged lists, objects numpy cannot hold
        raise TypeError(f"{name} cannot be read as an array: {error}") from None
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name} has dtype {array.dtype}; a real (float) array is needed")
    return array


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

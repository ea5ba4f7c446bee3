"""Comparison of two backprop results, entry by entry, against a derived rounding bound.

- ``bounds``: every allowed error — the running error bound E(u) of every entry of Z, A,
  Δ, H, ∂W, ∂b and J (``trace_bounds``), the allowed difference of two sides
  (``allowed_differences``), the oracle's allowance for σ' from A in the precision a
  function is judged in (``oracle_allowed``), two calls of one function (``repeat_bound``,
  ``repeat_allowed``), the fixed rule (``Tolerance``, ``default_tolerance``) and the
  per-dtype constants.
- ``comparison``: ``compare_backprop``, ``compare_backprop_many``, ``compare_gradients``
  and their reports (``Comparison``, ``ArrayReport``), in derivation order.
- ``witness``: central finite differences (numdifftools), a fourth opinion.
"""

from crosscheck.compare.bounds import (
    Bounds,
    DerivedBound,
    Tolerance,
    allowed_difference,
    allowed_differences,
    default_tolerance,
    oracle_allowed,
    repeat_allowed,
    repeat_bound,
    trace_bounds,
)
from crosscheck.compare.comparison import (
    ArrayReport,
    Comparison,
    assert_backprop_close,
    assert_gradients_close,
    compare_backprop,
    compare_backprop_many,
    compare_gradients,
)

__all__ = [
    "ArrayReport",
    "Bounds",
    "Comparison",
    "DerivedBound",
    "Tolerance",
    "allowed_difference",
    "allowed_differences",
    "assert_backprop_close",
    "assert_gradients_close",
    "compare_backprop",
    "compare_backprop_many",
    "compare_gradients",
    "default_tolerance",
    "oracle_allowed",
    "repeat_allowed",
    "repeat_bound",
    "trace_bounds",
]

"""Comparison of two backprop results, entry by entry, against a derived rounding bound.

- ``bounds``: the running error bound E(u) of every entry of Z, A, Δ, H, ∂W, ∂b and J
  (``trace_bounds``), the per-dtype constants, the fixed rule's fallback.
- ``textbook``: the allowance for σ' evaluated from A, as other people's code does.
- ``comparison``: ``compare_backprop``, ``compare_backprop_many``, ``compare_gradients``
  and their reports (``Comparison``, ``ArrayReport``), in derivation order.
- ``witness``: central finite differences (numdifftools), a fourth opinion.
"""

from crosscheck.compare.bounds import Bounds, trace_bounds
from crosscheck.compare.comparison import (
    ArrayReport,
    Comparison,
    DerivedBound,
    Tolerance,
    assert_backprop_close,
    assert_gradients_close,
    compare_backprop,
    compare_backprop_many,
    compare_gradients,
    default_tolerance,
)

__all__ = [
    "ArrayReport",
    "Bounds",
    "Comparison",
    "DerivedBound",
    "Tolerance",
    "assert_backprop_close",
    "assert_gradients_close",
    "compare_backprop",
    "compare_backprop_many",
    "compare_gradients",
    "default_tolerance",
    "trace_bounds",
]

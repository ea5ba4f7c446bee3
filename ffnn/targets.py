"""The domain of the targets T of each loss, checked by ``crosscheck.ffnn.validate`` (DESIGN §7).

- squared error (eq 2.16): any finite T.
- cross-entropy (eq 2.16'): every column t_n a probability vector — entries >= 0 and
  Σ_k T_kn = 1 within ``COLUMN_SUM_TOLERANCE`` of the dtype (one-hot columns included).
- binary cross-entropy (eq 2.16''): every entry in [0, 1].
"""

from __future__ import annotations

import numpy as np

COLUMN_SUM_TOLERANCE = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-5}
"""Allowed |Σ_k T_kn − 1| for cross-entropy targets, by dtype. Every implementation
differentiates J as defined, with the column sums as they are (eq 2.8')."""


def any_targets(T: np.ndarray) -> None:
    """Accept every finite T (squared error, eq 2.16); finiteness is checked by validate."""


def probability_columns(T: np.ndarray) -> None:
    """Check that each column of T is a probability vector (cross-entropy, eq 2.16').

    Args:
        T: (S_L, N) targets, float32 or float64, finite.

    Raises:
        ValueError: an entry T_kn < 0 (naming T, the entry and its column), or a column whose
            sum differs from 1 by more than ``COLUMN_SUM_TOLERANCE`` (naming the column).
    """
    if T.min() < 0:  # one reduction on the usual path; the entry is found only to report it
        k, n = (int(i) for i in np.argwhere(T < 0)[0])
        raise ValueError(
            f"T[{k}, {n}] = {T[k, n]} is negative; cross_entropy needs every column t_n of T"
            f" to be a probability vector (entries >= 0, summing to 1): column {n} is not"
        )
    with np.errstate(over="ignore"):  # a column of huge entries sums to inf: not 1 either
        sums = T.sum(axis=0, dtype=np.float64)
    tolerance = COLUMN_SUM_TOLERANCE[T.dtype]
    off = np.abs(sums - 1.0) > tolerance
    if off.any():
        n = int(off.argmax())  # the first column off
        raise ValueError(
            f"column {n} of T sums to {float(sums[n])!r}; cross_entropy needs every column of T"
            f" to sum to 1 (within {tolerance:g}): one-hot or probability columns, one per sample"
        )


def unit_interval(T: np.ndarray) -> None:
    """Check that every entry of T lies in [0, 1] (binary cross-entropy, eq 2.16'').

    Args:
        T: (S_L, N) targets, float32 or float64, finite.

    Raises:
        ValueError: an entry outside [0, 1], naming T, the entry and its value.
    """
    if T.min() < 0 or T.max() > 1:
        k, n = (int(i) for i in np.argwhere((T < 0) | (T > 1))[0])
        raise ValueError(
            f"T[{k}, {n}] = {T[k, n]} is outside [0, 1]; binary_cross_entropy needs every"
            " target entry T_kn to be a probability in [0, 1]"
        )

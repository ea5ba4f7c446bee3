"""Arrays as storage only: NumPy in and out, nested lists of Python floats in between.

The reference computes one scalar at a time with Python loops; converting once to nested
lists of native floats (float64) keeps those loops fast and makes every result float64,
whatever the dtype of the input (float32 values are exact in float64).
"""

from __future__ import annotations

from typing import Any

import numpy as np

Rows = list[list[float]]
"""A matrix M stored by rows: ``M[i][n]`` is M_in (a Python float)."""


def as_rows(array: np.ndarray) -> Any:
    """Return `array` (any shape, float32 or float64) as nested lists of Python floats.

    Shape (S, N) gives a list of S rows of N floats; shape (S,) a list of S floats. The
    input is read, never written (read-only arrays work).
    """
    return np.asarray(array, dtype=np.float64).tolist()


def as_array(values: Any) -> np.ndarray:
    """Return nested lists of floats (rows of shape (S, N), or (S,)) as a new float64 array."""
    return np.array(values, dtype=np.float64)

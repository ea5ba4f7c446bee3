"""The arrays of a result, and copies and casts of a problem (network, params, X, T)."""

from __future__ import annotations

from typing import Any

from crosscheck.ffnn import Layer


def leaves(result: Any) -> list[Any]:
    """The arrays (and floats) of a loss, gradients or backprop result — or of a problem's
    (params, X, T) — in order; the None entries of a trace (Z^(0), H^(0)) left out."""
    if isinstance(result, tuple | list):
        return [leaf for item in result for leaf in leaves(item)]
    return [] if result is None else [result]


def copied(problem: tuple[Any, ...]) -> tuple[Any, ...]:
    """(network, params, X, T) with every array copied."""
    network, params, X, T = problem
    return network, tuple(Layer(W.copy(), b.copy()) for W, b in params), X.copy(), T.copy()


def read_only(problem: tuple[Any, ...]) -> tuple[Any, ...]:
    """A copy of (network, params, X, T) whose arrays are read-only."""
    frozen = copied(problem)
    for array in leaves(frozen[1:]):
        array.flags.writeable = False
    return frozen


def as_dtype(problem: tuple[Any, ...], dtype: Any) -> tuple[Any, ...]:
    """(network, params, X, T) with every array cast to `dtype` (a copy)."""
    network, params, X, T = problem
    params = tuple(Layer(W.astype(dtype), b.astype(dtype)) for W, b in params)
    return network, params, X.astype(dtype), T.astype(dtype)

"""Input validation shared by every implementation (DESIGN §7).

Each check runs before any arithmetic and raises a ValueError or TypeError naming the
array, the layer and the expected shape. Nothing is copied or modified: arrays are viewed
with ``np.asarray`` (read-only arrays are accepted as they are).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from crosscheck.ffnn.layer import Layer
from crosscheck.ffnn.network import Network

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
"""Accepted dtypes; float64 is the default everywhere, float32 an option."""


def validate(
    network: Network, params: Sequence[Any], X: Any, T: Any
) -> tuple[tuple[Layer, ...], np.ndarray, np.ndarray]:
    """Check a problem against `network` and return it as NumPy arrays.

    Args:
        network: the architecture, sizes (S_0, ..., S_L).
        params: L pairs (W, b); ``params[l-1]`` = (W^(l) of shape (S_l, S_{l-1}),
            b^(l) of shape (S_l,)).
        X: (S_0, N) inputs, one column per sample (eq 1.2).
        T: (S_L, N) targets (eq 1.5).

    Returns:
        ``(params, X, T)`` with params a tuple of ``Layer`` of ndarrays; no copies are made
        of float arrays. All arrays share one dtype, float32 or float64.

    Raises:
        TypeError: `network` is not a Network; a params entry is not a (W, b) pair; an
            array is not real floating point (integer, bool, complex, object) or the
            arrays mix float32 and float64.
        ValueError: the wrong number of layers, an array with the wrong number of
            dimensions or the wrong shape, N = 0, X and T with different N, or a NaN/inf;
            targets outside the loss's domain (``crosscheck.ffnn.targets``: cross-entropy columns
            that are not probability vectors, binary cross-entropy entries outside [0, 1]),
            naming T and the offending column or entry.
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a crosscheck.ffnn.Network, got {type(network).__name__}")
    layers = _checked_params(network, params)
    X = _float_array(X, "X")
    T = _float_array(T, "T")
    S, L = network.sizes, network.L
    _check_ndim(X, 2, "X", f"(S_0, N) = ({S[0]}, N)")
    _check_ndim(T, 2, "T", f"(S_L, N) = ({S[L]}, N)")
    if X.shape[0] != S[0]:
        raise ValueError(
            f"X has shape {X.shape}; sizes {S} need (S_0, N) = ({S[0]}, N): one column per"
            " sample (the transpose of a data frame)"
        )
    if T.shape[0] != S[L]:
        raise ValueError(f"T has shape {T.shape}; sizes {S} need (S_L, N) = ({S[L]}, N)")
    if X.shape[1] == 0:
        raise ValueError(f"X has N = 0 samples (shape {X.shape}); at least one is needed")
    if T.shape[1] != X.shape[1]:
        raise ValueError(
            f"X has N = {X.shape[1]} samples but T has {T.shape[1]}: shapes {X.shape}, {T.shape}"
        )
    arrays = [("X", X), ("T", T)]
    for l, (W, b) in enumerate(layers, start=1):
        arrays += [(f"W^({l}) (params[{l - 1}].W)", W), (f"b^({l}) (params[{l - 1}].b)", b)]
    dtypes = {a.dtype for _, a in arrays}
    if len(dtypes) > 1:
        found = ", ".join(f"{name}: {a.dtype}" for name, a in arrays)
        raise TypeError(f"all arrays must share one float dtype; got {found}")
    for name, a in arrays:
        if not np.isfinite(a).all():
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
            raise ValueError(f"{name} contains a non-finite value {a[bad]} at index {bad}")
    network.J.check_targets(T)
    return layers, X, T


def _checked_params(network: Network, params: Sequence[Any]) -> tuple[Layer, ...]:
    L = network.L
    if isinstance(params, np.ndarray) or not isinstance(params, Sequence):
        raise TypeError(
            f"params must be a sequence of L = {L} (W, b) pairs, got {type(params).__name__}"
        )
    if len(params) != L:
        raise ValueError(
            f"params has {len(params)} layers; sizes {network.sizes} have L = {L}"
            f" non-input layers, so {L} (W, b) pairs are needed"
        )
    layers = []
    for l, (pair, ((rows, cols), (width,))) in enumerate(
        zip(params, network.param_shapes(), strict=True), start=1
    ):
        if isinstance(pair, np.ndarray) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise TypeError(f"params[{l - 1}] (layer {l}) must be a (W, b) pair, got {pair!r}")
        W = _float_array(pair[0], f"W^({l}) (params[{l - 1}].W)")
        b = _float_array(pair[1], f"b^({l}) (params[{l - 1}].b)")
        if W.shape != (rows, cols):
            raise ValueError(
                f"W^({l}) (params[{l - 1}].W) has shape {W.shape}; sizes {network.sizes}"
                f" need (S_{l}, S_{l - 1}) = ({rows}, {cols})"
            )
        if b.shape != (width,):
            raise ValueError(
                f"b^({l}) (params[{l - 1}].b) has shape {b.shape}; sizes {network.sizes}"
                f" need (S_{l},) = ({width},)"
            )
        layers.append(Layer(W, b))
    return tuple(layers)


def _float_array(value: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged lists, objects numpy cannot hold
        raise TypeError(f"{name} cannot be read as an array: {error}") from None
    if array.dtype not in FLOAT_DTYPES:
        kind = {
            "i": "integer",
            "u": "unsigned integer",
            "b": "bool",
            "c": "complex",
            "O": "object",
            "f": "a float width other than 32 or 64 bits",
            "U": "string",
            "S": "bytes",
        }.get(array.dtype.kind, f"kind {array.dtype.kind!r}")
        raise TypeError(f"{name} has dtype {array.dtype} ({kind}); float64 or float32 is needed")
    return array


def _check_ndim(a: np.ndarray, ndim: int, name: str, expected: str) -> None:
    if a.ndim != ndim:
        raise ValueError(f"{name} has {a.ndim} dimensions (shape {a.shape}); expected {expected}")

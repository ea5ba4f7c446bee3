"""Adapters between other people's array layouts and the suite's (DESIGN §5 "Oracle for others").

A function under test has the signature ``fn(Ws, bs, X, T)`` and returns ``(dWs, dbs)`` or
``(J, dWs, dbs)``. The suite's own layout (DESIGN §2) is

- ``layout="columns"``: X of shape (S_0, N), T of shape (S_L, N), one column per sample;
- ``weights="out_in"``: ``Ws[l-1]`` = W^(l) of shape (S_l, S_{l-1}), so Z = W A + b.

Other code commonly stores

- ``layout="rows"``: X of shape (N, S_0), T of shape (N, S_L), one row per sample (a data
  frame; scikit-learn, PyTorch);
- ``weights="in_out"``: ``Ws[l-1]`` of shape (S_{l-1}, S_l), so Z = A W + b in rows
  (scikit-learn's ``coefs_``).

An ``Adapter`` hands the arrays over in the function's layout (as transposed *views*, so a
read-only array stays read-only) and brings the returned gradients back: ∂J/∂W^(l) returned as
(S_{l-1}, S_l) under ``weights="in_out"`` is transposed to (S_l, S_{l-1}). Bias gradients may be
returned as (S_l,), (S_l, 1) or (1, S_l) in any layout; they are flattened to (S_l,).

``unpack`` reads a returned value into a ``Returned`` (float64 copies) and ``check_shapes``
compares it with a network's shapes; both raise ``OutputError`` with a message naming the
array, the layer and the expected shape in the function's own layout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from crosscheck.ffnn import Layer, Network

LAYOUTS = ("columns", "rows")
"""Sample layouts: X (S_0, N) one column per sample, or (N, S_0) one row per sample."""

WEIGHT_LAYOUTS = ("out_in", "in_out")
"""Weight layouts: W^(l) as (S_l, S_{l-1}) (the seed's), or (S_{l-1}, S_l)."""


class OutputError(Exception):
    """A returned value that is not (dWs, dbs) or (J, dWs, dbs) of the network's shapes."""


class Returned(NamedTuple):
    """What a function under test returned, in the suite's layout, as float64 copies.

    J: the returned loss as a float, or None if the function returned (dWs, dbs) only.
    grads: L Layers; ``grads[l-1].W`` is ∂J/∂W^(l), (S_l, S_{l-1}) when well shaped;
        ``grads[l-1].b`` is ∂J/∂b^(l), (S_l,) when well shaped (unchecked by ``unpack``).
    dtype: the least precise floating dtype among the returned gradient arrays as the
        function returned them ("float32", "float64", ...; "float64" when none is
        floating: integers are exact), before the copies were made float64.
    dtypes: (label, dtype) of every returned value that states its precision, in the
        labels of ``crosscheck.compare.ArrayReport.label`` ("J", "∂J/∂W^(l)",
        "∂J/∂b^(l)"): each floating gradient array, and J when it is a NumPy float (a
        Python float or int states none: it is judged with the gradients).
    """

    J: float | None
    grads: tuple[Layer, ...]
    dtype: str = "float64"
    dtypes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Adapter:
    """The array layout of a function under test.

    Attributes:
        layout: ``"columns"`` (X (S_0, N), T (S_L, N); the suite's) or ``"rows"``
            (X (N, S_0), T (N, S_L)).
        weights: ``"out_in"`` (W^(l) (S_l, S_{l-1}); the seed's) or ``"in_out"``
            (W^(l) (S_{l-1}, S_l)).

    Raises:
        TypeError: a layout that is not a str.
        ValueError: an unknown layout name (listing the known ones).
    """

    layout: str = "columns"
    weights: str = "out_in"

    def __post_init__(self) -> None:
        for argument, value, known in (
            ("layout", self.layout, LAYOUTS),
            ("weights", self.weights, WEIGHT_LAYOUTS),
        ):
            if not isinstance(value, str):
                raise TypeError(f"{argument} must be a str, got {value!r}")
            if value not in known:
                raise ValueError(
                    f"unknown {argument} {value!r}; known: {', '.join(map(repr, known))}"
                )

    def arguments(
        self, params: Sequence[Layer], X: np.ndarray, T: np.ndarray
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:
        """The suite's arrays in the function's layout: ``(Ws, bs, X, T)``, as views.

        Args:
            params: L Layers, W^(l) (S_l, S_{l-1}), b^(l) (S_l,).
            X: (S_0, N) inputs. T: (S_L, N) targets.

        Returns:
            Lists Ws (W^(l) or its transpose, per ``weights``) and bs (b^(l), (S_l,)); X and
            T as given or transposed to (N, S_0), (N, S_L) (per ``layout``). Views: nothing
            is copied, and read-only arrays stay read-only.
        """
        Ws = [W.T if self.weights == "in_out" else W for W, _ in params]
        bs = [b for _, b in params]
        if self.layout == "rows":
            X, T = X.T, T.T
        return Ws, bs, X, T

    def weight_shape(self, shape: tuple[int, int]) -> tuple[int, int]:
        """The function-side shape of a weight array whose suite-side shape is `shape`."""
        return shape[::-1] if self.weights == "in_out" else shape

    def describe(self) -> str:
        """E.g. ``"layout='rows', weights='in_out'"``."""
        return f"layout={self.layout!r}, weights={self.weights!r}"


def call(
    fn: Callable[..., Any],
    adapter: Adapter,
    params: Sequence[Layer],
    X: np.ndarray,
    T: np.ndarray,
) -> Any:
    """Call ``fn(Ws, bs, X, T)`` with the arrays in `adapter`'s layout; return what it returns.

    Raises:
        Whatever `fn` raises (the caller decides what that means).
    """
    return fn(*adapter.arguments(params, X, T))


def unpack(value: Any, adapter: Adapter) -> Returned:
    """Read ``(dWs, dbs)`` or ``(J, dWs, dbs)`` into a ``Returned`` in the suite's layout.

    Args:
        value: what the function returned. dWs and dbs: sequences of arrays (anything
            ``numpy.asarray`` reads as real numbers); J: a real scalar (or one-entry array).
        adapter: the function's layout; under ``weights="in_out"`` 2-d weight gradients are
            transposed back to (S_l, S_{l-1}).

    Returns:
        A Returned of float64 copies (they do not alias the function's arrays), with the
        dtype the gradients came in (``Returned.dtype``). Bias
        gradients of shape (S, 1) or (1, S) are flattened to (S,); shapes are not checked
        against a network here (``check_shapes``).

    Raises:
        OutputError: not a 2- or 3-tuple/list, dWs and dbs of different lengths, an entry
            that is not a real array, a J that is not one real number.
    """
    if isinstance(value, np.ndarray) or not isinstance(value, tuple | list):
        raise OutputError(f"returned {_kind(value)}; expected a tuple (dWs, dbs) or (J, dWs, dbs)")
    if len(value) not in (2, 3):
        raise OutputError(
            f"returned a {type(value).__name__} of {len(value)} items; expected (dWs, dbs)"
            " or (J, dWs, dbs)"
        )
    J = _scalar(value[0]) if len(value) == 3 else None
    stated = []  # (label, dtype) of the values that state their precision
    if J is not None and isinstance(value[0], np.generic | np.ndarray):
        if np.asarray(value[0]).dtype.kind == "f":
            stated.append(("J", str(np.asarray(value[0]).dtype)))
    dWs, dbs = value[-2:]
    for name, arrays in (("dWs", dWs), ("dbs", dbs)):
        if isinstance(arrays, np.ndarray) or not isinstance(arrays, Sequence):
            raise OutputError(f"{name} is {_kind(arrays)}; expected a list of L arrays")
    if len(dWs) != len(dbs):
        raise OutputError(f"dWs has {len(dWs)} arrays but dbs has {len(dbs)}")
    grads, dtypes = [], []
    for l, (dW, db) in enumerate(zip(dWs, dbs, strict=True), start=1):
        dW = _array(dW, f"dWs[{l - 1}] (∂J/∂W^({l}))")
        db = _array(db, f"dbs[{l - 1}] (∂J/∂b^({l}))")
        dtypes += [dW.dtype, db.dtype]
        stated += [
            (label, str(array.dtype))
            for label, array in ((f"∂J/∂W^({l})", dW), (f"∂J/∂b^({l})", db))
            if array.dtype.kind == "f"
        ]
        if adapter.weights == "in_out" and dW.ndim == 2:
            dW = dW.T
        if db.ndim == 2 and 1 in db.shape:
            db = db.reshape(-1)  # (S, 1) or (1, S) → (S,)
        grads.append(Layer(np.array(dW, dtype=np.float64), np.array(db, dtype=np.float64)))
    return Returned(J, tuple(grads), _least_precise(dtypes), tuple(stated))


def _least_precise(dtypes: Sequence[np.dtype]) -> str:
    floats = [d for d in dtypes if d.kind == "f"]
    return str(max(floats, key=lambda d: np.finfo(d).eps, default=np.dtype(np.float64)))


def check_shapes(returned: Returned, network: Network, adapter: Adapter) -> None:
    """Check the number of layers and every shape of `returned` against `network`.

    Raises:
        OutputError: the wrong number of layers, or an array of the wrong shape, naming the
            layer and the expected shape in the function's own layout.
    """
    L = network.L
    if len(returned.grads) != L:
        raise OutputError(
            f"returned gradients for {len(returned.grads)} layers; sizes {network.sizes}"
            f" have L = {L}"
        )
    for l, ((W_shape, b_shape), (dW, db)) in enumerate(
        zip(network.param_shapes(), returned.grads, strict=True), start=1
    ):
        if dW.shape != W_shape:
            theirs, needed = adapter.weight_shape(dW.shape), adapter.weight_shape(W_shape)
            if dW.ndim != 2:
                theirs = dW.shape
            raise OutputError(
                f"dWs[{l - 1}] (∂J/∂W^({l})) has shape {theirs}; sizes {network.sizes} need"
                f" {needed} with weights={adapter.weights!r}"
            )
        if db.shape != b_shape:
            raise OutputError(
                f"dbs[{l - 1}] (∂J/∂b^({l})) has shape {db.shape}; sizes {network.sizes}"
                f" need {b_shape} (or {(b_shape[0], 1)}, {(1, b_shape[0])})"
            )


def _array(value: Any, name: str) -> np.ndarray:
    """`value` as a NumPy array of its own dtype (not copied where NumPy need not)."""
    try:
        array = np.asarray(value)
    except Exception as error:
        raise OutputError(f"{name} cannot be read as an array: {error}") from None
    if array.dtype.kind not in "fiu":
        raise OutputError(f"{name} has dtype {array.dtype}; real numbers are needed")
    return array


def _scalar(value: Any) -> float:
    array = np.array(_array(value, "J (the returned loss)"), dtype=np.float64)
    if array.size != 1:
        raise OutputError(f"J (the returned loss) has shape {array.shape}; one number is needed")
    return float(array.reshape(()))


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"

"""One call of a function under check, and what the call alone shows (DESIGN §5 "Oracle for
others").

``call_once(fn, adapter, params, X, T)`` calls ``fn(Ws, bs, X, T)`` on copies of the problem's
arrays in the function's layout (``crosscheck.oracle.layouts``) and returns an ``Outcome``:
the output read into the suite's layout, or the first thing wrong with the call itself —

1. ``raised``: the call raised; SystemExit is a finding too (a function that calls
   ``sys.exit(0)`` has not passed), and so is KeyboardInterrupt where the caller says the
   user cannot have sent it (``interruptible=False``: in the worker process, which ignores
   SIGINT, a KeyboardInterrupt can only come from the function);
2. ``mutation``: an input changed although it was handed read-only (its writeable flag reset
   by the function). A write that the read-only flag refused is marked ``read_only_write``:
   the caller names the arrays written to by calling again with one input read-only at a
   time (``crosscheck.oracle.judge``);
3. ``output``: not (dWs, dbs) or (J, dWs, dbs) of real arrays (``layouts.unpack``).

``call_once`` runs wherever the function runs: in this process (``InProcess``) or in a worker
process (``crosscheck.oracle.worker.Isolated``), so both paths judge a call alike. A
``Callee`` is the function under check together with where it runs; every call the oracle
makes goes through one (``Callee.attempt`` for a judged call, calling it for a plain one).
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crosscheck.ffnn import Layer
from crosscheck.oracle.layouts import Adapter, OutputError, Returned, call, unpack

SHAPE_ERRORS = ("matmul", "not aligned", "could not be broadcast", "contracting dimensions")
"""Fragments of NumPy's and JAX's messages for a product or sum of mismatched shapes."""


@dataclass(frozen=True)
class Outcome:
    """What one call gave.

    Attributes:
        returned: the output in the suite's layout (float64 copies, shapes unchecked), or
            None when the call failed or returned something that is not arrays.
        kind: None for a call that returned arrays; else the finding's kind: ``raised``,
            ``mutation``, ``output``, or, from a worker process, ``exited``, ``crashed``,
            ``timeout``.
        message: what went wrong, naming the exception, array or signal ("" if nothing).
        warnings: the warnings the call emitted, as "Category: message".
        read_only_write: the call raised NumPy's error for a write to a read-only input.
    """

    returned: Returned | None
    kind: str | None = None
    message: str = ""
    warnings: tuple[str, ...] = ()
    read_only_write: bool = False


class FunctionFailedError(Exception):
    """A plain call (``Callee.__call__``) of the function under check did not return."""


class Callee:
    """The function under check and where it runs: the one door for every call of it.

    ``attempt`` makes a judged call (``call_once``); calling the Callee itself,
    ``callee(Ws, bs, X, T)``, makes a plain one and returns the value (used by
    ``crosscheck.oracle.diagnosis.consistency``), raising ``FunctionFailedError`` if the call
    fails. ``isolation`` says where it runs, for the report; ``timeout`` is the time limit
    of one call in seconds (None: no limit).
    """

    isolation: str = ""
    timeout: float | None = None

    def attempt(
        self,
        adapter: Adapter,
        params: Sequence[Layer],
        X: np.ndarray,
        T: np.ndarray,
        read_only: Collection[str] | None = None,
    ) -> Outcome:
        """One judged call on `params` (W^(l) (S_l, S_{l-1}), b^(l) (S_l,)), X (S_0, N),
        T (S_L, N) in the suite's layout; `read_only` names the inputs handed read-only
        ("W^(1)", "b^(1)", ..., "X", "T"; None: all)."""
        raise NotImplementedError

    def __call__(self, Ws: Any, bs: Any, X: Any, T: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the Callee holds (a worker process); calls after it start anew."""


class InProcess(Callee):
    """The function called in this process: no time limit, and a KeyboardInterrupt is the
    user's (re-raised). For a function the worker cannot import (a closure, a lambda, a
    function defined in ``__main__``) or when asked (``isolate=False``)."""

    def __init__(self, fn: Callable[..., Any], reason: str = "") -> None:
        self.fn = fn
        self.isolation = "in this process" + (f" ({reason})" if reason else "")

    def attempt(
        self,
        adapter: Adapter,
        params: Sequence[Layer],
        X: np.ndarray,
        T: np.ndarray,
        read_only: Collection[str] | None = None,
    ) -> Outcome:
        return call_once(self.fn, adapter, params, X, T, read_only=read_only)

    def __call__(self, Ws: Any, bs: Any, X: Any, T: Any) -> Any:
        return self.fn(Ws, bs, X, T)


def call_once(
    fn: Callable[..., Any],
    adapter: Adapter,
    params: Sequence[Layer],
    X: np.ndarray,
    T: np.ndarray,
    *,
    read_only: Collection[str] | None = None,
    interruptible: bool = True,
) -> Outcome:
    """Call `fn` once on copies of the arrays (module docstring) and read its output.

    Args:
        fn: ``fn(Ws, bs, X, T)`` in `adapter`'s layout.
        adapter: the function's layout.
        params: L Layers, W^(l) (S_l, S_{l-1}), b^(l) (S_l,); X (S_0, N); T (S_L, N): the
            suite's layout. They are never written to: `fn` gets copies.
        read_only: names of the inputs handed read-only (None: all of them).
        interruptible: re-raise KeyboardInterrupt (the user's Ctrl-C) rather than report it.

    Returns:
        An Outcome. Never raises for anything `fn` does (but KeyboardInterrupt when
        `interruptible`).
    """
    pristine = named_arrays(params, X, T)
    chosen = pristine.keys() if read_only is None else read_only
    handed = {
        name: _read_only_copy(a) if name in chosen else np.array(a) for name, a in pristine.items()
    }
    error, value = None, None
    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always")
        try:
            value = call(fn, adapter, *structure(handed, len(params)))
        except KeyboardInterrupt as interrupt:
            if interruptible:
                raise
            error = interrupt
        except BaseException as exception:  # the function's failure is a finding, not a crash
            error = exception
    caught = tuple(f"{w.category.__name__}: {w.message}" for w in recorded)
    if error is not None:
        message = exception_text(error) + _layout_hint(error, adapter)
        return Outcome(None, "raised", message, caught, read_only_write=_is_read_only_write(error))
    changed = [
        name
        for name, a in handed.items()
        if name in chosen and not np.array_equal(a, pristine[name])
    ]
    if changed:
        message = f"mutates its inputs: it changed {', '.join(changed)}"
        return Outcome(None, "mutation", message, caught)
    try:
        return Outcome(unpack(value, adapter), warnings=caught)
    except OutputError as error:
        return Outcome(None, "output", str(error), caught)


def named_arrays(params: Sequence[Layer], X: np.ndarray, T: np.ndarray) -> dict[str, np.ndarray]:
    """{"W^(1)": W^(1), "b^(1)": b^(1), ..., "X": X, "T": T}, in the suite's layout."""
    named = {}
    for l, (W, b) in enumerate(params, start=1):
        named[f"W^({l})"] = W
        named[f"b^({l})"] = b
    named["X"], named["T"] = X, T
    return named


def structure(named: dict[str, np.ndarray], L: int) -> tuple[list[Layer], Any, Any]:
    """``named_arrays``'s inverse: (params, X, T)."""
    params = [Layer(named[f"W^({l})"], named[f"b^({l})"]) for l in range(1, L + 1)]
    return params, named["X"], named["T"]


def plain(value: Any) -> Any:
    """`value` with tuples and lists kept and every other leaf made a NumPy array: what a
    worker sends back for a plain call, free of the function's own types (a JAX or torch
    array, a generator). A leaf NumPy cannot read becomes an object array, which
    ``layouts.unpack`` refuses as it refuses the leaf itself."""
    if isinstance(value, tuple | list):
        items = [plain(item) for item in value]
        return items if isinstance(value, list) else tuple(items)
    try:
        array = np.asarray(value)
    except Exception:  # an object NumPy cannot read at all
        return np.array(type(value).__name__, dtype=object)
    return array if array.dtype.kind in "biuf" else np.array(type(value).__name__, dtype=object)


def exception_text(error: BaseException) -> str:
    """``TypeError: message (file.py:12 in f)``: the exception and its innermost frame."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" ({frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    if isinstance(error, SystemExit):
        return f"the function called sys.exit({error.code!r}){where}"
    message = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {message[0]}" if message else type(error).__name__
    return text + where


def _layout_hint(error: BaseException, adapter: Adapter) -> str:
    """For a shape error: try the layout options not given (``--layout rows`` etc.)."""
    if not isinstance(error, ValueError | TypeError) or not any(
        fragment in str(error) for fragment in SHAPE_ERRORS
    ):
        return ""
    options = [
        f"{name}={value!r} (--{name} {value})"
        for name, value, given in (
            ("layout", "rows", adapter.layout),
            ("weights", "in_out", adapter.weights),
        )
        if given != value
    ]
    if not options:
        return ""
    return (
        "; a shape error: if the function takes X as (N, S_0) or W^(l) as (S_{l-1}, S_l),"
        f" pass {' or '.join(options)}"
    )


def _is_read_only_write(error: BaseException) -> bool:
    return isinstance(error, ValueError) and "read-only" in str(error)


def _read_only_copy(a: np.ndarray) -> np.ndarray:
    copy = np.array(a)
    copy.flags.writeable = False
    return copy

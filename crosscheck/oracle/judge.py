"""One example under the oracle: run a function under test on a problem and judge its output.

``examine(fn, adapter, problem)`` calls ``fn(Ws, bs, X, T)`` twice on read-only copies of
the problem (in the function's layout, ``crosscheck.oracle.layouts``), through a ``Callee``
(``crosscheck.oracle.calling``: in a worker process or in this one), and returns an
``Examination``: the first ``Finding``, if any, in this order —

0. ``exited``, ``crashed``, ``timeout`` (a function run in a worker process,
   ``crosscheck.oracle.worker``): the worker ended during the call with an exit status,
   was killed by a signal (a segmentation fault, say), or the call passed its time limit;
   on either call. The message gives the worker's last output;
1. ``raised``: the call raised (any exception, SystemExit included: a function that calls
   ``sys.exit(0)`` has not passed; KeyboardInterrupt too in a worker process, where it can
   only come from the function);
2. ``mutation``: it wrote to an input, naming the array: each input is handed as its own
   read-only copy, so a write raises; the arrays written to are then found by rerunning
   with one input read-only at a time. An input changed by other means (after resetting
   its writeable flag) is found by comparing with pristine copies;
3. ``output``: not (dWs, dbs) or (J, dWs, dbs), the wrong number of layers or a wrong shape;
4. ``non-finite``: a NaN or inf in the output, naming the array and the entry;
5. ``non-deterministic``: the second call on the same input returned something else;
6. ``gradient`` / ``loss``: ∂J/∂W^(l), ∂J/∂b^(l) or J disagree with the suite's
   (``vectorized``, the anchor) beyond the comparison module's derived per-entry bound
   (``crosscheck.compare.bounds.oracle_allowed``: the rounding of both sides, float64),
   widened for σ' evaluated from A, the textbook forms.

Warnings the function emits are recorded, not findings (a correct sigmoid may overflow).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from crosscheck import vectorized
from crosscheck.compare.bounds import oracle_allowed
from crosscheck.compare.comparison import Comparison, compare_gradients
from crosscheck.ffnn import Layer
from crosscheck.oracle.calling import Callee, InProcess, named_arrays
from crosscheck.oracle.layouts import Adapter, OutputError, Returned, check_shapes
from crosscheck.strategies import Problem

PROCESS_KINDS = ("exited", "crashed", "timeout")
"""Findings about the worker process itself (``crosscheck.oracle.worker``)."""

KINDS = (
    *PROCESS_KINDS,
    "raised",
    "mutation",
    "output",
    "non-finite",
    "non-deterministic",
    "gradient",
    "loss",
)
"""Finding kinds, in the order they are looked for."""


@dataclass(frozen=True)
class Finding:
    """What is wrong with a function's output on one example.

    Attributes:
        kind: one of ``KINDS``.
        message: one or two sentences, naming the array, layer or exception.
    """

    kind: str
    message: str


@dataclass(frozen=True)
class Examination:
    """The outcome of one example.

    Attributes:
        finding: the first Finding, or None if the function agrees.
        returned: its output in the suite's layout, shapes unchecked where the finding is
            about them; None if it raised or returned something that is not arrays.
        J: the suite's J (eq 2.16 or the loss's own, plus weight decay).
        grads: the suite's ∂J/∂W^(l), ∂J/∂b^(l): L Layers, (S_l, S_{l-1}) and (S_l,).
        comparison: suite (expected) against the function (actual), if it got that far.
        warnings: the warnings the function emitted, as "Category: message".
    """

    finding: Finding | None
    returned: Returned | None
    J: float
    grads: tuple[Layer, ...]
    comparison: Comparison | None
    warnings: tuple[str, ...]


def examine(fn: Callable[..., Any], adapter: Adapter, problem: Problem) -> Examination:
    """Run `fn` on `problem` twice and judge it (module docstring; eqs 2.14–2.16, 2.33, 2.37).

    Args:
        fn: ``fn(Ws, bs, X, T)`` returning (dWs, dbs) or (J, dWs, dbs), in `adapter`'s layout,
            called in this process; or a ``Callee`` (``crosscheck.oracle.calling``) that runs it
            where it lives (``crosscheck.oracle.worker.Isolated``: a worker process).
        adapter: the function's layout.
        problem: network, params (W^(l) (S_l, S_{l-1}), b^(l) (S_l,)), X (S_0, N), T (S_L, N),
            float64, in the suite's layout.

    Returns:
        An Examination. Never raises for anything `fn` does (KeyboardInterrupt from a function
        called in this process excepted: it may be the user's Ctrl-C).

    Raises:
        TypeError, ValueError: from ``crosscheck.ffnn.validate`` if `problem` itself is invalid.
    """
    network, params, X, T = problem
    grads, trace = vectorized.backprop(network, params, X, T)
    J = vectorized.loss(network, params, X, T)
    caught: list[str] = []

    def result(finding: Finding | None, returned=None, comparison=None) -> Examination:
        return Examination(finding, returned, J, grads, comparison, tuple(caught))

    callee = fn if isinstance(fn, Callee) else InProcess(fn)
    returned = _run(callee, adapter, problem, caught)
    if isinstance(returned, Finding):
        return result(returned)
    try:
        check_shapes(returned, network, adapter)
    except OutputError as error:
        return result(Finding("output", str(error)), returned)
    bad = _non_finite(returned)
    if bad is not None:
        return result(Finding("non-finite", bad), returned)
    second = _run(callee, adapter, problem, caught)
    if isinstance(second, Finding) and second.kind in PROCESS_KINDS:
        message = f"on the second call on the same input: {second.message}"
        return result(Finding(second.kind, message), returned)
    if isinstance(second, Finding):
        message = f"the second call on the same input failed: {second.message}"
        return result(Finding("non-deterministic", message), returned)
    difference = _difference(returned, second)
    if difference is not None:
        return result(Finding("non-deterministic", difference), returned)
    comparison = _compare(problem, grads, trace, J, returned)
    first_bad = comparison.first_mismatch
    if first_bad is None:
        return result(None, returned, comparison)
    kind = "loss" if first_bad.quantity == "J" and _only_loss(comparison) else "gradient"
    error = abs(first_bad.actual_value - first_bad.expected_value)
    message = (
        f"{first_bad.label} disagrees with the suite: {first_bad.n_mismatched} of"
        f" {first_bad.size} {'entry' if first_bad.size == 1 else 'entries'} beyond the bound,"
        f" worst error/allowed {ratio_text(first_bad.worst_ratio, error)}"
    )
    return result(Finding(kind, message), returned, comparison)


RATIO_CAP = 1e15
"""Error/allowed ratios above this are shown as ``≫1e15`` with the absolute error: the bound
is then near the underflow floor (the correct value is exactly 0) and the ratio says nothing
more than "wrong"."""


def ratio_text(ratio: float, error: float, precision: int = 3) -> str:
    """An error/allowed ratio for people: ``1.2e+03``, or ``≫1e15 (|error| 0.5)`` past
    RATIO_CAP (the bound at the underflow floor: the suite's value is exactly 0)."""
    if ratio > RATIO_CAP:
        return f"≫1e15 (|error| {error:.{precision}g})"
    return f"{ratio:.{precision}g}"


def _run(callee: Callee, adapter: Adapter, problem: Problem, caught: list[str]) -> Any:
    """One judged call through `callee` (``crosscheck.oracle.calling``): the output in the
    suite's layout, or a Finding (raised / mutation / output, or exited / crashed / timeout
    from a worker process)."""
    _, params, X, T = problem
    outcome = callee.attempt(adapter, params, X, T)
    caught.extend(outcome.warnings)
    if outcome.read_only_write:
        return Finding("mutation", _mutation_message(callee, adapter, problem, outcome.message))
    if outcome.kind is not None:
        return Finding(outcome.kind, outcome.message)
    return outcome.returned


def _mutation_message(callee: Callee, adapter: Adapter, problem: Problem, error: str) -> str:
    """Name the arrays a function writes to: call it again with only one input read-only at
    a time; those whose turn raises the read-only error are written to."""
    _, params, X, T = problem
    written = [
        name
        for name in named_arrays(params, X, T)
        if callee.attempt(adapter, params, X, T, read_only=(name,)).read_only_write
    ]
    where = f"it writes to {', '.join(written)}" if written else "it writes to an input array"
    return f"mutates its inputs: {where} ({error})"


def _non_finite(returned: Returned) -> str | None:
    if returned.J is not None and not np.isfinite(returned.J):
        return f"the returned loss J is {returned.J}"
    for l, (dW, db) in enumerate(returned.grads, start=1):
        for name, a in ((f"∂J/∂W^({l})", dW), (f"∂J/∂b^({l})", db)):
            if not np.isfinite(a).all():
                index = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
                count = int(np.count_nonzero(~np.isfinite(a)))
                entries = "entry" if count == 1 else "entries"
                return f"{name} has {count} non-finite {entries}, first {a[index]} at {index}"
    return None


def _difference(returned: Returned, again: Returned) -> str | None:
    """Why a second output differs from the first (bitwise), or None if it does not."""
    if (returned.J is None) != (again.J is None) or (
        returned.J is not None and returned.J != again.J
    ):
        return f"the same input gave J = {returned.J!r}, then {again.J!r}"
    for l, (first, other) in enumerate(zip(returned.grads, again.grads, strict=False), start=1):
        for name, a, b in (("W", first.W, other.W), ("b", first.b, other.b)):
            if a.shape != b.shape or not np.array_equal(a, b):
                return f"the same input gave two different ∂J/∂{name}^({l})"
    if len(returned.grads) != len(again.grads):
        return "the same input gave gradients for different numbers of layers"
    return None


def _compare(
    problem: Problem, grads: tuple[Layer, ...], trace: Any, J: float, returned: Returned
) -> Comparison:
    """Suite against function: the derived bound (both sides float64) + σ' from A."""
    allowed = oracle_allowed(*problem, trace)
    losses = {} if returned.J is None else {"expected_loss": J, "actual_loss": returned.J}
    return compare_gradients(
        grads,
        returned.grads,
        names=("suite (vectorized)", "function"),
        allowed=allowed.grads,
        allowed_loss=allowed.J,
        **losses,
    )


def _only_loss(comparison: Comparison) -> bool:
    return all(row.passed for row in comparison.rows if row.quantity != "J")

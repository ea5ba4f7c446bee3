"""One example under the oracle: run a function under test on a problem and judge its output.

``examine(fn, adapter, problem)`` calls ``fn(Ws, bs, X, T)`` twice on read-only copies of
the problem (in the function's layout, ``crosscheck.oracle.layouts``, and in the problem's
dtype), through a ``Callee`` (``crosscheck.oracle.calling``: in a worker process or in this
one), and returns an ``Examination``: the first ``Finding``, if any, in this order —

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
5. ``non-deterministic``: the second call on the same input failed, returned something of
   another structure, or values that differ from the first call's by more than two correct
   evaluations can (``crosscheck.compare.bounds.repeat_allowed``: E + E, the rounding of
   sums in any order, plus the σ'-from-A allowance). A difference within that bound is
   correct code that sums in an order that changes from call to call: it is reported as a
   note (``Examination.repeat``) with its size, never as a finding;
6. ``gradient`` / ``loss``: ∂J/∂W^(l), ∂J/∂b^(l) or J disagree with the suite's
   (``vectorized``, the anchor, in float64) beyond the comparison module's derived per-entry
   bound (``crosscheck.compare.bounds.oracle_allowed``: the suite's float64 rounding plus the
   function's in the precision it is judged in), widened for σ' evaluated from A, the
   textbook forms.

Precision. A function is judged in the precision it computes in (``judged_precision``):
``dtype=None`` (the default) judges it in the precision of what it returns, never finer than
its inputs' — float32 results for float64 inputs are judged under float32's bound, as
float32 code run on its inputs rounded to float32 (to nearest, as ``astype`` does), with a
note saying so; ``dtype="float64"`` asks for float64 explicitly, so float32 results are held
to float64's bound (and the finding says "computes in float32 where float64 was asked");
``dtype="float32"`` hands float32 inputs and judges under float32's bound. The suite's side
always computes in float64 on the same input values. A function that returns gradient arrays
of both precisions under ``dtype=None`` has each judged in its own: the float32 ones as
above, a float64 one under float64's bound (returning float64 states float64's precision, as
it does when every array is float64); a NumPy float32 J with float64 gradients is judged
under float32's bound on the same values (a Python float J states no precision and goes with
the gradients).

Warnings the function emits are recorded, not findings (a correct sigmoid may overflow).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from crosscheck import vectorized
from crosscheck.compare.bounds import DerivedBound, oracle_allowed, repeat_allowed
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

DTYPES = ("float64", "float32")
"""Precisions a function can be judged in (``dtype=`` of ``examine``; None: as returned)."""

CALLS = 2
"""Calls of the function per examination: the judged one and a repeat on the same input."""


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
class Precision:
    """The precision a function was judged in, and why.

    Attributes:
        inputs: the dtype of the arrays handed to the function ("float64", "float32").
        returned: the least precise dtype of its returned gradients (``Returned.dtype``);
            None if it returned no arrays.
        judged: the dtype whose bound its side got ("float64" or "float32").
        asked: the ``dtype=`` asked for (None: judge in the precision returned).
        per_array: (label, dtype) of the returned values judged in another dtype than
            `judged`, in the precision they were returned in (asked None only; module
            docstring).
    """

    inputs: str
    returned: str | None
    judged: str
    asked: str | None
    per_array: tuple[tuple[str, str], ...] = ()

    @property
    def note(self) -> str | None:
        """A sentence when the precision judged is not simply that of the inputs."""
        if self.per_array:
            own = ", ".join(f"{label} in {dtype}" for label, dtype in self.per_array)
            rounded = (
                f", as {self.judged} code on its inputs rounded to {self.judged}"
                if self.judged != self.inputs
                else ""
            )
            return (
                f"the function returns values of two precisions for {self.inputs} inputs:"
                f" each is judged under the bound of the precision it returns ({own}; the"
                f" rest in {self.judged}{rounded})"
            )
        if self.returned is None or self.returned == self.inputs:
            return None
        if self.asked is None and self.judged != self.inputs:
            return (
                f"the function returns {self.returned} results for {self.inputs} inputs: it is"
                f" judged as {self.judged} code, on its inputs rounded to {self.judged}, under"
                f" {self.judged}'s bound (pass dtype='{self.inputs}', --dtype {self.inputs},"
                f" to require {self.inputs})"
            )
        if self.asked == self.inputs and self.judged == self.inputs:
            return (
                f"the function returns {self.returned} results where {self.asked} was asked:"
                f" judged under {self.asked}'s bound"
            )
        return f"the function returns {self.returned} results for {self.inputs} inputs"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: inputs, returned, judged, asked, note."""
        return {**dataclasses.asdict(self), "note": self.note}


@dataclass(frozen=True)
class Repeat:
    """Two calls on the same input, compared (``crosscheck.compare.bounds.repeat_allowed``).

    Attributes:
        ratio: the largest |first − second|/bound over J and every entry of ∂J/∂W^(l),
            ∂J/∂b^(l); <= 1: within the rounding of a reordered sum.
        difference: |first − second| at that entry.
        bound: the bound there: E + E in the judged dtype, plus the σ'-from-A allowance.
        where: the entry, e.g. "∂J/∂W^(2) (0, 1)" or "J".
        first, second: the two values there.
    """

    ratio: float
    difference: float
    bound: float
    where: str
    first: float
    second: float

    @property
    def text(self) -> str:
        """One sentence with the size of the difference and its bound."""
        return (
            f"two calls on the same input differ by up to {self.difference:.3g} at {self.where}"
            f" ({self.first:.17g} then {self.second:.17g}); the bound of a reordered sum there"
            f" is {self.bound:.3g}, ratio {ratio_text(self.ratio, self.difference)}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the fields, non-finite floats as strings."""
        return {
            name: value if not isinstance(value, float) or np.isfinite(value) else str(value)
            for name, value in dataclasses.asdict(self).items()
        }


@dataclass(frozen=True)
class Examination:
    """The outcome of one example.

    Attributes:
        finding: the first Finding, or None if the function agrees.
        returned: its output in the suite's layout, shapes unchecked where the finding is
            about them; None if it raised or returned something that is not arrays.
        J: the suite's J (eq 2.16 or the loss's own, plus weight decay), float64.
        grads: the suite's ∂J/∂W^(l), ∂J/∂b^(l): L Layers, (S_l, S_{l-1}) and (S_l,),
            float64, on the input values the function is judged on (``precision``).
        comparison: suite (expected) against the function (actual), if it got that far.
        warnings: the warnings the function emitted, as "Category: message".
        precision: the dtypes involved and the one judged in; None before any output.
        repeat: the second call compared with the first; None if the two returned the same
            values bit for bit, or the examination did not get that far.
        calls: calls of the function this examination made (``CALLS`` at most, the
            mutation search's extra calls not counted).
        failed_call: which of them (1 or 2) showed the finding; None without one.
    """

    finding: Finding | None
    returned: Returned | None
    J: float
    grads: tuple[Layer, ...]
    comparison: Comparison | None = None
    warnings: tuple[str, ...] = ()
    precision: Precision | None = None
    repeat: Repeat | None = None
    calls: int = 0
    failed_call: int | None = None


def examine(
    fn: Callable[..., Any], adapter: Adapter, problem: Problem, dtype: str | None = None
) -> Examination:
    """Run `fn` on `problem` twice and judge it (module docstring; eqs 2.14–2.16, 2.33, 2.37).

    Args:
        fn: ``fn(Ws, bs, X, T)`` returning (dWs, dbs) or (J, dWs, dbs), in `adapter`'s layout,
            called in this process; or a ``Callee`` (``crosscheck.oracle.calling``) that runs it
            where it lives (``crosscheck.oracle.worker.Isolated``: a worker process).
        adapter: the function's layout.
        problem: network, params (W^(l) (S_l, S_{l-1}), b^(l) (S_l,)), X (S_0, N), T (S_L, N),
            in the suite's layout, all float64 or all float32: the function gets them in
            this dtype.
        dtype: None (judge in the precision returned, never finer than the inputs'),
            "float64" (required explicitly) or "float32" (the problem must be float32).

    Returns:
        An Examination. Never raises for anything `fn` does (KeyboardInterrupt from a function
        called in this process excepted: it may be the user's Ctrl-C).

    Raises:
        TypeError, ValueError: from ``crosscheck.ffnn.validate`` if `problem` itself is invalid;
            ValueError for an unknown `dtype` or one finer than the problem's.
        UnjudgeableError: the suite cannot compute `problem` (an overflow), before any call of fn.
    """
    network, _, X, _ = problem
    inputs = str(np.asarray(X).dtype)
    if dtype is not None and dtype not in DTYPES:
        raise ValueError(f"dtype must be None, 'float64' or 'float32', got {dtype!r}")
    if dtype == "float64" and inputs != "float64":
        raise ValueError(f"dtype='float64' needs a float64 problem, got {inputs} arrays")
    suite = _suite(problem)
    caught: list[str] = []
    calls = 0

    def result(finding: Finding | None, returned: Returned | None = None, **details) -> Examination:
        return Examination(
            finding, returned, suite.J, suite.grads, warnings=tuple(caught), calls=calls,
            failed_call=None if finding is None else details.pop("failed_call", 1), **details,
        )  # fmt: skip

    callee = fn if isinstance(fn, Callee) else InProcess(fn)
    returned = _run(callee, adapter, problem, caught)
    calls += 1
    if isinstance(returned, Finding):
        return result(returned)
    try:
        check_shapes(returned, network, adapter)
    except OutputError as error:
        return result(Finding("output", str(error)), returned)
    bad = _non_finite(returned)
    if bad is not None:
        return result(Finding("non-finite", bad), returned)
    precision = judged_precision(inputs, returned.dtype, dtype, returned.dtypes)
    as_given = suite
    if precision.judged != inputs:  # float32 code handed float64: judged on its rounded inputs
        suite = _suite(_in_dtype(problem, precision.judged))
    second = _run(callee, adapter, problem, caught)
    calls += 1
    if isinstance(second, Finding):
        if second.kind in PROCESS_KINDS:
            message = f"on the second call on the same input: {second.message}"
            finding = Finding(second.kind, message)
        else:
            message = f"the second call on the same input failed: {second.message}"
            finding = Finding("non-deterministic", message)
        return result(finding, returned, precision=precision, failed_call=2)
    repeat = _repeat(suite, precision.judged, returned, second, adapter)
    if isinstance(repeat, str):
        return result(
            Finding("non-deterministic", repeat), returned, precision=precision, failed_call=2
        )
    comparison = _compare(suite, returned, precision.judged)
    if precision.per_array:  # values of another precision, each judged in its own
        own = dict(precision.per_array)
        theirs = {d: _compare(as_given, returned, d) for d in set(own.values())}
        rows = {(row.label, d): row for d, c in theirs.items() for row in c.rows}
        merged = tuple(
            rows[row.label, own[row.label]] if row.label in own else row for row in comparison.rows
        )
        comparison = dataclasses.replace(comparison, rows=merged)
    details = {"comparison": comparison, "precision": precision, "repeat": repeat}
    if repeat is not None and repeat.ratio > 1:
        first_call = "agrees" if comparison.agree else "disagrees"
        message = (
            f"{repeat.text}: beyond the rounding of a reordered sum (the first call"
            f" {first_call} with the suite)"
        )
        return result(
            Finding("non-deterministic", message),
            returned,
            failed_call=2 if comparison.agree else 1,
            **details,
        )
    first_bad = comparison.first_mismatch
    if first_bad is None:
        return result(None, returned, **details)
    kind = "loss" if first_bad.quantity == "J" and _only_loss(comparison) else "gradient"
    if kind == "gradient":  # a gradient finding names a gradient; J is said after it
        first_bad = next(r for r in comparison.rows if not r.passed and r.quantity != "J")
    error = abs(first_bad.actual_value - first_bad.expected_value)
    message = (
        f"{first_bad.label} disagrees with the suite: {first_bad.n_mismatched} of"
        f" {first_bad.size} {'entry' if first_bad.size == 1 else 'entries'} beyond the bound,"
        f" worst error/allowed {ratio_text(first_bad.worst_ratio, error)}"
    )
    if kind == "gradient" and comparison.first_mismatch.quantity == "J":
        message += "; J disagrees too"
    if precision.returned != precision.judged and precision.asked == precision.judged:
        message = (
            f"computes in {precision.returned} where {precision.asked} was asked"
            f" (dtype='{precision.asked}'): {message}"
        )
    return result(Finding(kind, message), returned, **details)


def judged_precision(
    inputs: str, returned: str, asked: str | None, stated: tuple[tuple[str, str], ...] = ()
) -> Precision:
    """The dtype a function's side is judged in (module docstring, "Precision").

    Args:
        inputs: the dtype handed to the function. returned: the least precise dtype of its
            gradients. asked: None, "float64" or "float32" (``dtype=``).
        stated: (label, dtype) of each returned value that states its precision
            (``Returned.dtypes``).

    Returns:
        A Precision: `asked` when given; else the less precise of `inputs` and `returned`,
        where a dtype less precise than float32 (float16) is judged as float32 (no bound
        is derived for it: such code fails float32's bound unless its values are exact),
        and in ``per_array`` the gradient arrays returned more precisely than that and a J
        returned less precisely, each in its own (never finer than `inputs`).
    """
    if asked is not None:
        return Precision(inputs, returned, asked, asked)
    judged = _judged(inputs, returned)
    per_array = tuple(
        (label, own)
        for label, dtype in stated
        if (own := _judged(inputs, dtype)) != judged
        # a J finer than its gradients is a cast of theirs more often than a claim
        and (label != "J" or np.finfo(own).eps > np.finfo(judged).eps)
    )
    return Precision(inputs, returned, judged, None, per_array)


def _judged(inputs: str, returned: str) -> str:
    """The less precise of the two, float16 and coarser judged as float32."""
    coarser = max((inputs, returned), key=lambda d: np.finfo(d).eps)
    return coarser if coarser in DTYPES else "float32"


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


class UnjudgeableError(ValueError):
    """The suite itself cannot compute a problem (its J or a gradient overflows float64, as
    with a weight decay near 1e305): the problem tests nothing."""


class _Suite(NamedTuple):
    """The suite's side of one example, in float64 on the values the function is judged on.

    problem: those values as float64 (exact copies of float32 values); J, grads, trace:
    ``vectorized``'s.
    """

    problem: Problem
    J: float
    grads: tuple[Layer, ...]
    trace: Any


def _suite(problem: Problem) -> _Suite:
    """The suite on `problem`'s values, computed in float64 (``vectorized``)."""
    problem = _in_dtype(problem, np.float64)
    network, params, X, T = problem
    try:
        grads, trace = vectorized.backprop(network, params, X, T)
        J = vectorized.loss(network, params, X, T)
    except ValueError as error:  # the problem was validated: an overflow of the suite's own
        raise UnjudgeableError(str(error)) from None
    return _Suite(problem, J, grads, trace)


def _in_dtype(problem: Problem, dtype: Any) -> Problem:
    """`problem` with every array in `dtype` (rounded to nearest, as ``astype`` does; the same
    arrays where they are in `dtype` already)."""
    network, params, X, T = problem

    def cast(a: np.ndarray) -> np.ndarray:
        return np.asarray(a, dtype=dtype)

    return Problem(network, tuple(Layer(cast(W), cast(b)) for W, b in params), cast(X), cast(T))


def _repeat(
    suite: _Suite, dtype: str, returned: Returned, again: Returned, adapter: Adapter
) -> Repeat | str | None:
    """The second call's output (`again`) against the first's, within ``repeat_allowed`` (E + E
    in the judged `dtype` plus the σ'-from-A allowance); None if they are the same bit for
    bit; a message if the second has another structure."""
    try:
        check_shapes(again, suite.problem.network, adapter)
    except OutputError as error:
        return f"the second call on the same input returned something else: {error}"
    if (returned.J is None) != (again.J is None):
        return "the same input gave a loss J on one call and none on the other"
    if _identical(returned, again):
        return None
    allowed = repeat_allowed(*suite.problem, suite.trace, dtype)
    losses = {} if returned.J is None else {"expected_loss": returned.J, "actual_loss": again.J}
    comparison = compare_gradients(
        returned.grads, again.grads, allowed=allowed.grads, allowed_loss=allowed.J, **losses
    )
    worst = max(comparison.rows, key=lambda row: row.worst_ratio)
    return Repeat(
        ratio=worst.worst_ratio,
        difference=abs(worst.actual_value - worst.expected_value),
        bound=worst.allowed,
        where=f"{worst.label} {worst.worst_index}" if worst.shape else worst.label,
        first=worst.expected_value,
        second=worst.actual_value,
    )


def _identical(first: Returned, second: Returned) -> bool:
    """The same J (or none) and the same gradients, bit for bit."""
    pairs = [
        (a, b)
        for x, y in zip(first.grads, second.grads, strict=True)
        for a, b in zip(x, y, strict=True)
    ]
    return first.J == second.J and all(np.array_equal(a, b) for a, b in pairs)


def _compare(suite: _Suite, returned: Returned, dtype: str) -> Comparison:
    """Suite against function: the suite's float64 bound + the function's in the judged
    `dtype`, σ' from A in that dtype (``crosscheck.compare.bounds.oracle_allowed``)."""
    allowed = oracle_allowed(*suite.problem, suite.trace, dtype)
    losses = {} if returned.J is None else {"expected_loss": suite.J, "actual_loss": returned.J}
    comparison = compare_gradients(
        suite.grads,
        returned.grads,
        names=("suite (vectorized)", "function"),
        allowed=allowed.grads,
        allowed_loss=allowed.J,
        **losses,
    )
    return dataclasses.replace(comparison, tolerance=DerivedBound("float64", dtype))


def _only_loss(comparison: Comparison) -> bool:
    return all(row.passed for row in comparison.rows if row.quantity != "J")

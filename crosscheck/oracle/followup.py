"""The diagnosis of a failing example, and follow-up runs where that example hides something.

``analysis`` gathers what ``crosscheck.oracle.diagnosis``, ``.conventions`` and
``.relations`` say about one failing example (the report's diagnosis fields). ``follow_up``
then reruns the function where the example itself cannot tell (DESIGN §5: a diagnosis says
where a fault lives; the search's shrinking keeps what a fault needs to be visible):

- **N = S_l**: when N equals a width (N >= 2), the function is rerun with the same sizes at
  the smallest N' >= 2 that equals no width, on ``FOLLOW_UP_EXAMPLES`` drawn problems; if it
  agrees on all, the fault shows only when N = S_l, and a note says so.
- **zeros that hide a quantity**: when some quantity agrees only because the suite's value is
  0 there (X = 0 makes ∂J/∂W^(1) = 0 on both sides) and W^(l), b^(l) or X hold exact zeros,
  the same problem with those zeros replaced by non-zero values (``fill_zeros``) is analysed
  too, and a note gives what it shows.
- **names that coincide**: when the example cannot tell named factors or conventions apart
  (2 = N at N = 2, ½ = 1/S_L at S_L = 2) or matches several catalogued bugs, an example
  where they differ is searched for (N raised to the smallest >= 3 other than S_L; S_L to 3
  when the sizes are drawn and S_L is among the names; for several bugs other values at the
  same sizes will do) and analysed, and a note gives what it shows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from random import Random
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException, NoSuchExample

from crosscheck.ffnn import Layer
from crosscheck.oracle.conventions import gradient_conventions, loss_conventions
from crosscheck.oracle.diagnosis import diagnose
from crosscheck.oracle.expected import expected_values
from crosscheck.oracle.judge import Examination, examine
from crosscheck.oracle.layouts import Adapter
from crosscheck.oracle.relations import relations, touched
from crosscheck.strategies import Problem

FOLLOW_UP_EXAMPLES = 20
"""Examples drawn for each follow-up search."""

VALUE_KINDS = ("gradient", "loss", "output")
"""Finding kinds about the returned values: the ones a diagnosis is made for."""

Examples = Callable[[tuple[int, ...], int], st.SearchStrategy[Problem]]
"""(sizes, N) → the search's strategy for problems of those sizes and N."""

GOLDEN = (5**0.5 - 1) / 2
"""The golden ratio's fraction: frac(k·GOLDEN) over k = 1, 2, ... never repeats."""


def fill(a: np.ndarray, offset: int, scale: float = 1.0) -> np.ndarray:
    """`a` (read-only) with each exact 0 replaced by ±scale·(1/4 + 3/4·frac(k·GOLDEN)), k =
    the entry's flat index + 61·offset + 1 (each array its own stretch), signs alternating
    with k: non-zero, at most `scale` in magnitude, no two rows or columns alike, so that no
    unit or sample mirrors another."""
    k = np.arange(a.size).reshape(a.shape) + offset * 61 + 1
    values = scale * (0.25 + 0.75 * np.modf(k * GOLDEN)[0]) * np.where(k % 2 == 0, 1.0, -1.0)
    filled = np.where(a == 0, values.astype(a.dtype), a)
    filled.flags.writeable = False
    return filled


def fill_zeros(problem: Problem, scale: float = 1.0) -> Problem:
    """`problem` with the exact zeros of every W^(l), b^(l) and X replaced (``fill``, values
    at most `scale` in magnitude); T as it is."""
    network, params, X, T = problem
    filled = tuple(
        Layer(fill(W, 2 * l + 1, scale), fill(b, 2 * l + 2, scale))
        for l, (W, b) in enumerate(params)
    )
    return Problem(network, filled, fill(X, 0, scale), T)


def analysis(example: Problem, examination: Examination, weights: str) -> dict[str, Any]:
    """The report's diagnosis fields for a finding about the values: ``diagnosis``,
    ``conventions``, ``gradient_conventions``, ``relations`` (empty dict for other kinds)."""
    finding, returned = examination.finding, examination.returned
    if finding is None or returned is None or finding.kind not in VALUE_KINDS:
        return {}
    expected = expected_values(example)
    J_checked = finding.kind in ("gradient", "loss") and returned.J is not None
    return {
        "diagnosis": diagnose(example, returned, (examination.J, examination.grads), weights),
        "conventions": loss_conventions(example, returned.J, expected) if J_checked else (),
        "gradient_conventions": gradient_conventions(example, returned, expected),
        "relations": relations(example, returned, expected),
    }


def follow_up(
    fn: Callable[..., Any],
    adapter: Adapter,
    weights: str,
    example: Problem,
    fields: dict[str, Any],
    examples: Examples,
    *,
    seed: int,
    resizable: bool,
) -> tuple[str, ...]:
    """The notes of the follow-up runs (module docstring), in sentences.

    Args:
        fn, adapter, weights: the function under test and its layout.
        example: the failing example (suite layout); fields: its ``analysis``.
        examples: the search's strategy for given sizes and N.
        seed: seeds the follow-up searches. resizable: the sizes were drawn (S_L may change).
    """
    if not fields:
        return ()
    return (
        *_width_condition(fn, adapter, example, examples, seed),
        *_unhidden(fn, adapter, weights, example, fields),
        *_separated(fn, adapter, weights, example, fields, examples, seed, resizable),
    )


def _width_condition(
    fn: Callable[..., Any], adapter: Adapter, example: Problem, examples: Examples, seed: int
) -> tuple[str, ...]:
    network, _, X, _ = example
    N = X.shape[1]
    tied = [l for l, S in enumerate(network.sizes) if S == N]
    if N < 2 or not tied:
        return ()
    other = next(n for n in itertools.count(2) if n not in network.sizes)
    if not _agrees_on(fn, adapter, examples(network.sizes, other), seed):
        return ()
    widths = " = ".join(f"S_{l}" for l in tied)
    return (
        f"This fault shows only when N = S_l: the example has N = {widths} = {N}; with the"
        f" same sizes and N = {other} (no width) the function agreed on {FOLLOW_UP_EXAMPLES}"
        " drawn examples. Look for code that takes the sample axis for a unit axis (a sum,"
        " mean, reshape or broadcast chosen by length).",
    )


def _unhidden(
    fn: Callable[..., Any], adapter: Adapter, weights: str, example: Problem, fields: dict
) -> tuple[str, ...]:
    hidden = [r.label for r in fields["relations"] if r.negligible]
    _, params, X, _ = example
    zeros = [a for W, b in params for a in (W, b)] + [X]
    if not hidden or not any(np.any(a == 0) for a in zeros):
        return ()
    filled = fill_zeros(example)
    examination = examine(fn, adapter, filled)
    lead = (
        f"The example's zeros leave {', '.join(hidden)} at 0 on both sides, hiding whether"
        " it is affected. With the zeros of W, b, X replaced by non-zero values"
    )
    second = analysis(filled, examination, weights)
    if examination.finding is None:
        return (f"{lead}, the function agrees: the fault needs those zeros.",)
    return (f"{lead} ({_example_text(filled)}): {_summary(examination, second)}",)


def _separated(
    fn: Callable[..., Any],
    adapter: Adapter,
    weights: str,
    example: Problem,
    fields: dict,
    examples: Examples,
    seed: int,
    resizable: bool,
) -> tuple[str, ...]:
    coinciding = _coinciding(fields)
    if not coinciding:
        return ()
    network, _, X, _ = example
    sizes, N = list(network.sizes), X.shape[1]
    if resizable and sizes[-1] <= 2 and any("S_L" in name for name in coinciding):
        sizes[-1] = 3
    S_L = sizes[-1]
    other = N if N >= 3 and N != S_L else next(n for n in itertools.count(3) if n != S_L)
    if (tuple(sizes), other) == (network.sizes, N) and len(fields["diagnosis"]) < 2:
        return ()  # only other values, not other sizes, could tell known bugs apart
    lead = f"This example cannot tell apart {'; '.join(coinciding)}."
    where = f"sizes {'-'.join(map(str, sizes))}, N = {other}"
    second = _failing(fn, adapter, examples(tuple(sizes), other), seed, shrink=True)
    if second is None:
        return (f"{lead} With {where} the function agreed on {FOLLOW_UP_EXAMPLES} examples.",)
    examination = examine(fn, adapter, second)
    summary = _summary(examination, analysis(second, examination, weights))
    return (f"{lead} On an example with {where}, where they differ: {summary}",)


def _coinciding(fields: dict[str, Any]) -> list[str]:
    """What the example cannot tell apart: named factors merged because their values
    coincide ("2 = N"), several conventions of J or of the gradient, several known bugs."""
    found = []
    for relation in fields["relations"]:
        name = relation.text.split(" × ")[0]
        if relation.kind in ("factor", "form") and " = " in name and name not in found:
            found.append(name)
    for key, whose in (("conventions", "J's"), ("gradient_conventions", "the gradient's")):
        if len(fields[key]) > 1:
            found.append(f"{whose} conventions {' and '.join(fields[key])}")
    if len(fields["diagnosis"]) > 1:
        found.append("the known bugs " + ", ".join(d.title for d in fields["diagnosis"]))
    return found


def _summary(examination: Examination, fields: dict[str, Any]) -> str:
    """A second example's diagnosis in one sentence."""
    if examination.finding is None:
        return "the function agrees there."
    if not fields:
        return f"{examination.finding.kind}: {examination.finding.message}."
    parts = []
    bugs = [d.title for d in fields["diagnosis"]]
    parts.append(f"known bug(s): {', '.join(bugs)}" if bugs else "no catalogued bug")
    if fields["conventions"]:
        parts.append("J under: " + "; ".join(fields["conventions"]))
    if fields["gradient_conventions"]:
        parts.append("∂J under: " + "; ".join(fields["gradient_conventions"]))
    differing = [f"{r.label}: {r.text}" for r in fields["relations"] if r.differs]
    parts += differing
    parts.append(f"differs in {touched(fields['relations'])}")
    return "; ".join(parts) + "."


def _example_text(problem: Problem) -> str:
    network, _, X, _ = problem
    return f"sizes {'-'.join(map(str, network.sizes))}, N = {X.shape[1]}"


def _failing(
    fn: Callable[..., Any],
    adapter: Adapter,
    strategy: st.SearchStrategy[Problem],
    seed: int,
    *,
    shrink: bool,
) -> Problem | None:
    """A problem of `strategy` on which `fn` has a finding (shrunk if `shrink`), or None if
    none in FOLLOW_UP_EXAMPLES (or the function fails there only sometimes)."""
    try:
        return _find(fn, adapter, strategy, seed, shrink)
    except (NoSuchExample, HypothesisException):
        return None


def _agrees_on(
    fn: Callable[..., Any], adapter: Adapter, strategy: st.SearchStrategy[Problem], seed: int
) -> bool:
    """True only if `fn` has no finding on FOLLOW_UP_EXAMPLES problems of `strategy` (a
    function failing there only sometimes does not agree)."""
    try:
        _find(fn, adapter, strategy, seed, shrink=False)
    except NoSuchExample:
        return True
    except HypothesisException:
        return False
    return False


def _find(
    fn: Callable[..., Any],
    adapter: Adapter,
    strategy: st.SearchStrategy[Problem],
    seed: int,
    shrink: bool,
) -> Problem:
    search = settings(
        max_examples=FOLLOW_UP_EXAMPLES,
        database=None,
        deadline=None,
        verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.shrink) if shrink else (Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )
    return find(
        strategy,
        lambda problem: examine(fn, adapter, problem).finding is not None,
        settings=search,
        random=Random(seed),
    )

"""The oracle for other people's backprop (DESIGN §5): ``check_gradients`` and its report.

``check_gradients(fn, activations=...)`` lets hypothesis search for a problem on which
``fn(Ws, bs, X, T)`` disagrees with the suite (``crosscheck.oracle.judge`` judges one example:
exceptions, mutation, shapes, NaN, determinism, ∂J/∂W^(l), ∂J/∂b^(l) and J), shrinks it to a
minimal one, and analyses that one (``crosscheck.oracle.diagnosis``): the suite's self-agreement
(reference, autodiff), the catalogued bugs that reproduce the output, a loss convention, and
whether a returned gradient is the gradient of the returned loss. It returns a
``CheckReport`` when the function agrees on every example and raises ``GradientMismatch``
(an AssertionError carrying ``.report``) when it does not.

``check_example`` judges one given problem (``crosscheck check --replay``).
"""

from __future__ import annotations

import dataclasses
import numbers
import secrets
from collections.abc import Callable, Sequence
from random import Random
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException, NoSuchExample

from crosscheck.ffnn import Network
from crosscheck.oracle.diagnosis import consistency, suite_agreement
from crosscheck.oracle.followup import analysis, fill_zeros, follow_up
from crosscheck.oracle.judge import Examination, examine
from crosscheck.oracle.layouts import Adapter
from crosscheck.oracle.report import CheckReport, CheckSettings, GradientMismatch
from crosscheck.strategies import Problem, problems

MAX_WIDTH = 6
"""Drawn widths S_l lie in 1..MAX_WIDTH (unless `sizes` fixes them)."""

MAX_SAMPLES = 8
"""Drawn N lies in 1..MAX_SAMPLES."""


def check_gradients(
    fn: Callable[..., Any],
    *,
    activations: Sequence[str],
    loss: str = "squared_error",
    sizes: Sequence[int] | None = None,
    weight_decay: float = 0.0,
    layout: str = "columns",
    weights: str = "out_in",
    max_examples: int = 100,
    seed: int | None = None,
) -> CheckReport:
    """Search for a problem on which `fn`'s ∂J/∂W^(l), ∂J/∂b^(l) (eqs 2.14, 2.15, 2.33, 2.37)
    or J (eq 2.16) disagree with the suite's; shrink it, diagnose it, report it.

    Args:
        fn: ``fn(Ws, bs, X, T)`` returning (dWs, dbs) or (J, dWs, dbs). In the default
            layout ``Ws[l-1]`` = W^(l) (S_l, S_{l-1}), ``bs[l-1]`` = b^(l) (S_l,), X (S_0, N),
            T (S_L, N), all float64 and read-only; dWs, dbs in the same shapes (bias
            gradients may also be (S_l, 1) or (1, S_l)). ``layout="rows"`` passes X (N, S_0),
            T (N, S_L); ``weights="in_out"`` passes and expects W^(l) as (S_{l-1}, S_l).
        activations: σ_1..σ_L names (``crosscheck.ffnn.ACTIVATIONS``); fixes L.
        loss: J's name (``crosscheck.ffnn.LOSSES``; default squared_error, eq 2.16).
        sizes: (S_0, ..., S_L) to fix the widths; None draws each in 1..MAX_WIDTH.
        weight_decay: λ >= 0 (adds (λ/2) Σ_l ‖W^(l)‖_F² to J).
        layout: ``"columns"`` or ``"rows"``. weights: ``"out_in"`` or ``"in_out"``.
        max_examples: hypothesis's budget of examples, >= 1.
        seed: seeds the search (int >= 0); None draws one, recorded in the report.

    Returns:
        A CheckReport with ``agree`` True: no example disagreed.

    Raises:
        GradientMismatch: a finding on some example; ``.report`` holds the minimal example,
            the per-layer comparison, the diagnosis.
        TypeError, ValueError: a bad argument (naming it), before any call of `fn`.
    """
    __tracebackhide__ = True  # pytest: the report, not this function's source
    config = _settings(
        fn, activations, loss, sizes, weight_decay, layout, weights, max_examples, seed
    )
    adapter = config.adapter
    counted = {"calls": 0, "first": None, "first_problem": None}

    def fails(problem: Problem) -> bool:
        failed = examine(fn, adapter, problem).finding is not None
        if counted["first"] is None:
            counted["calls"] += 1
            if failed:
                counted["first"], counted["first_problem"] = counted["calls"], problem
        return failed

    search = settings(
        max_examples=config.max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    shrunk = True
    try:
        example = find(_problems(config), fails, settings=search, random=Random(config.seed))
    except NoSuchExample:
        return CheckReport(config, counted["calls"])
    except HypothesisException:  # e.g. Flaky: a function that fails only sometimes
        if counted["first_problem"] is None:
            raise
        example, shrunk = counted["first_problem"], False
    report = _analyse(fn, config, example, counted["first"] or counted["calls"], shrunk)
    raise GradientMismatch(report)


def check_example(
    fn: Callable[..., Any],
    problem: Problem,
    *,
    layout: str = "columns",
    weights: str = "out_in",
    seed: int = 0,
) -> CheckReport:
    """Judge `fn` on one given problem, with the full analysis of a failure (no search).

    Args:
        fn: as for ``check_gradients``.
        problem: (network, params, X, T) in the suite's layout, float64
        (``crosscheck.ffnn.validate``). layout, weights: the function's layout, as for
        ``check_gradients``.
        seed: seeds the direction of the consistency check.

    Returns:
        A CheckReport (``examples_run`` 1, ``replayed`` True); ``agree`` tells the outcome.
        Never raises
        GradientMismatch.

    Raises:
        TypeError, ValueError: a bad argument or an invalid problem, before any call of `fn`.
    """
    network = problem[0]
    config = _settings(
        fn,
        network.activations,
        network.loss,
        network.sizes,
        network.weight_decay,
        layout,
        weights,
        1,
        seed,
    )
    return _analyse(fn, config, _validated(problem), 1, True, replayed=True)


def _analyse(
    fn: Callable[..., Any],
    config: CheckSettings,
    example: Problem,
    run: int,
    shrunk: bool,
    *,
    replayed: bool = False,
) -> CheckReport:
    adapter = config.adapter
    examination = examine(fn, adapter, example)
    finding, returned = examination.finding, examination.returned
    report = CheckReport(config, run, example, examination, shrunk=shrunk, replayed=replayed)
    if finding is None or returned is None:
        return report
    J_checked = finding.kind in ("gradient", "loss") and returned.J is not None
    return CheckReport(
        config,
        run,
        example,
        examination,
        suite=suite_agreement(example) if finding.kind in ("gradient", "loss") else (),
        consistency=consistency(fn, adapter, example, returned, config.seed) if J_checked else None,
        shrunk=shrunk,
        replayed=replayed,
        **_diagnosis(fn, config, example, examination),
    )


def _diagnosis(
    fn: Callable[..., Any], config: CheckSettings, example: Problem, examination: Examination
) -> dict[str, Any]:
    """The report's diagnosis fields (``crosscheck.oracle.followup.analysis``) and the notes
    of the follow-up runs, which search problems as this search does (``_problems``)."""
    fields = analysis(example, examination, config.weights)

    def examples(sizes: tuple[int, ...], N: int) -> st.SearchStrategy[Problem]:
        return _problems(dataclasses.replace(config, sizes=sizes), samples=N)

    notes = follow_up(
        fn,
        config.adapter,
        config.weights,
        example,
        fields,
        examples,
        seed=config.seed,
        resizable=config.sizes is None,
    )
    return {**fields, "notes": notes} if fields else {}


def _problems(config: CheckSettings, samples: int | None = None) -> st.SearchStrategy[Problem]:
    """Problems for the search, shrinking towards examples that show *where* a fault is.

    Each draw may tie N to a width S_l (a boolean that shrinks towards untied), so a fault
    that shows only when N = S_l shrinks with S_l and N going down together; and each draw
    may keep the exact zeros of W^(l), b^(l) and X (a boolean that shrinks towards not
    keeping them): otherwise they are replaced by non-zero values
    (``crosscheck.oracle.followup.fill_zeros``), so that shrinking towards 0 does not make
    ∂J/∂W^(l) = 0 on both sides (X = 0 or W = 0), or a bias term vanish, and hide whether
    that quantity is affected. A fault that needs the zeros keeps them. `samples` fixes N
    (then nothing is tied).
    """

    def network(sizes: tuple[int, ...]) -> Network:
        return Network(sizes, config.activations, config.loss, config.weight_decay)

    if config.sizes is not None:
        networks = st.just(network(config.sizes))
    else:
        width = st.integers(1, MAX_WIDTH)
        networks = st.tuples(*[width] * (len(config.activations) + 1)).map(network)
    return _revealing(networks, samples)


@st.composite
def _revealing(
    draw: st.DrawFn, networks: st.SearchStrategy[Network], samples: int | None
) -> Problem:
    network = draw(networks)
    low, high = (1, MAX_SAMPLES) if samples is None else (samples, samples)
    widths = [l for l, S in enumerate(network.sizes) if S <= MAX_SAMPLES]
    if samples is None and widths and draw(st.booleans()):
        low = high = network.sizes[draw(st.sampled_from(widths))]  # N = S_l
    problem = draw(problems(networks=st.just(network), min_samples=low, max_samples=high))
    keep_zeros = draw(st.booleans())
    return problem if keep_zeros else fill_zeros(problem)


def _validated(problem: Problem) -> Problem:
    from crosscheck.ffnn import validate

    network, params, X, T = problem
    params, X, T = validate(network, params, X, T)
    return Problem(network, params, X, T)


def _settings(
    fn: Any,
    activations: Any,
    loss: Any,
    sizes: Any,
    weight_decay: Any,
    layout: Any,
    weights: Any,
    max_examples: Any,
    seed: Any,
) -> CheckSettings:
    """Check every argument (by name) before any work; build the settings."""
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if isinstance(activations, str) or not isinstance(activations, Sequence):
        raise TypeError(
            f"activations must be a sequence of names, one per layer, got {activations!r}"
        )
    Adapter(layout, weights)
    for name, value, low in (("max_examples", max_examples, 1), ("seed", seed, 0)):
        if name == "seed" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {value!r}")
        if value < low:
            raise ValueError(f"{name} must be >= {low}, got {value}")
    probe = tuple(sizes) if sizes is not None else (1,) * (len(activations) + 1)
    network = Network(probe, tuple(activations), loss, weight_decay)  # names, λ, sizes
    return CheckSettings(
        activations=network.activations,
        loss=network.loss,
        sizes=None if sizes is None else network.sizes,
        weight_decay=network.weight_decay,
        layout=layout,
        weights=weights,
        max_examples=int(max_examples),
        seed=secrets.randbits(32) if seed is None else int(seed),
    )

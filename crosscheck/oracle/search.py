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

Both call the function through a ``crosscheck.oracle.calling.Callee``: an importable function
runs in a worker process (``crosscheck.oracle.worker.Isolated``, one worker for the whole
search, `timeout` seconds per call), a closure or a function of ``__main__`` in this process
(``isolate`` chooses). A call that passes the time limit ends the search at once: the example
it hung on is reported as drawn (shrinking would wait out the limit again and again).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import secrets
from collections.abc import Callable, Sequence
from random import Random
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException, NoSuchExample

from crosscheck.ffnn import Network
from crosscheck.oracle.calling import Callee, InProcess
from crosscheck.oracle.diagnosis import consistency, suite_agreement
from crosscheck.oracle.followup import analysis, fill_zeros, follow_up
from crosscheck.oracle.judge import Examination, examine
from crosscheck.oracle.layouts import Adapter
from crosscheck.oracle.report import CheckReport, CheckSettings, GradientMismatch
from crosscheck.oracle.worker import DEFAULT_TIMEOUT, Isolated, LoadError, Target
from crosscheck.strategies import Problem, problems

MAX_WIDTH = 6
"""Drawn widths S_l lie in 1..MAX_WIDTH (unless `sizes` fixes them)."""

MAX_SAMPLES = 8
"""Drawn N lies in 1..MAX_SAMPLES."""

MAX_LAYERS = 100
"""Most layers L a search takes: hypothesis draws each layer's arrays from one bounded buffer,
and deeper problems exhaust it (400 layers: 3 examples in 39 s; 600: none, Unsatisfiable)."""

MAX_PARAMETERS = 1_000_000
"""Most parameters Σ_l S_l (S_{l-1} + 1) of fixed `sizes` a search takes. At the cap N is 1
(``crosscheck.strategies.problems``' max_products), an example costs the checker about 0.5 s
and a pure-Python backprop (the suite's contracted reference, 2–5e6 products/s) about 1 s per
call, far below ``crosscheck.oracle.worker.DEFAULT_TIMEOUT``; a larger network would only
be slower to search, and its arrays (several copies per example) outgrow memory."""


def check_size(sizes: Sequence[int] | None, L: int) -> None:
    """Refuse a search beyond MAX_LAYERS or MAX_PARAMETERS, naming the cap.

    Args:
        sizes: (S_0, ..., S_L) if fixed, else None. L: the number of layers (activations).

    Raises:
        ValueError: "<n> layers, more than the cap of 100 ..." or "sizes ... have <p>
            parameters, more than the cap of 1e+06 ...".
    """
    if L > MAX_LAYERS:
        raise ValueError(
            f"{L} layers (one activation each), more than the cap of {MAX_LAYERS}: hypothesis"
            " cannot draw deeper problems"
        )
    if sizes is not None:
        parameters = sum(sizes[l] * (sizes[l - 1] + 1) for l in range(1, len(sizes)))
        if parameters > MAX_PARAMETERS:
            raise ValueError(
                f"sizes {','.join(map(str, sizes))} have {parameters:.3g} parameters, more than"
                f" the cap of {MAX_PARAMETERS:.0e} (about 1 s per call of a pure-Python"
                " backprop); use smaller widths"
            )


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
    timeout: float | None = DEFAULT_TIMEOUT,
    isolate: bool | None = None,
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
        timeout: seconds one call of `fn` may take in the worker process (> 0; None: no
            limit); past it the call is a ``timeout`` finding. The default,
            ``crosscheck.oracle.worker.DEFAULT_TIMEOUT`` (60 s), is far beyond what a correct
            function needs at the sizes drawn. No limit applies in this process.
        isolate: None (default): run `fn` in a worker process if the worker can import it
            (a function or callable object of an importable module, picklable), else in this
            process (a closure, a lambda, a function of ``__main__``); True: in a worker
            process or a TypeError; False: in this process. `fn` may also be a
            ``crosscheck.oracle.calling.Callee`` already set up (``crosscheck check`` passes
            its ``Isolated``). The report says where it ran.

    Returns:
        A CheckReport with ``agree`` True: no example disagreed.

    Raises:
        GradientMismatch: a finding on some example; ``.report`` holds the minimal example,
            the per-layer comparison, the diagnosis. In a worker process, a function that
            exits, crashes, passes `timeout` or raises KeyboardInterrupt is a finding too.
        TypeError, ValueError: a bad argument (naming it), before any call of `fn`; with
            ``isolate=True``, a function the worker cannot import.
    """
    __tracebackhide__ = True  # pytest: the report, not this function's source
    config = _settings(
        fn, activations, loss, sizes, weight_decay, layout, weights, max_examples, seed
    )
    _check_isolation(timeout, isolate)
    callee = _callee(fn, timeout, isolate)
    try:
        return _search(callee, dataclasses.replace(config, isolation=callee.isolation))
    finally:
        if callee is not fn:
            callee.close()


class _Hung(BaseException):
    """A call passed its time limit: ends hypothesis's search at once (hypothesis lets a
    BaseException that is not an Exception through, as it does KeyboardInterrupt)."""

    def __init__(self, problem: Problem, examination: Examination) -> None:
        super().__init__()
        self.problem, self.examination = problem, examination


def _search(callee: Callee, config: CheckSettings) -> CheckReport:
    """check_gradients's search, shrink and analysis, with `callee` set up."""
    __tracebackhide__ = True
    adapter = config.adapter
    counted = {"calls": 0, "first": None, "first_problem": None}

    def fails(problem: Problem) -> bool:
        examination = examine(callee, adapter, problem)
        failed = examination.finding is not None
        if counted["first"] is None:
            counted["calls"] += 1
            if failed:
                counted["first"], counted["first_problem"] = counted["calls"], problem
        if failed and examination.finding.kind == "timeout":
            raise _Hung(problem, examination)
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
    except _Hung as hung:
        run = counted["first"] or counted["calls"]
        raise GradientMismatch(
            CheckReport(config, run, hung.problem, hung.examination, shrunk=False)
        ) from None
    except HypothesisException:  # e.g. Flaky: a function that fails only sometimes
        if counted["first_problem"] is None:
            raise
        example, shrunk = counted["first_problem"], False
    report = _analyse(callee, config, example, counted["first"] or counted["calls"], shrunk)
    raise GradientMismatch(report)


def check_example(
    fn: Callable[..., Any],
    problem: Problem,
    *,
    layout: str = "columns",
    weights: str = "out_in",
    seed: int = 0,
    timeout: float | None = DEFAULT_TIMEOUT,
    isolate: bool | None = None,
) -> CheckReport:
    """Judge `fn` on one given problem, with the full analysis of a failure (no search).

    Args:
        fn: as for ``check_gradients``.
        problem: (network, params, X, T) in the suite's layout, float64
        (``crosscheck.ffnn.validate``). layout, weights: the function's layout, as for
        ``check_gradients``.
        seed: seeds the direction of the consistency check.
        timeout, isolate: where `fn` runs and its time limit, as for ``check_gradients``.

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
    _check_isolation(timeout, isolate)
    problem = _validated(problem)
    callee = _callee(fn, timeout, isolate)
    try:
        config = dataclasses.replace(config, isolation=callee.isolation)
        return _analyse(callee, config, problem, 1, True, replayed=True)
    finally:
        if callee is not fn:
            callee.close()


def _callee(fn: Any, timeout: float | None, isolate: bool | None) -> Callee:
    """Where `fn` runs (``check_gradients``'s `isolate`): a Callee given is used as it is."""
    if isinstance(fn, Callee):
        return fn
    if isolate is False:
        return InProcess(fn, "isolate=False")
    target = Target.from_function(fn)
    if isinstance(target, str):
        if isolate:
            raise TypeError(f"isolate=True, but fn cannot run in a worker process: it is {target}")
        return InProcess(fn, target)
    isolated = Isolated(target, timeout)
    try:
        isolated.load()
    except LoadError as error:
        if isolate:
            raise TypeError(
                f"isolate=True, but the worker process cannot load fn: {error}"
            ) from None
        return InProcess(fn, f"the worker process cannot load it: {error}")
    return isolated


def _check_isolation(timeout: Any, isolate: Any) -> None:
    """Refuse a timeout that is not a positive finite number (or None), an isolate that is
    not a bool (or None)."""
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
            raise TypeError(f"timeout must be a number of seconds or None, got {timeout!r}")
        if not (timeout > 0 and math.isfinite(timeout)):
            raise ValueError(f"timeout must be > 0 and finite, got {timeout!r}")
    if isolate is not None and not isinstance(isolate, bool):
        raise TypeError(f"isolate must be True, False or None, got {isolate!r}")


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
    check_size(None if sizes is None else network.sizes, network.L)
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

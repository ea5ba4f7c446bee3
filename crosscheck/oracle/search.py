"""The oracle for other people's backprop (DESIGN §5): ``check_gradients`` and its report.

``check_gradients(fn, activations=...)`` lets hypothesis search for a problem on which
``fn(Ws, bs, X, T)`` disagrees with the suite (``crosscheck.oracle.judge`` judges one example:
exceptions, mutation, shapes, NaN, determinism, ∂J/∂W^(l), ∂J/∂b^(l) and J), shrinks it to a
minimal one, and analyses that one (``crosscheck.oracle.diagnosis``): the suite's self-agreement
(reference, autodiff), the catalogued bugs that reproduce the output, a loss convention, and
whether a returned gradient is the gradient of the returned loss. It returns a
``CheckReport`` when the function agrees on every example and raises ``GradientMismatch``
(an AssertionError carrying ``.report``) when it does not.

A fault seen is a fault: once any call has shown a finding, the verdict is a fault, whatever
later calls do. The report is built from the examination that showed it (the minimal failing
example when the search could shrink, else the last failing one it saw), never from a fresh
call that might pass; it says on which example and call the fault was first seen
(``Sighting``) and how often it reappeared when that example was run RERUNS times more
(``reruns``: a timeout is not run again, each run would wait out the time limit; an exit or
crash of the worker process PROCESS_RERUNS times, each restarts the worker). A function
wrong on some calls only (stateful, order-dependent, random) therefore cannot end in AGREE
once the search has seen it fail.

``check_example`` judges one given problem (``crosscheck check --replay``), running it up to
1 + RERUNS times until a fault shows; ``check_problem`` does so for the user's own arrays in
their own layout (``crosscheck check --problem FILE.npz``).

All of them call the function through a ``crosscheck.oracle.calling.Callee``: an importable
function runs in a worker process (``crosscheck.oracle.worker.Isolated``, one worker for the
whole check, `timeout` seconds per call), a closure or a function of ``__main__`` in this
process (``isolate`` chooses). A call that passes the time limit ends the search at once: the
example it hung on is reported as drawn (shrinking would wait out the limit again and again).

Precision (``dtype=``, ``crosscheck.oracle.judge``): None (default) judges a function in the
precision it returns, with a note where that is float32 for float64 inputs; "float64" holds
it to float64; "float32" draws (or converts) the problem in float32, hands it float32 arrays
and judges it under float32's bound. The suite always computes in float64 on the same values.
"""

from __future__ import annotations

import dataclasses
import numbers
import secrets
from collections.abc import Callable, Sequence
from random import Random
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, find, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException, NoSuchExample, Unsatisfiable

from crosscheck import vectorized
from crosscheck.compare.bounds import trace_bounds
from crosscheck.ffnn import Layer, Network, validate
from crosscheck.oracle.calling import Callee, InProcess
from crosscheck.oracle.diagnosis import consistency, suite_agreement
from crosscheck.oracle.followup import analysis, fill_zeros, follow_up
from crosscheck.oracle.judge import (
    DTYPES,
    PROCESS_KINDS,
    Examination,
    Precision,
    Repeat,
    UnjudgeableError,
    examine,
)
from crosscheck.oracle.layouts import Adapter
from crosscheck.oracle.report import CheckReport, CheckSettings, GradientMismatch, Sighting
from crosscheck.oracle.worker import (
    DEFAULT_TIMEOUT,
    Isolated,
    LoadError,
    Target,
    check_timeout,
)
from crosscheck.strategies import Problem, problems

MAX_WIDTH = 6
"""Default bound on the drawn widths: S_l in 1..MAX_WIDTH (unless `sizes` fixes them)."""

MAX_SAMPLES = 64
"""Default bound on the drawn N: 1..MAX_SAMPLES, at any widths, fixed ones included. Beyond a
few samples a fault of the batch handling shows (a loop over minibatches of 32, a sum where
a mean belongs, which N = 1 hides); 64 costs the default check 1.31–1.36 → 1.35–1.46 s."""

MAX_MAGNITUDE = 4.0
"""Default bound on drawn values: |X|, |b|, |T| and ordinary |W| at most MAX_MAGNITUDE, a few
large weights per W^(l) up to 12·MAX_MAGNITUDE (``crosscheck.strategies.problems``)."""

MAGNITUDE_CAP = 1e6
"""Most `max_magnitude` accepts: beyond it every unit saturates, and squared values approach
float32's range."""

SAMPLES_CAP = 1024
"""Most `max_samples` accepts: N·Σ_l S_l S_{l-1} at the parameter cap is then 1e9 products a
pass."""

MAX_LAYERS = 100
"""Most layers L a search takes: hypothesis draws each layer's arrays from one bounded buffer,
and deeper problems exhaust it (400 layers: 3 examples in 39 s; 600: none, Unsatisfiable)."""

MAX_PARAMETERS = 1_000_000
"""Most parameters Σ_l S_l (S_{l-1} + 1) a search takes (fixed `sizes`, or L layers all
`max_width` wide). At the cap, with N up to MAX_SAMPLES, an example costs the checker about
0.15 s (sizes 999-999-1, 2 cores) and a pure-Python backprop (the suite's contracted
reference) 7–26 s a call, below ``crosscheck.oracle.worker.DEFAULT_TIMEOUT``; a larger network
would only be slower to search, and its arrays (several copies per example) outgrow memory."""


def check_size(
    sizes: Sequence[int] | None,
    L: int,
    max_width: Any = MAX_WIDTH,
    max_samples: Any = MAX_SAMPLES,
    max_magnitude: Any = MAX_MAGNITUDE,
) -> None:
    """Refuse a search beyond MAX_LAYERS, MAX_PARAMETERS, SAMPLES_CAP or MAGNITUDE_CAP,
    naming the cap.

    Args:
        sizes: (S_0, ..., S_L) if fixed, else None. L: the number of layers (activations).
        max_width: the bound on drawn widths (ignored when `sizes` is given), an int >= 1.
        max_samples: the bound on the drawn N, an int in 1..SAMPLES_CAP.
        max_magnitude: the bound on drawn values, a real number in (0, MAGNITUDE_CAP].

    Raises:
        TypeError: a bound that is not an int.
        ValueError: "<n> layers, more than the cap of 100 ...", "sizes ... have <p>
            parameters, more than the cap of 1e+06 ..." (for drawn widths, the network of L
            layers all max_width wide), a bound < 1 or max_samples > SAMPLES_CAP.
    """
    for name, value in (("max_width", max_width), ("max_samples", max_samples)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if max_samples > SAMPLES_CAP:
        raise ValueError(f"max_samples {max_samples} is more than the cap of {SAMPLES_CAP}")
    if isinstance(max_magnitude, bool) or not isinstance(max_magnitude, numbers.Real):
        raise TypeError(f"max_magnitude must be a real number, got {max_magnitude!r}")
    if not 0 < max_magnitude <= MAGNITUDE_CAP:
        raise ValueError(
            f"max_magnitude must be > 0 and at most {MAGNITUDE_CAP:g}, got {max_magnitude!r}"
        )
    if L > MAX_LAYERS:
        raise ValueError(
            f"{L} layers (one activation each), more than the cap of {MAX_LAYERS}: hypothesis"
            " cannot draw deeper problems"
        )
    widest = tuple(sizes) if sizes is not None else (int(max_width),) * (L + 1)
    parameters = sum(widest[l] * (widest[l - 1] + 1) for l in range(1, len(widest)))
    if parameters > MAX_PARAMETERS:
        what = (
            f"sizes {','.join(map(str, widest))} have"
            if sizes is not None
            else f"{L} layers of width up to max_width {max_width} reach"
        )
        raise ValueError(
            f"{what} {parameters:.3g} parameters, more than the cap of {MAX_PARAMETERS:.0e}"
            " (about 1 s per call of a pure-Python backprop); use smaller widths"
        )


FLOAT32_ACCUMULATION = "float32_accumulation"
"""The catalogued bug of float32 code where float64 was asked; never named for a function
judged in float32."""

RERUNS = 8
"""Times a failing example is run again to count how often its fault reappears; also the
extra runs ``check_example`` makes of a given example while it has not failed."""

PROCESS_RERUNS = 2
"""Times an example is run again when its fault was an exit or crash of the worker process
(``crosscheck.oracle.worker``: each run restarts the worker); a timeout is not run again."""


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
    dtype: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    isolate: bool | None = None,
    max_width: int = MAX_WIDTH,
    max_samples: int = MAX_SAMPLES,
    max_magnitude: float = MAX_MAGNITUDE,
) -> CheckReport:
    """Search for a problem on which `fn`'s ∂J/∂W^(l), ∂J/∂b^(l) (eqs 2.14, 2.15, 2.33, 2.37)
    or J (eq 2.16) disagree with the suite's; shrink it, diagnose it, report it.

    Args:
        fn: ``fn(Ws, bs, X, T)`` returning (dWs, dbs) or (J, dWs, dbs). In the default
            layout ``Ws[l-1]`` = W^(l) (S_l, S_{l-1}), ``bs[l-1]`` = b^(l) (S_l,), X (S_0, N),
            T (S_L, N), all read-only, float64 (float32 under ``dtype="float32"``); dWs, dbs
            in the same shapes (bias gradients may also be (S_l, 1) or (1, S_l)).
            ``layout="rows"`` passes X (N, S_0), T (N, S_L); ``weights="in_out"`` passes
            and expects W^(l) as (S_{l-1}, S_l).
        activations: σ_1..σ_L names (``crosscheck.ffnn.ACTIVATIONS``); fixes L.
        loss: J's name (``crosscheck.ffnn.LOSSES``; default squared_error, eq 2.16).
        sizes: (S_0, ..., S_L) to fix the widths; None draws each in 1..max_width.
        weight_decay: λ >= 0 (adds (λ/2) Σ_l ‖W^(l)‖_F² to J).
        layout: ``"columns"`` or ``"rows"``. weights: ``"out_in"`` or ``"in_out"``.
        max_examples: hypothesis's budget of examples, >= 1.
        seed: seeds the search (int >= 0); None draws one, recorded in the report.
        dtype: None (float64 problems; the function judged in the precision it returns,
            float32 results under float32's bound with a note), ``"float64"`` (float64
            required: float32 results are held to float64's bound) or ``"float32"``
            (float32 problems, judged under float32's bound).
        timeout: seconds one call of `fn` may take in the worker process (> 0 and at most
            ``crosscheck.oracle.worker.MAX_TIMEOUT``, 1e6; None: no limit); past it the
            call is a ``timeout`` finding. The default,
            ``crosscheck.oracle.worker.DEFAULT_TIMEOUT`` (60 s), is far beyond what a correct
            function needs at the sizes drawn. No limit applies in this process.
        isolate: None (default): run `fn` in a worker process if the worker can import it
            (a function or callable object of an importable module, picklable), else in this
            process (a closure, a lambda, a function of ``__main__``); True: in a worker
            process or a TypeError; False: in this process. `fn` may also be a
            ``crosscheck.oracle.calling.Callee`` already set up (``crosscheck check`` passes
            its ``Isolated``). The report says where it ran.
        max_width: drawn widths S_l lie in 1..max_width (default MAX_WIDTH, 6); not used
            with `sizes`. max_samples: N is drawn in 1..max_samples (default MAX_SAMPLES,
            64; at most SAMPLES_CAP, 1024), whatever the widths. max_magnitude: drawn
            |X|, |b|, |T| and ordinary |W| at most this (default 4; a few large weights up
            to 12 times it; at most MAGNITUDE_CAP, 1e6): raise it for inputs such as raw
            pixel values. The report states the space
            searched (``CheckSettings.searched``): an AGREE holds for that space only.

    Returns:
        A CheckReport with ``agree`` True: no call of `fn` showed a fault.

    Raises:
        GradientMismatch: a finding on some call; ``.report`` holds the minimal example
            (or the last failing one, for a fault that does not reproduce), where the fault
            was first seen and how often it reappeared, the per-layer comparison, the
            diagnosis. In a worker process, a function that exits, crashes, passes `timeout`
            or raises KeyboardInterrupt is a finding too.
        TypeError, ValueError: a bad argument (naming it), before any call of `fn`; with
            ``isolate=True``, a function the worker cannot import.
    """
    __tracebackhide__ = True  # pytest: the report, not this function's source
    config = _settings(
        fn,
        activations,
        loss,
        sizes,
        weight_decay,
        layout,
        weights,
        max_examples,
        seed,
        dtype,
        max_width=max_width,
        max_samples=max_samples,
        max_magnitude=max_magnitude,
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
    BaseException that is not an Exception through, as it does KeyboardInterrupt). The
    examination is already in the search's ``_Log``."""


def _search(callee: Callee, config: CheckSettings) -> CheckReport:
    """check_gradients's search, shrink and analysis, with `callee` set up."""
    __tracebackhide__ = True
    log = _Log()

    def fails(problem: Problem) -> bool:
        try:
            examination = examine(callee, config.adapter, problem, config.dtype)
        except UnjudgeableError as error:
            log.unjudgeable = str(error)
            log.skipped += 1
            reject()  # a problem the suite cannot compute tests nothing
        failed = log.record(problem, examination)
        if failed and examination.finding.kind == "timeout":
            raise _Hung
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
        try:
            find(_problems(config), fails, settings=search, random=Random(config.seed))
        except NoSuchExample:
            if log.first is not None:
                raise
            _sweep_samples(config, fails, log, search)
    except NoSuchExample:
        shrunk = False  # a fault seen during the search that its replay did not show
    except _Hung:
        shrunk = False  # reported as drawn: shrinking would wait out the time limit again
    except HypothesisException:  # e.g. Flaky: a function that fails only sometimes
        if log.first is None and log.examples == 0 and log.unjudgeable:
            raise ValueError(
                f"every problem drawn is beyond what the suite can compute ({log.unjudgeable});"
                " use a smaller weight decay or smaller sizes"
            ) from None
        if log.first is None:
            raise
        shrunk = False
    if log.first is None:
        return CheckReport(
            config,
            log.examples,
            calls=log.calls,
            precision=log.precision,
            repeat=log.worst_repeat,
            samples_tried=len(log.samples),
            skipped=(log.skipped, log.unjudgeable) if log.skipped else None,
        )
    report = _fault_report(callee, config, log, shrunk=shrunk)
    raise GradientMismatch(report)


def check_example(
    fn: Callable[..., Any],
    problem: Problem,
    *,
    layout: str = "columns",
    weights: str = "out_in",
    seed: int = 0,
    dtype: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    isolate: bool | None = None,
) -> CheckReport:
    """Judge `fn` on one given problem, with the full analysis of a failure (no search).

    The example is run up to 1 + RERUNS times until a call shows a fault (a function wrong on
    some calls only is caught as it would be by ``check_gradients``); a fault is then run
    RERUNS times more to count how often it reappears.

    Args:
        fn: as for ``check_gradients``.
        problem: (network, params, X, T) in the suite's layout, float64 or float32
            (``crosscheck.ffnn.validate``). layout, weights: the function's layout, as for
            ``check_gradients``.
        seed: seeds the direction of the consistency check.
        dtype: as for ``check_gradients``; ``"float32"`` converts a float64 problem to
            float32 (rounded to nearest), ``"float64"`` needs a float64 problem, None takes
            the problem's own dtype.
        timeout, isolate: where `fn` runs and its time limit, as for ``check_gradients``.

    Returns:
        A CheckReport (``examples_run`` 1, ``replayed`` True); ``agree`` tells the outcome.
        Never raises GradientMismatch.

    Raises:
        TypeError, ValueError: a bad argument or an invalid problem (values beyond float32's
            range under ``dtype="float32"`` named), before any call of `fn`.
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
        dtype,
    )
    _check_isolation(timeout, isolate)
    problem = _in_precision(_validated(problem), config.dtype)
    return _check_given(fn, config, problem, timeout=timeout, isolate=isolate)


def check_problem(
    fn: Callable[..., Any],
    Ws: Sequence[Any],
    bs: Sequence[Any],
    X: Any,
    T: Any,
    *,
    activations: Sequence[str],
    loss: str = "squared_error",
    weight_decay: float = 0.0,
    layout: str = "columns",
    weights: str = "out_in",
    dtype: str | None = None,
    seed: int = 0,
    source: str = "your problem",
    timeout: float | None = DEFAULT_TIMEOUT,
    isolate: bool | None = None,
) -> CheckReport:
    """Check `fn` on exactly the problem given, in the function's own layout: the user's
    weights, biases and data (a saved batch, huge weights, tiny gradients), with the full
    report (findings, comparison, diagnosis, consistency) of ``check_example``.

    Args:
        fn: as for ``check_gradients``; it is called with these arrays (read-only copies).
        Ws: L arrays W^(l): (S_l, S_{l-1}) with ``weights="out_in"``, (S_{l-1}, S_l) with
            ``"in_out"``; the widths S_l are read from them.
        bs: L arrays b^(l), (S_l,).
        X: (S_0, N) with ``layout="columns"``, (N, S_0) with ``"rows"``. T: (S_L, N) or
            (N, S_L). All float64, or all float32.
        activations: σ_1..σ_L names; loss, weight_decay: J and λ, as for
            ``check_gradients``.
        layout, weights: the layout of the arrays given and of the function.
        dtype: as for ``check_example`` (``"float32"`` rounds float64 arrays to float32).
        seed: seeds the direction of the consistency check.
        source: what the problem is, for the report's heading (e.g. the file's name).
        timeout, isolate: where `fn` runs and its time limit, as for ``check_gradients``.

    Returns:
        A CheckReport (``replayed`` True); ``agree`` tells the outcome. Never raises
        GradientMismatch.

    Raises:
        TypeError: arrays of a non-float dtype or mixed dtypes, a bad argument.
        ValueError: the wrong number of arrays, an array of the wrong shape (named, in the
            layout given), a non-finite value, targets outside the loss's domain
            (``crosscheck.ffnn.validate``); values beyond float32's range under
            ``dtype="float32"``; a problem the suite cannot judge: J or a gradient that
            overflows, or magnitudes whose rounding bound is not finite (any answer would
            pass); with ``isolate=True``, a function the worker cannot import. All before
            any call of `fn`.
    """
    if isinstance(activations, str) or not isinstance(activations, Sequence):
        raise TypeError(
            f"activations must be a sequence of names, one per layer, got {activations!r}"
        )
    _check_isolation(timeout, isolate)
    adapter = Adapter(layout, weights)
    problem = _given_problem(Ws, bs, X, T, tuple(activations), loss, weight_decay, adapter)
    network = problem.network
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
        dtype,
    )
    problem = _in_precision(problem, config.dtype)
    _check_judgeable(problem)
    return _check_given(fn, config, problem, timeout=timeout, isolate=isolate, source=source)


def _check_given(
    fn: Callable[..., Any],
    config: CheckSettings,
    problem: Problem,
    *,
    timeout: float | None,
    isolate: bool | None,
    source: str | None = None,
) -> CheckReport:
    """Run a given `problem` up to 1 + RERUNS times until a call shows a fault (through a
    Callee set up here, ``_callee``); report."""
    callee = _callee(fn, timeout, isolate)
    try:
        config = dataclasses.replace(config, isolation=callee.isolation)
        log = _Log()
        for _ in range(1 + RERUNS):
            if log.record(problem, examine(callee, config.adapter, problem, config.dtype)):
                return _fault_report(callee, config, log, shrunk=True, replayed=True, source=source)
        return CheckReport(
            config,
            1,
            problem,
            log.latest[1],
            replayed=True,
            calls=log.calls,
            precision=log.precision,
            repeat=log.worst_repeat,
            source=source,
        )
    finally:
        if callee is not fn:
            callee.close()


def _given_problem(
    Ws: Sequence[Any],
    bs: Sequence[Any],
    X: Any,
    T: Any,
    activations: tuple[str, ...],
    loss: str,
    weight_decay: float,
    adapter: Adapter,
) -> Problem:
    """The user's arrays, in `adapter`'s layout, as a validated Problem in the suite's."""
    for name, arrays in (("Ws", Ws), ("bs", bs)):
        if isinstance(arrays, np.ndarray) or not isinstance(arrays, Sequence):
            raise TypeError(f"{name} must be a list of L arrays, one per layer")
        if len(arrays) != len(activations):
            raise ValueError(
                f"{name} has {len(arrays)} arrays; {len(activations)} activations need"
                f" {len(activations)} (one per layer)"
            )
    named = [(f"W^({l})", W) for l, W in enumerate(Ws, 1)] + [("X", X), ("T", T)]
    for name, a in named:
        if np.ndim(a) != 2:
            raise ValueError(f"{name} has shape {np.shape(a)}; a 2-d array is needed")
    rows, in_out = adapter.layout == "rows", adapter.weights == "in_out"
    X, T = (np.asarray(X).T, np.asarray(T).T) if rows else (np.asarray(X), np.asarray(T))
    Ws = [np.asarray(W).T if in_out else np.asarray(W) for W in Ws]
    network = Network((X.shape[0], *(W.shape[0] for W in Ws)), activations, loss, weight_decay)
    try:
        params, X, T = validate(network, [Layer(W, b) for W, b in zip(Ws, bs, strict=True)], X, T)
    except ValueError as error:
        hint = _transposed_hint(Ws, bs, X.shape[0], adapter)
        if adapter == Adapter():
            raise ValueError(f"{error}{hint}") from None
        raise ValueError(
            f"{error} (shapes in the suite's layout, W^(l) (S_l, S_{{l-1}}), X (S_0, N); the"
            f" arrays were given with {adapter.describe()}){hint}"
        ) from None
    return Problem(network, params, X, T)


def _transposed_hint(
    Ws: Sequence[np.ndarray], bs: Sequence[Any], S_0: int, adapter: Adapter
) -> str:
    """A sentence naming the weights that look transposed, with the widths S_0 (X) and
    S_l = len(b^(l)) implying the other layout; "" if none does."""
    widths = [S_0, *(np.size(b) for b in bs)]
    flipped = [
        f"W^({l})"
        for l, W in enumerate(Ws, 1)
        if W.shape == (widths[l - 1], widths[l]) and widths[l - 1] != widths[l]
    ]
    if not flipped:
        return ""
    other = "in_out" if adapter.weights == "out_in" else "out_in"
    return (
        f"; {', '.join(flipped)} {'looks' if len(flipped) == 1 else 'look'} transposed for"
        f" the widths of X and b^(l) {tuple(widths)}: weights={other!r} (--weights {other})"
        " reads the other layout"
    )


def _check_judgeable(problem: Problem) -> None:
    """Refuse a problem the suite cannot judge: results that overflow, or a rounding bound
    that is not finite (the comparison would then accept anything).

    Raises:
        ValueError: naming the quantity.
    """
    network, params, X, T = _in_precision(problem, "float64")
    try:
        _, trace = vectorized.backprop(network, params, X, T)
        vectorized.loss(network, params, X, T)
    except ValueError as error:
        raise ValueError(f"the suite cannot compute this problem: {error}") from None
    dtype = np.asarray(problem.X).dtype
    with np.errstate(all="ignore"):
        bounds = trace_bounds(network, params, X, T, trace, dtype)
    if not np.isfinite(bounds.J):
        raise ValueError(
            "the rounding bound of J is not finite at these magnitudes: any answer would"
            " pass, so this problem cannot be checked; scale the weights or data down"
        )
    for l, (E_W, E_b) in enumerate(zip(bounds.W, bounds.b, strict=True), start=1):
        for name, E in ((f"∂J/∂W^({l})", E_W), (f"∂J/∂b^({l})", E_b)):
            if not np.isfinite(E).all():
                raise ValueError(
                    f"the rounding bound of {name} is not finite at these magnitudes: any"
                    " answer would pass, so this problem cannot be checked; scale the weights"
                    " or data down"
                )


def _sweep_samples(
    config: CheckSettings, fails: Callable[[Problem], bool], log: _Log, search: settings
) -> None:
    """After a search that saw no fault: one example (widths drawn) at each N in
    1..max_samples it did not examine, up to max_examples of them, smallest first. Random
    draws leave many N out (12–19 distinct N in 100 examples, 32 and 64 mostly missing), and
    batch code breaks at particular N (a multiple of its block size, past a threshold).

    Returns only once a sweep example failed (shrunk, N kept). Raises NoSuchExample if none
    did, as ``find`` does."""
    missing = [N for N in range(1, config.max_samples + 1) if N not in log.samples]
    one = settings(search, max_examples=1)
    for N in missing[: config.max_examples]:
        try:
            find(_problems(config, samples=N), fails, settings=one, random=Random(config.seed + N))
            return
        except NoSuchExample:
            if log.first is not None:
                raise
        except Unsatisfiable:
            continue  # every problem drawn at this N was beyond the suite: skipped, counted
    raise NoSuchExample("no fault on the N sweep")


class _Log:
    """What every examination of a check showed: examples and calls counted, the first
    failing one, the latest one (the last failing one, once any has failed), the worst
    difference between two calls, the precision judged."""

    def __init__(self) -> None:
        self.examples = 0
        self.calls = 0
        self.first: tuple[int, int, str] | None = None  # (example, call, kind)
        self.latest: tuple[Problem, Examination] | None = None
        self.worst_repeat: Repeat | None = None
        self.precision: Precision | None = None
        self.samples: set[int] = set()  # every N examined
        self.unjudgeable = ""  # why the suite could not compute a drawn problem, if it could not
        self.skipped = 0  # drawn problems the suite could not compute

    def record(self, problem: Problem, examination: Examination) -> bool:
        """Count `examination` and remember what it showed; True if it found a fault."""
        self.examples += 1
        self.samples.add(int(np.shape(problem[2])[1]))
        finding = examination.finding
        if finding is not None and self.first is None:
            self.first = (self.examples, self.calls + examination.failed_call, finding.kind)
        self.calls += examination.calls
        repeat = examination.repeat
        if repeat is not None and (
            self.worst_repeat is None or repeat.ratio > self.worst_repeat.ratio
        ):
            self.worst_repeat = repeat
        if examination.precision is not None:
            self.precision = examination.precision
        if finding is not None or self.first is None:
            self.latest = (problem, examination)
        return finding is not None


def _fault_report(
    fn: Callable[..., Any],
    config: CheckSettings,
    log: _Log,
    *,
    shrunk: bool,
    replayed: bool = False,
    source: str | None = None,
) -> CheckReport:
    """The report of a check that saw a fault: the last failing example and the examination
    that showed it, re-run (``_rerun``) to count reappearances, analysed."""
    example, examination = log.latest
    first_example, first_call, kind = log.first
    reruns, limited = _rerun(fn, config, example, examination.finding.kind)
    sighting = Sighting(
        example=1 if replayed else first_example,
        call=first_call,
        kind=kind,
        reruns=len(reruns),
        reappeared=sum(rerun.finding is not None for rerun in reruns),
        limited=limited,
    )
    return _analyse(
        fn,
        config,
        example,
        examination,
        sighting.example,
        shrunk=shrunk,
        replayed=replayed,
        sighting=sighting,
        calls=log.calls + sum(rerun.calls for rerun in reruns),
        precision=examination.precision or log.precision,
        repeat=log.worst_repeat,
        source=source,
    )


def _rerun(
    callee: Callee, config: CheckSettings, example: Problem, kind: str
) -> tuple[list[Examination], str]:
    """Run the reported `example`, whose finding is of `kind`, again to count how often its
    fault reappears: RERUNS times, but a timeout not at all (each run would wait out the
    time limit again), an exit or crash of the worker PROCESS_RERUNS times (each run
    restarts the worker and imports the function anew), and no more after a re-run that
    timed out.

    Returns:
        (the re-runs' examinations, why there are fewer than RERUNS: "" if there are not).
    """
    if kind == "timeout":
        return [], "each run of a timeout would wait out the time limit again"
    limit = PROCESS_RERUNS if kind in PROCESS_KINDS else RERUNS
    reruns: list[Examination] = []
    while len(reruns) < limit:
        reruns.append(examine(callee, config.adapter, example, config.dtype))
        finding = reruns[-1].finding
        if finding is not None and finding.kind == "timeout" and len(reruns) < limit:
            return reruns, "stopped at a timeout: each further run would wait out the time limit"
    if limit < RERUNS:
        return reruns, f"not {RERUNS}: each run after an exit or crash restarts the worker process"
    return reruns, ""


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
    """Refuse a timeout that is not a number of seconds in (0, MAX_TIMEOUT] (or None), an
    isolate that is not a bool (or None)."""
    check_timeout(timeout)
    if isolate is not None and not isinstance(isolate, bool):
        raise TypeError(f"isolate must be True, False or None, got {isolate!r}")


def _analyse(
    fn: Callable[..., Any],
    config: CheckSettings,
    example: Problem,
    examination: Examination,
    run: int,
    **fields: Any,
) -> CheckReport:
    """The report of a failing `examination` of `example` (it decides the verdict; nothing
    here calls `fn` to judge it again): the suite's agreement with itself, the diagnosis
    (``_diagnosis``) and the consistency of the function's own J and gradient."""
    finding, returned = examination.finding, examination.returned
    if returned is None:
        return CheckReport(config, run, example, examination, **fields)
    J_checked = finding.kind in ("gradient", "loss") and returned.J is not None
    exact = _in_precision(example, "float64")  # the suite's own analyses run in float64
    suite = suite_agreement(exact) if finding.kind in ("gradient", "loss") else ()
    return CheckReport(
        config,
        run,
        example,
        examination,
        suite=suite,
        consistency=consistency(fn, config.adapter, example, returned, config.seed)
        if J_checked
        else None,
        jax=_jax_device() if suite else None,
        **_diagnosis(fn, config, example, examination),
        **fields,
    )


def _jax_device() -> tuple[str, str]:
    """The JAX backend and device the suite's autodiff ran on (imported by then)."""
    from crosscheck import autodiff_oracle

    return tuple(autodiff_oracle.device())


def _diagnosis(
    fn: Callable[..., Any], config: CheckSettings, example: Problem, examination: Examination
) -> dict[str, Any]:
    """The report's diagnosis fields (``crosscheck.oracle.followup.analysis``, on the
    example's values in float64) and the notes of the follow-up runs, which search problems
    as this search does (``_problems``)."""
    fields = analysis(_in_precision(example, "float64"), examination, config.weights)
    precision = examination.precision
    if (
        fields
        and precision is not None
        and precision.judged == "float32"
        and "float64" not in dict(precision.per_array).values()
    ):
        # float32 code judged as such is not "float32 where float64 was asked"; an array
        # returned as float64 beside float32 ones is held to float64 and may be
        kept = [d for d in fields["diagnosis"] if d.name != FLOAT32_ACCUMULATION]
        fields = {**fields, "diagnosis": tuple(kept)}

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
    (then nothing is tied). Arrays are float32 under ``dtype="float32"`` (drawn within
    float32's range), float64 otherwise.
    """

    def network(sizes: tuple[int, ...]) -> Network:
        return Network(sizes, config.activations, config.loss, config.weight_decay)

    if config.sizes is not None:
        networks = st.just(network(config.sizes))
    else:
        width = st.integers(1, config.max_width)
        networks = st.tuples(*[width] * (len(config.activations) + 1)).map(network)
    dtype = np.float32 if config.dtype == "float32" else np.float64
    return _revealing(networks, samples, config.max_samples, config.max_magnitude, dtype)


@st.composite
def _revealing(
    draw: st.DrawFn,
    networks: st.SearchStrategy[Network],
    samples: int | None,
    max_samples: int,
    max_magnitude: float,
    dtype: Any,
) -> Problem:
    network = draw(networks)
    widths = [l for l, S in enumerate(network.sizes) if S <= max_samples]
    if samples is not None:
        N = samples
    elif widths and draw(st.booleans()):
        N = network.sizes[draw(st.sampled_from(widths))]  # N = S_l
    else:
        N = draw(_sample_counts(max_samples))
    # No product budget: N covers 1..max_samples at any accepted sizes (a budget once held
    # N at 1 for fixed sizes such as 64,32,10, where a missing 1/N cannot show).
    drawn = problems(
        networks=st.just(network),
        min_samples=N,
        max_samples=N,
        dtype=dtype,
        max_magnitude=max_magnitude,
        max_products=SAMPLES_CAP * MAX_PARAMETERS,
    )
    problem = draw(drawn)
    keep_zeros = draw(st.booleans())
    return problem if keep_zeros else fill_zeros(problem, min(1.0, max_magnitude))


def _sample_counts(high: int) -> st.SearchStrategy[int]:
    """N in 1..high, shrinking towards 1. hypothesis's integers favour small values (two
    thirds of the N drawn in 1..64 were at most 6, and 15 values never came up in 800
    draws), so a third of the draws are uniform over the range and a third go to the edges
    where batch code breaks: powers of two, one either side of them, and `high`."""
    edges = {n for k in range(high.bit_length() + 1) for n in (2**k - 1, 2**k, 2**k + 1)}
    edges = sorted({n for n in edges if 1 <= n <= high} | {high})
    return st.one_of(
        st.integers(1, high), st.sampled_from(range(1, high + 1)), st.sampled_from(edges)
    )


def _validated(problem: Problem) -> Problem:
    network, params, X, T = problem
    params, X, T = validate(network, params, X, T)
    return Problem(network, params, X, T)


def _in_precision(problem: Problem, dtype: str | None) -> Problem:
    """`problem` in `dtype` (None: as it is), rounded to nearest.

    Raises:
        ValueError: a finite value beyond `dtype`'s range, naming the array and entry.
    """
    network, params, X, T = problem
    if dtype is None or np.asarray(X).dtype == np.dtype(dtype):
        return problem
    named = [(f"W^({l})", W) for l, (W, _) in enumerate(params, 1)]
    named += [(f"b^({l})", b) for l, (_, b) in enumerate(params, 1)]
    limit = float(np.finfo(dtype).max)
    for name, a in [*named, ("X", X), ("T", T)]:
        beyond = np.abs(np.asarray(a, dtype=np.float64)) > limit
        if beyond.any():
            index = tuple(int(i) for i in np.argwhere(beyond)[0])
            raise ValueError(
                f"{name}{list(index)} = {a[index]!r} is beyond {dtype}'s range (±{limit:.4g});"
                f" it cannot be checked in {dtype}"
            )

    def cast(a: np.ndarray) -> np.ndarray:
        converted = np.array(a, dtype=dtype)
        converted.flags.writeable = False
        return converted

    return Problem(network, tuple(Layer(cast(W), cast(b)) for W, b in params), cast(X), cast(T))


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
    dtype: Any = None,
    *,
    max_width: Any = MAX_WIDTH,
    max_samples: Any = MAX_SAMPLES,
    max_magnitude: Any = MAX_MAGNITUDE,
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
    if dtype is not None and not isinstance(dtype, str):
        raise TypeError(f"dtype must be None, 'float64' or 'float32', got {dtype!r}")
    if dtype is not None and dtype not in DTYPES:
        raise ValueError(f"dtype must be None, 'float64' or 'float32', got {dtype!r}")
    probe = tuple(sizes) if sizes is not None else (1,) * (len(activations) + 1)
    network = Network(probe, tuple(activations), loss, weight_decay)  # names, λ, sizes
    check_size(
        None if sizes is None else network.sizes, network.L, max_width, max_samples, max_magnitude
    )
    return CheckSettings(
        activations=network.activations,
        loss=network.loss,
        sizes=None if sizes is None else network.sizes,
        weight_decay=network.weight_decay,
        layout=layout,
        weights=weights,
        max_examples=int(max_examples),
        max_width=None if sizes is not None else int(max_width),
        max_samples=int(max_samples),
        max_magnitude=float(max_magnitude),
        seed=secrets.randbits(32) if seed is None else int(seed),
        dtype=dtype,
    )

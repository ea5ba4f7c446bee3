"""The oracle's report: ``CheckReport`` (what a check found) and its renderings, rich, plain
text and JSON; ``GradientMismatch``, the exception that carries a failing one.

A failing report reads top to bottom: the finding, where it was first seen (example and
call) and how often it reappeared when re-run, notes (the precision judged in), the minimal
example (architecture, N and every value), the per-layer table (J, then ∂J/∂W^(l), ∂J/∂b^(l)
for l = L..1 with their equations, mismatched counts and the worst error/allowed ratio), the
first diverging quantity, the loss (value, consistency with the gradient), the diagnosis (the
catalogued bugs that match and where they live, the loss conventions of J and gradient, the
relation seen per quantity and layer, notes of follow-up runs), the suite's agreement with
itself, and any warnings.
"""

from __future__ import annotations

import dataclasses
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from crosscheck.compare.comparison import Comparison
from crosscheck.oracle.diagnosis import Consistency, Diagnosis
from crosscheck.oracle.judge import Examination, Finding, Precision, Repeat, ratio_text
from crosscheck.oracle.layouts import Adapter
from crosscheck.oracle.relations import NEGLIGIBLE, Relation, touched
from crosscheck.strategies import Problem

WIDTH = 100
"""Width of the plain-text rendering."""


@dataclass(frozen=True)
class CheckSettings:
    """What was checked, and how: the arguments of ``check_gradients``.

    Attributes:
        activations: σ_1..σ_L names. loss: J's name. sizes: fixed (S_0..S_L) or None
        (drawn). weight_decay: λ. layout, weights: the function's array layout
        (``crosscheck.oracle.layouts``). max_examples: hypothesis's budget. max_width: drawn
        widths lie in 1..max_width (None with fixed sizes). max_samples: N is drawn in
        1..max_samples. max_magnitude: drawn |X|, |b|, |T| at most this. seed: the search's
        seed (drawn at random, and recorded, when not given). dtype: the precision asked
        for (None: judged in the precision returned; "float64"; "float32"),
        ``crosscheck.oracle.judge``. isolation: where the function ran, e.g. "in a worker
        process, 60 s per call" (``crosscheck.oracle.calling.Callee``).
    """

    activations: tuple[str, ...]
    loss: str
    sizes: tuple[int, ...] | None
    weight_decay: float
    layout: str
    weights: str
    max_examples: int
    max_width: int | None
    max_samples: int
    max_magnitude: float
    seed: int
    dtype: str | None = None
    isolation: str = ""

    @property
    def searched(self) -> str:
        """The space the search draws from, e.g. "L = 2, widths 1–6, N 1–64" or
        "sizes 64-32-10, N 1–64"; an AGREE holds for it only."""
        if self.sizes is not None:
            widths = f"sizes {'-'.join(map(str, self.sizes))}"
        else:
            widths = f"L = {len(self.activations)}, widths 1–{self.max_width}"
        return f"{widths}, N 1–{self.max_samples}, |X|, |b|, |T| ≤ {self.max_magnitude:g}"

    @property
    def adapter(self) -> Adapter:
        """The function's layout."""
        return Adapter(self.layout, self.weights)


@dataclass(frozen=True)
class Sighting:
    """Where a check first saw a fault, and how often it came back.

    Attributes:
        example: the example (1-based, in the order the search tried them) on which a call
            first showed a fault; 1 for a given example.
        call: the call of the function (1-based, over the whole check) that showed it.
        kind: that first finding's kind (``crosscheck.oracle.judge.KINDS``).
        reruns: times the reported example was run again afterwards.
        reappeared: how many of those runs showed a fault again.
        limited: why it was run again fewer times than usual (a timeout is not run again;
            an exit or crash of the worker process fewer times; ``crosscheck.oracle.search``),
            "" if it was not.
    """

    example: int
    call: int
    kind: str
    reruns: int
    reappeared: int
    limited: str = ""

    @property
    def text(self) -> str:
        """Two sentences for the report."""
        seen = (
            f"First seen on example {self.example}, call {self.call} of the function ({self.kind})."
        )
        if self.reruns == 0:
            return f"{seen} Not run again ({self.limited or 'no re-runs'})."
        again = f"Run {plural(self.reruns, 'time')} more"
        if self.limited:
            again += f" ({self.limited})"
        if self.reappeared == self.reruns:
            return f"{seen} {again}, the example below failed every time."
        return (
            f"{seen} {again}, the example below failed again on"
            f" {self.reappeared} of them: a fault that comes and goes (stateful, order-dependent"
            " or random code) is still a fault."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: example, call, kind, reruns, reappeared, limited."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class CheckReport:
    """The outcome of a check.

    Attributes:
        settings: what was checked.
        examples_run: examples tried, up to and including the first failing one (all of
            them when the function agreed on every one).
        example: the minimal failing example (suite layout: W^(l) (S_l, S_{l-1}), b^(l)
            (S_l,), X (S_0, N), T (S_L, N)); None if the function agreed.
        examination: the judgement of that example (finding, returned values, comparison).
        suite: reference and autodiff against vectorized on the example (Comparisons, or
            why one could not run); empty unless the gradients or J disagreed.
        diagnosis: catalogued bugs that reproduce the function's output, with where they
            live (``Diagnosis.layer``, ``Diagnosis.where``).
        conventions: loss conventions under which the function's J equals the suite's.
        gradient_conventions: conventions under which every returned ∂J/∂W^(l), ∂J/∂b^(l)
            equals the suite's (``crosscheck.oracle.conventions``).
        relations: per quantity and layer, the relation of the function's value to the
            suite's (``crosscheck.oracle.relations``); empty unless values were compared.
        notes: what follow-up runs found where the example itself cannot tell, in sentences
            (``crosscheck.oracle.followup``): "This fault shows only when N = S_l ...", what
            the example shows with its zeros replaced, or on one where named factors differ.
        consistency: whether its gradient is the gradient of its own J (None without a J).
        shrunk: False if the search could not end on a reproducible minimal example (a
            function that fails only sometimes): the example is the last failing one it saw.
        replayed: True if the example was given (``check_example``), not searched for.
        sighting: where the fault was first seen and how often it reappeared (None if the
            function agreed).
        calls: calls of the function the check made (re-runs included).
        precision: the precision the function was judged in (of the reported example, or of
            the last example when it agreed); None if no call returned arrays.
        repeat: the largest difference between two calls on the same input over the check,
            against its bound (None if every pair of calls was identical bit for bit, or no
            example got that far).
        jax: (backend, device) the suite's autodiff ran on for ``suite``; None if it did
            not run.
        source: for a given example, where it came from (e.g. "your problem p.npz"); None
            for a replayed saved failure or a search.
        samples_tried: how many of the N in 1..max_samples a search that agreed examined
            (None otherwise): the search's draws, then one example at each N they left out,
            within max_examples more.
        skipped: (count, why) of drawn problems the suite itself could not compute (an
            overflow, as with a weight decay near 1e305), which test nothing; None if none.
    """

    settings: CheckSettings
    examples_run: int
    example: Problem | None = None
    examination: Examination | None = None
    suite: tuple[Comparison | str, ...] = ()
    diagnosis: tuple[Diagnosis, ...] = ()
    conventions: tuple[str, ...] = ()
    consistency: Consistency | None = None
    gradient_conventions: tuple[str, ...] = ()
    relations: tuple[Relation, ...] = ()
    notes: tuple[str, ...] = ()
    shrunk: bool = True
    replayed: bool = False
    sighting: Sighting | None = None
    calls: int = 0
    precision: Precision | None = None
    repeat: Repeat | None = None
    jax: tuple[str, str] | None = None
    source: str | None = None
    samples_tried: int | None = None
    skipped: tuple[int, str] | None = None

    @property
    def agree(self) -> bool:
        """True if no call of the function showed a fault."""
        return self.finding is None and self.sighting is None

    @property
    def verdict_notes(self) -> tuple[str, ...]:
        """Notes on a verdict that are not faults: the precision the function was judged in,
        the largest difference between two calls within the rounding of a reordered sum."""
        notes = []
        if self.precision is not None and self.precision.note:
            notes.append(self.precision.note)
        repeat = self.repeat
        if repeat is not None and repeat.ratio <= 1:
            notes.append(f"{repeat.text}: within it, correct (sums in another order)")
        if self.skipped is not None:
            count, why = self.skipped
            notes.append(
                f"{plural(count, 'drawn problem')} skipped: the suite cannot compute them ({why})"
            )
        return tuple(notes)

    @property
    def finding(self) -> Finding | None:
        """The finding on the minimal example (None if the function agreed)."""
        return None if self.examination is None else self.examination.finding

    def render(self) -> Any:
        """The report as a rich renderable (``render``)."""
        return render(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``json.dumps(..., allow_nan=False)`` accepts it)."""
        return report_dict(self)

    def __str__(self) -> str:
        return report_text(self)


class GradientMismatch(AssertionError):  # noqa: N818 (the name the API promises)
    """A function under ``check_gradients`` disagreed; ``.report`` is the CheckReport."""

    def __init__(self, report: CheckReport) -> None:
        super().__init__(str(report))
        self.report = report


def render(report: CheckReport) -> RenderableType:
    """The whole report as a rich renderable (print with ``rich.console.Console().print``)."""
    parts: list[RenderableType] = [Text(_settings_line(report))]
    finding = report.finding
    notes = [Text("Note: " + note) for note in report.verdict_notes]
    if finding is None:
        where = (
            "the given example"
            if report.replayed
            else f"all {plural(report.examples_run, 'example')}"
        )
        calls = f" ({plural(report.calls, 'call')})" if report.calls else ""
        space = "" if report.replayed else f", drawn from {report.settings.searched}"
        if report.samples_tried is not None:
            total = report.settings.max_samples
            space += (
                "; every N tried"
                if report.samples_tried >= total
                else f"; {report.samples_tried} of the {total} N tried"
            )
        parts.append(
            Text(
                f"AGREE: the function agrees with the suite on {where}{calls}{space}",
                style="bold green",
            )
        )
        return Group(*parts, *notes)
    parts.append(Text(f"FAULT ({finding.kind}): {finding.message}", style="bold red"))
    if report.sighting is not None:
        parts.append(Text(report.sighting.text))
    parts += notes
    if report.replayed:
        heading = (
            "Example replayed from a saved failure:"
            if report.source is None
            else f"Example given: {report.source}:"
        )
    else:
        if report.shrunk:
            shrunk = "minimal (shrunk)"
        elif finding.kind == "timeout":  # each try would wait out the whole time limit
            shrunk = "on which the call timed out (not re-run, so not shrunk)"
        else:
            shrunk = "as last seen failing (a fault that does not reproduce cannot be shrunk)"
        heading = f"Example {shrunk}, found after {plural(report.examples_run, 'example')}:"
    parts += [Text(), Text(heading, style="bold"), Text(_example_text(report))]
    comparison = report.examination.comparison
    if comparison is not None:
        first = comparison.first_mismatch
        parts += [Text(), comparison_table(comparison, report.settings.weights)]
        if first is not None:
            parts.append(
                Text(f"First diverging quantity: {first.label} (eq {first.equation})", style="bold")
            )
    parts += _loss_lines(report)
    if finding.kind in ("gradient", "loss", "output"):
        parts += diagnosis_lines(report)
    if report.suite:
        parts += [Text(), Text(_suite_text(report))]
    if report.examination.warnings:
        warned = sorted(set(report.examination.warnings))
        parts += [Text(), Text("Warnings from the function: " + "; ".join(warned))]
    return Group(*parts)


def plural(n: int, word: str) -> str:
    """``1 example``, ``2 examples``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def comparison_table(comparison: Comparison, weights: str = "out_in") -> Table:
    """One row per compared array: J, then ∂J/∂W^(l), ∂J/∂b^(l) for l = L..1.

    The worst index is the suite's (W^(l) (S_l, S_{l-1})); under ``weights="in_out"`` the
    index into the function's own (S_{l-1}, S_l) array follows it (``yours (j, i)``).
    """
    title = "suite (expected) vs function (actual); worst index in the suite's layout"
    table = Table(title=title, title_justify="left")
    for name in ("quantity", "eq", "mismatched", "worst index", "suite", "function"):
        table.add_column(name, justify="left" if name in ("quantity", "eq") else "right")
    table.add_column("error/allowed", justify="right")
    for row in comparison.rows:
        error = abs(row.actual_value - row.expected_value)
        ratio = "0" if row.worst_ratio == 0 else ratio_text(row.worst_ratio, error, 2)
        style = "green" if row.passed else "bold red"
        table.add_row(
            row.label,
            row.equation,
            f"{row.n_mismatched}/{row.size}",
            _index_text(row.quantity, row.worst_index, weights) if row.shape else "",
            f"{row.expected_value:.6g}",
            f"{row.actual_value:.6g}",
            Text(ratio if row.passed else f"{ratio} ✗", style=style),
        )
    return table


def _index_text(quantity: str, index: tuple[int, ...], weights: str) -> str:
    if quantity == "W" and weights == "in_out" and len(index) == 2:
        return f"{index}, yours {index[::-1]}"
    return str(index)


def report_text(report: CheckReport) -> str:
    """The report as plain text, WIDTH columns, no colour."""
    buffer = io.StringIO()
    Console(file=buffer, width=WIDTH, no_color=True, highlight=False).print(render(report))
    return buffer.getvalue().rstrip("\n")


def report_dict(report: CheckReport) -> dict[str, Any]:
    """JSON-ready: settings, agree, examples_run, finding, example, comparison, analysis."""
    s = report.settings
    data: dict[str, Any] = {
        "agree": report.agree,
        "settings": {
            "activations": list(s.activations),
            "loss": s.loss,
            "sizes": None if s.sizes is None else list(s.sizes),
            "weight_decay": s.weight_decay,
            "layout": s.layout,
            "weights": s.weights,
            "max_examples": s.max_examples,
            "max_width": s.max_width,
            "max_samples": s.max_samples,
            "max_magnitude": s.max_magnitude,
            "searched": None if report.replayed else s.searched,
            "seed": s.seed,
            "dtype": s.dtype,
            "isolation": s.isolation,
        },
        "examples_run": report.examples_run,
        "calls": report.calls,
        "replayed": report.replayed,
        "finding": None,
        "sighting": None if report.sighting is None else report.sighting.to_dict(),
        "precision": None if report.precision is None else report.precision.to_dict(),
        "repeat": None if report.repeat is None else report.repeat.to_dict(),
        "verdict_notes": list(report.verdict_notes),
        "jax": None if report.jax is None else {"backend": report.jax[0], "device": report.jax[1]},
        "samples_tried": report.samples_tried,
    }
    if report.finding is None:
        return data
    network, params, X, T = report.example
    examination = report.examination
    returned = examination.returned
    data.update(
        finding={"kind": report.finding.kind, "message": report.finding.message},
        shrunk=report.shrunk,
        example={
            "sizes": list(network.sizes),
            "N": int(X.shape[1]),
            "W": [W.tolist() for W, _ in params],
            "b": [b.tolist() for _, b in params],
            "X": X.tolist(),
            "T": T.tolist(),
        },
        suite_J=_json_float(examination.J),
        function_J=None if returned is None or returned.J is None else _json_float(returned.J),
        comparison=None if examination.comparison is None else examination.comparison.to_dict(),
        diagnosis=[d.to_dict() for d in report.diagnosis],
        conventions=list(report.conventions),
        gradient_conventions=list(report.gradient_conventions),
        relations=[r.to_dict() for r in report.relations],
        touched=touched(report.relations) if report.relations else None,
        notes=list(report.notes),
        consistency=None if report.consistency is None else _consistency_dict(report),
        suite=[c if isinstance(c, str) else c.to_dict() for c in report.suite],
        warnings=list(examination.warnings),
    )
    return data


def _settings_line(report: CheckReport) -> str:
    s = report.settings
    sizes = f"sizes {'-'.join(map(str, s.sizes))}" if report.replayed else s.searched
    lam = f", λ = {s.weight_decay:g}" if s.weight_decay else ""
    budget = (
        "one given example"
        if report.replayed
        else f"up to {plural(s.max_examples, 'example')} and an N sweep, seed {s.seed}"
    )
    precision = "dtype as returned" if s.dtype is None else f"dtype={s.dtype!r}"
    where = f"; ran {s.isolation}" if s.isolation else ""
    return (
        f"σ = {', '.join(s.activations)}; J = {s.loss}{lam}; {sizes}; layout={s.layout!r},"
        f" weights={s.weights!r}; {precision}; {budget}{where}"
    )


def _example_text(report: CheckReport) -> str:
    network, params, X, T = report.example
    lines = [
        f"sizes {'-'.join(map(str, network.sizes))}, N = {X.shape[1]} (in the suite's layout:"
        " W^(l) (S_l, S_{l-1}), X (S_0, N), T (S_L, N) — layout='columns', weights='out_in')"
    ]
    named = [(f"W^({l})", W) for l, (W, _) in enumerate(params, 1)]
    named += [(f"b^({l})", b) for l, (_, b) in enumerate(params, 1)]
    for name, a in [*named, ("X", X), ("T", T)]:
        body = np.array2string(np.asarray(a), precision=6, max_line_width=WIDTH - 12)
        lines.append(f"  {name} = " + body.replace("\n", "\n" + " " * (len(name) + 5)))
    return "\n".join(lines)


def _loss_lines(report: CheckReport) -> list[RenderableType]:
    returned = report.examination.returned
    if returned is None or returned.J is None:
        return []
    J = report.examination.J
    lines = [f"Loss: suite J = {J:.9g}, function J = {returned.J:.9g}"]
    c = report.consistency
    if c is not None:
        detail = (
            f"dJ/dt = {c.finite_difference:.6g} by central differences, ⟨grad, e⟩ ="
            f" {c.from_gradient:.6g}, allowed difference {c.allowed:.2g}"
            if math.isfinite(c.finite_difference)
            else c.note
        )
        lines.append(f"  own gradient vs own loss along a random direction: {c.verdict} ({detail})")
    return [Text(), Text("\n".join(lines))]


def diagnosis_lines(report: CheckReport) -> list[RenderableType]:
    """The diagnosis part of a failing report: the catalogued bugs that match and where they
    live, the loss conventions of J and of the gradient, the relation seen per quantity and
    layer, and the notes of the follow-up runs."""
    parts: list[RenderableType] = [Text()]
    if report.diagnosis:
        parts.append(Text("Diagnosis — matches known bug(s):", style="bold"))
        lines = [
            f"  {d.title}: {d.text}" + (f" — changes {', '.join(d.where)}" if d.where else "")
            for d in report.diagnosis
        ]
        parts.append(Text("\n".join(lines), style="yellow"))
    else:
        parts.append(Text("Diagnosis: no catalogued bug reproduces this output."))
    conventions = _convention_lines(report)
    if conventions:
        parts.append(Text("\n".join(conventions), style="yellow"))
    if report.relations:
        parts.append(Text())
        parts.append(
            Text(
                "Relations seen, function vs suite (each holds on every entry within the"
                " allowed error):",
                style="bold",
            )
        )
        lines = [f"  {', '.join(labels)}: {text}" for text, labels in _grouped(report.relations)]
        lines.append(f"  Differs in: {touched(report.relations)}")
        parts.append(Text("\n".join(lines)))
    parts += [Text(note, style="bold yellow") for note in report.notes]
    return parts


def _convention_lines(report: CheckReport) -> list[str]:
    lines = []
    if report.conventions:
        lines.append(
            "  Loss convention: the function's J is the suite's under: "
            + "; ".join(report.conventions)
        )
    if report.gradient_conventions:
        lines.append(
            "  Gradient convention: the function's ∂J is the suite's under: "
            + "; ".join(report.gradient_conventions)
        )
    elif report.conventions and all(not r.differs for r in report.relations if r.quantity != "J"):
        lines.append("  Its gradient is the suite's: the gradient of the suite's J, not of its own")
    return lines


def _grouped(relations: tuple[Relation, ...]) -> list[tuple[str, list[str]]]:
    """(relation text, labels of the quantities it holds for), in first-seen order; every
    agreeing quantity under "agree"."""
    groups: dict[str, list[str]] = {}
    for relation in relations:
        text = relation.text if relation.differs else "agree" + NEGLIGIBLE * relation.negligible
        groups.setdefault(text, []).append(relation.label)
    return list(groups.items())


def _suite_text(report: CheckReport) -> str:
    lines = ["The suite agrees with itself on this example:"]
    for comparison in report.suite:
        if isinstance(comparison, str):
            lines.append(f"  {comparison}")
            continue
        verdict = "agrees" if comparison.agree else "DISAGREES"
        lines.append(
            f"  {comparison.actual_name} vs {comparison.expected_name}: {verdict}, worst"
            f" error/allowed {comparison.worst_ratio:.1e} over every Z, A, J, Δ, H, ∂W, ∂b"
        )
    if not all(isinstance(c, str) or c.agree for c in report.suite):
        lines[0] = "The suite does NOT agree with itself on this example (a bug of ours):"
    if report.jax is not None:
        lines.append(f"  (autodiff on JAX backend {report.jax[0]} ({report.jax[1]}))")
    return "\n".join(lines)


def _consistency_dict(report: CheckReport) -> dict[str, Any]:
    c = report.consistency
    return {
        "verdict": c.verdict,
        "finite_difference": _json_float(c.finite_difference),
        "from_gradient": _json_float(c.from_gradient),
        "allowed": _json_float(c.allowed),
        "note": c.note,
    }


def _json_float(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)

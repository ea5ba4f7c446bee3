"""Rich rendering of a `crosscheck.verify.verification.Verification`: what was sampled, agreement,
timings.

Each agreement table has one row per compared array in derivation order — Z^(l), A^(l)
(l = 1..L), J, then per layer l = L..1 Δ^(l), H^(l), ∂J/∂W^(l), ∂J/∂b^(l), and Δ^(0) — with
the equation computing it, and one column per implementation compared with the baseline.
A cell is the worst error/bound ratio over the array (the bound of ``crosscheck.compare.bounds``
per entry): < 1 agrees (green), >= 1 disagrees (red, with the mismatched count); "—" where
an implementation offers no trace.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from crosscheck.compare.comparison import ArrayReport
from crosscheck.verify.verification import Check, Entry, Plan, Verification


def report(result: Verification) -> RenderableType:
    """The whole report: header, one agreement table per kind of check, mismatches, timings.

    Args:
        result: from ``crosscheck.verify.verification.verify``.

    Returns:
        A rich renderable (print it with ``Console().print``).
    """
    plan = result.plan
    parts: list[RenderableType] = [header(plan)]
    if result.device is not None:
        backend, device = result.device
        parts.append(
            Text(
                f"autodiff: JAX backend {backend} ({device}), matrix products at HIGHEST precision"
            )
        )
    for on in ("all", "subsample", "entries"):
        checks = [check for check in result.checks if check.on == on]
        if checks:
            parts += [
                Text(),
                title(plan, on, checks[0].expected),
                agreement_table(plan, on, checks),
            ]
    failures = [check for check in result.checks if not check.agree]
    if failures:
        parts += [Text(), Text("Disagreements", style="bold"), mismatches(plan, failures)]
    parts += [Text(), Text("Wall time (s)", style="bold"), timings_table(result)]
    parts += [Text(), verdict(result)]
    return Group(*parts)


def header(plan: Plan) -> Text:
    """What was run on what: the data, the network, the subsample and the entries."""
    network, N, n = plan.network, plan.N, len(plan.subsample)
    sigmas = ", ".join(network.activations)
    lam = f", λ = {network.weight_decay:g}" if network.weight_decay else ""
    J = f"J = {network.loss} (eqs {network.J.equations}){lam}"
    entries_on = f"all {N} samples" if plan.entries_on_all else f"the {n}-sample subsample"
    why = (
        ""
        if plan.entries_on_all
        else f" (on all {N} they would cost ~{plan.entry_cost:.1e} scalar products)"
    )
    lines = [
        f"data: {plan.description}",
        f"network: {'-'.join(map(str, network.sizes))}, σ = {sigmas}, {J},"
        f" {plan.dtype}, seed {plan.seed}",
        f"all {N} samples: every implementation except the literal reference",
        f"subsample: {n} of {N} samples (seeded), every implementation run again on it",
        f"single entries on {entries_on}{why}: " + ", ".join(entry.label for entry in plan.entries),
    ]
    return Text("\n".join(lines))


def title(plan: Plan, on: str, baseline: str) -> Text:
    """The heading of one agreement table: which data, which baseline."""
    return Text.assemble((_data(plan, on).capitalize(), "bold"), f" — baseline: {baseline}")


def agreement_table(plan: Plan, on: str, checks: Iterable[Check]) -> Table:
    """Rows: quantities in derivation order; columns: implementations; cells: error/bound.

    Args:
        plan: the verified plan (for the entries' indices).
        on: ``"all"``, ``"subsample"`` or ``"entries"``; all `checks` share it and a
            baseline.
        checks: the comparisons with that baseline.
    """
    checks = list(checks)
    table = Table(caption_justify="left")
    table.add_column("quantity")
    table.add_column("eq")
    for check in checks:
        table.add_column(check.actual, justify="right")
    labels = _row_labels(plan, on, checks)
    for key, (label, equation) in labels.items():
        cells = [_cell(check, _row(check, key)) for check in checks]
        table.add_row(label, equation, *cells)
    notes = [check.error for check in checks if check.error]
    notes += [_note(check) for check in checks if check.comparison and _note(check)]
    if notes:
        table.caption = "\n".join(notes)
    return table


def _note(check: Check) -> str:
    """What was left out or widened: skipped non-finite Δ^(L) entries, entries at a kink."""
    comparison = check.comparison
    skipped = sum(row.n_skipped for row in comparison.rows)
    parts = []
    if skipped:
        parts.append(f"{skipped} non-finite Δ^(L) entries not compared")
    if comparison.n_at_kink:
        parts.append(f"{comparison.n_at_kink} Z entries at a kink of σ (bound widened)")
    return f"{check.actual}: " + "; ".join(parts) if parts else ""


def mismatches(plan: Plan, failures: Iterable[Check]) -> Text:
    """For each failing check, its first failing quantity: where, both values, how far."""
    lines = []
    for check in failures:
        where = f"✗ {check.actual} vs {check.expected}, {_data(plan, check.on)}"
        row = check.comparison.first_mismatch if check.comparison else None
        if row is None:
            lines.append(f"{where}: {check.error}")
            continue
        lines += [
            f"{where}: first at {row.label} (eq {row.equation}),"
            f" {row.n_mismatched}/{row.size} entries mismatched",
            f"    {_where(plan, check.on, row)}: expected"
            f" {row.expected_value:.9g}, actual {row.actual_value:.9g},"
            f" |error| {row.max_abs_error:.2e} (relative {row.max_rel_error:.2e}),"
            f" bound {row.allowed:.2e}, error/bound {row.worst_ratio:.1e}",
        ]
    return Text("\n".join(lines), style="red")


def timings_table(result: Verification) -> Table:
    """Wall seconds per implementation on all samples and on the subsample."""
    timings = result.timings
    N, n = result.plan.N, len(result.plan.subsample)
    table = Table(caption="autodiff: JIT compilation included", caption_justify="left")
    table.add_column("implementation")
    table.add_column(f"all {N}", justify="right")
    table.add_column(f"subsample {n}", justify="right")
    for name, seconds in timings["implementations"].items():
        table.add_row(name, _seconds(seconds.get("all")), _seconds(seconds.get("subsample")))
    entries_on = "all" if result.plan.entries_on_all else "subsample"
    table.add_row(
        f"single entries ({len(result.plan.entries)})",
        *(
            (_seconds(timings["entries"]), "")
            if entries_on == "all"
            else ("", _seconds(timings["entries"]))
        ),
    )
    table.add_row("loading the implementations", _seconds(timings["import"]), "")
    table.add_row(Text("total", style="bold"), _seconds(timings["total"]), "")
    return table


def verdict(result: Verification) -> Text:
    """One line: AGREE with the worst ratio, or DISAGREE with the first failing check."""
    checks = result.checks
    if result.agree:
        worst = max(row.worst_ratio for check in checks for row in check.comparison.rows)
        return Text(
            f"AGREE: all {len(checks)} checks agree (worst error/bound ratio {worst:.1e} < 1)",
            style="bold green",
        )
    failed = [check for check in checks if not check.agree]
    first = failed[0]
    row = first.comparison.first_mismatch if first.comparison else None
    where = f", at {row.label} (eq {row.equation})" if row else f": {first.error}"
    return Text(
        f"DISAGREE: {len(failed)} of {len(checks)} checks disagree; first: {first.actual}"
        f" vs {first.expected}, {_data(result.plan, first.on)}{where}",
        style="bold red",
    )


def print_report(result: Verification, console: Console | None = None) -> None:
    """Print `report(result)` to `console` (default: a new Console on stdout).

    Args:
        result: from ``crosscheck.verify.verification.verify``.
        console: where to print; None for a Console on stdout.
    """
    (console or Console()).print(report(result))


def _row_labels(plan: Plan, on: str, checks: list[Check]) -> dict[tuple, tuple[str, str]]:
    """(quantity, layer) → (label, equation), in the order of the check with the most rows."""
    compared = [c.comparison.rows for c in checks if c.comparison is not None]
    rows = max(compared, key=len, default=())
    labels = {}
    for row in rows:
        label = row.label
        if on == "entries":
            label = _entry(plan, row).label
        labels[(row.quantity, row.layer)] = (label, row.equation)
    return labels


def _row(check: Check, key: tuple) -> ArrayReport | None:
    if check.comparison is None:
        return None
    return next((row for row in check.comparison.rows if (row.quantity, row.layer) == key), None)


def _cell(check: Check, row: ArrayReport | None) -> Text:
    if check.comparison is None:
        return Text("error", style="bold red")
    if row is None:
        return Text("—")
    ratio = "0" if row.worst_ratio == 0 else f"{row.worst_ratio:.1e}"
    if row.passed:
        return Text(ratio, style="green")
    return Text(f"{ratio} ✗ {row.n_mismatched}/{row.size}", style="bold red")


def _entry(plan: Plan, row: ArrayReport) -> Entry:
    return next(e for e in plan.entries if (e.name, e.layer) == (row.quantity, row.layer))


def _where(plan: Plan, on: str, row: ArrayReport) -> str:
    if on == "entries":
        return f"entry {_entry(plan, row).index}"
    return f"worst entry {row.worst_index}" if row.shape else "value"


def _data(plan: Plan, on: str) -> str:
    return {
        "all": f"all {plan.N} samples",
        "subsample": f"subsample of {len(plan.subsample)} samples",
        "entries": "single entries",
    }[on]


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"

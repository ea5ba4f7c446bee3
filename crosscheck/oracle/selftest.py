"""The bug catalogue's kill table: does ``check_gradients`` reject every known bug?

``run_catalogue`` checks each mutant of ``crosscheck.oracle.catalogue.CATALOGUE`` under its own
settings and records whether it was rejected, after how many examples, with which finding,
and which catalogued bugs the diagnosis named (ideally its own). ``kill_table`` renders them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text

from crosscheck.oracle.catalogue import CATALOGUE, Mutant
from crosscheck.oracle.search import GradientMismatch, check_gradients


@dataclass(frozen=True)
class Kill:
    """One row of the kill table.

    Attributes:
        name: the mutant's name. settings: the check_gradients settings it ran under.
        rejected: check_gradients raised GradientMismatch.
        examples: examples run up to the first failing one (or all, if not rejected).
        finding: the finding's kind ("gradient", "output", ...), or None.
        diagnosis: names of the catalogued bugs the diagnosis gave.
    """

    name: str
    settings: dict[str, Any]
    rejected: bool
    examples: int
    finding: str | None
    diagnosis: tuple[str, ...]

    @property
    def self_diagnosed(self) -> bool:
        """The diagnosis named this very bug."""
        return self.name in self.diagnosis

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        settings = {k: list(v) if isinstance(v, tuple) else v for k, v in self.settings.items()}
        return {
            "name": self.name,
            "settings": settings,
            "rejected": self.rejected,
            "examples": self.examples,
            "finding": self.finding,
            "diagnosis": list(self.diagnosis),
            "self_diagnosed": self.self_diagnosed,
        }


def run_mutant(mutant: Mutant, *, max_examples: int = 100, seed: int = 0) -> Kill:
    """Check one mutant under its settings (``check_gradients``, fixed seed)."""
    try:
        report = check_gradients(
            mutant.function(), max_examples=max_examples, seed=seed, **mutant.settings
        )
    except GradientMismatch as mismatch:
        r = mismatch.report
        names = tuple(d.name for d in r.diagnosis)
        return Kill(mutant.name, mutant.settings, True, r.examples_run, r.finding.kind, names)
    return Kill(mutant.name, mutant.settings, False, report.examples_run, None, ())


def run_catalogue(
    max_examples: int = 100, seed: int = 0, progress: Callable[[str], None] | None = None
) -> tuple[Kill, ...]:
    """``run_mutant`` for every catalogued bug, in catalogue order; `progress` gets names."""
    kills = []
    for mutant in CATALOGUE:
        if progress is not None:
            progress(mutant.name)
        kills.append(run_mutant(mutant, max_examples=max_examples, seed=seed))
    return tuple(kills)


def kill_table(kills: tuple[Kill, ...]) -> Table:
    """Rows: variant, rejected?, examples needed, finding, diagnosis given."""
    killed = sum(k.rejected for k in kills)
    table = Table(
        title=f"Kill table: {killed} of {len(kills)} catalogued bugs rejected",
        title_justify="left",
    )
    for name, justify in (
        ("variant", "left"),
        ("rejected", "center"),
        ("examples", "right"),
        ("finding", "left"),
        ("diagnosis given", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=name == "variant")
    for k in kills:
        rejected = Text("yes", style="green") if k.rejected else Text("NO", style="bold red")
        others = [name for name in k.diagnosis if name != k.name]
        diagnosis = ("itself" if k.self_diagnosed else "") + (
            (" + " if k.self_diagnosed and others else "") + ", ".join(others)
        )
        table.add_row(k.name, rejected, str(k.examples), k.finding or "", diagnosis or "—")
    return table

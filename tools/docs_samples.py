"""Regenerate the sample outputs in README.md and docs/ from the real commands, or check them.

A sample is a fenced block right after a marker line naming its command::

    <!-- sample: crosscheck verify -->
    ```text
    ...what `crosscheck verify` prints...
    ```

The command runs from the repository root in a fresh process (``python -m crosscheck``,
COLUMNS=80 so rich lays tables out as documented) and its standard output replaces the
block. A ``console`` block gets the command itself first, as ``$ crosscheck ...``; a marker
may keep only the first and last lines (``<!-- sample: crosscheck verify ... | head 3 tail 1
-->``, the cut shown as ``...``).

``--check`` compares instead of writing and exits 1 naming each sample that drifted
(tests/test_docs.py runs it). What a rerun changes is masked on both sides before comparing
(``mask``): wall times, and error/bound ratios, whose last digits depend on the BLAS's
summation order (machine, thread count); trailing spaces are dropped everywhere.

    python tools/docs_samples.py [--check] [FILE ...]     (default: README.md docs/*.md)
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MARKER = re.compile(
    r"^<!-- sample: (?P<command>.+?)(?: \| head (?P<head>\d+) tail (?P<tail>\d+))? -->$"
)
FENCE = re.compile(r"^```(?P<language>\w*)$")

RATIO = re.compile(r"\b\d(?:\.\d+)?e[+-]\d\d\b")
"""An error/bound ratio as reports print it, e.g. 2.5e-01, 1.2e+14."""

BACKEND = re.compile(r"JAX backend \w+ \([^)]*\)")
"""Where autodiff ran, e.g. "JAX backend cpu (cpu)": the machine's, not the suite's."""

TIMES_START = "Wall time (s)"
TIMES_END = "autodiff: JIT compilation included"
BOX = re.compile(r"[┏┓┗┛┡┩└┘━─┳┻╇┃│┣┫╋┯┷┼]")


@dataclass(frozen=True)
class Sample:
    """One sample block: its command, where its lines are, how it is shown."""

    path: Path
    command: str
    start: int  # index of the first line inside the fence
    end: int  # index of the closing fence
    language: str
    head: int | None
    tail: int | None


def samples(path: Path) -> list[Sample]:
    """The samples of a Markdown file, in order.

    Raises:
        ValueError: a marker not followed by a fenced block.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for i, line in enumerate(lines):
        marker = MARKER.match(line)
        if marker is None:
            continue
        fence = FENCE.match(lines[i + 1]) if i + 1 < len(lines) else None
        if fence is None:
            raise ValueError(f"{path}:{i + 1}: a sample marker must be followed by a ``` fence")
        end = next(j for j in range(i + 2, len(lines)) if lines[j] == "```")
        head, tail = marker.group("head"), marker.group("tail")
        found.append(
            Sample(
                path,
                marker.group("command"),
                i + 2,
                end,
                fence.group("language"),
                None if head is None else int(head),
                None if tail is None else int(tail),
            )
        )
    return found


def run(command: str) -> str:
    """What `command` (``crosscheck ...``) prints on standard output, run from the root."""
    program, *argv = shlex.split(command)
    if program != "crosscheck":
        raise ValueError(f"a sample runs crosscheck, not {program!r}")
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run(
        [sys.executable, "-m", "crosscheck", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout


def shown(sample: Sample, output: str) -> list[str]:
    """The block's lines for `output`: trailing spaces dropped, abridged if the marker says
    so, the command first in a console block."""
    lines = [line.rstrip() for line in output.rstrip("\n").splitlines()]
    if sample.head is not None and len(lines) > sample.head + sample.tail:
        lines = [*lines[: sample.head], "...", *lines[len(lines) - sample.tail :]]
    if sample.language == "console":
        lines = [f"$ {sample.command}", *lines]
    return lines


RATIO_HEADER = "error/allowed"
"""The heading of a table column of error/bound ratios ("0", "0.01", "1.2e+14 ✗")."""


def mask(lines: list[str]) -> list[str]:
    """The lines with what a rerun changes masked: error/bound ratios (in text and in an
    ``error/allowed`` column) become ``R``, the JAX backend ``B``, the wall time table keeps
    its row labels only; trailing spaces dropped."""
    masked, in_times, ratio_column = [], False, None
    for line in lines:
        cells = line.split("┃")
        if len(cells) > 2 and RATIO_HEADER in cells[-2]:  # a header ending in the column
            ratio_column = len(cells) - 2
        elif ratio_column is not None and line.startswith("│"):
            cells = line.split("│")
            cells[ratio_column] = " R ✗ " if "✗" in cells[ratio_column] else " R "
            line = "│".join(cells)
        elif line.startswith("└"):
            ratio_column = None
        if line.startswith(TIMES_START):
            in_times = True
        elif line.startswith(TIMES_END):
            in_times = False
        if in_times:
            label = " ".join(re.sub(r"[\d.]+", " ", BOX.sub(" ", line)).split())
            if label:
                masked.append(label)
            continue
        masked.append(BACKEND.sub("JAX backend B", RATIO.sub("R", line.rstrip())))
    return masked


def current(sample: Sample) -> list[str]:
    """The block's lines as committed."""
    return sample.path.read_text(encoding="utf-8").splitlines()[sample.start : sample.end]


def drifted(sample: Sample) -> bool:
    """Whether the committed block differs from what its command prints now (masked)."""
    return mask(current(sample)) != mask(shown(sample, run(sample.command)))


def regenerate(path: Path) -> int:
    """Rewrite every sample block of `path` from its command; returns how many."""
    found = samples(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    for sample in reversed(found):  # from the end, so earlier line numbers stay valid
        lines[sample.start : sample.end] = shown(sample, run(sample.command))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="compare, do not write; exit 1 on drift"
    )
    parser.add_argument("files", nargs="*", type=Path, help="default: README.md and docs/*.md")
    args = parser.parse_args(argv)
    files = args.files or [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    if not args.check:
        for path in files:
            if count := regenerate(path):
                print(f"{path.relative_to(ROOT)}: {count} sample(s) regenerated")
        return 0
    stale = [s for path in files for s in samples(path) if drifted(s)]
    for sample in stale:
        print(f"{sample.path.relative_to(ROOT)}: the sample of `{sample.command}` has drifted")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

"""``crosscheck bench``'s outputs: a Markdown report, the PNG plots (``crosscheck.bench.plots``)
and JSON."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from crosscheck.bench.cases import DTYPES, HIDDEN, LOSS, OUTPUT
from crosscheck.bench.load import QUIET_LOAD_PER_CORE, Load, LoadAverage
from crosscheck.bench.plots import (
    IMPL_LABELS,
    plot_activations,
    plot_cases,
    plot_growth,
    sizes_of,
)
from crosscheck.bench.run import BenchResult, benchmark_json
from crosscheck.bench.sweep import GEMM_SHARE_TARGETS, Spread, SweepPoint


def write_outputs(
    result: BenchResult, out_dir: Path, load: LoadAverage | None = None
) -> dict[str, Path]:
    """Write report.md, benchmark.json (pytest-benchmark layout) and the PNGs into `out_dir`.

    Args:
        result: the timings. out_dir: the directory (created if missing).
        load: the load average before the run (``markdown``), or None for the one
            ``run_bench`` read.

    Returns:
        name → path of every file written ("report", "json", "cases_png", "growth_png",
        "activations_png").

    Raises:
        OSError: `out_dir` cannot be created or written.
    """
    result = _with_start_load(result, load)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "report": out_dir / "report.md",
        "json": out_dir / "benchmark.json",
        "cases_png": out_dir / "time_vs_size.png",
    }
    write_json(result, paths["json"])
    plot_cases(result, paths["cases_png"])
    if result.sweeps:
        paths["growth_png"] = out_dir / "growth.png"
        plot_growth(result, paths["growth_png"])
    if result.activations:
        paths["activations_png"] = out_dir / "activations.png"
        plot_activations(result, paths["activations_png"])
    files = {k: p.name for k, p in paths.items()}
    paths["report"].write_text(markdown(result, files))
    return paths


def write_json(result: BenchResult, path: Path) -> None:
    """The pytest-benchmark-format JSON of `result` (``crosscheck.bench.run.benchmark_json``)."""
    path.write_text(json.dumps(benchmark_json(result), indent=2))


def markdown(
    result: BenchResult, files: dict[str, str] | None = None, load: LoadAverage | None = None
) -> str:
    """The report: machine, threads and load, headline ratios, timings, floors, the activation
    sweep, the cost of checking, growth, memory.

    The load (``result.load``, its start replaced by `load` if given; without either,
    ``os.getloadavg()`` now) is recorded, with a bold warning per signal of load
    (``crosscheck.bench.load.Load.warnings``); the plots carry the same verdict.
    """
    m = result.machine
    blas = "; ".join(
        f"{b['internal_api']} {b['version']} ({b['architecture']}, {b['num_threads']} threads)"
        for b in m.get("blas", [])
    )
    lines = [
        "# crosscheck bench",
        "",
        f"Machine: {m.get('processor')}, {m.get('cpu', {}).get('count')} CPUs; Python"
        f" {m.get('python_version')}, NumPy {m.get('numpy_version')}, BLAS {blas or 'unknown'}.",
        f"Networks: {HIDDEN} hidden layers, {OUTPUT} output, J = {LOSS} (eq 2.16); one pass ="
        " forward + backward through the public `gradients` (validation included).",
        "Times are the minimum over rounds of the mean per call"
        + (" (--quick: fewer rounds, no large case)." if result.quick else "."),
        *([] if result.threads is None else [f"Threads: {result.threads.describe()}."]),
        *_load_lines(_with_start_load(result, load)),
        "",
        "## Headline ratios",
        "",
        "| case | dtype | vectorized / GEMM-only | vectorized / arithmetic floor"
        " | vectorized / JAX | literal / vectorized | contracted / vectorized |",
        "|---|---|---|---|---|---|---|",
    ]
    for case in result.cases:
        for dtype in DTYPES:
            r = result.ratios(case, dtype)
            cells = [
                _ratio(r.get(k))
                for k in (
                    "vectorized/gemm_only",
                    "vectorized/floor",
                    "vectorized/autodiff",
                    "literal/vectorized",
                    "contracted/vectorized",
                )
            ]
            lines.append(f"| {case.name} | {dtype} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Times per pass",
        "",
        "| case | sizes | N | dtype | flops | arithmetic floor | "
        + " | ".join(IMPL_LABELS.values())
        + " |",
        "|---|---|---|---|---|---|" + "---|" * len(IMPL_LABELS),
    ]
    for case in result.cases:
        for dtype in DTYPES:
            times = [_seconds(result.time(case.name, dtype, k)) for k in IMPL_LABELS]
            lines.append(
                f"| {case.name} | {case.sizes} | {case.N} | {dtype} | {case.flops:.3g}"
                f" | {_seconds(result.floor(case, dtype))} | " + " | ".join(times) + " |"
            )
    rates = ", ".join(f"{d} {r / 1e9:.1f} GFLOP/s" for d, r in result.rates.items())
    lines += ["", f"Best measured matmul rate (square `np.matmul`, out=): {rates}."]
    lines += _activation_lines(result) + _checking_lines(result)
    if result.sweeps:
        lines += [
            "",
            "## Growth exponents (log-log least squares)",
            "",
            "| implementation | axis | other axis | sizes | fitted | expected |",
            "|---|---|---|---|---|---|",
        ]
        for s in result.sweeps:
            other = "N" if s.axis == "S" else "S"
            lines.append(
                f"| {s.implementation} | {s.axis} | {other} = {s.fixed} |"
                f" {s.x[0]}–{s.x[-1]} | {s.exponent:.2f} | {s.expected} |"
            )
        lines += [
            "",
            "Expected exponents from the loop counts (sizes (S, S, S)): literal S³N + S²N²"
            " (∂J/∂W keeps the sum over k that δ_ik collapses; Δ keeps the sum over n that"
            " δ_nn' collapses), contracted and vectorized S²N.",
        ]
    if result.memory:
        lines += [
            "",
            "## Memory of a cold `crosscheck.vectorized.gradients` (tracemalloc, float64)",
            "",
            "| case | peak | trace (Z, A) | one layer's workspace | peak / (trace + workspace) |",
            "|---|---|---|---|---|",
        ]
        for mem in result.memory:
            lines.append(
                f"| {mem.case} | {_mb(mem.peak)} | {_mb(mem.trace)} | {_mb(mem.workspace)}"
                f" | {mem.ratio:.2f} |"
            )
    if files:
        lines += ["", "Files: " + ", ".join(f"`{name}`" for name in files.values()) + "."]
    return "\n".join(lines) + "\n"


def _with_start_load(result: BenchResult, start: LoadAverage | None) -> BenchResult:
    """`result` with its load measured from `start` (None: as it is; no load: start only)."""
    if start is None:
        return result
    if result.load is None:
        return dataclasses.replace(result, load=Load(start, None, os.cpu_count() or 1, 0))
    return dataclasses.replace(result, load=dataclasses.replace(result.load, start=start))


def _load_lines(result: BenchResult) -> list[str]:
    load = result.load or Load(os.getloadavg(), None, os.cpu_count() or 1, 0)
    lines = [
        f"Load average before the run (1, 5, 15 min): {_triple(load.start)} on {load.cores} cores."
    ]
    if load.end is not None:
        lines.append(f"Load average after the run: {_triple(load.end)}.")
    lines.append(
        f"A quiet machine has a load average under {load.quiet_limit:.1f}"
        f" ({QUIET_LOAD_PER_CORE} per core)."
    )
    for warning in load.warnings():
        lines.append(
            f"**Warning: {warning}. Other processes competed for the CPU: times are inflated"
            " and ratios noisy; rerun on a quiet machine.**"
        )
    return lines


def _activation_lines(result: BenchResult) -> list[str]:
    points = result.activations
    if not points:
        return []
    columns = [(c, d) for c in sizes_of(points) for d in DTYPES]
    header = "| network | " + " | ".join(f"{c} {d}" for c, d in columns) + " |"
    rule = "|---|" + "---|" * len(columns)
    lines = [
        "",
        "## Activation sweep",
        "",
        "Every built-in hidden σ (identity output, squared error) and tanh hidden layers with"
        " each classification output; one process, the implementations alternated within each"
        f" run; median (min–max) over {_runs(points)} runs of the ratio taken run by run.",
        "",
        "### vectorized.gradients / JAX jit(grad) (target: at most 1)",
        "",
        header,
        rule,
    ]
    lines += _pivot(points, columns, lambda p: p.vectorized_over_jax)
    lines += [
        "",
        "### GEMM-only / vectorized.gradients: the share of the pass in its own products"
        " (targets: at least "
        + ", ".join(f"{t} at {c}" for c, t in GEMM_SHARE_TARGETS.items())
        + ")",
        "",
        header,
        rule,
    ]
    lines += _pivot(points, columns, lambda p: p.gemm_fraction)
    lines += [
        "",
        "### vectorized.backprop (the trace and Δ^(0) included) / JAX jit(grad)",
        "",
        header,
        rule,
    ]
    lines += _pivot(points, columns, lambda p: p.backprop_over_jax)
    lines += [
        "",
        "### vectorized.gradients / the same with its elementwise kernels on one thread"
        " (below 1: splitting them among threads pays)",
        "",
        header,
        rule,
    ]
    lines += _pivot(points, columns, lambda p: p.split_over_one_thread)
    missed = _missed_targets(points)
    lines += [
        "",
        "Targets missed (by the median): " + ("; ".join(missed) if missed else "none") + ".",
    ]
    return lines


def _pivot(points: list[SweepPoint], columns, figure) -> list[str]:
    rows = []
    for label in dict.fromkeys(p.case.label for p in points):
        cells = []
        for case, dtype in columns:
            found = [
                p for p in points if (p.case.label, p.case.name, p.dtype) == (label, case, dtype)
            ]
            cells.append(_spread(figure(found[0])) if found else "")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return rows


def _missed_targets(points: list[SweepPoint]) -> list[str]:
    missed = []
    for p in points:
        where = f"{p.case.label} {p.case.name} {p.dtype}"
        if p.case.name != "tiny" and p.vectorized_over_jax.median > 1:
            missed.append(f"{where}: vectorized / JAX {p.vectorized_over_jax.median:.2f}")
        target = GEMM_SHARE_TARGETS.get(p.case.name)
        if target is not None and p.gemm_fraction.median < target:
            missed.append(f"{where}: GEMM-only / pass {p.gemm_fraction.median:.2f} < {target}")
    return missed


def _checking_lines(result: BenchResult) -> list[str]:
    if not result.checking:
        return []
    lines = [
        "",
        "## Checking against computing",
        "",
        "`crosscheck.compare.compare_backprop` of two `crosscheck.vectorized.backprop` results"
        " and their J (the derived bound included) against one"
        " `crosscheck.vectorized.backprop` and one"
        " `crosscheck.vectorized.gradients` of the same problem (default network); median"
        " (min–max)"
        f" over {len(result.checking[0].compare)} alternated runs. Target: compare / backprop"
        " at most 1 at medium and large.",
        "",
        "| case | dtype | compare_backprop | backprop | gradients | compare / backprop"
        " | compare / gradients |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in result.checking:
        times = [_seconds(Spread.of(t).median) for t in (c.compare, c.backprop, c.gradients)]
        lines.append(
            f"| {c.case.name} | {c.dtype} | "
            + " | ".join(times)
            + f" | {_spread(c.over_backprop)} | {_spread(c.over_gradients)} |"
        )
    return lines


def _runs(points: list[SweepPoint]) -> int:
    return min(len(t) for p in points for t in p.times.values())


def _spread(spread: Spread) -> str:
    return f"{spread.median:.3g} ({spread.min:.3g}–{spread.max:.3g})"


def _triple(load: LoadAverage) -> str:
    return ", ".join(f"{x:.2f}" for x in load)


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"

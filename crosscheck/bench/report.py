"""``crosscheck bench``'s outputs: a Markdown report, PNG plots (matplotlib, Agg) and JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

from crosscheck.bench.cases import DTYPES, HIDDEN, LOSS, OUTPUT
from crosscheck.bench.run import BenchResult, benchmark_json

IMPL_LABELS = {
    "vectorized": "vectorized",
    "autodiff": "JAX jit(grad) (warm)",
    "contracted": "reference (contracted)",
    "literal": "reference (literal)",
    "gemm_only": "GEMM-only",
}
COLORS = dict(zip(IMPL_LABELS, ("C0", "C1", "C2", "C3", "C4"), strict=True))
"""One colour per implementation, the same in every panel."""


LoadAverage = tuple[float, float, float]
"""``os.getloadavg()``: the 1, 5 and 15 minute load averages."""


def write_outputs(
    result: BenchResult, out_dir: Path, load: LoadAverage | None = None
) -> dict[str, Path]:
    """Write report.md, benchmark.json (pytest-benchmark layout) and the PNGs into `out_dir`.

    Args:
        result: the timings. out_dir: the directory (created if missing).
        load: the load average before the run, for the report; None reads it now.

    Returns:
        name → path of every file written ("report", "json", "cases_png", "growth_png").

    Raises:
        OSError: `out_dir` cannot be created or written.
    """
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
    files = {k: p.name for k, p in paths.items()}
    paths["report"].write_text(markdown(result, files, load))
    return paths


def write_json(result: BenchResult, path: Path) -> None:
    """The pytest-benchmark-format JSON of `result` (``crosscheck.bench.run.benchmark_json``)."""
    path.write_text(json.dumps(benchmark_json(result), indent=2))


def markdown(
    result: BenchResult, files: dict[str, str] | None = None, load: LoadAverage | None = None
) -> str:
    """The report: machine and its load, headline ratios, timings, floors, growth, memory.

    `load` (default ``os.getloadavg()`` now) is recorded, with a warning when its 1-minute
    value exceeds the core count (``os.cpu_count()``): other processes competed for the CPU.
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
        *_load_lines(os.getloadavg() if load is None else load, os.cpu_count() or 1),
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


def _load_lines(load: LoadAverage, cores: int) -> list[str]:
    lines = [
        f"Load average before the run (1, 5, 15 min): {load[0]:.2f}, {load[1]:.2f},"
        f" {load[2]:.2f} on {cores} cores."
    ]
    if load[0] > cores:
        lines.append(
            f"**Warning: the load average {load[0]:.2f} exceeds the {cores} cores: other"
            " processes competed for the CPU, so these times are inflated and noisy.**"
        )
    return lines


def plot_cases(result: BenchResult, path: Path) -> None:
    """Log-log time against flops per implementation (float64), with the arithmetic floor."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(DTYPES), figsize=(12, 5), sharey=True)
    for ax, dtype in zip(axes, DTYPES, strict=True):
        cases = result.cases
        flops = [c.flops for c in cases]
        for name, label in IMPL_LABELS.items():
            points = [
                (c.flops, t) for c in cases if (t := result.time(c.name, dtype, name)) is not None
            ]
            if points:
                ax.loglog(*zip(*points, strict=True), "o-", color=COLORS[name], label=label)
        floors = [result.floor(c, dtype) for c in cases]
        ax.loglog(flops, floors, "k--", label="arithmetic floor")
        for c, floor in zip(cases, floors, strict=True):
            ax.annotate(  # below the floor line, not on it
                c.name,
                (c.flops, floor),
                xytext=(0, -8),
                textcoords="offset points",
                fontsize=8,
                ha="center",
                va="top",
            )
        ax.set_ylim(bottom=min(floors) / 10)  # room for the lowest label
        ax.set(title=dtype, xlabel="flops of one pass's products", ylabel="seconds per pass")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("One forward + backward pass: time against size")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_growth(result: BenchResult, path: Path) -> None:
    """Log-log sweeps over S and over N, each line labelled with its fitted slope."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax, axis in zip(axes, ("S", "N"), strict=True):
        for s in (s for s in result.sweeps if s.axis == axis):
            other = "N" if axis == "S" else "S"
            ax.loglog(
                s.x,
                s.times,
                "o-",
                color=COLORS[s.implementation],
                label=f"{IMPL_LABELS[s.implementation]} ({other}={s.fixed}):"
                f" slope {s.exponent:.2f} (expected {s.expected})",
            )
        ax.set(
            title=f"growth in {axis}",
            xlabel="width S (sizes (S, S, S))" if axis == "S" else "samples N",
            ylabel="seconds per pass",
        )
        ax.grid(True, which="both", alpha=0.3)
        if ax.lines:  # below the axes, never over a series
            ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


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

"""``crosscheck bench``'s plots (matplotlib, Agg): time against size, growth, the activation
sweep; each titled with the load warning in red when the machine was loaded."""

from __future__ import annotations

from pathlib import Path

from crosscheck.bench.cases import CASES, DTYPES
from crosscheck.bench.run import BenchResult
from crosscheck.bench.sweep import GEMM_SHARE_TARGETS, SweepPoint

IMPL_LABELS = {
    "vectorized": "vectorized",
    "autodiff": "JAX jit(grad) (warm)",
    "contracted": "reference (contracted)",
    "literal": "reference (literal)",
    "gemm_only": "GEMM-only",
}
COLORS = dict(zip(IMPL_LABELS, ("C0", "C1", "C2", "C3", "C4"), strict=True))
"""One colour per implementation, the same in every panel."""


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
    _title(fig, "One forward + backward pass: time against size", result)
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
    _title(fig, "Growth of one pass with width S and samples N", result)
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def plot_activations(result: BenchResult, path: Path) -> None:
    """The activation sweep: vectorized / JAX (top) and GEMM-only / pass (bottom) per network
    against size, float64 and float32; median with the min–max of the runs as error bars,
    the targets drawn in black."""
    plt = _pyplot()
    points = result.activations
    sizes = sizes_of(points)
    fig, axes = plt.subplots(2, len(DTYPES), figsize=(14, 9), sharex=True)
    labels = list(dict.fromkeys(p.case.label for p in points))
    rows = (
        ("vectorized / JAX jit(grad)", lambda p: p.vectorized_over_jax),
        ("GEMM-only / vectorized (share in products)", lambda p: p.gemm_fraction),
    )
    for row, (ylabel, figure) in enumerate(rows):
        for column, dtype in enumerate(DTYPES):
            ax = axes[row][column]
            for i, label in enumerate(labels):
                found = [p for p in points if p.case.label == label and p.dtype == dtype]
                x = [sizes.index(p.case.name) + (i - len(labels) / 2) * 0.03 for p in found]
                spreads = [figure(p) for p in found]
                median = [sp.median for sp in spreads]
                errors = [
                    [m - sp.min for m, sp in zip(median, spreads, strict=True)],
                    [sp.max - m for m, sp in zip(median, spreads, strict=True)],
                ]
                ax.errorbar(x, median, yerr=errors, marker="o", ms=4, capsize=2, label=label)
            if row == 0:  # ratios span decades at the small sizes
                ax.set_yscale("log")
                ax.axhline(1.0, color="k", lw=1, ls="--", label="target: at most 1")
            else:
                for name, target in GEMM_SHARE_TARGETS.items():
                    if name in sizes:
                        at = sizes.index(name)
                        ax.hlines(target, at - 0.3, at + 0.3, color="k", lw=2)
                ax.set_ylim(0, 1.05)
            ax.set_xticks(range(len(sizes)), sizes)
            ax.set(title=f"{dtype}: {ylabel}", ylabel=ylabel)
            ax.grid(True, alpha=0.3)
    axes[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _title(fig, "Activation sweep: median and min–max over runs", result)
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def _title(fig, title: str, result: BenchResult) -> None:
    """The figure's title, with the load warning in red on a loaded machine."""
    headline = "" if result.load is None else result.load.headline()
    if headline:
        fig.suptitle(f"{title}\n{headline}", color="red", fontweight="bold")
    else:
        fig.suptitle(title)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def sizes_of(points: list[SweepPoint]) -> list[str]:
    """The sizes of `points`, in the order of ``CASES``."""
    names = dict.fromkeys(p.case.name for p in points)
    order = [c.name for c in CASES]
    return sorted(names, key=lambda n: order.index(n) if n in order else len(order))

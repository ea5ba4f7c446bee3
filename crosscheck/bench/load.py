"""Is the machine quiet enough for the timings to mean something? Load and thread counts.

Two signals, either of which marks a run as loaded:

- the 1-minute load average (``os.getloadavg``) against the cores: above
  ``QUIET_LOAD_PER_CORE`` per core at the start, or at the end once the run's own busy
  threads (the BLAS threads it keeps running) are taken off;
- a symptom in the figures themselves: a GEMM-only time more than ``FLOOR_SLACK`` below
  its own arithmetic floor, which happens when load slowed the matmul-rate measurement that
  the floor divides by.

``crosscheck bench`` states the verdict in its report and on every plot.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

LoadAverage = tuple[float, float, float]
"""``os.getloadavg()``: the 1, 5 and 15 minute load averages."""

QUIET_LOAD_PER_CORE = 0.6
"""Load average per core under which a machine counts as quiet (1.2 on 2 cores)."""

FLOOR_SLACK = 0.05
"""How far (a fraction of the floor) a GEMM-only time may fall below its arithmetic floor on
a quiet machine. The floor divides by the best rate of square products, and the large
case's 1024 × 4096 products ran 3% faster than that on an idle machine (load 0.6 at the
start, 2026-12-05): a few percent is the rate's own spread and shape, not load."""


@dataclass(frozen=True)
class Threads:
    """Thread counts of a run: cores (``os.cpu_count``), cores this process may use
    (``os.sched_getaffinity`` where available), BLAS threads (threadpoolctl, the largest of
    the loaded BLAS libraries) and elementwise threads of the matrix form."""

    cores: int
    usable: int
    blas: int
    elementwise: int

    def describe(self) -> str:
        """One line for the report."""
        return (
            f"{self.cores} cores ({self.usable} usable by this process); BLAS {self.blas}"
            f" threads; elementwise kernels {self.elementwise} thread"
            + ("s" if self.elementwise != 1 else "")
        )


def threads() -> Threads:
    """The thread counts of this process now."""
    from threadpoolctl import threadpool_info

    from crosscheck.vectorized.parallel import elementwise_threads

    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    blas = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return Threads(cores, usable, max(blas, default=1), elementwise_threads())


@dataclass(frozen=True)
class Load:
    """The load of one run.

    start, end: ``os.getloadavg()`` before the first and after the last timing (end None
        while running). cores: usable cores. own_threads: the threads the run keeps busy
        (BLAS), taken off the end figure. below_floor: labels of cases whose GEMM-only time
        fell below their arithmetic floor.
    """

    start: LoadAverage
    end: LoadAverage | None
    cores: int
    own_threads: int
    below_floor: tuple[str, ...] = ()

    @property
    def quiet_limit(self) -> float:
        """The load average above which the machine counts as loaded."""
        return QUIET_LOAD_PER_CORE * self.cores

    @property
    def others_at_end(self) -> float | None:
        """The 1-minute load at the end less the run's own busy threads."""
        return None if self.end is None else max(0.0, self.end[0] - self.own_threads)

    @property
    def loaded(self) -> bool:
        """Any signal of load: start, end (less own threads), or GEMM-only below its floor."""
        end = self.others_at_end
        return (
            self.start[0] > self.quiet_limit
            or (end is not None and end > self.quiet_limit)
            or bool(self.below_floor)
        )

    def warnings(self) -> list[str]:
        """One sentence per signal of load; empty on a quiet machine."""
        out = []
        if self.start[0] > self.quiet_limit:
            out.append(
                f"the load average was {self.start[0]:.2f} at the start, above"
                f" {self.quiet_limit:.1f} ({QUIET_LOAD_PER_CORE} per core on {self.cores})"
            )
        end = self.others_at_end
        if end is not None and end > self.quiet_limit:
            out.append(
                f"the load average was {self.end[0]:.2f} at the end, {end:.2f} beyond the"
                f" run's own {self.own_threads} threads"
            )
        if self.below_floor:
            out.append(
                f"GEMM-only time more than {FLOOR_SLACK:.0%} below its own arithmetic floor (the"
                f" matmul rate was measured under load): {', '.join(self.below_floor)}"
            )
        return out

    def headline(self) -> str:
        """A short warning for plot titles, or "" on a quiet machine."""
        if not self.loaded:
            return ""
        return (
            f"WARNING: loaded machine (load {self.start[0]:.1f} at start"
            + ("" if self.end is None else f", {self.end[0]:.1f} at end")
            + f", {self.cores} cores"
            + (", GEMM-only below floor" if self.below_floor else "")
            + "): times inflated, ratios noisy"
        )

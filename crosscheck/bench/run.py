"""``crosscheck bench``: time every implementation on the benchmark cases, against two floors.

Design: timing runs in-process (``crosscheck.bench.timing``: ``time.perf_counter``, warm-up,
rounds; ratios use each round set's minimum), so the command works from any install; the
JSON it writes has pytest-benchmark's layout, and ``benchmarks/`` runs the same cases
(``crosscheck.bench.cases``) under pytest-benchmark itself. Floors (DESIGN §6), measured in
the same run: the arithmetic floor, a case's exact flop count over the best measured matmul
rate, and the GEMM-only time, the pass's own products alone on preallocated arrays.
"""

from __future__ import annotations

import datetime
import os
import platform
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from crosscheck.bench.cases import (
    CASES,
    DTYPES,
    NETWORKS,
    REFERENCES,
    BenchCase,
    gemm_only,
    implementations,
    runner,
)
from crosscheck.bench.check_timing import CheckTiming, measure_checking
from crosscheck.bench.growth import Sweep, run_sweep, sweep_plan
from crosscheck.bench.load import FLOOR_SLACK, Load, Threads, threads
from crosscheck.bench.sweep import SweepPoint, measure_point
from crosscheck.bench.timing import Timing, time_call

RATE_SIZES = (256, 512, 1024, 2048)
"""Square matmul sizes n tried for the best rate, 2n³ flops each (quick: up to 1024)."""


@dataclass(frozen=True)
class Measurement:
    """One (case, dtype, implementation) timing."""

    case: BenchCase
    dtype: str
    implementation: str
    timing: Timing


@dataclass(frozen=True)
class Memory:
    """Peak traced memory (bytes) of one cold ``crosscheck.vectorized.gradients`` call (workspace
    built).

    trace: what the trace must hold, Z^(l) and A^(l) for l = 1..L; workspace: one layer's
    (S_l, N) buffer at the widest layer; peak: tracemalloc's peak during the call (NumPy
    registers its allocations with tracemalloc), the returned gradients included.
    """

    case: str
    peak: int
    trace: int
    workspace: int

    @property
    def ratio(self) -> float:
        """peak / (trace + workspace); the target is <= 1.2."""
        return self.peak / (self.trace + self.workspace)


@dataclass
class BenchResult:
    """Everything one ``crosscheck bench`` run measured."""

    quick: bool
    measurements: list[Measurement] = field(default_factory=list)
    rates: dict[str, float] = field(default_factory=dict)  # dtype → best flop/s
    sweeps: list[Sweep] = field(default_factory=list)
    memory: list[Memory] = field(default_factory=list)
    machine: dict[str, object] = field(default_factory=dict)
    activations: list[SweepPoint] = field(default_factory=list)
    checking: list[CheckTiming] = field(default_factory=list)
    load: Load | None = None
    threads: Threads | None = None

    def time(self, case: str, dtype: str, implementation: str) -> float | None:
        """Minimum per-call seconds, or None if not measured."""
        for m in self.measurements:
            if (m.case.name, m.dtype, m.implementation) == (case, dtype, implementation):
                return m.timing.min
        return None

    def floor(self, case: BenchCase, dtype: str) -> float:
        """Arithmetic floor (s): ``case.flops`` over the best measured matmul rate."""
        return case.flops / self.rates[dtype]

    def ratios(self, case: BenchCase, dtype: str) -> dict[str, float]:
        """Headline ratios of `case`: vectorized over GEMM-only, the arithmetic floor and
        JAX; literal and contracted over vectorized (where measured)."""
        vec = self.time(case.name, dtype, "vectorized")
        out = {
            "vectorized/gemm_only": vec / self.time(case.name, dtype, "gemm_only"),
            "vectorized/floor": vec / self.floor(case, dtype),
            "vectorized/autodiff": vec / self.time(case.name, dtype, "autodiff"),
        }
        for form in REFERENCES:
            t = self.time(case.name, dtype, form)
            if t is not None:
                out[f"{form}/vectorized"] = t / vec
        return out

    @property
    def cases(self) -> list[BenchCase]:
        """The cases measured, in order."""
        return list(dict.fromkeys(m.case for m in self.measurements))


def matmul_rate(dtype: str, sizes: tuple[int, ...] = RATE_SIZES) -> float:
    """Best measured rate (flop/s) of ``np.matmul(A, B, out=C)`` on square n×n arrays."""
    rng = np.random.default_rng(0)
    best = 0.0
    for n in sizes:
        A, B = (rng.standard_normal((n, n)).astype(dtype) for _ in range(2))
        C = np.empty((n, n), dtype)
        t = time_call(lambda A=A, B=B, C=C: np.matmul(A, B, out=C), rounds=5).min
        best = max(best, 2 * n**3 / t)
    return best


def measure_memory(case: BenchCase) -> Memory:
    """Peak traced memory of a cold ``crosscheck.vectorized.gradients`` on `case` (float64)."""
    from crosscheck import vectorized
    from crosscheck.bench.cases import make_problem
    from crosscheck.vectorized.workspace import clear_workspaces

    network, params, X, T = make_problem(case)
    clear_workspaces()
    tracemalloc.start()
    try:
        vectorized.gradients(network, params, X, T)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        clear_workspaces()
    column = case.N * X.itemsize
    return Memory(case.name, peak, 2 * sum(case.sizes[1:]) * column, max(case.sizes[1:]) * column)


def machine_info() -> dict[str, object]:
    """CPU, Python, NumPy and its BLAS (threadpoolctl) for the report and the JSON."""
    from threadpoolctl import threadpool_info

    blas = [
        {k: pool.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
        for pool in threadpool_info()
        if pool.get("user_api") == "blas"
    ]
    return {
        "node": platform.node(),
        "processor": _cpu_name(),
        "machine": platform.machine(),
        "python_implementation": platform.python_implementation(),
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "cpu": {"count": _cpu_count(), "brand_raw": _cpu_name()},
        "blas": blas,
    }


def run_bench(
    *,
    quick: bool = False,
    cases: tuple[BenchCase, ...] | None = None,
    sweeps: bool = True,
    networks: tuple[tuple[str, str, str], ...] | None = None,
    checking: bool = True,
    progress: Callable[[str], None] = lambda step: None,
) -> BenchResult:
    """Measure every implementation on every case and dtype, the floors, sweeps and memory;
    the activation sweep and the cost of checking; the load of the machine.

    Args:
        quick: skip the "large" case, and "tiny" in the activation sweep; shorten rounds and
            sweeps (under a minute in all on an idle 2-core machine).
        cases: the sizes to run (default ``CASES``, less "large" when quick).
        sweeps: run the growth sweeps (``crosscheck.bench.growth``).
        networks: (hidden σ, σ_L, J) of the activation sweep (``crosscheck.bench.sweep``),
            at every size (but tiny when quick, unless it is the only one) and dtype;
            default ``NETWORKS``; () skips it.
        checking: time ``compare_backprop`` against one pass (``crosscheck.bench.check_timing``)
            at every size and dtype (the default network).
        progress: called with a short description before each step.

    Returns:
        A ``BenchResult``.

    Raises:
        Nothing of its own.
    """
    if cases is None:
        cases = tuple(c for c in CASES if not (quick and c.name == "large"))
    networks = NETWORKS if networks is None else networks
    start = os.getloadavg()
    result = BenchResult(quick=quick, machine=machine_info(), threads=threads())
    rounds, min_round = (3, 0.005) if quick else (7, 0.02)
    for dtype in DTYPES:
        progress(f"best matmul rate, {dtype}")
        result.rates[dtype] = matmul_rate(dtype, RATE_SIZES[:-1] if quick else RATE_SIZES)
    for case in cases:
        for dtype in DTYPES:
            for name in implementations(case, dtype):
                progress(f"{case.name} {dtype} {name}")
                run = runner(case, name, dtype)
                timing = time_call(run, rounds=rounds, min_round_time=min_round)
                result.measurements.append(Measurement(case, dtype, name, timing))
        progress(f"{case.name} memory")
        result.memory.append(measure_memory(case))
    runs, min_sample = (3, 0.005) if quick else (5, 0.02)
    swept = [c for c in cases if not (quick and c.name == "tiny" and len(cases) > 1)]
    for case in swept if networks else ():
        for dtype in DTYPES:
            gemm = gemm_only(case, dtype)
            for network in networks:
                point = case.with_network(*network)
                progress(f"activation sweep: {case.name} {dtype} {point.label}")
                result.activations.append(
                    measure_point(point, dtype, gemm, runs=runs, min_sample=min_sample)
                )
    for case in cases if checking else ():
        for dtype in DTYPES:
            progress(f"checking cost: {case.name} {dtype}")
            result.checking.append(measure_checking(case, dtype, runs=3))
    if sweeps:
        for name, axis, fixed, values in sweep_plan(quick):
            progress(f"growth sweep: {name} over {axis}")
            result.sweeps.append(
                run_sweep(name, axis, fixed, values, lambda c, d, n=name: runner(c, n, d))
            )
    result.load = Load(
        start, os.getloadavg(), result.threads.usable, result.threads.blas, below_floor(result)
    )
    return result


def below_floor(result: BenchResult) -> tuple[str, ...]:
    """Labels of the cases whose GEMM-only time (any round or run) fell more than
    ``FLOOR_SLACK`` below their arithmetic floor: a symptom of a matmul rate measured under
    load."""

    def under(seconds: float, case: BenchCase, dtype: str) -> bool:
        return seconds < (1 - FLOOR_SLACK) * result.floor(case, dtype)

    labels = []
    for m in result.measurements:
        if m.implementation == "gemm_only" and under(m.timing.min, m.case, m.dtype):
            labels.append(f"{m.case.name} {m.dtype}")
    for p in result.activations:
        if under(min(p.times["gemm_only"]), p.case, p.dtype):
            labels.append(f"{p.case.name} {p.dtype} ({p.case.label})")
    return tuple(dict.fromkeys(labels))


def benchmark_json(result: BenchResult) -> dict[str, object]:
    """The run in pytest-benchmark's JSON layout, plus a ``crosscheck`` key (floors, ratios,
    sweeps, memory)."""
    benchmarks = []
    for m in result.measurements:
        param = f"{m.case.name}-{m.dtype}-{m.implementation}"
        benchmarks.append(
            {
                "group": f"{m.case.name} {m.dtype}",
                "name": f"test_pass[{param}]",
                "fullname": f"crosscheck.bench.run::test_pass[{param}]",
                "params": {
                    "case": m.case.name,
                    "dtype": m.dtype,
                    "implementation": m.implementation,
                },
                "param": param,
                "extra_info": {"sizes": list(m.case.sizes), "N": m.case.N, "flops": m.case.flops},
                "options": {"timer": "perf_counter", "warmup": True},
                "stats": m.timing.stats(),
            }
        )
    cases = result.cases
    return {
        "machine_info": result.machine,
        "commit_info": {},
        "benchmarks": benchmarks,
        "datetime": datetime.datetime.now(datetime.UTC).isoformat(),
        "version": "crosscheck-bench-1",
        "crosscheck": {
            "quick": result.quick,
            "matmul_rate_flops": result.rates,
            "floors": {
                f"{c.name} {d}": {"flops": c.flops, "arithmetic_floor_s": result.floor(c, d)}
                for c in cases
                for d in DTYPES
            },
            "ratios": {f"{c.name} {d}": result.ratios(c, d) for c in cases for d in DTYPES},
            "sweeps": [
                {
                    "implementation": s.implementation,
                    "axis": s.axis,
                    "fixed": s.fixed,
                    "x": list(s.x),
                    "times": list(s.times),
                    "exponent": s.exponent,
                    "expected": s.expected,
                }
                for s in result.sweeps
            ],
            "memory": [
                {
                    "case": m.case,
                    "peak_bytes": m.peak,
                    "trace_bytes": m.trace,
                    "workspace_bytes": m.workspace,
                    "ratio": m.ratio,
                }
                for m in result.memory
            ],
            "activations": [
                {
                    "case": p.case.name,
                    "network": p.case.label,
                    "activations": list(p.case.network.activations),
                    "loss": p.case.loss,
                    "dtype": p.dtype,
                    "times_s": {k: list(v) for k, v in p.times.items()},
                    "vectorized/autodiff": p.vectorized_over_jax.to_dict(),
                    "backprop/autodiff": p.backprop_over_jax.to_dict(),
                    "vectorized/one_thread": p.split_over_one_thread.to_dict(),
                    "gemm_only/vectorized": p.gemm_fraction.to_dict(),
                }
                for p in result.activations
            ],
            "checking": [
                {
                    "case": c.case.name,
                    "dtype": c.dtype,
                    "times_s": {
                        "compare_backprop": list(c.compare),
                        "backprop": list(c.backprop),
                        "gradients": list(c.gradients),
                    },
                    "compare/backprop": c.over_backprop.to_dict(),
                    "compare/gradients": c.over_gradients.to_dict(),
                }
                for c in result.checking
            ],
            "threads": None if result.threads is None else asdict(result.threads),
            "load": None
            if result.load is None
            else {
                "start": list(result.load.start),
                "end": None if result.load.end is None else list(result.load.end),
                "cores": result.load.cores,
                "own_threads": result.load.own_threads,
                "below_floor": list(result.load.below_floor),
                "loaded": result.load.loaded,
                "warnings": result.load.warnings(),
            },
        },
    }


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1

"""CPU time a pass spends beyond its matrix products, per network: a figure load barely moves.

Wall-clock ratios need a quiet machine (``crosscheck bench`` warns when it is not). This
script measures what the matrix form's own code controls in a way other processes disturb
far less: with the BLAS and the elementwise kernels held to one thread (threadpoolctl,
``crosscheck.vectorized.parallel.set_elementwise_threads``), the CPU time of this thread
(``time.thread_time``) for one ``vectorized.gradients`` pass and for its GEMM-only pass,
alternated, the lowest of `--runs` runs of `--calls` calls each. Their difference is the
single-core cost of validation, bias, σ, σ', H = Δ ⊙ σ' and the row sums.

    python benchmarks/elementwise_overhead.py [--size medium] [--dtype float64] [--runs 5]

On a machine with c cores the products run about c times faster and the elementwise work
as fast as its split allows, so GEMM-only/pass on c cores is about
gemm / (gemm + c · overhead / threads) with these single-core figures.
"""

from __future__ import annotations

import argparse
import os
import time

from threadpoolctl import threadpool_limits

from crosscheck import vectorized
from crosscheck.bench.cases import DTYPES, NETWORKS, case_by_name, gemm_only, make_problem
from crosscheck.vectorized.parallel import set_elementwise_threads


def cpu_seconds(function, calls: int) -> float:
    """This thread's CPU seconds per call over `calls` calls."""
    start = time.thread_time()
    for _ in range(calls):
        function()
    return (time.thread_time() - start) / calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium", help="tiny, small, medium or large")
    parser.add_argument("--dtype", default="float64", choices=DTYPES)
    parser.add_argument("--runs", type=int, default=5, help="alternated runs (lowest kept)")
    parser.add_argument("--calls", type=int, default=20, help="calls per run")
    args = parser.parse_args()
    size = case_by_name(args.size)
    print(f"{size.name} {size.sizes} N={size.N} {args.dtype}; load {os.getloadavg()[0]:.2f}")
    print("| network | pass (CPU ms) | GEMM-only (CPU ms) | beyond the products | GEMM/pass |")
    print("|---|---|---|---|---|")
    with threadpool_limits(1):
        set_elementwise_threads(1)
        gemm = gemm_only(size, args.dtype)
        for network in NETWORKS:
            case = size.with_network(*network)
            problem = make_problem(case, args.dtype)

            def run(problem=problem):
                return vectorized.gradients(*problem)

            run(), gemm()
            t_pass = t_gemm = float("inf")
            for _ in range(args.runs):
                t_pass = min(t_pass, cpu_seconds(run, args.calls))
                t_gemm = min(t_gemm, cpu_seconds(gemm, args.calls))
            print(
                f"| {case.label} | {t_pass * 1e3:.3f} | {t_gemm * 1e3:.3f} |"
                f" {(t_pass - t_gemm) * 1e3:.3f} | {t_gemm / t_pass:.2f} |"
            )
        set_elementwise_threads(None)
    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

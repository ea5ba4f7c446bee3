"""Checking against computing: check/pass per case (``crosscheck.bench.checking``).

    python benchmarks/checking_cost.py [--sizes medium,large] [--kinds tanh,relu,sigmoid,softmax]
        [--dtypes float64,float32] [--sides 1,3] [--runs 3] [--cpu-time]

Prints, per case, the fastest pass and check, the median check/pass ratio with its spread
over the runs, and the load average before the case. ``--cpu-time`` times CPU seconds on
one BLAS thread, a figure that a busy machine barely moves; wall seconds otherwise.
"""

from __future__ import annotations

import argparse

from crosscheck.bench.checking import NETWORK_KINDS, CheckingCase, checking_cost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="medium,large")
    parser.add_argument("--kinds", default=",".join(NETWORK_KINDS))
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--sides", default="1,3")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cpu-time", action="store_true", help="CPU seconds, one BLAS thread")
    args = parser.parse_args()
    clock = "CPU s, 1 thread" if args.cpu_time else "wall s"
    print(f"case | pass {clock} (min) | check (min) | check/pass median [min, max] | load")
    for size in args.sizes.split(","):
        for kind in args.kinds.split(","):
            for dtype in args.dtypes.split(","):
                for sides in map(int, args.sides.split(",")):
                    case = CheckingCase(size, kind, dtype, sides)
                    cost = checking_cost(case, runs=args.runs, cpu_time=args.cpu_time)
                    print(
                        f"{cost.case.name} | {min(cost.pass_seconds):.4f}"
                        f" | {min(cost.check_seconds):.4f} | {cost.ratio:.2f}"
                        f" [{min(cost.ratios):.2f}, {max(cost.ratios):.2f}]"
                        f" | {cost.load_average:.2f}",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

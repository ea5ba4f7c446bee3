"""Checking against computing: compare / backprop per case (``crosscheck.bench.check_timing``).

    python benchmarks/checking_cost.py [--sizes medium,large] [--hidden tanh,relu,sigmoid]
        [--outputs identity,softmax] [--dtypes float64,float32] [--sides 1,3] [--runs 3]
        [--cpu-time]

Per case (a size, a network of `--hidden` layers with an `--outputs` output and its loss, a
dtype, a number of actual sides): the fastest comparison and pass, and compare / backprop
and compare / gradients as median (min–max) over the alternated runs, with the load average
before the case. ``--cpu-time`` times one thread's CPU seconds with the BLAS and the
elementwise kernels on one thread, a figure that a busy machine barely moves; wall seconds
with every thread otherwise.
"""

from __future__ import annotations

import argparse
import os

from crosscheck.bench.cases import case_by_name
from crosscheck.bench.check_timing import measure_checking

LOSS_OF_OUTPUT = {
    "identity": "squared_error",
    "sigmoid": "binary_cross_entropy",
    "softmax": "cross_entropy",
}
"""σ_L → the loss it is paired with in the benchmark networks (``crosscheck.bench.cases``)."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="medium,large")
    parser.add_argument("--hidden", default="tanh,relu,sigmoid", help="σ of hidden layers")
    parser.add_argument("--outputs", default="identity,softmax", help=f"σ_L: {LOSS_OF_OUTPUT}")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--sides", default="1,3")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cpu-time", action="store_true", help="CPU seconds, one thread")
    args = parser.parse_args()
    clock = "CPU s, 1 thread" if args.cpu_time else "wall s"
    print(
        f"case | sides | compare {clock} (min) | backprop (min) | compare/backprop"
        " | compare/gradients | load"
    )
    for size in args.sizes.split(","):
        for hidden in args.hidden.split(","):
            for output in args.outputs.split(","):
                case = case_by_name(size).with_network(hidden, output, LOSS_OF_OUTPUT[output])
                for dtype in args.dtypes.split(","):
                    for sides in map(int, args.sides.split(",")):
                        load = os.getloadavg()[0]
                        cost = measure_checking(
                            case, dtype, runs=args.runs, sides=sides, cpu_time=args.cpu_time
                        )
                        print(
                            f"{size} {case.label} {dtype} | {sides}"
                            f" | {min(cost.compare):.4f} | {min(cost.backprop):.4f}"
                            f" | {_spread(cost.over_backprop)}"
                            f" | {_spread(cost.over_gradients)} | {load:.2f}",
                            flush=True,
                        )
    return 0


def _spread(spread) -> str:
    return f"{spread.median:.2f} ({spread.min:.2f}–{spread.max:.2f})"


if __name__ == "__main__":
    raise SystemExit(main())

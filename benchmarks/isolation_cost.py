"""What running the function under check in a worker process costs, per example.

Runs ``check_gradients`` on a correct function (``crosscheck.oracle.catalogue.Backprop``) at
the sizes ``crosscheck check`` draws by default (widths 1..6, N 1..8; the ci profile's 200
examples), once in this process (``isolate=False``) and once in a worker process
(``isolate=True``), each with a fixed seed so both see the same examples, and prints ms per
example for each, their difference, the cost of one judged call either way (an example makes
two), and the worker's start separately. On a loaded machine the per-example figures vary
from run to run (the worker must be scheduled for every call); the per-call ones less.

    python benchmarks/isolation_cost.py [--examples 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from crosscheck.ffnn import Network, init_params
from crosscheck.oracle.calling import Callee, InProcess
from crosscheck.oracle.catalogue import Backprop
from crosscheck.oracle.layouts import Adapter
from crosscheck.oracle.search import check_gradients
from crosscheck.oracle.worker import Isolated, Target

ACTIVATIONS = ("tanh", "tanh", "identity")


def ms_per_example(isolate: bool, examples: int, seed: int) -> float:
    """Wall milliseconds per example of one agreeing check (worker already started)."""
    fn = Backprop(ACTIVATIONS, "squared_error", 0.0)
    if isolate:
        with Isolated(Target.from_function(fn)) as callee:
            callee.load()
            start = time.perf_counter()
            report = check_gradients(
                callee, activations=ACTIVATIONS, max_examples=examples, seed=seed
            )
    else:
        start = time.perf_counter()
        report = check_gradients(
            fn, activations=ACTIVATIONS, max_examples=examples, seed=seed, isolate=False
        )
    elapsed = time.perf_counter() - start
    assert report.agree
    return 1e3 * elapsed / report.examples_run


def ms_per_call(callee: Callee, calls: int = 1000) -> float:
    """Wall milliseconds of one judged call (``Callee.attempt``) on a 3-4-1 network, N = 8."""
    network = Network((3, 4, 1), ACTIVATIONS[1:], "squared_error", 0.0)
    X = np.linspace(-1.0, 1.0, 24).reshape(3, 8)
    params, T = init_params(network), np.zeros((1, 8))
    start = time.perf_counter()
    for _ in range(calls):
        callee.attempt(Adapter(), params, X, T)
    return 1e3 * (time.perf_counter() - start) / calls


def start_seconds() -> float:
    """Wall seconds to start a worker and import the function in it (forkserver running)."""
    start = time.perf_counter()
    with Isolated(Target.from_function(Backprop(ACTIVATIONS, "squared_error", 0.0))) as callee:
        callee.load()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    first_start = start_seconds()  # starts the forkserver too
    later_start = min(start_seconds() for _ in range(args.repeats))
    per = {
        isolate: min(ms_per_example(isolate, args.examples, seed) for seed in range(args.repeats))
        for isolate in (False, True)
    }
    print(
        f"load average {os.getloadavg()[0]:.2f}; {args.examples} examples, best of {args.repeats}"
    )
    print(f"in this process   {per[False]:.2f} ms/example")
    print(f"in a worker       {per[True]:.2f} ms/example")
    print(f"isolation costs   {per[True] - per[False]:.2f} ms/example")
    fn = Backprop(ACTIVATIONS[1:], "squared_error", 0.0)
    with Isolated(Target.from_function(fn)) as callee:
        callee.load()
        call = {True: ms_per_call(callee), False: ms_per_call(InProcess(fn))}
    print(f"one call          {call[False]:.3f} ms in this process, {call[True]:.3f} in a worker")
    first, later = 1e3 * first_start, 1e3 * later_start
    print(f"worker start      {first:.0f} ms the first (forkserver), then {later:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

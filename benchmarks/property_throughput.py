"""Examples per second of the agreement property (every implementation against vectorized).

Runs ``tests/test_agreement.py::test_eqs_1_4_to_2_38_all_implementations_agree_with_vectorized``
(both problem families) under a hypothesis profile with pytest-xdist, one family per worker,
and reads hypothesis's statistics: examples run (passing + invalid) and the seconds of each
test's generate phase, which include JAX's one compilation per worker.

    python benchmarks/property_throughput.py [--profile crosscheck-ci] [--workers 2]

Prints examples/s over the slowest test's phase (the tests run side by side) and over the
wall time of the whole pytest run (start-up and imports included).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/test_agreement.py::test_eqs_1_4_to_2_38_all_implementations_agree_with_vectorized"
PHASE = re.compile(r"during generate phase \(([\d.]+) seconds\)")
COUNTS = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="crosscheck-ci", help="hypothesis profile")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers")
    args = parser.parse_args()
    command = [
        sys.executable,
        "-m",
        "pytest",
        TEST,
        "-n",
        str(args.workers),
        "-q",
        "-p",
        "no:cacheprovider",
        "--hypothesis-show-statistics",
    ]
    env = {**os.environ, "CROSSCHECK_PROFILE": args.profile}
    load = os.getloadavg()[0]
    start = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if run.returncode != 0:
        print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
        return run.returncode
    phases = [float(s) for s in PHASE.findall(run.stdout)]
    examples = sum(int(p) + int(f) + int(i) for p, f, i in COUNTS.findall(run.stdout))
    print(f"profile {args.profile}, {args.workers} workers: {examples} examples")
    slowest = max(phases)
    print(
        f"  {examples / slowest:.0f} examples/s over the slowest generate phase ({slowest:.2f} s)"
    )
    print(f"  {examples / wall:.0f} examples/s over the whole pytest run ({wall:.2f} s wall)")
    cores = os.cpu_count() or 1
    print(f"  load average before the run: {load:.2f} ({cores} cores)")
    if load > cores:
        print("  warning: the load exceeded the core count; these rates are deflated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

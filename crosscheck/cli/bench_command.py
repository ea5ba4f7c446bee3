"""The ``crosscheck bench`` subcommand: its arguments, progress (rich) and outputs.

``crosscheck bench [--quick] [--out DIR] [--json PATH]`` times every implementation in-process
(``crosscheck.bench.run``) and writes report.md, benchmark.json (pytest-benchmark layout) and
PNG plots into DIR (default ``bench-results``); --json also writes the JSON to PATH (``-``:
standard output, the report then on standard error). Exit status 0 after a run, 2 for a
usage error (one line on stderr), 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from crosscheck.cli.common import (
    check_output_directory,
    check_output_file,
    output_directory,
    output_file,
    write_json,
)

BENCH_EPILOG = """\
Cases: tiny (2,3,1) N=4, small (10,20,10) N=32, medium (256,256,256,10) N=512,
large (1024,1024,1024,1024) N=4096; tanh hidden, identity output, squared error (eq 2.16).
Timing is in-process (perf_counter, warm-up, rounds; minimum reported); benchmarks/ runs the
same cases under pytest-benchmark. --json - writes the JSON to standard output and the report
to standard error. Exit status: 0 done, 2 a usage error, 130 interrupted (Ctrl-C).
"""


def add_bench_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``bench`` on the ``crosscheck`` subcommands; it dispatches to ``run``."""
    bench = commands.add_parser(
        "bench",
        help="benchmark report: every implementation against the GEMM and arithmetic floors",
        description="Time one forward + backward pass of every implementation on the"
        " benchmark cases\nand write a Markdown report, PNG plots and pytest-benchmark JSON."
        "\n\nThe activation sweep times every built-in hidden activation (identity output,"
        " squared error)\nand tanh hidden layers with sigmoid + binary cross-entropy and"
        " softmax + cross-entropy,\nat every size and dtype: vectorized / JAX, GEMM-only /"
        " pass, min/median/max over alternated\nruns; then compare_backprop against one"
        " vectorized pass. The report and every plot warn\nwhen the machine was loaded (load"
        " average at start and end, GEMM-only below its floor).",
        epilog=BENCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.add_argument(
        "--quick", action="store_true", help="skip the large case, fewer runs (< 1 minute idle)"
    )
    bench.add_argument(
        "--out",
        type=output_directory,
        default=Path("bench-results"),
        metavar="DIR",
        help="directory for report.md, benchmark.json and the PNGs (default: bench-results)",
    )
    bench.add_argument(
        "--json",
        type=output_file,
        metavar="PATH",
        help="also write the benchmark JSON to PATH ('-': standard output, the report then on"
        " standard error)",
    )
    bench.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """``crosscheck bench``: check the paths, run the benchmarks with progress, write outputs.

    Returns:
        0 after a completed run.

    Raises:
        UsageError (``crosscheck.cli.common``): --json cannot be written, --out cannot be
            made or written (it is a file, say); both checked before any timing, leaving
            nothing behind.
    """
    if args.json is not None:
        check_output_file(args.json, "crosscheck bench", "--json")
    check_output_directory(args.out, "crosscheck bench", "--out")
    from rich.console import Console

    from crosscheck.bench.report import write_outputs
    from crosscheck.bench.run import benchmark_json, run_bench

    load = os.getloadavg()  # before the run, which loads the cores itself
    console = Console(stderr=True)
    with console.status("starting") as status:
        result = run_bench(quick=args.quick, progress=lambda step: status.update(f"{step}…"))
    paths = write_outputs(result, args.out, load)
    print(paths["report"].read_text())
    if args.json is not None:
        write_json(args.json, benchmark_json(result), "crosscheck bench", args.stdout)
    return 0

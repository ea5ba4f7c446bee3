"""The ``crosscheck verify`` subcommand: every implementation on real data (DESIGN §5).

The computation lives in ``crosscheck.verify``, the tables in ``crosscheck.verify.render``.
Exit status: 0 every implementation agrees; 1 a disagreement (or an implementation that
raised); 2 a usage error, reported as one line on stderr, without a traceback; 130 after
Ctrl-C. ``--json -`` writes the JSON to standard output, the report to standard error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from crosscheck.cli.common import (
    EXIT_AGREE,
    EXIT_DISAGREE,
    UsageError,
    check_output_file,
    non_negative_float,
    non_negative_int,
    output_file,
    parse_names,
    parse_sizes,
    positive_int,
    write_json,
)
from crosscheck.verify.datasets import DATASETS, Dataset, load_dataset, load_npz

VERIFY_EPILOG = """\
Checks (all against a baseline, entry by entry; see docs/reading-a-report.md):
  all N samples   vectorized and autodiff vs the contracted reference
  subsample       every implementation vs the literal reference on n <= --samples columns
  single entries  one W and one b entry per layer by crosscheck.reference.gradient_entry
--data FILE.npz holds arrays "X" (N, S_0) and "T" (N, S_L) or (N,), rows as samples.
Plans beyond 1e7 parameters or about 1e9 scalar operations of the pure-Python reference
(about 100 s) are refused: see --sizes and --samples.
--json - writes the JSON to standard output and the report to standard error.
Exit status: 0 all agree, 1 a disagreement, 2 a usage error, 130 interrupted (Ctrl-C).
"""


def add_verify_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``verify`` on the ``crosscheck`` subcommands; it dispatches to ``run_verify``."""
    verify = commands.add_parser(
        "verify",
        help="all implementations on real data (default: scikit-learn's digits)",
        description="Compute ∂J/∂W^(l), ∂J/∂b^(l) and J with every implementation on real"
        " data\nand report their agreement per layer and quantity.",
        epilog=VERIFY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = verify.add_mutually_exclusive_group()
    source.add_argument(
        "--dataset",
        choices=DATASETS,
        default="digits",
        help="a dataset bundled with scikit-learn (default: digits); nothing is downloaded",
    )
    source.add_argument(
        "--data", type=Path, metavar="FILE.npz", help='your own data: "X" (N, S_0), "T" (N, S_L)'
    )
    verify.add_argument(
        "--sizes",
        type=parse_sizes,
        metavar="S_0,...,S_L",
        help="layer widths, e.g. 64,32,10 (default: S_0,32,S_L of the data)",
    )
    verify.add_argument(
        "--activations",
        type=parse_names,
        metavar="σ_1,...,σ_L",
        help="one per non-input layer (default: tanh hidden; output softmax for"
        " cross_entropy, else sigmoid, or identity for diabetes and targets outside [0, 1])",
    )
    verify.add_argument(
        "--loss",
        default="squared_error",
        metavar="NAME",
        help="J, a name in crosscheck.ffnn.LOSSES (default: squared_error, eq 2.16)",
    )
    verify.add_argument(
        "--weight-decay",
        type=non_negative_float,
        default=0.0,
        metavar="λ",
        help="adds (λ/2) Σ_l ||W^(l)||² to J (default: 0)",
    )
    verify.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="seeds the parameters, the subsample and the entries (default: 0)",
    )
    verify.add_argument(
        "--samples",
        type=positive_int,
        default=64,
        metavar="n",
        help="subsample size for the slow literal reference (default: 64, about a second);"
        " its cost grows as n²",
    )
    verify.add_argument(
        "--dtype", choices=("float64", "float32"), default="float64", help="(default: float64)"
    )
    verify.add_argument(
        "--json",
        type=output_file,
        metavar="PATH",
        help="also write the results as JSON to PATH ('-': standard output, the report then"
        " on standard error)",
    )
    verify.set_defaults(run=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    """``crosscheck verify``: check every input, run `crosscheck.verify.verification`, print, write
    JSON.

    Returns:
        0 if every check agrees, 1 otherwise.

    Raises:
        UsageError: an unwritable --json path, unreadable --data or values beyond --dtype,
            a plan beyond the caps of ``crosscheck.verify.verification`` (`MAX_PARAMETERS`,
            `MAX_OPERATIONS`) or that does not fit in memory, inputs whose J overflows, or a
            configuration that ffnn or the data refuse (all checked before the long work).
    """
    if args.json is not None:
        check_output_file(args.json, "crosscheck verify", "--json")
    # Imported here so that --help and --version need neither ffnn, SciPy nor rich.
    from rich.console import Console

    from crosscheck.verify.datasets import check_range
    from crosscheck.verify.render import print_report
    from crosscheck.verify.verification import PlanTooLargeError, make_plan, verify

    dataset = _dataset(args)
    if args.data is not None:
        try:
            check_range(dataset, args.dtype)
        except ValueError as error:
            raise UsageError(f"crosscheck verify: error: --data {error}") from None
    try:
        plan = make_plan(
            dataset,
            sizes=args.sizes,
            activations=args.activations,
            loss=args.loss,
            weight_decay=args.weight_decay,
            seed=args.seed,
            samples=args.samples,
            dtype=args.dtype,
        )
    except PlanTooLargeError as error:
        raise UsageError(f"crosscheck verify: error: --sizes/--samples: {error}") from None
    except MemoryError:
        raise UsageError(
            "crosscheck verify: error: --sizes/--samples: not enough memory for this plan"
        ) from None
    except (TypeError, ValueError, OverflowError) as error:
        raise UsageError(f"crosscheck verify: error: {error}") from None
    progress = Console(stderr=True)
    if progress.is_terminal:
        with progress.status("starting") as status:
            result = verify(plan, progress=lambda step: status.update(f"{step}…"))
    else:
        result = verify(plan)
    print_report(result)
    if args.json is not None:
        write_json(args.json, result.to_dict(), "crosscheck verify", args.stdout)
    return EXIT_AGREE if result.agree else EXIT_DISAGREE


def _dataset(args: argparse.Namespace) -> Dataset:
    try:
        return load_npz(args.data) if args.data is not None else load_dataset(args.dataset)
    except ValueError as error:
        raise UsageError(f"crosscheck verify: error: --data: {error}") from None

"""The ``crosscheck`` command line (DESIGN §5): argument parsing, files and the terminal.

The computation lives in ``crosscheck.verify``, the tables in ``crosscheck.render``.
Exit status: 0 every implementation agrees; 1 a disagreement (or an implementation that
raised); 2 a usage error, reported as one line on stderr, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from crosscheck import __version__
from crosscheck.bench_command import add_bench_parser
from crosscheck.check_command import add_check_parser, add_selftest_parser
from crosscheck.datasets import DATASETS, Dataset, load_dataset, load_npz

EXIT_AGREE, EXIT_DISAGREE, EXIT_USAGE = 0, 1, 2

VERIFY_EPILOG = """\
Checks (all against a baseline, entry by entry; see README "How to read a report"):
  all N samples   vectorized and autodiff vs the contracted reference
  subsample       every implementation vs the literal reference on n <= --samples columns
  single entries  one W and one b entry per layer by reference.gradient_entry
--data FILE.npz holds arrays "X" (N, S_0) and "T" (N, S_L) or (N,), rows as samples.
Plans beyond 1e7 parameters or about 1e9 scalar operations of the pure-Python reference
(about 100 s) are refused: see --sizes and --samples.
Exit status: 0 all agree, 1 a disagreement, 2 a usage error.
"""


class UsageError(Exception):
    """A mistake in the command line or its files: exit status 2, one line on stderr."""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``crosscheck`` with `argv` (default ``sys.argv[1:]``) and return the exit status.

    Args:
        argv: the arguments after the program name, e.g. ``["verify", "--dataset", "iris"]``.

    Returns:
        0 all implementations agree (or --help/--version), 1 any disagree, 2 a usage error.

    Raises:
        Nothing: usage errors print one line on stderr and return 2.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.run(args)
    except UsageError as error:
        print(" ".join(str(error).split()), file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    """The ``crosscheck`` parser with its subcommands (so far: ``verify``)."""
    parser = _Parser(
        prog="crosscheck",
        description="Cross-check backpropagation: an index-level reference, the matrix form"
        " and JAX autodiff, compared entry by entry.",
    )
    parser.add_argument("--version", action="version", version=f"crosscheck {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", required=True)
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
        type=_sizes,
        metavar="S_0,...,S_L",
        help="layer widths, e.g. 64,32,10 (default: S_0,32,S_L of the data)",
    )
    verify.add_argument(
        "--activations",
        type=_names,
        metavar="σ_1,...,σ_L",
        help="one per non-input layer (default: tanh hidden; output softmax for"
        " cross_entropy, else sigmoid, or identity for diabetes and targets outside [0, 1])",
    )
    verify.add_argument(
        "--loss",
        default="squared_error",
        metavar="NAME",
        help="J, a name in ffnn.LOSSES (default: squared_error, eq 2.16)",
    )
    verify.add_argument(
        "--weight-decay",
        type=_non_negative_float,
        default=0.0,
        metavar="λ",
        help="adds (λ/2) Σ_l ||W^(l)||² to J (default: 0)",
    )
    verify.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="seeds the parameters, the subsample and the entries (default: 0)",
    )
    verify.add_argument(
        "--samples",
        type=_positive_int,
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
        type=output_path,
        metavar="PATH",
        help="also write the results as JSON to PATH (a file; '-' is refused)",
    )
    verify.set_defaults(run=run_verify)
    add_bench_parser(commands)
    add_check_parser(commands)
    add_selftest_parser(commands)
    return parser


def run_verify(args: argparse.Namespace) -> int:
    """``crosscheck verify``: check every input, run `crosscheck.verify`, print, write JSON.

    Returns:
        0 if every check agrees, 1 otherwise.

    Raises:
        UsageError: an unwritable --json path, unreadable --data or values beyond --dtype,
            a plan beyond the caps of ``crosscheck.verify`` (`MAX_PARAMETERS`,
            `MAX_OPERATIONS`) or that does not fit in memory, inputs whose J overflows, or a
            configuration that ffnn or the data refuse (all checked before the long work).
    """
    if args.json is not None:
        check_writable(args.json, "crosscheck verify", "--json")
    # Imported here so that --help and --version need neither ffnn, SciPy nor rich.
    from rich.console import Console

    from crosscheck.datasets import check_range
    from crosscheck.render import print_report
    from crosscheck.verify import PlanTooLargeError, make_plan, verify

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
        _write_json(args.json, result.to_dict())
    return EXIT_AGREE if result.agree else EXIT_DISAGREE


def _dataset(args: argparse.Namespace) -> Dataset:
    try:
        return load_npz(args.data) if args.data is not None else load_dataset(args.dataset)
    except ValueError as error:
        raise UsageError(f"crosscheck verify: error: --data: {error}") from None


def output_path(text: str) -> Path:
    """argparse type of an output file or directory: not empty, not ``-`` (no stdout)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty")
    if text == "-":
        raise argparse.ArgumentTypeError("'-' (stdout) is not supported; give a file path")
    return Path(text)


def check_writable(path: Path, command: str, option: str) -> None:
    """Refuse an output file that cannot be written, before any work; create nothing.

    Args:
        path: the file. command: e.g. ``"crosscheck verify"``. option: e.g. ``"--json"``.

    Raises:
        UsageError: ``"<command>: error: <option> <path>: <problem>"``: it is a directory,
            its parent does not exist or is not a directory, or it is not writable.
    """
    parent = path.parent
    if path.is_dir():
        problem = "it is a directory"
    elif parent.exists() and not parent.is_dir():
        problem = f"its parent {parent} is not a directory"
    elif not parent.is_dir():
        problem = f"its directory {parent} does not exist"
    elif not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        problem = "it is not writable"
    else:
        return
    raise UsageError(f"{command}: error: {option} {path}: {problem}")


def _write_json(path: Path, payload: dict) -> None:
    try:
        path.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
    except OSError as error:
        raise UsageError(f"crosscheck verify: error: --json {path}: {error}") from None


def _sizes(text: str) -> tuple[int, ...]:
    parts = [part.strip() for part in text.split(",")]
    if len(parts) < 2 or not all(re.fullmatch("[0-9]+", part) for part in parts):
        raise argparse.ArgumentTypeError(
            f"expected at least two comma-separated positive integers such as 64,32,10,"
            f" got {text!r}"
        )
    sizes = tuple(int(part) for part in parts)
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"every width must be >= 1, got {text!r}")
    return sizes


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(","))


def _int_at_least(minimum: int):
    """An argparse type: an integer >= `minimum`, else a one-line ArgumentTypeError."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text!r}")
        return value

    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be finite and >= 0, got {text!r}")
    return value

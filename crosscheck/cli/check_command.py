"""The ``crosscheck check`` and ``crosscheck selftest`` subcommands (DESIGN §5 "CLI").

``crosscheck check MODULE:FUNCTION --activations tanh,identity ...`` runs
``crosscheck.check_gradients`` on someone else's backprop, in a worker process
(``crosscheck.oracle.worker``): MODULE is a module name (looked for in the current directory
first, as Python does for a script) or a path to a .py file, imported by the worker only —
this process never imports it nor puts its directory on its own import path.
``crosscheck selftest`` runs it on every catalogued bug (``crosscheck.oracle.catalogue``) and
prints the kill table. Exit status: 0 agrees (check) / every bug rejected (selftest), 1 a fault
found / a bug not rejected, 2 a usage error (one line on stderr, no traceback), 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crosscheck.cli.common import (
    UsageError,
    check_output_directory,
    check_output_file,
    non_negative_float,
    non_negative_int,
    output_directory,
    output_file,
    parse_names,
    parse_sizes,
    positive_float,
    positive_int,
    seconds_up_to,
    write_json,
)

CHECK_EPILOG = """\
FUNCTION is called as fn(Ws, bs, X, T) -> (dWs, dbs) or (J, dWs, dbs), Ws[l-1] = W^(l).
Activations: identity, sigmoid, tanh, relu, leaky_relu (slope 0.01), softplus, elu (α = 1),
gelu (the exact erf form), softmax. Losses: squared_error (any output), cross_entropy (a
softmax output), binary_cross_entropy (a sigmoid output). --seed fixes the whole search.
Default layout: X (S_0, N), T (S_L, N), W^(l) (S_l, S_{l-1}); --layout rows passes X (N, S_0),
T (N, S_L); --weights in_out passes W^(l) as (S_{l-1}, S_l). Bias gradients may be (S,),
(S, 1) or (1, S). The function runs in a worker process: exiting, crashing, passing
--timeout or raising KeyboardInterrupt there is a finding; its prints never reach this
output. Caps: at most 100 layers and 1e6 parameters (about 1 s per call of a pure-Python
backprop), N at most 1024. The search draws widths in 1..6 and N in 1..64 (--max-width,
--max-samples), then, if it saw no fault, tries each N it left out (the N sweep); values
|X|, |b|, |T|, |W| <= 4, a few weights up to 12 times it (--max-magnitude). The report
states the space searched; an AGREE means no fault was seen there (a search, not a proof).
Precision: by default a function is judged in the precision it returns (float32 results
for float64 inputs: under float32's bound, with a note); --dtype float64 requires float64;
--dtype float32 hands it float32 inputs and judges it under float32's bound.
--problem FILE.npz checks your own problem instead of searching: arrays W1..WL, b1..bL,
X, T in the layout given by --layout and --weights (L from --activations).
--json - writes the JSON to standard output and the report to standard error.
Exit status: 0 agrees, 1 a fault found, 2 a usage error, 130 interrupted (Ctrl-C).
"""

SELFTEST_EPILOG = """\
Every catalogued bug is checked under the settings in which it shows, each in a worker
process. --json - writes the JSON to standard output and the table to standard error.
Exit status: 0 every bug rejected, 1 some bug not rejected, 2 a usage error, 130 Ctrl-C.
"""

DEFAULT_TIMEOUT_TEXT = "60"
"""``crosscheck.oracle.worker.DEFAULT_TIMEOUT`` for --help, which must not import NumPy."""

DEFAULT_MAX_WIDTH, DEFAULT_MAX_SAMPLES, SAMPLES_CAP = 6, 64, 1024
"""``crosscheck.oracle.search.MAX_WIDTH``, ``MAX_SAMPLES`` and ``SAMPLES_CAP``, for --help,
which must not import NumPy."""

MAX_TIMEOUT = 1e6
MAX_TIMEOUT_TEXT = "1e6"
"""``crosscheck.oracle.worker.MAX_TIMEOUT`` (the most the worker's wait accepts, with a
margin), for --timeout's parsing and --help, which must not import NumPy."""


def add_check_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``check`` on the ``crosscheck`` subcommands; it dispatches to ``run_check``."""
    check = commands.add_parser(
        "check",
        help="check someone else's backprop function against the suite",
        description="Search (hypothesis) for a problem on which FUNCTION's gradients or loss"
        " disagree\nwith the suite's; report the minimal one, with a diagnosis.",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("target", metavar="MODULE:FUNCTION", help="e.g. mynet:backprop or a.py:f")
    check.add_argument(
        "--activations",
        type=parse_names,
        metavar="σ_1,...,σ_L",
        help="one per non-input layer, e.g. tanh,identity (required unless --replay)",
    )
    check.add_argument("--loss", default="squared_error", metavar="NAME", help="(squared_error)")
    check.add_argument("--sizes", type=parse_sizes, metavar="S_0,...,S_L", help="fix the widths")
    check.add_argument(
        "--weight-decay", type=non_negative_float, default=0.0, metavar="λ", help="(default 0)"
    )
    check.add_argument("--layout", choices=("columns", "rows"), default="columns")
    check.add_argument("--weights", choices=("out_in", "in_out"), default="out_in")
    check.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        default=None,
        help="the precision to judge in (default: the precision the function returns)",
    )
    check.add_argument("--max-examples", type=positive_int, default=100, metavar="N")
    check.add_argument(
        "--max-width",
        type=positive_int,
        metavar="W",
        help=f"draw each width S_l in 1..W (default {DEFAULT_MAX_WIDTH}; not with --sizes)",
    )
    check.add_argument(
        "--max-samples",
        type=positive_int,
        metavar="N",
        help=f"draw N in 1..N (default {DEFAULT_MAX_SAMPLES}, at most {SAMPLES_CAP})",
    )
    check.add_argument(
        "--max-magnitude",
        type=positive_float,
        metavar="M",
        help="draw |X|, |b|, |T| and ordinary |W| up to M (default 4, at most 1e6)",
    )
    check.add_argument("--seed", type=non_negative_int, metavar="S", help="(default: random)")
    check.add_argument(
        "--timeout",
        type=seconds_up_to(MAX_TIMEOUT, MAX_TIMEOUT_TEXT),
        metavar="SECONDS",
        help=f"time limit of one call of FUNCTION in seconds, > 0 and at most {MAX_TIMEOUT_TEXT}"
        f" (default {DEFAULT_TIMEOUT_TEXT}); past it the call is a finding",
    )
    check.add_argument(
        "--json",
        type=output_file,
        metavar="PATH",
        help="also write the report as JSON to PATH ('-': standard output, the report then on"
        " standard error)",
    )
    check.add_argument(
        "--save-failure",
        type=output_directory,
        metavar="DIR",
        help="write the failing example to DIR",
    )
    check.add_argument(
        "--replay", type=Path, metavar="FILE", help="rerun a saved example (failure.json/.npz)"
    )
    check.add_argument(
        "--problem",
        type=Path,
        metavar="FILE.npz",
        help="check this problem (W1..WL, b1..bL, X, T in your layout) instead of searching",
    )
    check.set_defaults(run=run_check)


def add_selftest_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``selftest``; it dispatches to ``run_selftest``."""
    selftest = commands.add_parser(
        "selftest",
        help="the bug catalogue's kill table: every known bug must be rejected",
        description="Run the oracle on every catalogued faulty backprop and print which are"
        " rejected.",
        epilog=SELFTEST_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    selftest.add_argument("--max-examples", type=positive_int, default=100, metavar="N")
    selftest.add_argument("--seed", type=non_negative_int, default=0, metavar="S")
    selftest.add_argument(
        "--json",
        type=output_file,
        metavar="PATH",
        help="also write the table as JSON to PATH ('-': standard output, the table then on"
        " standard error)",
    )
    selftest.set_defaults(run=run_selftest)


def run_check(args: argparse.Namespace) -> int:
    """``crosscheck check``: check every input, start the worker, search (or replay), print,
    save, write JSON.

    Returns:
        0 if the function agrees, 1 if a fault was found (in the worker process: exiting,
        crashing, passing --timeout and raising are faults too).

    Raises:
        UsageError (``crosscheck.cli.common``): unwritable --json or --save-failure, settings
            ffnn refuses or beyond the caps, an unreadable --replay file, a bad target, a
            module the worker cannot import or a missing function; all before the search.
    """

    def usage(message: str) -> UsageError:
        return UsageError(f"crosscheck check: error: {message}")

    if args.json is not None:
        check_output_file(args.json, "crosscheck check", "--json")
    if args.save_failure is not None:
        check_output_directory(args.save_failure, "crosscheck check", "--save-failure")
    if args.replay is not None and args.problem is not None:
        raise usage("give --replay or --problem, not both")
    given_flag = "--replay" if args.replay is not None else "--problem"
    if (args.replay is not None or args.problem is not None) and _space(args):
        raise usage(
            f"--max-width, --max-samples and --max-magnitude do not go with {given_flag}:"
            " nothing is drawn"
        )
    from crosscheck.oracle.failure_file import load_failure, save_failure
    from crosscheck.oracle.worker import DEFAULT_TIMEOUT, Isolated, LoadError, Target

    replay, given = None, None
    if args.replay is not None:
        try:
            replay = load_failure(args.replay)
        except (TypeError, ValueError) as error:
            raise usage(f"--replay {args.replay}: {error}") from None
        _check_replay_flags(args, *replay, usage)
    elif args.problem is not None:
        if args.sizes is not None:
            raise usage("--sizes does not go with --problem: the widths come from its arrays")
        _check_settings(args, usage)
        given = _problem_arrays(args.problem, len(args.activations), usage)
    else:
        _check_settings(args, usage)
    try:
        target = Target.from_spec(args.target)
    except ValueError as error:
        raise usage(str(error)) from None
    timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    with Isolated(target, timeout) as callee:
        try:
            callee.load()
        except LoadError as error:
            raise usage(str(error)) from None
        if replay is not None:
            report = _replay(args, callee, *replay, usage)
        elif given is not None:
            report = _given(args, callee, given, usage)
        else:
            report = _search(args, callee, usage)
    console = _console()
    console.print(f"crosscheck check {args.target}", style="bold")
    console.print(report.render())
    if not report.agree and args.save_failure is not None:
        npz, meta = save_failure(report, args.save_failure, function=args.target)
        console.print(f"saved the example to {npz} and {meta}; rerun it with --replay {meta}")
    if args.json is not None:
        payload = {"function": args.target, **report.to_dict()}
        write_json(args.json, payload, "crosscheck check", args.stdout)
    return 0 if report.agree else 1


def _replay(
    args: argparse.Namespace, callee: Any, problem: Any, metadata: dict[str, Any], usage: Callable
) -> Any:
    """The CheckReport of a saved failure (``--replay``) on `callee`, in its saved dtype
    unless --dtype is given."""
    from crosscheck.oracle.search import check_example

    try:
        return check_example(
            callee,
            problem,
            layout=metadata["layout"],
            weights=metadata["weights"],
            dtype=args.dtype or metadata.get("dtype"),
        )
    except (TypeError, ValueError) as error:
        raise usage(f"--replay {args.replay}: {error}") from None


def _given(args: argparse.Namespace, callee: Any, arrays: tuple, usage: Callable) -> Any:
    """The CheckReport of the user's own problem (``--problem``, ``_problem_arrays``) on
    `callee`; a problem the suite refuses (shapes, values, overflow) is a usage error."""
    from crosscheck.oracle.search import check_problem

    try:
        return check_problem(
            callee,
            *arrays,
            activations=args.activations,
            loss=args.loss,
            weight_decay=args.weight_decay,
            layout=args.layout,
            weights=args.weights,
            dtype=args.dtype,
            seed=args.seed or 0,
            source=f"your problem {args.problem}",
        )
    except (TypeError, ValueError) as error:
        raise usage(f"--problem {args.problem}: {error}") from None


def _search(args: argparse.Namespace, callee: Any, usage: Callable) -> Any:
    """The CheckReport of the search on `callee`."""
    from hypothesis.errors import HypothesisException

    from crosscheck.oracle.search import GradientMismatch, check_gradients

    try:
        report = check_gradients(
            callee,
            activations=args.activations,
            loss=args.loss,
            sizes=args.sizes,
            weight_decay=args.weight_decay,
            layout=args.layout,
            weights=args.weights,
            max_examples=args.max_examples,
            seed=args.seed,
            dtype=args.dtype,
            **_space(args),
        )
    except GradientMismatch as mismatch:
        return mismatch.report
    except ValueError as error:  # every drawn problem beyond what the suite can compute
        raise usage(str(error)) from None
    except HypothesisException as error:  # the caps should make this unreachable
        raise usage(
            f"the search could not draw examples for these settings ({type(error).__name__});"
            " try smaller --sizes or fewer layers"
        ) from None
    if report.examples_run == 0:
        raise usage("the search drew no example for these settings")
    return report


def run_selftest(args: argparse.Namespace) -> int:
    """``crosscheck selftest``: check every catalogued bug, print the kill table, write JSON.

    Returns:
        0 if every bug was rejected, 1 otherwise.

    Raises:
        UsageError (``crosscheck.cli.common``): an unwritable --json path (checked first).
    """
    if args.json is not None:
        check_output_file(args.json, "crosscheck selftest", "--json")
    from rich.console import Console

    from crosscheck.oracle.selftest import kill_table, run_catalogue

    progress = Console(stderr=True)
    if progress.is_terminal:
        with progress.status("starting") as status:
            rows = run_catalogue(args.max_examples, args.seed, lambda n: status.update(n))
    else:
        rows = run_catalogue(args.max_examples, args.seed)
    _console().print(kill_table(rows))
    rejected = all(row.rejected for row in rows)
    if args.json is not None:
        payload = {"all_rejected": rejected, "rows": [row.to_dict() for row in rows]}
        write_json(args.json, payload, "crosscheck selftest", args.stdout)
    return 0 if rejected else 1


def _console() -> Any:
    """A rich Console on stdout, at least WIDTH columns wide when not a terminal."""
    from rich.console import Console

    from crosscheck.oracle.report import WIDTH

    console = Console()
    return console if console.is_terminal else Console(width=WIDTH)


def _problem_arrays(
    path: Path, L: int, usage: Callable[[str], Exception]
) -> tuple[list[Any], list[Any], Any, Any]:
    """``--problem FILE.npz``: (Ws, bs, X, T) from arrays W1..WL, b1..bL, X, T.

    Raises:
        `usage`'s exception: a file that is not a readable .npz (missing, a directory, a .npy
            array, corrupt), a missing array or one beyond L (named).
    """
    import zipfile

    import numpy as np

    if path.is_file() and not zipfile.is_zipfile(path):  # np.load would guess a pickle
        raise usage(
            f"--problem {path}: not an .npz archive (as numpy.savez writes, with arrays W1, b1,"
            " ..., X, T)"
        )
    try:
        stored = np.load(path, allow_pickle=False)
        if not isinstance(stored, np.lib.npyio.NpzFile):
            raise ValueError("a single array (.npy), not arrays named W1, b1, ..., X, T")
        with stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise usage(f"--problem {path}: cannot read it as .npz ({error})") from None
    names = [f"W{l}" for l in range(1, L + 1)] + [f"b{l}" for l in range(1, L + 1)] + ["X", "T"]
    missing = [name for name in names if name not in arrays]
    if missing:
        raise usage(
            f"--problem {path}: no array {', '.join(missing)}; it needs W1..W{L}, b1..b{L}, X, T"
            f" (L = {L} from --activations); it has {', '.join(sorted(arrays)) or 'none'}"
        )
    extra = sorted(set(arrays) - set(names))
    if extra:
        raise usage(
            f"--problem {path}: arrays {', '.join(extra)} are not W1..W{L}, b1..b{L}, X, T"
            f" (L = {L} from --activations)"
        )
    Ws = [arrays[f"W{l}"] for l in range(1, L + 1)]
    bs = [arrays[f"b{l}"] for l in range(1, L + 1)]
    return Ws, bs, arrays["X"], arrays["T"]


def _check_settings(args: argparse.Namespace, usage: Callable[[str], Exception]) -> None:
    """Refuse settings beyond the caps (``crosscheck.oracle.search.check_size``) or that ffnn
    refuses (unknown names, mismatched sizes), before any work."""
    from crosscheck.ffnn import Network
    from crosscheck.oracle.search import check_size

    if args.activations is None:
        raise usage("--activations is required (one per layer, e.g. tanh,identity)")
    if args.max_width is not None and args.sizes is not None:
        raise usage("--max-width does not go with --sizes: the widths are fixed")
    sizes = args.sizes if args.sizes is not None else (1,) * (len(args.activations) + 1)
    try:
        Network(sizes, args.activations, args.loss, args.weight_decay)
        check_size(args.sizes, len(args.activations), **_space(args))
    except (TypeError, ValueError) as error:
        raise usage(
            str(error)
            .replace("max_width", "--max-width")
            .replace("max_samples", "--max-samples")
            .replace("max_magnitude", "--max-magnitude")
        ) from None


def _space(args: argparse.Namespace) -> dict[str, float]:
    """check_gradients's max_width, max_samples and max_magnitude given on the command line."""
    given = {
        "max_width": args.max_width,
        "max_samples": args.max_samples,
        "max_magnitude": args.max_magnitude,
    }
    return {name: value for name, value in given.items() if value is not None}


SEARCH_FLAGS = ("activations", "loss", "sizes", "weight_decay", "layout", "weights")
"""Settings a saved failure fixes; given with --replay they must match it."""


def _check_replay_flags(
    args: argparse.Namespace, problem: Any, metadata: dict[str, Any], usage: Callable
) -> None:
    """Refuse search settings that contradict the saved failure (it fixes them all)."""
    network = problem[0]
    saved = {
        "activations": network.activations,
        "loss": network.loss,
        "sizes": network.sizes,
        "weight_decay": network.weight_decay,
        "layout": metadata["layout"],
        "weights": metadata["weights"],
    }
    defaults = {"loss": "squared_error", "weight_decay": 0.0, "layout": "columns"}
    defaults["weights"] = "out_in"
    for name in SEARCH_FLAGS:
        given = getattr(args, name)
        if given is None or (name in defaults and given == defaults[name]):
            continue  # not given (or the default): the saved value applies
        value = tuple(given) if isinstance(given, list | tuple) else given
        if value != saved[name]:
            flag = "--" + name.replace("_", "-")
            raise usage(
                f"{flag} {_flag_text(given)} contradicts the saved failure"
                f" ({_flag_text(saved[name])}); --replay reruns it with its own settings:"
                f" drop {flag}"
            )


def _flag_text(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)

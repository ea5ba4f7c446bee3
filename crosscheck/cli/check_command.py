"""The ``crosscheck check`` and ``crosscheck selftest`` subcommands (DESIGN §5 "CLI").

``crosscheck check MODULE:FUNCTION --activations tanh,identity ...`` runs
``crosscheck.check_gradients`` on someone else's backprop; MODULE is a module name (the
current directory is importable, as under pytest) or a path to a .py file.
``crosscheck selftest`` runs it on every catalogued bug (``crosscheck.oracle.catalogue``) and prints
the kill table. Exit status: 0 agrees (check) / every bug rejected (selftest), 1 a fault
found / a bug not rejected, 2 a usage error (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crosscheck.cli.common import (
    UsageError,
    non_negative_float,
    non_negative_int,
    parse_names,
    parse_sizes,
    positive_int,
)

CHECK_EPILOG = """\
FUNCTION is called as fn(Ws, bs, X, T) -> (dWs, dbs) or (J, dWs, dbs), Ws[l-1] = W^(l).
Default layout: X (S_0, N), T (S_L, N), W^(l) (S_l, S_{l-1}); --layout rows passes X (N, S_0),
T (N, S_L); --weights in_out passes W^(l) as (S_{l-1}, S_l). Bias gradients may be (S,),
(S, 1) or (1, S).
Precision: by default a function is judged in the precision it returns (float32 results
for float64 inputs: under float32's bound, with a note); --dtype float64 requires float64;
--dtype float32 hands it float32 inputs and judges it under float32's bound.
--problem FILE.npz checks your own problem instead of searching: arrays W1..WL, b1..bL,
X, T in the layout given by --layout and --weights (L from --activations).
Exit status: 0 agrees, 1 a fault found, 2 a usage error.
"""

SELFTEST_EPILOG = """\
Every catalogued bug is checked under the settings in which it shows. Exit status: 0 every
bug rejected, 1 some bug not rejected, 2 a usage error.
"""


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
    check.add_argument("--seed", type=non_negative_int, metavar="S", help="(default: random)")
    check.add_argument("--json", type=Path, metavar="PATH", help="also write the report as JSON")
    check.add_argument(
        "--save-failure", type=Path, metavar="DIR", help="write the failing example to DIR"
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
    selftest.add_argument("--json", type=Path, metavar="PATH", help="also write the table as JSON")
    selftest.set_defaults(run=run_selftest)


def run_check(args: argparse.Namespace) -> int:
    """``crosscheck check``: load the function, search (or replay), print, save, write JSON.

    Returns:
        0 if the function agrees, 1 if a fault was found.

    Raises:
        UsageError (``crosscheck.cli.common``): a bad target, module or function, settings ffnn
            refuses, unwritable --json or --save-failure, an unreadable --replay file;
            all checked before the search.
    """

    def usage(message: str) -> UsageError:
        return UsageError(f"crosscheck check: error: {message}")

    _check_output_paths(args, usage)
    with _importable_cwd():
        fn = load_function(args.target, usage)
        from crosscheck.oracle.failure_file import load_failure, save_failure
        from crosscheck.oracle.search import (
            GradientMismatch,
            check_example,
            check_gradients,
            check_problem,
        )

        if args.replay is not None and args.problem is not None:
            raise usage("give --replay or --problem, not both")
        if args.replay is not None:
            try:
                problem, metadata = load_failure(args.replay)
            except (TypeError, ValueError) as error:
                raise usage(f"--replay {args.replay}: {error}") from None
            _check_replay_flags(args, problem, metadata, usage)
            report = check_example(
                fn,
                problem,
                layout=metadata["layout"],
                weights=metadata["weights"],
                dtype=args.dtype or metadata.get("dtype"),
            )
        elif args.problem is not None:
            if args.sizes is not None:
                raise usage("--sizes does not go with --problem: the widths come from its arrays")
            _check_settings(args, usage)
            arrays = _problem_arrays(args.problem, len(args.activations), usage)
            try:
                report = check_problem(
                    fn,
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
        else:
            _check_settings(args, usage)
            try:
                report = check_gradients(
                    fn,
                    activations=args.activations,
                    loss=args.loss,
                    sizes=args.sizes,
                    weight_decay=args.weight_decay,
                    layout=args.layout,
                    weights=args.weights,
                    max_examples=args.max_examples,
                    seed=args.seed,
                    dtype=args.dtype,
                )
            except GradientMismatch as mismatch:
                report = mismatch.report
    console = _console()
    console.print(f"crosscheck check {args.target}", style="bold")
    console.print(report.render())
    if not report.agree and args.save_failure is not None:
        npz, meta = save_failure(report, args.save_failure, function=args.target)
        console.print(f"saved the example to {npz} and {meta}; rerun it with --replay {meta}")
    if args.json is not None:
        payload = {"function": args.target, **report.to_dict()}
        args.json.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
    return 0 if report.agree else 1


def run_selftest(args: argparse.Namespace) -> int:
    """``crosscheck selftest``: check every catalogued bug, print the kill table, write JSON.

    Returns:
        0 if every bug was rejected, 1 otherwise.

    Raises:
        UsageError (``crosscheck.cli.common``): an unwritable --json path (checked first).
    """

    def usage(message: str) -> UsageError:
        return UsageError(f"crosscheck selftest: error: {message}")

    if args.json is not None:
        _check_file(args.json, "--json", usage)
    from rich.console import Console

    from crosscheck.oracle.selftest import kill_table, run_catalogue

    progress = Console(stderr=True)
    if progress.is_terminal:
        with progress.status("starting") as status:
            rows = run_catalogue(args.max_examples, args.seed, lambda n: status.update(n))
    else:
        rows = run_catalogue(args.max_examples, args.seed)
    _console().print(kill_table(rows))
    if args.json is not None:
        rejected = all(row.rejected for row in rows)
        payload = {"all_rejected": rejected, "rows": [row.to_dict() for row in rows]}
        args.json.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
    return 0 if all(row.rejected for row in rows) else 1


def _console() -> Any:
    """A rich Console on stdout, at least WIDTH columns wide when not a terminal."""
    from rich.console import Console

    from crosscheck.oracle.report import WIDTH

    console = Console()
    return console if console.is_terminal else Console(width=WIDTH)


def load_function(target: str, usage: Callable[[str], Exception]) -> Callable[..., Any]:
    """Import ``MODULE:FUNCTION`` (MODULE a dotted name or a .py path; FUNCTION may be dotted).

    Raises:
        `usage`'s exception: no colon, a missing file, an import that fails (whatever the
            module raises), a missing or non-callable attribute.
    """
    module_name, colon, attribute = target.rpartition(":")
    if not colon or not module_name or not attribute:
        raise usage(f"expected MODULE:FUNCTION (e.g. mynet:backprop), got {target!r}")
    is_path = module_name.endswith(".py") or "/" in module_name or os.sep in module_name
    if is_path and not Path(module_name).is_file():
        raise usage(f"no such file: {module_name}")
    try:
        if is_path:
            module = _import_path(Path(module_name))
        else:
            module = importlib.import_module(module_name)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # whatever the module raises (SystemExit included)
        message = str(error).splitlines()[0] if str(error) else ""
        raise usage(f"cannot import {module_name}: {type(error).__name__}: {message}") from None
    found: Any = module
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise usage(f"{module_name} has no attribute {attribute!r}")
        found = getattr(found, part)
    if not callable(found):
        raise usage(f"{target} is a {type(found).__name__}, not a function")
    return found


def _import_path(path: Path) -> Any:
    """Import a .py file as module `path.stem`, its directory first on sys.path."""
    sys.path.insert(0, str(path.resolve().parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[path.stem]
        raise
    return module


@contextmanager
def _importable_cwd() -> Iterator[None]:
    """The current directory first on sys.path (as pytest does), restored afterwards."""
    saved = list(sys.path)
    sys.path.insert(0, os.getcwd())
    try:
        yield
    finally:
        sys.path[:] = saved


def _problem_arrays(
    path: Path, L: int, usage: Callable[[str], Exception]
) -> tuple[list[Any], list[Any], Any, Any]:
    """``--problem FILE.npz``: (Ws, bs, X, T) from arrays W1..WL, b1..bL, X, T.

    Raises:
        `usage`'s exception: an unreadable file, a missing array or one beyond L (named).
    """
    import numpy as np

    try:
        with np.load(path) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError) as error:
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
    """Refuse settings that ffnn refuses (unknown names, mismatched sizes), before any work."""
    from crosscheck.ffnn import Network

    if args.activations is None:
        raise usage("--activations is required (one per layer, e.g. tanh,identity)")
    sizes = args.sizes if args.sizes is not None else (1,) * (len(args.activations) + 1)
    try:
        Network(sizes, args.activations, args.loss, args.weight_decay)
    except (TypeError, ValueError) as error:
        raise usage(str(error)) from None


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


def _check_output_paths(args: argparse.Namespace, usage: Callable[[str], Exception]) -> None:
    if args.json is not None:
        _check_file(args.json, "--json", usage)
    if args.save_failure is not None:
        _check_directory(args.save_failure, usage)


def _check_directory(directory: Path, usage: Callable[[str], Exception]) -> None:
    """Create --save-failure's directory and a file in it now, to fail before the search;
    remove whatever this created."""
    if directory.exists() and not directory.is_dir():
        raise usage(f"--save-failure {directory}: it is not a directory")
    created = [p for p in [directory, *directory.parents] if not p.exists()]
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise usage(
            f"--save-failure {directory}: it cannot be written ({error.strerror})"
        ) from None
    finally:
        for path in created:
            if path.is_dir():
                path.rmdir()


def _check_file(path: Path, option: str, usage: Callable[[str], Exception]) -> None:
    parent = path.parent
    if path.is_dir():
        raise usage(f"{option} {path}: it is a directory")
    if not parent.is_dir():
        raise usage(f"{option} {path}: its directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise usage(f"{option} {path}: it is not writable")

"""The real ``crosscheck`` command, fuzzed: a battery of misbehaving functions under check
(tests/misbehaving.py) and of bad option values, each run in a subprocess bounded by the
test's own time limit. Every run ends with its exit status and one line that says what
happened — a verdict line (``AGREE: ...`` or ``FAULT (kind): ...``) or one usage error line
on stderr — and never with a traceback or a hang."""

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

CROSSCHECK = str(Path(sys.executable).parent / "crosscheck")
MISBEHAVING = str(Path(__file__).parent / "misbehaving.py")
RUN_LIMIT = 120
"""Seconds a single run may take before the test fails it as a hang."""

SEARCH = ["--activations", "tanh,identity", "--max-examples", "5", "--seed", "0"]

FUNCTIONS = {
    "correct": ([], 0, "AGREE"),
    "exits_0": ([], 1, "FAULT (exited): the worker process exited with status 0"),
    "exits_3": ([], 1, "FAULT (exited): the worker process exited with status 3"),
    "calls_sys_exit": ([], 1, "FAULT (raised): the function called sys.exit(0)"),
    "segfaults": ([], 1, "FAULT (crashed): the worker process was killed by signal SIGSEGV"),
    "aborts": ([], 1, "FAULT (crashed): the worker process was killed by signal SIGABRT"),
    "hangs": (["--timeout", "1"], 1, "FAULT (timeout): no result within 1 s"),
    "spins": (["--timeout", "1"], 1, "FAULT (timeout): no result within 1 s"),
    "raises_keyboard_interrupt": ([], 1, "FAULT (raised): KeyboardInterrupt"),
    "raises": ([], 1, "FAULT (raised): ValueError: boom"),
    "wrong_shapes": ([], 1, "FAULT (output): dWs["),
    "returns_nan": ([], 1, "FAULT (non-finite): ∂J/∂W^(1) has"),
    "mutates_inputs": ([], 1, "FAULT (mutation): mutates its inputs: it writes to X"),
    "returns_none": ([], 1, "FAULT (output): returned a NoneType"),
    "returns_a_generator": ([], 1, "FAULT (output): returned a generator"),
    "sleeps_then_correct": (["--timeout", "5"], 0, "AGREE"),
    "prints_a_lot": ([], 0, "AGREE"),
    "closes_its_streams": ([], 0, "AGREE"),
    "crashes_on_every_second_call": ([], 1, "FAULT (crashed): on the second call"),
    "hangs_on_second_call": (["--timeout", "1"], 1, "FAULT (timeout): on the second call"),
    "wrong_on_third_call": ([], 1, "FAULT (non-deterministic): two calls on the same input"),
    "in_float32": ([], 0, "AGREE"),
    "requires_float32": (["--dtype", "float32"], 0, "AGREE"),
}
"""function in tests/misbehaving.py: (extra options, exit status, the verdict line's start)."""

OUTPUTS = {"report": [], "json-stdout": ["--json", "-"]}
"""How the verdict comes out: the report on stdout, or JSON on stdout and the report on
stderr."""

STREAM_FUNCTIONS = (
    "correct",
    "exits_0",
    "segfaults",
    "hangs",
    "prints_a_lot",
    "closes_its_streams",
)
"""The functions run under every output (the others under the report alone): those that end
the worker or touch its streams, where a report and a JSON writer could be broken."""

FUNCTION_RUNS = [
    pytest.param(name, output, id=f"{name}-{output}")
    for name, output in itertools.product(FUNCTIONS, OUTPUTS)
    if output == "report" or name in STREAM_FUNCTIONS
]


def crosscheck(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The console script, run to its end within RUN_LIMIT seconds (else the test fails)."""
    return subprocess.run(
        [CROSSCHECK, *argv],
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT,
        check=False,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(("name", "output"), FUNCTION_RUNS)
def test_a_misbehaving_function_gets_its_verdict_line_and_exit_status(name, output):
    options, status, verdict = FUNCTIONS[name]
    done = crosscheck("check", f"{MISBEHAVING}:{name}", *SEARCH, *options, *OUTPUTS[output])
    report = done.stderr if output == "json-stdout" else done.stdout
    lines = [line for line in report.splitlines() if line.startswith(("AGREE", "FAULT"))]
    assert (done.returncode, len(lines), lines[0].startswith(verdict)) == (status, 1, True)
    assert "Traceback" not in done.stderr
    if output == "json-stdout":
        assert json.loads(done.stdout)["agree"] is (status == 0)
    else:
        assert done.stderr == ""


TIMEOUTS_BEYOND = ["1000001", "3e6", "1e10", "1e400"]
"""--timeout values past the cap (1e6 s): 3e6 and 1e10 ended in an OverflowError traceback
from the worker's wait (poll(2) takes at most 2**31 ms)."""

BAD_OPTIONS = {
    "check": (
        ["check", f"{MISBEHAVING}:correct", *SEARCH],
        {
            "--sizes": ["", "a,b", "3", "0,2,1", "-1,2,1", "2,3,4,1", "1000,1000000,1"],
            "--activations": ["foo,identity", "", ",".join(["tanh"] * 101)],
            "--loss": ["mse", "bogus"],
            "--weight-decay": ["-1", "nan", "inf", "lots"],
            "--layout": ["diagonal"],
            "--weights": ["in_in"],
            "--max-examples": ["0", "-5", "ten"],
            "--seed": ["-1", "x"],
            "--timeout": ["0", "-0", "-1", "nan", "inf", "soon", "1e-400", *TIMEOUTS_BEYOND],
            "--json": ["/proc/crosscheck.json", "{tmp}", "{tmp}/absent/r.json", ""],
            "--save-failure": ["/proc/failure", "-", "{tmp}/file", ""],
            "--replay": ["{tmp}/absent.json", "{tmp}/file"],
            "--problem": ["{tmp}/absent.npz", "{tmp}/file", "{tmp}"],
            "--dtype": ["float16", ""],
            "--bogus": [None],
        },
    ),
    "verify": (
        ["verify", "--dataset", "iris", "--samples", "6"],
        {
            "--sizes": ["a", "4,0,3"],
            "--activations": ["foo,bar"],
            "--loss": ["mse"],
            "--samples": ["0"],
            "--dtype": ["float16"],
            "--json": ["/proc/crosscheck.json", "{tmp}"],
            "--data": ["{tmp}/absent.npz", "{tmp}/file"],
            "--bogus": [None],
        },
    ),
    "bench": (
        ["bench", "--quick"],
        {
            "--out": ["-", "/proc/bench", "{tmp}/file"],
            "--json": ["/proc/b.json"],
            "--bogus": [None],
        },
    ),
    "selftest": (
        ["selftest"],
        {"--max-examples": ["0"], "--json": ["/proc/s.json", "{tmp}"], "--bogus": [None]},
    ),
}
"""command: (a valid command line, {option: bad values}); None: the option alone."""

BAD_RUNS = [
    pytest.param(command, option, value, id=f"{command}{option}={value}")
    for command, (_, options) in BAD_OPTIONS.items()
    for option, values in options.items()
    for value in values
]

BAD_TARGETS = ["no_colon", "missing.py:f", f"{MISBEHAVING}:absent", f"{MISBEHAVING}:ACTIVATIONS"]
BAD_COMMANDS = [[], ["bogus"], ["--bogus"], ["check"], ["check", "x:y", "z"]]


@pytest.mark.parametrize(("command", "option", "value"), BAD_RUNS)
def test_a_bad_option_value_is_one_usage_error_line_exit_2(command, option, value, tmp_path):
    (tmp_path / "file").write_text("not what the option wants")
    valid, _ = BAD_OPTIONS[command]
    bad = [option] if value is None else [f"{option}={value.replace('{tmp}', str(tmp_path))}"]
    done = crosscheck(*valid, *bad)
    _assert_usage_error(done)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", *TIMEOUTS_BEYOND])
def test_a_timeout_out_of_range_names_the_option_and_the_range(value):
    done = crosscheck("check", f"{MISBEHAVING}:correct", *SEARCH, f"--timeout={value}")
    assert (done.returncode, done.stdout, done.stderr) == (
        2,
        "",
        "crosscheck check: error: argument --timeout: must be a number of seconds > 0 and at"
        f" most 1e6, got {value!r}\n",
    )


def test_a_timeout_at_the_cap_runs_the_check():
    done = crosscheck("check", f"{MISBEHAVING}:correct", *SEARCH, "--timeout=1e6")
    assert (done.returncode, done.stderr) == (0, "")
    assert "ran in a worker process, 1e+06 s per call" in " ".join(done.stdout.split())
    assert done.stdout.count("AGREE: ") == 1


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_a_bad_target_is_one_usage_error_line_exit_2(target):
    _assert_usage_error(crosscheck("check", target, *SEARCH))


@pytest.mark.parametrize("argv", BAD_COMMANDS, ids=lambda argv: " ".join(argv) or "nothing")
def test_a_bad_command_line_is_one_usage_error_line_exit_2(argv):
    _assert_usage_error(crosscheck(*argv))


def _assert_usage_error(done: subprocess.CompletedProcess) -> None:
    """Exit status 2, nothing on stdout, one line on stderr: "crosscheck[ COMMAND]: error: ..."
    (argparse reports an unknown option as the top-level command's)."""
    assert (done.returncode, done.stdout, done.stderr.count("\n")) == (2, "", 1), done.stderr
    assert re.match(r"crosscheck( [a-z]+)?: error: ", done.stderr), done.stderr

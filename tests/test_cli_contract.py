"""One contract for every command (crosscheck.cli.common): output paths checked before any
work, ``--json -`` on standard output with the report on standard error, check's caps, and
Ctrl-C ending any command with one line and exit status 130."""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import crosscheck.bench.run
import crosscheck.oracle.selftest
import crosscheck.oracle.worker
from crosscheck.cli.main import main
from crosscheck.oracle.catalogue import MUTANTS
from crosscheck.oracle.search import MAX_LAYERS, MAX_PARAMETERS, check_size
from crosscheck.verify import verification

CROSSCHECK = str(Path(sys.executable).parent / "crosscheck")
MISBEHAVING = str(Path(__file__).parent / "misbehaving.py")
CHECK = ["check", f"{MISBEHAVING}:correct", "--activations", "tanh,identity", "--seed", "0"]
COMMANDS = {
    "verify": ["verify", "--dataset", "iris", "--samples", "6"],
    "check": [*CHECK, "--max-examples", "5"],
    "bench": ["bench", "--quick"],
    "selftest": ["selftest", "--max-examples", "5"],
}
"""A quick run of each command (bench and selftest with their work replaced: `no_work`)."""


def run(argv):
    """main(argv) with stdout and stderr captured: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def no_work(monkeypatch):
    """Every command's work replaced by a failure: what runs before it is checking alone."""

    def work(*args, **kwargs):
        raise AssertionError("the command started its work")

    monkeypatch.setattr(verification, "default_lineup", work)
    monkeypatch.setattr(crosscheck.oracle.worker, "Isolated", work)
    monkeypatch.setattr(crosscheck.bench.run, "run_bench", work)
    monkeypatch.setattr(crosscheck.oracle.selftest, "run_catalogue", work)


OUTPUT_PATHS = {
    "verify-json-proc": ("verify", ["--json", "/proc/crosscheck.json"], "--json /proc/"),
    "check-json-proc": ("check", ["--json", "/proc/crosscheck.json"], "--json /proc/"),
    "check-save-failure-proc": ("check", ["--save-failure", "/proc/failure"], "--save-failure"),
    "check-save-failure-stdout": ("check", ["--save-failure", "-"], "'-' (standard output)"),
    "bench-json-proc": ("bench", ["--json", "/proc/crosscheck.json"], "--json /proc/"),
    "bench-out-proc": ("bench", ["--out", "/proc/bench"], "--out /proc/bench"),
    "bench-out-stdout": ("bench", ["--out", "-"], "'-' (standard output)"),
    "selftest-json-proc": ("selftest", ["--json", "/proc/crosscheck.json"], "--json /proc/"),
    "verify-json-directory": ("verify", ["--json", "{tmp}"], "it is a directory"),
    "check-json-missing-directory": ("check", ["--json", "{tmp}/absent/r.json"], "not exist"),
    "bench-json-under-a-file": ("bench", ["--json", "{tmp}/file/r.json"], "is not a directory"),
    "selftest-json-directory": ("selftest", ["--json", "{tmp}"], "it is a directory"),
}


@pytest.mark.parametrize(
    ("command", "options", "message"), OUTPUT_PATHS.values(), ids=OUTPUT_PATHS.keys()
)
def test_an_unwritable_output_path_is_refused_before_any_work(
    no_work, tmp_path, command, options, message
):
    (tmp_path / "file").write_text("")
    before = sorted(tmp_path.iterdir())
    argv = COMMANDS[command] + [option.replace("{tmp}", str(tmp_path)) for option in options]
    status, out, err = run(argv)
    assert (status, out, err.count("\n"), message in err) == (2, "", 1, True)
    assert err.startswith(f"crosscheck {command}: error: ") or "argument" in err
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize("command", ["verify", "check", "selftest", "bench"])
def test_json_dash_writes_json_to_stdout_and_the_report_to_stderr(command, monkeypatch):
    if command == "selftest":
        monkeypatch.setattr(crosscheck.oracle.selftest, "CATALOGUE", (MUTANTS["sign_flipped"],))
    if command == "bench":
        tiny = crosscheck.bench.run.run_bench(quick=True, cases=_tiny_cases(), sweeps=False)
        monkeypatch.setattr(crosscheck.bench.run, "run_bench", lambda **kwargs: tiny)
    status, out, err = run([*COMMANDS[command], "--json", "-"])
    data = json.loads(out)
    assert (status, isinstance(data, dict), len(err) > 0) == (0, True, True)


def test_json_dash_report_on_stderr_reads_as_the_report_on_stdout():
    _, plain, _ = run(COMMANDS["check"])
    _, _, err = run([*COMMANDS["check"], "--json", "-"])
    assert err == plain


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--sizes", "1000,1000000,1000"], f"more than the cap of {MAX_PARAMETERS:.0e}"),
        (["--activations", ",".join(["tanh"] * 600)], f"more than the cap of {MAX_LAYERS}"),
    ],
    ids=["parameters", "layers"],
)
def test_check_refuses_a_search_beyond_its_caps(no_work, options, message):
    status, out, err = run([*CHECK, *options])
    assert (status, out, err.count("\n"), message in err) == (2, "", 1, True)


@pytest.mark.parametrize(
    ("sizes", "L"),
    [(None, MAX_LAYERS), ((1000, 998, 1), 2), ((1,) * (MAX_LAYERS + 1), MAX_LAYERS)],
    ids=["layers-at-cap", "parameters-at-cap", "widths-1-at-depth-cap"],
)
def test_a_search_at_the_caps_is_accepted(sizes, L):
    check_size(sizes, L)


def test_the_api_refuses_a_search_beyond_the_caps_before_any_call():
    with pytest.raises(ValueError, match="cap of 100"):
        check_size(None, MAX_LAYERS + 1)


def test_help_states_the_default_timeout_and_the_caps():
    from crosscheck.cli import check_command
    from crosscheck.cli.check_command import CHECK_EPILOG, DEFAULT_TIMEOUT_TEXT

    worker = crosscheck.oracle.worker
    assert float(DEFAULT_TIMEOUT_TEXT) == worker.DEFAULT_TIMEOUT
    assert (check_command.MAX_TIMEOUT, check_command.MAX_TIMEOUT_TEXT) == (
        worker.MAX_TIMEOUT,
        worker.MAX_TIMEOUT_TEXT,
    )
    assert f"at most {MAX_LAYERS} layers and {MAX_PARAMETERS:.0e}".replace("+0", "") in (
        CHECK_EPILOG.replace("\n", " ")
    )


# Ctrl-C: a real process, interrupted once it is at work.

WAITS = """\
import os, time
def backprop(Ws, bs, X, T):
    open({pid_file!r}, "w").write(str(os.getpid()))
    time.sleep(3600)
"""

INTERRUPTED = {
    "verify": ["verify", "--samples", "400"],
    "check": ["check", "{tmp}/waits.py:backprop", "--activations", "tanh"],
    "bench": ["bench", "--quick", "--out", "{tmp}/bench"],
    "selftest": ["selftest"],
}


@pytest.mark.parametrize("command", INTERRUPTED)
def test_ctrl_c_ends_any_command_with_one_line_and_status_130(command, tmp_path):
    pid_file = tmp_path / "worker.pid"
    (tmp_path / "waits.py").write_text(WAITS.format(pid_file=str(pid_file)))
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in INTERRUPTED[command]]
    process = subprocess.Popen(
        [CROSSCHECK, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_until_at_work(process, pid_file if command == "check" else None)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert (process.returncode, err) == (130, "crosscheck: interrupted\n")
    if command == "check":
        assert _ended(int(pid_file.read_text()))


def _wait_until_at_work(process: subprocess.Popen, pid_file: Path | None) -> None:
    """Poll until the command is at work: the function under check has written its pid
    (check), or NumPy, which every command imports only once it runs, is mapped."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if pid_file is not None:
            if pid_file.exists() and pid_file.read_text():
                return
        elif "_multiarray_umath" in Path(f"/proc/{process.pid}/maps").read_text():
            return
        time.sleep(0.05)
    raise AssertionError("the command did not start its work")


def _ended(pid: int) -> bool:
    """Whether process `pid` has ended (or is a zombie) within a minute."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.05)
    return False


def _tiny_cases():
    from crosscheck.bench.cases import case_by_name

    return (case_by_name("tiny"),)


SWALLOWS = """\
import importlib, time
check_command = importlib.import_module("crosscheck.cli.check_command")
cli_main = importlib.import_module("crosscheck.cli.main")

def swallowing(args):  # as Python does with an interrupt raised in a gc callback
    print("at work", flush=True)
    try:
        time.sleep(60)
    except KeyboardInterrupt:
        pass
    time.sleep(60)
    return 0

cli_main.GRACE_SECONDS = {grace}
check_command.run_selftest = swallowing
raise SystemExit(cli_main.main(["selftest"]))
"""


@pytest.mark.parametrize("grace", [0.5, 120], ids=["lost-and-stuck", "lost-then-returns"])
def test_a_lost_interrupt_still_ends_with_one_line_and_status_130(grace, tmp_path):
    """A KeyboardInterrupt that Python swallows (in a garbage-collector callback, where
    hypothesis times its collections) once let ``selftest`` run on and exit 0."""
    script = SWALLOWS.format(grace=grace)
    if grace > 60:  # the command returns by itself: its status is still 130
        script = script.replace("    time.sleep(60)\n    return 0", "    return 0")
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout.readline() == "at work\n"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert (process.returncode, err) == (130, "crosscheck: interrupted\n")

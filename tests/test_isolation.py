"""The function under check in a worker process (crosscheck.oracle.worker): what it does to
its process is a finding with the worker's last output, never the checker's end; where it
runs (isolate=), its time limit (timeout=), and how the worker imports it."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from crosscheck import GradientMismatch, check_gradients, check_problem
from crosscheck.oracle.calling import InProcess
from crosscheck.oracle.report import report_text
from crosscheck.oracle.search import check_example
from crosscheck.oracle.worker import DEFAULT_TIMEOUT, MAX_TIMEOUT, Isolated, LoadError, Target
from crosscheck.strategies import Problem

import misbehaving

SETTINGS = {"activations": misbehaving.ACTIVATIONS, "max_examples": 10, "seed": 0}


def mismatch(fn, **settings):
    """The report of a check that must fail."""
    with pytest.raises(GradientMismatch) as caught:
        check_gradients(fn, **{**SETTINGS, **settings})
    return caught.value.report


@pytest.mark.parametrize(
    ("fn", "kind", "fragment"),
    [
        (misbehaving.exits_0, "exited", "exited with status 0 during the call"),
        (misbehaving.exits_3, "exited", "exited with status 3 during the call"),
        (misbehaving.segfaults, "crashed", "killed by signal SIGSEGV"),
        (misbehaving.aborts, "crashed", "killed by signal SIGABRT"),
        (misbehaving.hangs, "timeout", "no result within 0.5 s"),
        (misbehaving.spins, "timeout", "no result within 0.5 s"),
        (misbehaving.raises_keyboard_interrupt, "raised", "KeyboardInterrupt (/"),
        (misbehaving.calls_sys_exit, "raised", "the function called sys.exit(0)"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_what_ends_the_worker_is_a_finding_naming_it(fn, kind, fragment):
    report = mismatch(fn, timeout=0.5)
    assert (report.finding.kind, fragment in report.finding.message) == (kind, True)


@pytest.mark.parametrize(
    ("fn", "output"),
    [
        (misbehaving.exits_0, "about to exit"),
        (misbehaving.segfaults, "about to read address 0"),
        (misbehaving.aborts, "Fatal Python error: Aborted"),
    ],
    ids=["print-before-exit", "print-before-segfault", "faulthandler"],
)
def test_the_finding_quotes_the_workers_last_output(fn, output):
    assert output in mismatch(fn).finding.message


def test_the_segfault_quote_names_the_functions_own_line():
    message = mismatch(misbehaving.segfaults).finding.message
    assert 'misbehaving.py", line' in message and "in segfaults" in message


@pytest.mark.parametrize(
    "fn",
    [misbehaving.prints_a_lot, misbehaving.closes_its_streams, misbehaving.sleeps_then_correct],
    ids=lambda fn: fn.__name__,
)
def test_a_function_that_floods_or_closes_its_streams_is_judged_by_its_gradients(fn, capfd):
    report = check_gradients(fn, **SETTINGS)
    assert (report.agree, capfd.readouterr()) == (True, ("", ""))


def test_a_hang_ends_the_search_on_the_example_it_hung_on():
    report = mismatch(misbehaving.hangs, timeout=0.5)
    assert (report.examples_run, report.shrunk, report.example is not None) == (1, False, True)


def test_a_hang_is_reported_as_the_example_that_timed_out_not_as_unreproduced():
    text = report_text(mismatch(misbehaving.hangs, timeout=0.5))
    assert "Example on which the call timed out (not re-run, so not shrunk)" in text


def test_after_a_crash_the_worker_is_replaced_and_the_search_shrinks():
    report = mismatch(misbehaving.crashes_at_two_samples, max_examples=100)
    assert (report.finding.kind, report.example.X.shape[1], report.shrunk) == ("crashed", 2, True)


def test_a_crash_on_the_second_call_is_a_crash_not_nondeterminism():
    misbehaving._calls.clear()  # the worker's own copy counts its calls; this is its state here
    report = mismatch(misbehaving.crashes_on_every_second_call)
    assert report.finding.kind == "crashed"
    assert report.finding.message.startswith("on the second call on the same input:")


def test_a_replayed_example_that_crashes_is_a_finding():
    replayed = check_example(misbehaving.segfaults, _problem())
    assert (replayed.agree, replayed.finding.kind) == (False, "crashed")


def test_an_importable_function_runs_in_a_worker_with_the_default_limit():
    report = check_gradients(misbehaving.correct, **SETTINGS)
    assert report.settings.isolation == f"in a worker process, {DEFAULT_TIMEOUT:g} s per call"


def test_a_closure_runs_in_this_process_and_the_report_says_why():
    base = misbehaving.correct

    def closure(Ws, bs, X, T):
        return base(Ws, bs, X, T)

    report = check_gradients(closure, **SETTINGS)
    assert report.settings.isolation.startswith("in this process (not importable by the worker")


def test_isolate_false_runs_in_this_process():
    report = check_gradients(misbehaving.correct, isolate=False, **SETTINGS)
    assert report.settings.isolation == "in this process (isolate=False)"


def test_isolate_true_refuses_a_closure_before_any_call():
    calls = []

    def closure(Ws, bs, X, T):
        calls.append(1)

    with pytest.raises(TypeError, match="isolate=True, but fn cannot run in a worker process"):
        check_gradients(closure, isolate=True, **SETTINGS)
    assert calls == []


@pytest.mark.parametrize(
    ("argument", "value", "error"),
    [
        ("timeout", 0, ValueError),
        ("timeout", -1.0, ValueError),
        ("timeout", float("nan"), ValueError),
        ("timeout", float("inf"), ValueError),
        ("timeout", -0.0, ValueError),
        ("timeout", 1e10, ValueError),
        ("timeout", 3e6, ValueError),
        ("timeout", MAX_TIMEOUT + 1, ValueError),
        ("timeout", 10**400, ValueError),
        ("timeout", Fraction(1, 10**400), ValueError),
        ("timeout", np.float64(2e6), ValueError),
        ("timeout", "5", TypeError),
        ("timeout", True, TypeError),
        ("timeout", 1j, TypeError),
        ("isolate", "yes", TypeError),
        ("isolate", 1, TypeError),
    ],
)
def test_bad_timeout_or_isolate_is_refused_by_name(argument, value, error):
    with pytest.raises(error, match=argument):
        check_gradients(misbehaving.correct, **SETTINGS, **{argument: value})


def _check_gradients(fn, timeout):
    return check_gradients(fn, **SETTINGS, timeout=timeout)


def _check_example(fn, timeout):
    return check_example(fn, _problem(), timeout=timeout)


def _check_problem(fn, timeout):
    problem = _problem()
    Ws = [layer.W for layer in problem.params]
    bs = [layer.b for layer in problem.params]
    return check_problem(
        fn, Ws, bs, problem.X, problem.T, activations=misbehaving.ACTIVATIONS, timeout=timeout
    )


CHECKS = [_check_gradients, _check_example, _check_problem]
"""Every API entry that takes a timeout (the pytest fixture check_backprop is
check_gradients)."""


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__[1:])
@pytest.mark.parametrize("timeout", [0, float("nan"), 3e6, 1e10], ids=str)
def test_every_api_entry_refuses_a_timeout_out_of_range_before_any_call(check, timeout):
    calls = []

    def counted(Ws, bs, X, T):
        calls.append(1)
        return misbehaving.correct(Ws, bs, X, T)

    message = "timeout must be a number of seconds > 0 and at most 1e6 (or None: no limit)"
    with pytest.raises(ValueError, match=re.escape(message)):
        check(counted, timeout)
    assert calls == []


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__[1:])
def test_every_api_entry_accepts_the_cap(check):
    """1e6 s reaches the worker's wait (2e6 and more raised OverflowError there)."""
    report = check(misbehaving.correct, MAX_TIMEOUT)
    assert (report.agree, report.settings.isolation) == (
        True,
        "in a worker process, 1e+06 s per call",
    )


def test_a_timeout_under_a_millisecond_is_taken_as_one():
    report = check_example(misbehaving.correct, _problem(), timeout=1e-9)
    assert report.settings.isolation == "in a worker process, 0.001 s per call"


def test_isolated_itself_refuses_a_timeout_out_of_range():
    with pytest.raises(ValueError, match="at most 1e6"):
        Isolated(Target.from_function(misbehaving.correct), timeout=1e10)


def test_the_consistency_check_calls_through_the_worker_eq_2_16():
    from crosscheck.oracle.catalogue import MUTANTS

    report = mismatch(MUTANTS["summed_over_samples"].function())
    assert report.settings.isolation.startswith("in a worker process")
    assert report.consistency.verdict == "consistent"


def test_a_keyboard_interrupt_in_this_process_is_the_users():
    def interrupted(Ws, bs, X, T):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check_gradients(interrupted, **SETTINGS)


def test_in_process_outcome_reads_the_same_as_the_workers():
    problem = _problem()
    in_process = InProcess(misbehaving.wrong_shapes).attempt(_adapter(), *problem[1:])
    with Isolated(Target.from_function(misbehaving.wrong_shapes)) as worker:
        worker.load()
        isolated = worker.attempt(_adapter(), *problem[1:])
    np.testing.assert_array_equal(in_process.returned.grads[0].W, isolated.returned.grads[0].W)
    assert (in_process.kind, in_process.message) == (isolated.kind, isolated.message)


# How the worker imports a MODULE:FUNCTION target.

GOOD = (
    "from crosscheck.oracle.catalogue import Backprop\n"
    "backprop = Backprop(('tanh', 'identity'), 'squared_error', 0.0)\n"
)


NAMES = ["crosscheck", "ffnn", "vectorized", "reference", "autodiff_oracle"]
"""The suite's own package names, which a user's file may share."""

DECOY = "raise ImportError('the user file {name}.py was imported in place of a module')\n"


def crosscheck_check(cwd, *argv, limit=120):
    """``crosscheck check ...`` (the console script) in `cwd`, its stdout and stderr pipes read
    to their end within `limit` seconds: (exit status, stdout, stderr)."""
    search = ["--activations", "tanh,identity", "--max-examples", "3", "--seed", "0"]
    done = subprocess.run(
        [str(Path(sys.executable).parent / "crosscheck"), "check", *argv, *search],
        capture_output=True,
        text=True,
        timeout=limit,
        check=False,
        cwd=cwd,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("form", ["{name}.py:backprop", "{name}:backprop"], ids=["path", "module"])
def test_check_takes_a_user_file_of_any_name(tmp_path, name, form):
    (tmp_path / f"{name}.py").write_text(GOOD)
    status, out, err = crosscheck_check(tmp_path, form.format(name=name))
    assert (status, "AGREE" in out, err) == (0, True, "")


@pytest.mark.parametrize("name", NAMES)
def test_a_user_file_named_like_a_suite_module_is_never_imported_in_its_place(tmp_path, name):
    (tmp_path / f"{name}.py").write_text(DECOY.format(name=name))
    (tmp_path / "mynet.py").write_text(GOOD)
    status, out, err = crosscheck_check(tmp_path, "mynet:backprop")
    assert (status, "AGREE" in out, err) == (0, True, "")


@pytest.mark.parametrize("name", [name for name in NAMES if name != "crosscheck"])
def test_the_users_own_import_of_a_suite_name_gets_the_users_file(tmp_path, name):
    (tmp_path / f"{name}.py").write_text(GOOD)
    (tmp_path / "mynet.py").write_text(f"from {name} import backprop\n")
    status, out, err = crosscheck_check(tmp_path, "mynet:backprop")
    assert (status, "AGREE" in out, err) == (0, True, "")


def test_the_users_own_import_of_crosscheck_gets_the_checker_a_usage_error(tmp_path):
    """The one name a user module cannot import its sibling file by: the worker runs on the
    crosscheck package. Checking that file itself works (above); importing it says why not."""
    (tmp_path / "crosscheck.py").write_text(GOOD)
    (tmp_path / "mynet.py").write_text("from crosscheck import backprop\n")
    status, out, err = crosscheck_check(tmp_path, "mynet:backprop")
    assert (status, out, err.count("\n")) == (2, "", 1)
    assert "cannot import mynet: ImportError: cannot import name 'backprop'" in err


def test_the_users_own_import_gets_the_users_file(tmp_path, monkeypatch):
    (tmp_path / "vectorized.py").write_text(GOOD + "J_OFFSET = 7.0\n")
    (tmp_path / "mynet.py").write_text(
        "import vectorized\n"
        "def backprop(Ws, bs, X, T):\n"
        "    J, dWs, dbs = vectorized.backprop(Ws, bs, X, T)\n"
        "    return J + vectorized.J_OFFSET, dWs, dbs\n"
    )
    monkeypatch.chdir(tmp_path)
    problem = _problem()
    with Isolated(Target.from_spec("mynet:backprop")) as worker:
        worker.load()
        theirs = worker.attempt(_adapter(), *problem[1:]).returned.J
    ours = InProcess(misbehaving.correct).attempt(_adapter(), *problem[1:]).returned.J
    assert theirs == ours + 7.0


def test_a_module_that_crashes_on_import_is_a_load_error(tmp_path):
    path = tmp_path / "crashing.py"
    path.write_text("import os\nprint('importing')\nos._exit(4)\n")
    with Isolated(Target.from_spec(f"{path}:f")) as worker, pytest.raises(LoadError) as caught:
        worker.load()
    assert "exited with status 4" in str(caught.value) and "importing" in str(caught.value)


def test_checking_leaves_this_process_import_path_and_modules_alone(tmp_path, monkeypatch):
    (tmp_path / "isolated_user_module.py").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    path = list(sys.path)
    with Isolated(Target.from_spec("isolated_user_module:backprop")) as worker:
        worker.load()
    assert (sys.path, "isolated_user_module" in sys.modules) == (path, False)


def test_a_script_without_a_main_guard_is_not_run_again_in_the_worker(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        "import misbehaving\n"
        "from crosscheck import check_gradients\n"
        "report = check_gradients(misbehaving.correct, activations=misbehaving.ACTIVATIONS,"
        " max_examples=3, seed=0)\n"
        "print('ran', report.settings.isolation)\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(Path(misbehaving.__file__).parent)}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=environment
    )
    assert (done.returncode, done.stdout) == (
        0,
        f"ran in a worker process, {DEFAULT_TIMEOUT:g} s per call\n",
    )


def test_the_worker_ends_with_the_checker(tmp_path):
    """A checker killed outright (SIGKILL, no clean-up) takes its worker with it."""
    pid_file = tmp_path / "worker.pid"
    (tmp_path / "waits.py").write_text(
        "import os, time\n"
        "def backprop(Ws, bs, X, T):\n"
        f"    open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "    time.sleep(3600)\n"
    )
    checker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crosscheck",
            "check",
            f"{tmp_path}/waits.py:backprop",
            "--activations=tanh",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = int(_wait_for(pid_file, checker).read_text())
    checker.kill()
    checker.wait(timeout=60)
    assert _ends(worker)


LEAVES_A_CHILD = """\
import os, time
from crosscheck.oracle.catalogue import Backprop
_backprop = Backprop(('tanh', 'identity'), 'squared_error', 0.0)
def backprop(Ws, bs, X, T):
    child = os.fork()
    if child == 0:  # the child sleeps 30 s
        {escape}
        time.sleep(30)
        os._exit(0)
    with open({pid_file!r}, 'a') as pids:
        pids.write(f'{{child}}\\n')
    return _backprop(Ws, bs, X, T)
def backprop_then_exit(Ws, bs, X, T):
    backprop(Ws, bs, X, T)
    os._exit(3)
"""
"""A correct backprop that leaves a child behind on every call, sleeping 30 s; `escape`
"os.setsid()" makes the child leave the worker's session and process group. The same, then
the worker's end."""


@pytest.mark.parametrize("escape", ["pass", "os.setsid()"], ids=["in-the-group", "own-session"])
def test_a_child_the_function_leaves_behind_holds_no_stream_of_the_checker(tmp_path, escape):
    """The child inherits the worker's descriptors: none may be, or keep alive a process that
    holds, the checker's stdout and stderr (the forkserver's "alive" pipe and the resource
    tracker's pipe held it open 40 s). The checker's stdout here is a pipe read to its end:
    it must end well before the children would (30 s), with the function's verdict."""
    pid_file = tmp_path / "children.pid"
    source = LEAVES_A_CHILD.format(pid_file=str(pid_file), escape=escape)
    (tmp_path / "leaves_a_child.py").write_text(source)
    started = time.monotonic()
    try:
        status, out, err = crosscheck_check(tmp_path, "leaves_a_child.py:backprop", limit=20)
        elapsed = time.monotonic() - started
    finally:
        children = [int(pid) for pid in pid_file.read_text().split()]
    try:
        assert (status, out.count("AGREE: "), err) == (0, 1, "")
        assert elapsed < 15
        if escape == "pass":  # the worker's process group is killed when the check ends
            assert all(_ends(child, limit=10) for child in children)
    finally:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)


@pytest.mark.parametrize(
    ("function", "kind"), [("backprop", None), ("backprop_then_exit", "exited")]
)
def test_the_children_the_function_leaves_end_with_its_worker(
    tmp_path, monkeypatch, function, kind
):
    """The worker's process group is killed when the check ends (the worker closed), or when
    the worker has ended and is replaced: a child it left is killed with it."""
    pid_file = tmp_path / "children.pid"
    source = LEAVES_A_CHILD.format(pid_file=str(pid_file), escape="pass")
    (tmp_path / "leaves_a_child.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    with Isolated(Target.from_spec(f"leaves_a_child.py:{function}")) as worker:
        worker.load()
        outcome = worker.attempt(_adapter(), *_problem()[1:])
        child = int(pid_file.read_text())
        assert outcome.kind == kind
        if kind is None:  # the worker serves on: so does the child, until the check ends
            assert _running(child)
        else:  # the worker ended: its group was killed at once, not at the check's end
            assert _ends(child, limit=10)
    assert _ends(child, limit=10)


def _wait_for(path: Path, process: subprocess.Popen, limit: float = 120.0) -> Path:
    """`path` once it holds something (polling; fails if `process` ends first)."""
    deadline = time.monotonic() + limit
    while not (path.exists() and path.read_text()):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    return path


def _running(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _ends(pid: int, limit: float = 60.0) -> bool:
    """Whether process `pid` ends (or is left a zombie) within `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except (ProcessLookupError, FileNotFoundError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return False


def _problem() -> Problem:
    from crosscheck.ffnn import Network, init_params

    network = Network((3, 2, 1), misbehaving.ACTIVATIONS, "squared_error", 0.0)
    X = np.linspace(-1, 1, 6).reshape(3, 2)
    return Problem(network, init_params(network), X, np.zeros((1, 2)))


def _adapter():
    from crosscheck.oracle.layouts import Adapter

    return Adapter()

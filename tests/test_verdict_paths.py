"""A fault seen is a fault (DESIGN §5 "Verdict rules"): a function wrong on a random fraction of
its calls never ends in AGREE, exit 0 or a passing test once any call has been wrong — through
the API (``check_gradients``), the CLI (``crosscheck check``: report, JSON, exit status) and
the pytest plugin (``check_backprop``).

The function under test draws its wrongness from ``os.urandom``, so no seed can predict it,
and logs every wrong call to a file: the verdict must be a fault exactly when the log is not
empty (an offset of 1 on every ∂J/∂W^(l) entry is never invisible, so a fault verdict also
needs a wrong call).
"""

from __future__ import annotations

import contextlib
import io
import json
import uuid

import numpy as np
import pytest

from crosscheck import GradientMismatch, check_gradients
from crosscheck.cli.main import main
from crosscheck.oracle.catalogue import Backprop
from crosscheck.oracle.search import RERUNS, check_example
from crosscheck.strategies import Problem

pytest_plugins = ["pytester"]

SOMETIMES_WRONG = """
import os

from crosscheck.oracle.catalogue import Backprop

correct = Backprop(("tanh", "identity"), "squared_error", 0.0)


def sometimes_wrong(Ws, bs, X, T):
    J, dWs, dbs = correct(Ws, bs, X, T)
    if int.from_bytes(os.urandom(4), "little") < {fraction!r} * 2**32:
        with open({log!r}, "a") as log:
            log.write("wrong\\n")
        dWs = [dW + 1.0 for dW in dWs]  # never invisible
    return J, dWs, dbs
"""

FRACTIONS = (0.05, 0.3, 0.8)
"""Fractions of wrong calls: rare (often unseen in a short search), frequent, most."""

RUNS = range(4)
"""Independent runs per path and fraction (the function's wrongness is unpredictable)."""

SETTINGS = {"activations": ("tanh", "identity"), "max_examples": 8}


@pytest.fixture
def sometimes_wrong(tmp_path, monkeypatch, request):
    """(module name, log path): a module in tmp_path (the current directory) whose
    ``sometimes_wrong`` is wrong on a fraction of calls, logged to the file."""
    fraction = request.param
    name = f"sometimes_{uuid.uuid4().hex}"
    log = tmp_path / "wrong_calls.log"
    (tmp_path / f"{name}.py").write_text(SOMETIMES_WRONG.format(fraction=fraction, log=str(log)))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name, log


def _wrong_calls(log) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("sometimes_wrong", FRACTIONS, indirect=True)
def test_api_raises_exactly_when_some_call_was_wrong(sometimes_wrong, run):
    name, log = sometimes_wrong
    fn = __import__(name).sometimes_wrong
    try:
        report = check_gradients(fn, **SETTINGS)
    except GradientMismatch as mismatch:
        report = mismatch.report
        assert not report.agree and report.sighting is not None
    assert report.agree == (_wrong_calls(log) == 0)


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("sometimes_wrong", FRACTIONS, indirect=True)
def test_cli_report_json_and_exit_status_agree_with_the_calls(sometimes_wrong, run, tmp_path):
    name, log = sometimes_wrong
    path = tmp_path / "report.json"
    argv = ["check", f"{name}:sometimes_wrong", "--activations", "tanh,identity"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main([*argv, "--max-examples", "8", "--json", str(path)])
    wrong = _wrong_calls(log) > 0
    verdict = json.loads(path.read_text())
    assert (status, verdict["agree"], "AGREE" in out.getvalue()) == (
        (1, False, False) if wrong else (0, True, True)
    )


HOST_TEST = """
from {module} import sometimes_wrong


def test_backprop(check_backprop):
    check_backprop(sometimes_wrong, activations=("tanh", "identity"), max_examples=8)
"""


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("sometimes_wrong", FRACTIONS, indirect=True)
def test_plugin_test_fails_exactly_when_some_call_was_wrong(sometimes_wrong, run, pytester):
    name, log = sometimes_wrong
    (pytester.path / f"{name}.py").write_text((log.parent / f"{name}.py").read_text())
    pytester.makepyfile(test_host=HOST_TEST.format(module=name))
    outcome = pytester.runpytest_inprocess("-p", "no:cacheprovider").parseoutcomes()
    wrong = _wrong_calls(log) > 0
    assert outcome == ({"failed": 1} if wrong else {"passed": 1})


def _wrong_on_call(*calls: int):
    """A correct backprop that returns ∂J/∂W + 1 on the given calls (1-based) only."""
    correct = Backprop(("tanh", "identity"), "squared_error", 0.0)
    count = []

    def fn(Ws, bs, X, T):
        count.append(1)
        J, dWs, dbs = correct(Ws, bs, X, T)
        return J, [dW + 1.0 if len(count) in calls else dW for dW in dWs], dbs

    return fn, count


def test_a_fault_on_the_first_call_only_is_a_fault_with_where_it_was_seen():
    fn, _ = _wrong_on_call(1)
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(fn, **SETTINGS, seed=0)
    sighting = raised.value.report.sighting
    assert (sighting.example, sighting.call, sighting.kind) == (1, 1, "non-deterministic")
    assert (sighting.reruns, sighting.reappeared) == (RERUNS, 0)


def test_report_says_how_often_the_fault_reappeared():
    fn, _ = _wrong_on_call(1)
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(fn, **SETTINGS, seed=0)
    text = str(raised.value.report)
    assert "First seen on example 1, call 1 of the function (non-deterministic)." in text
    assert "failed again on 0 of them" in text


def test_json_carries_the_sighting():
    fn, _ = _wrong_on_call(3)  # example 2's first call
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(fn, **SETTINGS, seed=0)
    data = raised.value.report.to_dict()
    assert (data["agree"], data["sighting"]) == (
        False,
        {
            "example": 2,
            "call": 3,
            "kind": "non-deterministic",
            "reruns": RERUNS,
            "reappeared": 0,
            "limited": "",
        },
    )


def test_check_example_runs_a_given_example_until_a_fault_shows_eq_2_14():
    network_problem = _problem()
    fn, _ = _wrong_on_call(7)  # the 4th run's first call
    report = check_example(fn, network_problem)
    assert (report.agree, report.sighting.call, report.sighting.example) == (False, 7, 1)


def test_check_example_of_a_correct_function_agrees_after_every_run():
    fn, count = _wrong_on_call()
    report = check_example(fn, _problem())
    assert (report.agree, report.calls, len(count)) == (True, 2 * (1 + RERUNS), 2 * (1 + RERUNS))


def _problem() -> Problem:
    from crosscheck.ffnn import Network, init_params

    network = Network((2, 3, 1), ("tanh", "identity"))
    rng = np.random.default_rng(0)
    return Problem(
        network,
        init_params(network, seed=0),
        rng.standard_normal((2, 4)),
        rng.standard_normal((1, 4)),
    )

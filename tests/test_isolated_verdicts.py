"""Verdicts (issue 11) on a function run in a worker process (issue 12): judged in the
precision it computes in across the worker's round trip, a fault seen on any call final
there too, a hang or crash on any call a fault naming the call, and such examples re-run
fewer times (``crosscheck.oracle.search._rerun``). The functions are tests/misbehaving.py's;
each check starts a new worker, so their call counters start at 0."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from crosscheck import GradientMismatch, check_gradients, check_problem
from crosscheck.cli.main import main
from crosscheck.ffnn import Network, init_params
from crosscheck.oracle.search import PROCESS_RERUNS, RERUNS, check_example
from crosscheck.strategies import Problem

import misbehaving

SETTINGS = {"activations": misbehaving.ACTIVATIONS, "max_examples": 10, "seed": 0}
WORKER = "in a worker process"


def _problem() -> Problem:
    """A 3-2-1 tanh-identity problem, X (3, 4), T (1, 4), float64."""
    network = Network((3, 2, 1), misbehaving.ACTIVATIONS)
    rng = np.random.default_rng(0)
    X, T = rng.standard_normal((3, 4)), rng.standard_normal((1, 4))
    return Problem(network, tuple(init_params(network, seed=0)), X, T)


def _arrays() -> tuple[list, list, np.ndarray, np.ndarray]:
    """``_problem``'s Ws, bs, X, T, suite layout."""
    _, params, X, T = _problem()
    return [p.W for p in params], [p.b for p in params], X, T


def test_float32_inputs_reach_a_function_in_the_worker_under_dtype_float32():
    fn = misbehaving.requires_float32
    report = check_gradients(fn, dtype="float32", isolate=True, **SETTINGS)
    assert (report.agree, report.settings.isolation.startswith(WORKER)) == (True, True)
    assert (report.precision.inputs, report.precision.judged) == ("float32", "float32")


def test_float32_results_keep_their_dtype_across_the_worker_and_are_judged_as_float32():
    """Returned.dtype survives the worker's pickle: float32 code handed float64 is judged
    under float32's bound, as in this process, not as float32_accumulation."""
    report = check_gradients(misbehaving.in_float32, isolate=True, **SETTINGS)
    precision = report.precision
    assert (report.agree, precision.inputs, precision.returned, precision.judged) == (
        True,
        "float64",
        "float32",
        "float32",
    )


def test_float32_results_where_float64_was_asked_fail_in_the_worker():
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(misbehaving.in_float32, dtype="float64", isolate=True, **SETTINGS)
    report = raised.value.report
    assert report.settings.isolation.startswith(WORKER)
    assert "computes in float32 where float64 was asked" in report.finding.message


def test_a_fault_on_one_call_in_the_worker_is_final_through_the_cli(tmp_path):
    """The worker's third call is wrong, every later one right: still FAULT, exit 1, and
    JSON saying where it was seen (example 2, call 3) and that the re-runs did not show it."""
    path = tmp_path / "report.json"
    argv = ["check", f"{misbehaving.__file__}:wrong_on_third_call", "--activations"]
    argv += ["tanh,identity", "--max-examples", "8", "--seed", "0", "--json", str(path)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(argv)
    data = json.loads(path.read_text())
    assert (status, data["agree"], "AGREE" in out.getvalue()) == (1, False, False)
    assert data["settings"]["isolation"].startswith(WORKER)
    sighting = data["sighting"]
    assert (sighting["example"], sighting["call"], sighting["reruns"], sighting["reappeared"]) == (
        2,
        3,
        RERUNS,
        0,
    )


def test_a_hang_on_the_second_call_only_is_a_timeout_naming_call_2():
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(misbehaving.hangs_on_second_call, timeout=0.5, isolate=True, **SETTINGS)
    report = raised.value.report
    assert report.finding.kind == "timeout"
    assert report.finding.message.startswith("on the second call on the same input: no result")
    sighting = report.sighting
    assert (sighting.example, sighting.call, sighting.kind) == (1, 2, "timeout")


def test_a_timeout_is_not_run_again_and_the_report_says_why():
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(misbehaving.hangs_on_second_call, timeout=0.5, isolate=True, **SETTINGS)
    report = raised.value.report
    assert (report.sighting.reruns, report.calls) == (0, 2)
    text = "Not run again (each run of a timeout would wait out the time limit again)."
    assert text in report.sighting.text


def test_check_problem_with_a_crashing_function_is_a_crashed_finding():
    report = check_problem(
        misbehaving.segfaults, *_arrays(), activations=misbehaving.ACTIVATIONS, isolate=True
    )
    assert (report.agree, report.finding.kind, report.settings.isolation.startswith(WORKER)) == (
        False,
        "crashed",
        True,
    )


def test_a_crash_is_run_again_process_reruns_times_and_the_report_says_why():
    report = check_problem(misbehaving.aborts, *_arrays(), activations=misbehaving.ACTIVATIONS)
    sighting = report.sighting
    assert (sighting.reruns, sighting.reappeared) == (PROCESS_RERUNS, PROCESS_RERUNS)
    assert "each run after an exit or crash restarts the worker process" in sighting.text


def test_check_example_of_a_hang_on_the_second_call_is_a_timeout_naming_call_2():
    report = check_example(misbehaving.hangs_on_second_call, _problem(), timeout=0.5)
    assert (report.finding.kind, report.sighting.call, report.sighting.reruns) == ("timeout", 2, 0)


def test_cli_problem_with_a_crashing_function_exits_1(tmp_path):
    path = tmp_path / "problem.npz"
    Ws, bs, X, T = _arrays()
    np.savez(path, W1=Ws[0], W2=Ws[1], b1=bs[0], b2=bs[1], X=X, T=T)
    argv = ["check", f"{misbehaving.__file__}:segfaults", "--activations", "tanh,identity"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main([*argv, "--problem", str(path)])
    assert (status, "FAULT (crashed)" in out.getvalue()) == (1, True)

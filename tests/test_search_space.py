"""The space ``check`` searches: widths in 1..max_width, N in 1..max_samples at any widths
(fixed ones included), stated in every report, validated before any call.

A product budget once held N at 1 for fixed sizes such as 64,32,10, where a fault that N = 1
hides (a missing 1/N) passed: AGREE, exit 0. Every catalogued bug that only N = 1 hides is
caught there now."""

from __future__ import annotations

import contextlib
import io
import json
import re

import numpy as np
import pytest

from crosscheck import check_gradients
from crosscheck.cli.main import main
from crosscheck.oracle.catalogue import MUTANTS, Backprop
from crosscheck.oracle.search import MAX_SAMPLES, MAX_WIDTH, SAMPLES_CAP, GradientMismatch

TANH_ID = ("tanh", "identity")
HIDDEN_AT_N_1 = [name for name, mutant in MUTANTS.items() if mutant.invisible == "N = 1"]


class Recording:
    """A correct backprop that records the (sizes, N) of every call."""

    def __init__(self) -> None:
        self.backprop = Backprop(TANH_ID, "squared_error", 0.0)
        self.seen: list[tuple[tuple[int, ...], int]] = []

    def __call__(self, Ws, bs, X, T):
        sizes = (X.shape[0], *(W.shape[0] for W in Ws))
        self.seen.append((sizes, X.shape[1]))
        return self.backprop(Ws, bs, X, T)


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def unwrapped(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("name", HIDDEN_AT_N_1)
@pytest.mark.parametrize(
    ("sizes", "max_samples"),
    [((64, 32, 10), 8), ((64, 32, 10), MAX_SAMPLES), ((200, 100, 10), 8)],
    ids=["64-32-10,N<=8", "64-32-10", "200-100-10,N<=8"],
)
def test_a_bug_hidden_at_N_1_is_caught_at_fixed_sizes(name, sizes, max_samples):
    """Widths above max_samples: N cannot be tied to a width, only drawn."""
    faulty = MUTANTS[name].bind(TANH_ID)
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(
            faulty,
            activations=TANH_ID,
            sizes=sizes,
            max_examples=20,
            seed=0,
            isolate=False,
            max_samples=max_samples,
        )
    assert raised.value.report.example[2].shape[1] > 1


def test_N_covers_its_range_at_fixed_sizes_wider_than_it():
    recording = Recording()
    check_gradients(
        recording,
        activations=TANH_ID,
        sizes=(64, 48, 50),
        max_examples=60,
        seed=0,
        isolate=False,
        max_samples=40,
    )
    assert max(N for _, N in recording.seen) > 20


@pytest.mark.parametrize(("max_width", "max_samples"), [(1, 1), (3, 5), (9, 100)])
def test_every_drawn_problem_lies_in_the_stated_space(max_width, max_samples):
    recording = Recording()
    report = check_gradients(
        recording,
        activations=TANH_ID,
        max_examples=40,
        seed=1,
        isolate=False,
        max_width=max_width,
        max_samples=max_samples,
    )
    assert all(max(sizes) <= max_width and 1 <= N <= max_samples for sizes, N in recording.seen)
    assert report.settings.searched == (
        f"L = 2, widths 1–{max_width}, N 1–{max_samples}, |X|, |b|, |T| ≤ 4"
    )


def test_the_defaults_are_stated():
    report = check_gradients(
        Backprop(TANH_ID, "squared_error", 0.0),
        activations=TANH_ID,
        max_examples=2,
        seed=0,
        isolate=False,
    )
    assert report.settings.searched == (
        f"L = 2, widths 1–{MAX_WIDTH}, N 1–{MAX_SAMPLES}, |X|, |b|, |T| ≤ 4"
    )


def test_agree_names_the_space_searched():
    report = check_gradients(
        Backprop(TANH_ID, "squared_error", 0.0),
        activations=TANH_ID,
        sizes=(3, 2, 1),
        max_examples=10,
        seed=0,
        isolate=False,
        max_samples=7,
    )
    assert re.search(
        r"AGREE: the function agrees with the suite on all \d+ examples \(\d+ calls\), drawn"
        r" from sizes 3-2-1, N 1–7, \|X\|, \|b\|, \|T\| ≤ 4; every N tried",
        unwrapped(str(report)),
    )


def test_the_sweep_tries_every_N_the_search_left_out():
    recording = Recording()
    report = check_gradients(recording, activations=TANH_ID, seed=0, isolate=False)
    assert {N for _, N in recording.seen} == set(range(1, MAX_SAMPLES + 1))
    assert report.samples_tried == MAX_SAMPLES


def test_a_sweep_cut_short_by_max_examples_says_how_many_N_were_tried():
    recording = Recording()
    report = check_gradients(recording, activations=TANH_ID, max_examples=5, seed=0, isolate=False)
    tried = len({N for _, N in recording.seen})
    assert report.samples_tried == tried < MAX_SAMPLES
    assert f"; {tried} of the {MAX_SAMPLES} N tried" in unwrapped(str(report))


def _wrong_bias_at(condition):
    correct = Backprop(TANH_ID, "squared_error", 0.0)

    def backprop(Ws, bs, X, T):
        J, dWs, dbs = correct(Ws, bs, X, T)
        if condition(X.shape[1]):
            dbs = [0 * dbs[0], *dbs[1:]]
        return J, dWs, dbs

    return backprop


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    "condition",
    [
        lambda N: N % 32 == 0,
        lambda N: N % 16 == 0,
        lambda N: N > 60,
        lambda N: N in (7, 12, 15, 16, 31, 33),
    ],
    ids=["N%32==0", "N%16==0", "N>60", "N-in-a-set"],
)
def test_a_fault_at_particular_N_is_caught(condition, seed):
    """Random draws alone missed these on 3–6 seeds of 10 (a new-user review)."""
    with pytest.raises(GradientMismatch):
        check_gradients(_wrong_bias_at(condition), activations=TANH_ID, seed=seed, isolate=False)


def test_a_bug_hidden_by_the_space_is_an_agree_that_names_the_space():
    """With N fixed at 1 the missing 1/N cannot show: the report says N 1–1, so the reader
    knows what the AGREE covers."""
    report = check_gradients(
        MUTANTS["missing_1_over_N"].bind(TANH_ID),
        activations=TANH_ID,
        max_examples=10,
        seed=0,
        isolate=False,
        max_samples=1,
    )
    assert "drawn from L = 2, widths 1–6, N 1–1, |X|, |b|, |T| ≤ 4" in unwrapped(str(report))


def test_the_json_states_the_space(tmp_path):
    out = tmp_path / "report.json"
    status, stdout, _ = run_cli(
        "check",
        "tests/misbehaving.py:correct",
        "--activations",
        "tanh,identity",
        "--max-examples",
        "3",
        "--seed",
        "0",
        "--max-width",
        "4",
        "--max-samples",
        "9",
        "--json",
        str(out),
    )
    settings = json.loads(out.read_text())["settings"]
    assert status == 0
    assert (settings["max_width"], settings["max_samples"], settings["searched"]) == (
        4,
        9,
        "L = 2, widths 1–4, N 1–9, |X|, |b|, |T| ≤ 4",
    )
    assert "L = 2, widths 1–4, N 1–9, |X|, |b|, |T| ≤ 4" in unwrapped(stdout)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_width": 0}, ValueError, "max_width must be >= 1, got 0"),
        ({"max_samples": 0}, ValueError, "max_samples must be >= 1, got 0"),
        ({"max_samples": SAMPLES_CAP + 1}, ValueError, "more than the cap of 1024"),
        ({"max_width": 2.5}, TypeError, "max_width must be an int, got 2.5"),
        ({"max_samples": True}, TypeError, "max_samples must be an int, got True"),
        ({"max_width": 800}, ValueError, "parameters, more than the cap of 1e+06"),
        ({"max_magnitude": 0.0}, ValueError, "max_magnitude must be > 0 and at most 1e+06"),
        ({"max_magnitude": 2e6}, ValueError, "max_magnitude must be > 0 and at most 1e+06"),
        ({"max_magnitude": float("nan")}, ValueError, "max_magnitude must be > 0"),
        ({"max_magnitude": "4"}, TypeError, "max_magnitude must be a real number, got '4'"),
    ],
    ids=[
        "width-0",
        "samples-0",
        "samples-over-cap",
        "width-float",
        "samples-bool",
        "too-wide",
        "magnitude-0",
        "magnitude-over-cap",
        "magnitude-nan",
        "magnitude-str",
    ],
)
def test_a_bad_bound_is_refused_before_any_call(kwargs, error, message):
    recording = Recording()
    with pytest.raises(error, match=re.escape(message)):
        check_gradients(recording, activations=TANH_ID, isolate=False, **kwargs)
    assert recording.seen == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--sizes", "3,2,1", "--max-width", "4"],
            "--max-width does not go with --sizes: the widths are fixed",
        ),
        (["--max-samples", "2000"], "--max-samples 2000 is more than the cap of 1024"),
        (["--max-width", "0"], "argument --max-width"),
        (
            ["--max-width", "800"],
            "2 layers of width up to --max-width 800 reach 1.28e+06 parameters, more than the"
            " cap of 1e+06",
        ),
        (
            ["--replay", "failure.json", "--max-samples", "3"],
            "--max-width, --max-samples and --max-magnitude do not go with --replay: nothing"
            " is drawn",
        ),
    ],
    ids=["width-with-sizes", "samples-over-cap", "width-0", "too-wide", "with-replay"],
)
def test_the_cli_refuses_a_bad_bound_in_one_line(argv, message):
    status, stdout, stderr = run_cli(
        "check", "tests/misbehaving.py:correct", "--activations", "tanh,identity", *argv
    )
    assert (status, stdout, stderr.count("\n")) == (2, "", 1)
    assert message in stderr


@pytest.mark.parametrize("weight_decay", [1e306, 1e307])
def test_a_problem_the_suite_cannot_compute_is_skipped_and_said(weight_decay):
    """λ near float64's maximum: J overflows on most drawn problems; the suite's own
    ValueError was a traceback (exit 1) from ``crosscheck check`` on correct code."""
    correct = Backprop(TANH_ID, "squared_error", weight_decay)
    report = check_gradients(
        correct,
        activations=TANH_ID,
        weight_decay=weight_decay,
        max_examples=20,
        seed=1,
        isolate=False,
    )
    count, why = report.skipped
    assert report.agree and count > 0 and "overflows" in why
    assert f"{count} drawn problem" in unwrapped(str(report))


class RecordingValues(Recording):
    """A correct backprop that records the largest |X|, |b|, |T| of every call."""

    def __call__(self, Ws, bs, X, T):
        self.seen.append(max(np.abs(a).max() for a in (X, T, *bs)))
        return self.backprop(Ws, bs, X, T)


@pytest.mark.parametrize("max_magnitude", [0.5, 4.0, 255.0])
def test_drawn_values_reach_max_magnitude_and_stay_within_it(max_magnitude):
    recording = RecordingValues()
    check_gradients(
        recording,
        activations=TANH_ID,
        max_examples=50,
        seed=0,
        isolate=False,
        max_magnitude=max_magnitude,
    )
    assert max_magnitude / 2 < max(recording.seen) <= max_magnitude


def _clipped_inputs(Ws, bs, X, T):
    return Backprop(TANH_ID, "squared_error", 0.0)(Ws, bs, np.clip(X, -4.5, 4.5), T)


def test_a_fault_beyond_the_default_values_is_caught_with_a_larger_max_magnitude():
    """Inputs clipped at 4.5 (raw pixel values reach 255): invisible at |X| <= 4, the
    default the report states, caught at --max-magnitude 255."""
    with pytest.raises(GradientMismatch):
        check_gradients(
            _clipped_inputs, activations=TANH_ID, seed=0, isolate=False, max_magnitude=255.0
        )


def test_the_n_sweep_goes_past_an_n_whose_every_problem_the_suite_cannot_compute():
    """A sweep example rejected on every draw (the suite's overflow at that N) made hypothesis
    raise Unsatisfiable out of the search; the sweep now moves on to the next N."""
    from hypothesis import HealthCheck, reject, settings
    from hypothesis.errors import NoSuchExample

    from crosscheck.oracle.search import _Log, _settings, _sweep_samples

    correct = Backprop(TANH_ID, "squared_error", 0.0)
    config = _settings(
        correct, TANH_ID, "squared_error", None, 0.0, "columns", "out_in", 10, 0, max_samples=5
    )
    examined = []

    def fails(problem):
        N = problem[2].shape[1]
        if N == 2:
            reject()
        examined.append(N)
        return False

    with pytest.raises(NoSuchExample):
        _sweep_samples(
            config,
            fails,
            _Log(),
            settings(database=None, deadline=None, suppress_health_check=list(HealthCheck)),
        )
    assert sorted(set(examined)) == [1, 3, 4, 5]

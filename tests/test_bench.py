"""crosscheck bench: flop counts, exponent fitting, timing statistics, outputs and the CLI;
and the vectorized fast path's workspace (results never alias it). No timed assertions."""

import contextlib
import dataclasses
import io
import json
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crosscheck.bench.plots as plots
import crosscheck.bench.run as bench
from crosscheck import vectorized
from crosscheck.bench.cases import (
    CASES,
    NETWORKS,
    BenchCase,
    case_by_name,
    flop_count,
    make_problem,
)
from crosscheck.bench.check_timing import CheckTiming, measure_checking, property_problems
from crosscheck.bench.growth import EXPECTED, fit_exponent, run_sweep
from crosscheck.bench.load import Load
from crosscheck.bench.report import markdown, write_outputs
from crosscheck.bench.sweep import Spread, SweepPoint, measure_point
from crosscheck.bench.timing import Timing, time_call
from crosscheck.cli.main import main
from crosscheck.ffnn import validate

TINY = case_by_name("tiny")


# Flop counts (DESIGN §6): 2·S_l·S_{l-1}·N per product; 3 products per layer, 2 for layer 1.
@pytest.mark.parametrize(
    ("sizes", "N", "expected"),
    [
        # layer 1: 2 products × 2·3·2·4 = 96; layer 2: 3 × 2·1·3·4 = 72
        pytest.param((2, 3, 1), 4, 168, id="eq_1_4_2_14_2_32_tiny"),
        # layer 1: 2 × 2·20·10·32 = 25600; layer 2: 3 × 2·10·20·32 = 38400
        pytest.param((10, 20, 10), 32, 64000, id="eq_1_4_2_14_2_32_small"),
        # L = 1: forward and ∂J/∂W only, 2 × 2·1·1·1
        pytest.param((1, 1), 1, 4, id="eq_1_4_2_14_single_layer"),
    ],
)
def test_flop_count_hand_checked(sizes, N, expected):
    assert flop_count(sizes, N) == expected


def test_case_flops_are_the_flop_count_of_its_sizes():
    assert [c.flops for c in CASES] == [flop_count(c.sizes, c.N) for c in CASES]


def test_cases_are_the_four_sizes_of_the_issue():
    assert [(c.name, c.sizes, c.N) for c in CASES] == [
        ("tiny", (2, 3, 1), 4),
        ("small", (10, 20, 10), 32),
        ("medium", (256, 256, 256, 10), 512),
        ("large", (1024, 1024, 1024, 1024), 4096),
    ]


def test_case_network_is_tanh_hidden_identity_output_squared_error():
    network = case_by_name("medium").network
    assert (network.activations, network.loss) == (("tanh", "tanh", "identity"), "squared_error")


def test_unknown_case_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="tiny, small, medium, large"):
        case_by_name("huge")


# Growth exponents: log-log least squares recovers p from t = c·x^p exactly.
@given(
    p=st.floats(0.5, 3.5),
    c=st.floats(1e-6, 1e3),
    x=st.lists(st.integers(2, 10_000), min_size=2, max_size=8, unique=True),
)
def test_fit_exponent_recovers_a_power_law(p, c, x):
    t = [c * float(v) ** p for v in x]
    assert fit_exponent(x, t) == pytest.approx(p, abs=1e-9)


def test_fit_exponent_is_the_least_squares_slope_of_noisy_points():
    x, t = [1, 2, 4], [1.0, 4.0, 8.0]  # log2 t = 0, 2, 3 at log2 x = 0, 1, 2: slope 1.5
    assert fit_exponent(x, t) == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("x", "t"),
    [([1], [1.0]), ([1, 2], [1.0]), ([2, 2], [1.0, 2.0]), ([1, 2], [0.0, 1.0])],
    ids=["one_point", "lengths_differ", "equal_sizes", "zero_time"],
)
def test_fit_exponent_rejects_unfittable_data(x, t):
    with pytest.raises(ValueError):
        fit_exponent(x, t)


def test_expected_exponents_follow_the_loop_counts():
    assert EXPECTED == {
        ("literal", "S"): 3,
        ("literal", "N"): 2,
        ("contracted", "S"): 2,
        ("contracted", "N"): 1,
        ("vectorized", "S"): 2,
        ("vectorized", "N"): 1,
    }


def test_run_sweep_times_every_size():
    sweep = run_sweep("contracted", "S", 2, (2, 3), lambda case, dtype: lambda: None, rounds=2)
    assert (sweep.x, len(sweep.times), sweep.expected) == ((2, 3), 2, 2)


# Timing statistics in pytest-benchmark's layout.
def test_time_call_stats_have_pytest_benchmark_fields():
    stats = time_call(lambda: None, rounds=3, min_round_time=1e-4, warmup=0).stats()
    assert set(stats) == {
        "min", "max", "mean", "stddev", "rounds", "median", "iqr", "q1", "q3",
        "iqr_outliers", "stddev_outliers", "outliers", "ld15iqr", "hd15iqr", "ops",
        "total", "iterations", "data",
    }  # fmt: skip


def test_time_call_runs_the_warmup_and_the_rounds():
    calls = []
    timing = time_call(lambda: calls.append(1), rounds=3, min_round_time=1e-9, warmup=2)
    # 2 warm-up calls, 1 calibration call, then 3 rounds of `iterations` calls
    assert len(calls) == 3 + 3 * timing.iterations


def test_time_call_rejects_one_round():
    with pytest.raises(ValueError, match="rounds >= 2"):
        time_call(lambda: None, rounds=1)


# Memory: what the trace must hold.
def test_memory_budget_counts_Z_and_A_of_every_layer():
    memory = bench.measure_memory(case_by_name("small"))
    assert (memory.trace, memory.workspace) == (2 * (20 + 10) * 32 * 8, 20 * 32 * 8)


# The outputs and the command, on the tiny case alone (two networks in the activation sweep).
SWEPT = (("sigmoid", "identity", "squared_error"), ("tanh", "softmax", "cross_entropy"))


@pytest.fixture(scope="module")
def tiny_result():
    return bench.run_bench(quick=True, cases=(TINY,), sweeps=False, networks=SWEPT)


@pytest.fixture(scope="module")
def outputs(tiny_result, tmp_path_factory):
    """The files `write_outputs` writes for `tiny_result` (plots take seconds: written once)."""
    return write_outputs(tiny_result, tmp_path_factory.mktemp("bench"))


def test_bench_json_has_pytest_benchmark_layout(outputs):
    paths = outputs
    data = json.loads(paths["json"].read_text())
    names = sorted(b["name"] for b in data["benchmarks"])
    assert names == sorted(
        [f"test_pass[tiny-float64-{n}]" for n in ("vectorized", "autodiff", "contracted")]
        + [f"test_pass[tiny-float64-{n}]" for n in ("literal", "gemm_only")]
        + [f"test_pass[tiny-float32-{n}]" for n in ("vectorized", "autodiff", "gemm_only")]
    )


def test_bench_json_records_the_flops_and_the_floor(outputs):
    data = json.loads(outputs["json"].read_text())
    floor = data["crosscheck"]["floors"]["tiny float64"]
    assert floor["flops"] == 168
    assert floor["arithmetic_floor_s"] == 168 / data["crosscheck"]["matmul_rate_flops"]["float64"]


def test_bench_report_has_the_headline_ratios(outputs):
    report = outputs["report"].read_text()
    assert "| vectorized / GEMM-only | vectorized / arithmetic floor | vectorized / JAX |" in report


def test_bench_report_names_the_network_and_loss(outputs):
    report = outputs["report"].read_text()
    assert "tanh hidden layers, identity output, J = squared_error (eq 2.16)" in report


def test_bench_plot_is_a_png(outputs):
    path = outputs["cases_png"]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_growth_plot_is_a_png(tiny_result, tmp_path):
    sweep = run_sweep("literal", "N", 2, (2, 4), lambda case, dtype: lambda: None, rounds=2)
    path = tmp_path / "growth.png"
    plots.plot_growth(dataclasses.replace(tiny_result, sweeps=[sweep]), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_command_writes_report_plots_and_json(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "CASES", (TINY,))
    monkeypatch.setattr(bench, "NETWORKS", SWEPT[:1])
    monkeypatch.setattr(bench, "sweep_plan", lambda quick: [("contracted", "N", 2, (2, 3))])
    status = main(
        ["bench", "--quick", "--out", str(tmp_path / "out"), "--json", str(tmp_path / "b.json")]
    )
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert (status, files) == (
        0,
        ["activations.png", "benchmark.json", "growth.png", "report.md", "time_vs_size.png"],
    )
    assert json.loads((tmp_path / "b.json").read_text())["benchmarks"]


@pytest.mark.parametrize(
    "argv",
    [["bench", "--bogus"], ["bench", "--out"], ["bench", "--out", "FILE"]],
    ids=["unknown_option", "missing_value", "out_is_a_file"],
)
def test_bench_usage_error_is_one_line_and_status_2(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "FILE").write_text("")
    status = main(argv)
    err = capsys.readouterr().err
    assert (status, err.count("\n"), err.startswith("crosscheck")) == (2, 1, True)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench", "--json", "/nonexistent/b.json"], "--json /nonexistent/b.json: its directory"),
        (["bench", "--out", ""], "--out: the path is empty"),
        (["bench", "--out", "-"], "--out: '-' (standard output) is for files"),
    ],
    ids=["json-missing-directory", "out-empty", "out-stdout"],
)
def test_bench_path_error_is_one_line_and_creates_nothing(argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = _run(argv)
    assert (status, err.count("\n"), message in err, list(tmp_path.iterdir())) == (2, 1, True, [])


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


QUIET = Load((0.25, 0.5, 0.75), (2.5, 1.0, 0.8), cores=2, own_threads=2)
"""A quiet run: 0.25 at the start; 2.5 at the end is the run's own 2 threads and 0.5 more."""


def _with_load(result, load):
    return dataclasses.replace(result, load=load)


def test_bench_report_records_the_load_average_at_start_and_end(tiny_result):
    report = markdown(_with_load(tiny_result, QUIET))
    assert "Load average before the run (1, 5, 15 min): 0.25, 0.50, 0.75 on 2 cores." in report
    assert "Load average after the run: 2.50, 1.00, 0.80." in report


def test_bench_report_names_the_implementations_under_crosscheck(tiny_result):
    # tools/docs_figures.py writes the report into docs/performance.md (tests/test_docs.py)
    report = markdown(tiny_result)
    assert "`crosscheck.vectorized.backprop`" in report
    assert re.findall(r"`(?:ffnn|vectorized|reference|autodiff_oracle)\.[a-z_]", report) == []


def test_bench_report_states_the_thread_counts(tiny_result):
    report = markdown(tiny_result)
    assert f"Threads: {tiny_result.threads.describe()}." in report


LOADS = {
    "quiet": (QUIET, 0),
    "busy_at_start": (dataclasses.replace(QUIET, start=(1.3, 1.0, 1.0)), 1),
    "busy_at_end": (dataclasses.replace(QUIET, end=(3.3, 1.0, 1.0)), 1),
    "gemm_below_floor": (dataclasses.replace(QUIET, below_floor=("medium float64",)), 1),
    "all_three": (Load((4.0,) * 3, (5.0,) * 3, 2, 2, ("large float32",)), 3),
}


@pytest.mark.parametrize(("load", "warnings"), list(LOADS.values()), ids=list(LOADS))
def test_bench_report_warns_once_per_signal_of_load(tiny_result, load, warnings):
    report = markdown(_with_load(tiny_result, load))
    assert (report.count("**Warning: "), load.loaded) == (warnings, warnings > 0)


@pytest.mark.parametrize(
    ("fraction_of_floor", "flagged"), [(1.01, False), (0.97, False), (0.94, True)]
)
def test_gemm_only_is_a_load_signal_only_beyond_the_slack_under_its_floor(
    fraction_of_floor, flagged
):
    # the floor divides by the best rate of square products; a few percent under it is
    # that rate's spread and shape (FLOOR_SLACK = 5%), not a rate measured under load
    result = bench.BenchResult(quick=True, rates={"float64": 1e9})
    seconds = fraction_of_floor * TINY.flops / 1e9
    result.measurements.append(
        bench.Measurement(TINY, "float64", "gemm_only", Timing((seconds, 2 * seconds), 1))
    )
    assert bench.below_floor(result) == (("tiny float64",) if flagged else ())


def test_load_at_the_end_counts_only_beyond_the_runs_own_threads():
    # 2.5 at the end with 2 threads of our own leaves 0.5 from others: quiet (limit 1.2)
    assert (QUIET.others_at_end, QUIET.quiet_limit, QUIET.loaded) == (0.5, 1.2, False)


@pytest.mark.parametrize("plot", ["cases", "growth", "activations"])
@pytest.mark.parametrize(("load", "warned"), [(QUIET, False), (LOADS["busy_at_start"][0], True)])
def test_every_plot_title_warns_of_a_loaded_machine(tiny_result, plot, load, warned, monkeypatch):
    import matplotlib.figure

    titles = []
    monkeypatch.setattr(
        matplotlib.figure.Figure,
        "savefig",
        lambda fig, *args, **kwargs: titles.append(fig._suptitle.get_text()),
    )
    sweep = run_sweep("literal", "N", 2, (2, 4), lambda c, d: lambda: None, rounds=2)
    result = dataclasses.replace(tiny_result, load=load, sweeps=[sweep])
    getattr(plots, f"plot_{plot}")(result, None)
    assert ("WARNING: loaded machine" in titles[0]) is warned


# The activation sweep and the cost of checking.
def test_spread_is_min_median_max():
    assert Spread.of([3.0, 1.0, 2.0, 10.0]) == Spread(1.0, 2.5, 10.0)


def _point(name, vectorized, autodiff, gemm_only, backprop=(1.0, 1.0, 1.0)):
    times = {
        "vectorized": vectorized,
        "one_thread": vectorized,
        "backprop": backprop,
        "autodiff": autodiff,
        "gemm_only": gemm_only,
    }
    return SweepPoint(case_by_name(name), "float64", times)


def test_sweep_ratios_are_taken_run_by_run():
    # run by run: 2/1, 4/4, 3/1 — not the ratio of two minima (2/1) or medians (3/1)
    point = _point("medium", (2.0, 4.0, 3.0), (1.0, 4.0, 1.0), (1.0, 1.0, 1.0))
    assert point.vectorized_over_jax == Spread(1.0, 2.0, 3.0)
    assert point.gemm_fraction == Spread(0.25, 1 / 3, 0.5)


def test_bench_report_names_the_missed_targets(tiny_result):
    result = dataclasses.replace(
        tiny_result,
        activations=[
            _point("medium", (1.0,) * 3, (0.9,) * 3, (0.5,) * 3),  # both missed
            _point("large", (1.0,) * 3, (1.0,) * 3, (0.95,) * 3),  # both met
        ],
    )
    report = markdown(result)
    assert (
        "Targets missed (by the median): tanh medium float64: vectorized / JAX 1.11;"
        " tanh medium float64: GEMM-only / pass 0.50 < 0.8."
    ) in report


def test_bench_report_has_the_activation_sweep_tables(tiny_result):
    report = markdown(tiny_result)
    for heading in (
        "### vectorized.gradients / JAX jit(grad) (target: at most 1)",
        "### GEMM-only / vectorized.gradients: the share of the pass in its own products",
        "### vectorized.backprop (the trace and Δ^(0) included) / JAX jit(grad)",
        "### vectorized.gradients / the same with its elementwise kernels on one thread",
    ):
        assert heading in report
    rows = [line for line in report.splitlines() if line.startswith("| sigmoid |")]
    assert len(rows) == 4  # one per table, each with a "median (min–max)" cell per column
    assert all(re.fullmatch(r"\| sigmoid( \| \S+ \(\S+–\S+\)){2} \|", row) for row in rows)


def test_bench_json_has_the_sweep_with_every_run(outputs):
    data = json.loads(outputs["json"].read_text())["crosscheck"]
    points = data["activations"]
    assert [(p["network"], p["dtype"]) for p in points] == [
        (network, dtype)
        for dtype in ("float64", "float32")
        for network in ("sigmoid", "tanh → softmax + cross_entropy")
    ]
    for p in points:
        assert sorted(p["times_s"]) == [
            "autodiff",
            "backprop",
            "gemm_only",
            "one_thread",
            "vectorized",
        ]
        assert {len(t) for t in p["times_s"].values()} == {3}
        ratio = p["vectorized/autodiff"]
        assert ratio["min"] <= ratio["median"] <= ratio["max"]


def test_checking_cost_ratios_are_taken_run_by_run():
    cost = CheckTiming(TINY, "float64", (4.0, 6.0, 9.0), (2.0, 2.0, 3.0), (1.0, 3.0, 3.0))
    assert (cost.over_backprop, cost.over_gradients) == (
        Spread(2.0, 3.0, 3.0),
        Spread(2.0, 3.0, 4.0),
    )


@pytest.mark.parametrize("sides", [1, 3])
def test_measure_checking_times_every_function_on_every_run(sides):
    classifier = TINY.with_network("relu", "softmax", "cross_entropy")
    cost = measure_checking(classifier, "float32", runs=2, sides=sides)
    assert (cost.sides, cost.cpu_time) == (sides, False)
    assert [len(t) for t in (cost.compare, cost.backprop, cost.gradients)] == [2, 2, 2]
    assert all(t > 0 for t in cost.compare + cost.backprop + cost.gradients)


def test_measure_checking_in_cpu_time_says_so():
    cost = measure_checking(TINY, "float64", runs=1, cpu_time=True)
    assert cost.cpu_time and len(cost.compare) == 1


@pytest.mark.parametrize(("runs", "sides"), [(0, 1), (1, 0)], ids=["runs", "sides"])
def test_measure_checking_refuses_bad_counts_by_name(runs, sides):
    with pytest.raises(ValueError, match=f"runs={runs}, sides={sides}"):
        measure_checking(TINY, "float64", runs=runs, sides=sides)


def test_property_problems_are_drawn_deterministically():
    first, second = property_problems(3), property_problems(3)
    assert [p.network for p in first] == [p.network for p in second]
    assert all(np.array_equal(a.X, b.X) for a, b in zip(first, second, strict=True))


def test_bench_measures_checking_per_dtype(tiny_result, outputs):
    data = json.loads(outputs["json"].read_text())["crosscheck"]
    assert [
        (c["case"], c["dtype"], len(c["times_s"]["compare_backprop"])) for c in data["checking"]
    ] == [
        ("tiny", "float64", 3),
        ("tiny", "float32", 3),
    ]
    assert "## Checking against computing" in markdown(tiny_result)


def test_activation_plot_is_a_png(outputs):
    path = outputs["activations_png"]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("runs", "min_sample"), [(0, 0.01), (3, 0.0)], ids=["no_run", "no_time"])
def test_measure_point_rejects_bad_settings(runs, min_sample):
    with pytest.raises(ValueError, match="need runs >= 1 and min_sample > 0"):
        measure_point(TINY, "float64", lambda: None, runs=runs, min_sample=min_sample)


def test_sweep_networks_are_every_hidden_activation_and_both_classification_outputs():
    assert NETWORKS == (
        *((hidden, "identity", "squared_error") for hidden in (
            "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "elu", "gelu"
        )),
        ("tanh", "sigmoid", "binary_cross_entropy"),
        ("tanh", "softmax", "cross_entropy"),
    )  # fmt: skip


@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: "-".join(n))
def test_every_sweep_problem_is_valid_input(network):
    case = case_by_name("small").with_network(*network)
    problem = make_problem(case, "float32")
    assert validate(*problem)[1].dtype == np.float32


# The vectorized fast path: cached workspaces never leak into results.
def test_gradients_do_not_alias_the_cached_workspace():
    network, params, X, T = make_problem(case_by_name("small"))
    first = vectorized.gradients(network, params, X, T)
    kept = [(g.W.copy(), g.b.copy()) for g in first]
    vectorized.gradients(network, params, 2 * X, T)
    assert all(
        np.array_equal(g.W, W) and np.array_equal(g.b, b)
        for g, (W, b) in zip(first, kept, strict=True)
    )


def test_gradients_after_a_cached_call_equal_backprop():
    network, params, X, T = make_problem(BenchCase("x", (5, 7, 3), 6))
    vectorized.gradients(network, params, -X, T)  # fills the workspace with another problem
    got = vectorized.gradients(network, params, X, T)
    grads, _ = vectorized.backprop(network, params, X, T)
    assert all(
        np.array_equal(a.W, b.W) and np.array_equal(a.b, b.b)
        for a, b in zip(got, grads, strict=True)
    )


def test_bench_report_takes_the_start_load_the_command_read_before_its_imports(tiny_result):
    report = markdown(_with_load(tiny_result, QUIET), load=(3.0, 2.0, 1.0))
    assert "Load average before the run (1, 5, 15 min): 3.00, 2.00, 1.00 on 2 cores." in report
    assert "**Warning: the load average was 3.00 at the start" in report

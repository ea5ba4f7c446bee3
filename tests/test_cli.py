"""`crosscheck verify`: crosscheck.cli.main.main in-process, crosscheck.verify.verification without
the CLI."""

import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crosscheck import __version__
from crosscheck.cli.main import main
from crosscheck.ffnn import Layer, Network, init_params
from crosscheck.verify import verification
from crosscheck.verify.datasets import load_dataset
from crosscheck.verify.verification import (
    MAX_OPERATIONS,
    Implementation,
    Lineup,
    PlanTooLargeError,
    check_forward,
    entry_cost,
    make_plan,
    plan_cost,
    verify,
)

FAST = ["verify", "--dataset", "iris", "--samples", "6"]
REAL_LINEUP = verification.default_lineup


def run(argv):
    """main(argv) with stdout and stderr captured: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """The default digits run (small subsample), once for the module: (status, stdout, json)."""
    path = tmp_path_factory.mktemp("digits") / "report.json"
    status, out, _ = run(["verify", "--samples", "8", "--json", str(path)])
    return status, out, json.loads(path.read_text())


@pytest.fixture(scope="module")
def iris_json(tmp_path_factory):
    path = tmp_path_factory.mktemp("iris") / "report.json"
    status, _, _ = run([*FAST, "--json", str(path)])
    assert status == 0
    return json.loads(path.read_text())


def broken_lineup(gradients=None, loss=None, name="broken"):
    """The real lineup with vectorized replaced by a wrapper of it (gradients or J altered)."""
    real = REAL_LINEUP()
    vectorized = real.others[0]
    impl = Implementation(name, gradients or vectorized.gradients, loss or vectorized.loss)
    return Lineup(real.literal, real.contracted, (impl, real.others[1]), real.entry)


def _double_W1(network, params, X, T):  # a bug: a stray factor 2 in ∂J/∂W^(1) (eq 2.33)
    from crosscheck import vectorized

    grads = vectorized.gradients(network, params, X, T)
    return (Layer(2 * grads[0].W, grads[0].b), *grads[1:])


def _raises(network, params, X, T):
    raise RuntimeError("broken on purpose")


# --- the default run on digits -------------------------------------------------------------


def test_verify_digits_exits_0(digits_run):
    assert digits_run[0] == 0


def test_verify_digits_prints_agreement(digits_run):
    assert "AGREE: all 8 checks agree" in digits_run[1]


@pytest.mark.parametrize(
    "heading",
    [
        "All 1797 samples — baseline: reference (contracted)",
        "Subsample of 8 samples — baseline: reference (literal)",
        "Single entries — baseline: crosscheck.reference.gradient_entry (contracted)",
    ],
)
def test_verify_digits_prints_each_table(digits_run, heading):
    assert heading in digits_run[1]


def test_verify_digits_says_what_was_sampled(digits_run):
    assert "subsample: 8 of 1797 samples (seeded)" in digits_run[1]


def test_verify_digits_default_network_64_32_10(digits_run):
    report = digits_run[2]
    assert (report["sizes"], report["activations"]) == ([64, 32, 10], ["tanh", "sigmoid"])


def test_verify_digits_entries_fit_the_budget_on_all_samples(digits_run):
    assert digits_run[2]["entries"]["on"] == "all"


# --- JSON ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["agree", "dataset", "sizes", "N", "checks", "subsample", "entries", "timings"]
)
def test_json_has_key(iris_json, key):
    assert key in iris_json


def test_json_values_describe_the_run(iris_json):
    assert (iris_json["agree"], iris_json["dataset"], iris_json["N"], iris_json["sizes"]) == (
        True,
        "iris",
        150,
        [4, 32, 3],
    )


def test_json_eq_1_4_to_2_38_rows_per_layer_and_quantity(iris_json):
    check = iris_json["checks"][0]
    assert [(r["label"], r["equation"]) for r in check["rows"]] == [
        ("Z^(1)", "1.4"),
        ("A^(1)", "1.4"),
        ("Z^(2)", "1.4"),
        ("A^(2)", "1.4"),
        ("J", "2.16"),
        ("Δ^(2)", "2.21"),
        ("H^(2)", "2.13"),
        ("∂J/∂W^(2)", "2.14"),
        ("∂J/∂b^(2)", "2.15"),
        ("Δ^(1)", "2.32"),
        ("H^(1)", "2.34"),
        ("∂J/∂W^(1)", "2.33"),
        ("∂J/∂b^(1)", "2.37"),
        ("Δ^(0)", "2.38"),
    ]


@pytest.mark.parametrize(
    "field", ["max_abs_error", "max_rel_error", "worst_ratio", "worst_error_to_bound", "bound"]
)
def test_json_rows_carry_errors(iris_json, field):
    assert all(isinstance(r[field], float) for c in iris_json["checks"] for r in c["rows"])


def test_json_worst_error_to_bound_below_1_on_correct_code(iris_json):
    ratios = [c["worst_error_to_bound"] for c in iris_json["checks"]]
    assert all(0 <= ratio < 1 for ratio in ratios)


def test_json_derived_bound_rule(iris_json):
    assert iris_json["checks"][0]["tolerance"] == {
        "rule": "derived",
        "expected_dtype": "float64",
        "actual_dtype": "float64",
        "unit_roundoff": {"expected": 2.0**-53, "actual": 2.0**-53},
    }


def test_json_names_the_jax_backend_and_device_of_the_autodiff_oracle(iris_json):
    import jax

    expected = {"backend": jax.default_backend(), "device": jax.devices()[0].device_kind}
    assert iris_json["jax"] == expected


def test_verify_report_names_the_jax_backend_and_device(digits_run):
    import jax

    line = f"autodiff: JAX backend {jax.default_backend()} ({jax.devices()[0].device_kind})"
    assert line in digits_run[1]


def test_json_timings_apart_from_results(iris_json):
    assert set(iris_json["timings"]) == {"implementations", "entries", "import", "total"}
    assert all("time" not in key for c in iris_json["checks"] for key in c)


def test_json_checks_cover_all_subsample_and_entries(iris_json):
    ons = [c["on"] for c in iris_json["checks"]]
    assert ons == ["all"] * 2 + ["subsample"] * 3 + ["entries"] * 3


# --- usage errors: exit 2, one line on stderr ---------------------------------------------


def _npz(tmp_path, **arrays):
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    return path


USAGE_ERRORS = {
    "no-command": ([], "required"),
    "unknown-command": (["frobnicate"], "invalid choice"),
    "unknown-dataset": (["verify", "--dataset", "mnist"], "invalid choice: 'mnist'"),
    "sizes-syntax": (["verify", "--sizes", "64;32;10"], "comma-separated"),
    "sizes-one-width": (["verify", "--sizes", "64"], "at least two"),
    "sizes-zero-width": (["verify", "--sizes", "64,0,10"], "every width must be >= 1"),
    "sizes-do-not-fit": (["verify", "--sizes", "64,32,3"], "do not fit digits"),
    "unknown-activation": (
        ["verify", "--activations", "tanh,swish"],
        "unknown activation 'swish'; known activations: identity",
    ),
    "activation-count": (["verify", "--activations", "tanh"], "2 activations are needed"),
    "unknown-loss": (["verify", "--loss", "mse"], "unknown loss 'mse'; known losses"),
    "negative-weight-decay": (["verify", "--weight-decay", "-1"], "must be finite and >= 0"),
    "samples-zero": (["verify", "--samples", "0"], "must be >= 1"),
    "samples-negative": (["verify", "--samples=-1"], "--samples: must be >= 1, got '-1'"),
    "sizes-beyond-memory": (
        ["verify", "--dataset", "iris", "--sizes", "4,2000000000,3"],
        "--sizes/--samples: sizes (4, 2000000000, 3) have 1.6e+10 parameters",
    ),
    "sizes-beyond-numpy": (
        ["verify", "--dataset", "iris", "--sizes", "4,99999999999999999999,3"],
        "--sizes/--samples: sizes (4, 99999999999999999999, 3) have 8e+20 parameters",
    ),
    "sizes-too-slow": (
        ["verify", "--dataset", "iris", "--sizes", "4,100000,3"],
        "--sizes/--samples: the reference would need about 3.2e+12 scalar operations",
    ),
    "samples-too-slow": (
        ["verify", "--samples", "100000"],
        "literal on n = 1797: 8.1e+09), more than the cap of 1e+09",
    ),
    "weight-decay-J-overflows": (
        ["verify", "--dataset", "iris", "--weight-decay", "1e308"],
        "crosscheck verify: error: J overflows float64 for these inputs",
    ),
    "json-empty": (["verify", "--json", ""], "--json: the path is empty"),
    "seed-negative": (["verify", "--seed=-3"], "must be >= 0"),
    "dtype": (["verify", "--dtype", "float16"], "invalid choice: 'float16'"),
    "dataset-and-data": (["verify", "--dataset", "iris", "--data", "x.npz"], "not allowed"),
}


@pytest.mark.parametrize(("argv", "message"), USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_usage_error_exits_2(argv, message):
    assert run(argv)[0] == 2


@pytest.mark.parametrize(("argv", "message"), USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_usage_error_is_one_line_on_stderr(argv, message):
    _, out, err = run(argv)
    assert (out, err.count("\n"), message in err) == ("", 1, True)


FILE_ERRORS = {
    "json-missing-directory": (lambda p: ["--json", str(p / "absent" / "r.json")], "not exist"),
    "json-is-directory": (lambda p: ["--json", str(p)], "is a directory"),
    "json-parent-is-a-file": (
        lambda p: ["--json", str(p / "t.npz" / "x.json")],
        "t.npz is not a directory",
    ),
    "data-is-directory": (lambda p: ["--data", str(p)], "it is a directory"),
    "data-T-overflows-J": (
        lambda p: ["--data", str(_npz(p, X=np.ones((5, 2)), T=np.full(5, 1e300)))],
        "crosscheck verify: error: J overflows float64 for these inputs",
    ),
    "data-beyond-float32": (
        lambda p: ["--dtype", "float32", "--data", str(_npz(p, X=_big_at_row_3(), T=np.ones(5)))],
        "crosscheck verify: error: --data X: value 1e+39 at row 3 overflows float32\n",
    ),
    "data-missing": (lambda p: ["--data", str(p / "absent.npz")], "no such file"),
    "data-not-npz": (lambda p: ["--data", str(p / "t.npz")], "not an npz archive"),
    "data-lacks-T": (lambda p: ["--data", str(_npz(p, X=np.ones((3, 2))))], "lacks array"),
    "data-nan": (
        lambda p: ["--data", str(_npz(p, X=np.full((3, 2), np.nan), T=np.ones(3)))],
        "NaN",
    ),
}


def _big_at_row_3():
    X = np.ones((5, 2))
    X[3, 1] = 1e39
    return X


@pytest.mark.parametrize(("args", "message"), FILE_ERRORS.values(), ids=FILE_ERRORS.keys())
def test_file_error_exits_2_with_one_line(tmp_path, args, message):
    (tmp_path / "t.npz").write_text("not an archive")
    status, out, err = run(["verify", *args(tmp_path)])
    assert (status, out, err.count("\n"), message in err) == (2, "", 1, True)


def test_unwritable_json_refused_before_any_work(tmp_path, monkeypatch):
    def no_work():
        raise AssertionError("the implementations were loaded")

    monkeypatch.setattr(verification, "default_lineup", no_work)
    status, _, err = run([*FAST, "--json", str(tmp_path / "absent" / "r.json")])
    assert (status, "--json" in err) == (2, True)


def test_plan_out_of_memory_is_a_usage_error(monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(verification, "init_params", out_of_memory)
    status, _, err = run(FAST)
    assert (status, err) == (
        2,
        "crosscheck verify: error: --sizes/--samples: not enough memory for this plan\n",
    )


@given(st.text(min_size=1, max_size=12))
def test_any_malformed_sizes_is_one_line_exit_2(text):
    if re.fullmatch(r"[0-9]+(,[0-9]+)+", text):
        text += ",x"
    status, _, err = run(["verify", f"--sizes={text}"])
    assert (status, err.count("\n")) == (2, 1)


# --- --data: the user's own npz ------------------------------------------------------------


@pytest.fixture
def npz_report(tmp_path):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((20, 3))  # (N, S_0): rows as samples
    T = np.eye(2)[rng.integers(0, 2, 20)]  # (N, S_L) one-hot
    path = _npz(tmp_path, X=X, T=T)
    out = tmp_path / "report.json"
    status, _, _ = run(["verify", "--data", str(path), "--samples", "5", "--json", str(out)])
    return status, json.loads(out.read_text())


def test_npz_round_trip_exits_0(npz_report):
    assert npz_report[0] == 0


def test_npz_round_trip_shapes(npz_report):
    report = npz_report[1]
    assert (report["dataset"], report["N"], report["sizes"]) == ("data.npz", 20, [3, 32, 2])


# --- exit 1 when an implementation disagrees ------------------------------------------------


def test_broken_implementation_exits_1(monkeypatch):
    monkeypatch.setattr(verification, "default_lineup", lambda: broken_lineup(_double_W1))
    assert run(FAST)[0] == 1


def test_broken_implementation_reported_at_eq_2_33(monkeypatch):
    monkeypatch.setattr(verification, "default_lineup", lambda: broken_lineup(_double_W1))
    out = " ".join(run(FAST)[1].split())  # undo rich's line wrapping
    assert "first: broken vs reference (contracted), all 150 samples, at ∂J/∂W^(1) (eq 2.33)" in out


def test_broken_implementation_in_json(monkeypatch, tmp_path):
    monkeypatch.setattr(verification, "default_lineup", lambda: broken_lineup(_double_W1))
    run([*FAST, "--json", str(tmp_path / "r.json")])
    report = json.loads((tmp_path / "r.json").read_text())
    firsts = [c["first_mismatch"] for c in report["checks"] if c["actual"] == "broken"]
    assert (report["agree"], firsts) == (False, ["∂J/∂W^(1)"] * 3)


def test_eq_2_16_wrong_loss_exits_1(monkeypatch):
    def loss_twice(network, params, X, T):  # J without the ½ of eq 2.16
        from crosscheck import vectorized

        return 2 * vectorized.loss(network, params, X, T)

    monkeypatch.setattr(verification, "default_lineup", lambda: broken_lineup(loss=loss_twice))
    assert run(FAST)[0] == 1


def test_raising_implementation_is_a_finding_not_a_crash(monkeypatch):
    monkeypatch.setattr(verification, "default_lineup", lambda: broken_lineup(_raises))
    status, out, err = run(FAST)
    assert (status, "broken raised RuntimeError: broken on purpose" in out, err) == (1, True, "")


# --- other options ------------------------------------------------------------------------


def test_float32_run_agrees_under_float32_unit_roundoff(tmp_path):
    status, _, _ = run([*FAST, "--dtype", "float32", "--json", str(tmp_path / "r.json")])
    report = json.loads((tmp_path / "r.json").read_text())
    vectorized = next(c for c in report["checks"] if c["actual"] == "vectorized")
    assert (status, report["dtype"], vectorized["tolerance"]["unit_roundoff"]["actual"]) == (
        0,
        "float32",
        2.0**-24,
    )


def test_report_shows_error_to_bound_per_quantity_row():
    out = run(FAST)[1]
    assert re.search(r"│ H\^\(1\)\s+│ 2\.34\s+│", out) and "worst error/bound ratio" in out


def test_deeper_network_with_weight_decay_agrees():
    argv = [*FAST, "--sizes", "4,5,6,3", "--activations", "relu,gelu,sigmoid"]
    assert run([*argv, "--weight-decay", "0.1"])[0] == 0


def test_diabetes_identity_output_agrees():
    assert run(["verify", "--dataset", "diabetes", "--samples", "4"])[0] == 0


@pytest.mark.parametrize(
    ("argv", "text"),
    [(["--help"], "verify"), (["verify", "--help"], "--samples"), (["--version"], __version__)],
)
def test_help_and_version_exit_0(argv, text):
    status, out, _ = run(argv)
    assert (status, text in out) == (0, True)


@pytest.mark.parametrize(
    "command",
    [
        [str(Path(sys.executable).parent / "crosscheck"), "--version"],
        [sys.executable, "-m", "crosscheck", "--version"],
    ],
    ids=["console-script", "python-m"],
)
def test_subprocess_version(command):
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, f"crosscheck {__version__}")


# --- crosscheck.verify.verification without the CLI
# ----------------------------------------------------


@pytest.fixture(scope="module")
def iris():
    return load_dataset("iris")


def test_plan_subsample_is_sorted_distinct_and_seeded(iris):
    a, b = make_plan(iris, samples=10, seed=3), make_plan(iris, samples=10, seed=3)
    assert np.array_equal(a.subsample, b.subsample) and len(set(a.subsample)) == 10
    assert np.all(np.diff(a.subsample) > 0)


def test_plan_samples_capped_at_N(iris):
    assert len(make_plan(iris, samples=1000).subsample) == 150


def test_plan_one_W_and_one_b_entry_per_layer(iris):
    entries = make_plan(iris, sizes=(4, 5, 6, 3)).entries
    assert [(e.layer, e.name) for e in entries] == [
        (3, "W"),
        (3, "b"),
        (2, "W"),
        (2, "b"),
        (1, "W"),
        (1, "b"),
    ]


@pytest.mark.parametrize(
    ("loss", "output"),
    [
        ("squared_error", "sigmoid"),
        ("cross_entropy", "softmax"),
        ("binary_cross_entropy", "sigmoid"),
    ],
)
def test_plan_default_output_activation_suits_the_loss(iris, loss, output):
    assert make_plan(iris, loss=loss).network.activations == ("tanh", output)


def test_plan_arrays_are_read_only(iris):
    plan = make_plan(iris)
    arrays = [plan.X, plan.T, *(a for layer in plan.params for a in layer)]
    assert not any(a.flags.writeable for a in arrays)


def test_entry_cost_of_one_layer():
    # L = 1: 2 entries × (forward S_1 S_0 N + own sum S_0 N), no backward step
    assert entry_cost(Network((3, 2), ("sigmoid",)), 10) == 2 * (2 * 3 * 10 + 3 * 10)


def test_entries_move_to_subsample_over_budget(iris, monkeypatch):
    monkeypatch.setattr(verification, "ENTRY_BUDGET", 0)
    assert make_plan(iris).entries_on_all is False


def test_verify_returns_agreeing_result(iris):
    result = verify(make_plan(iris, samples=5))
    assert (result.agree, len(result.checks)) == (True, 8)


def test_verify_reports_each_step_to_progress(iris):
    steps = []
    verify(make_plan(iris, samples=5), progress=steps.append)
    assert steps[0].startswith("loading") and "reference (literal) on 5 samples" in steps


def test_verify_result_is_json_serialisable(iris):
    json.dumps(verify(make_plan(iris, samples=5)).to_dict(), allow_nan=False)


def test_plan_cost_hand_checked():
    # sizes (2, 3, 1), N = 4, n = 2; P_1 = 6, P_2 = 3
    cost = plan_cost(Network((2, 3, 1), ("tanh", "identity")), 4, 2)
    contracted = (3 * 6 * 4 + 3 * 4) + (3 * 3 * 4 + 1 * 4)  # 3 P_l N + S_l N
    literal = (
        1 * 2**2  # Δ^(L): S_L² n²
        + (6 * 2 + 6 * 2**2 + 3 * 6 * 2 + 3**2 * 2)  # l = 1
        + (3 * 2 + 3 * 2**2 + 1 * 3 * 2 + 1 * 2)  # l = 2
    )
    assert (cost["parameters"], cost["contracted"], cost["literal"]) == (13, contracted, literal)


def test_make_plan_refuses_a_plan_beyond_the_cap(iris):
    with pytest.raises(
        PlanTooLargeError, match=re.escape(f"more than the cap of {MAX_OPERATIONS:.2g}")
    ):
        make_plan(iris, sizes=(4, 100_000, 3))


def test_eq_2_16_check_forward_names_J_when_weight_decay_overflows():
    network = Network((2, 3, 1), ("tanh", "identity"), weight_decay=1e308)
    params = init_params(network, seed=0)
    with pytest.raises(ValueError, match=r"^J overflows float64 for these inputs"):
        check_forward(network, params, np.ones((2, 4)), np.ones((1, 4)))


def test_eq_1_4_check_forward_names_the_first_overflowing_Z():
    network = Network((2, 3, 1), ("identity", "identity"))
    params = init_params(network, seed=0, dtype=np.float32)
    X, T = np.full((2, 4), 3e38, np.float32), np.ones((1, 4), np.float32)
    with pytest.raises(ValueError, match=r"^Z\^\(1\) overflows float32"):
        check_forward(network, params, X, T)

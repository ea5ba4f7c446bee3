"""The user's own problem: ``check_problem(fn, Ws, bs, X, T, ...)`` and ``crosscheck check
--problem FILE.npz`` check exactly the arrays given, in the user's layout, with the full report
— or refuse, before any call, a problem that is mis-shaped or that the suite cannot judge."""

from __future__ import annotations

import contextlib
import io
import json
import uuid

import numpy as np
import pytest
from sklearn.datasets import load_iris

from crosscheck import check_problem
from crosscheck.cli.main import main
from crosscheck.oracle.catalogue import MUTANTS, Backprop

TANH_ID = ("tanh", "identity")


def correct(activations=TANH_ID, loss="squared_error", weight_decay=0.0):
    return Backprop(activations, loss, weight_decay)


def flipped(activations=TANH_ID, loss="squared_error"):
    return MUTANTS["sign_flipped"].bind(activations, loss)


def in_rows_and_in_out(fn):
    """`fn` (suite layout) as a function taking X (N, S_0), T (N, S_L), W^(l) (S_{l-1}, S_l)
    and returning ∂J/∂W^(l) as (S_{l-1}, S_l)."""

    def rows_in_out(Ws, bs, X, T):
        J, dWs, dbs = fn([W.T for W in Ws], bs, X.T, T.T)
        return J, [dW.T for dW in dWs], dbs

    return rows_in_out


def _arrays(sizes=(3, 4, 2), N=5, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    Ws = [scale * rng.standard_normal((sizes[l], sizes[l - 1])) for l in range(1, len(sizes))]
    bs = [rng.standard_normal(sizes[l]) for l in range(1, len(sizes))]
    return Ws, bs, rng.standard_normal((sizes[0], N)), rng.standard_normal((sizes[-1], N))


def test_correct_function_agrees_on_the_given_problem():
    report = check_problem(correct(), *_arrays(), activations=TANH_ID)
    assert report.agree and report.replayed


def test_the_report_is_of_exactly_the_arrays_given():
    Ws, bs, X, T = _arrays()
    report = check_problem(flipped(), Ws, bs, X, T, activations=TANH_ID)
    network, params, X_checked, T_checked = report.example
    assert network.sizes == (3, 4, 2)
    assert all(np.array_equal(W, p.W) for W, p in zip(Ws, params, strict=True))
    assert np.array_equal(X_checked, X) and np.array_equal(T_checked, T)


def test_a_fault_gets_the_full_report_eqs_2_14_2_15():
    report = check_problem(flipped(), *_arrays(), activations=TANH_ID, source="batch.npz")
    assert report.finding.kind == "gradient"
    assert report.examination.comparison is not None and report.suite
    assert [d.name for d in report.diagnosis] == ["sign_flipped"]
    assert report.consistency.verdict == "inconsistent"
    assert "Example given: batch.npz:" in str(report)


def test_rows_and_in_out_layout_is_read_as_given():
    Ws, bs, X, T = _arrays()
    report = check_problem(
        in_rows_and_in_out(correct()),
        [W.T for W in Ws],
        bs,
        X.T,
        T.T,
        activations=TANH_ID,
        layout="rows",
        weights="in_out",
    )
    assert report.agree and report.example.network.sizes == (3, 4, 2)


def test_a_saved_batch_of_real_data_with_softmax_cross_entropy_eq_2_16_prime():
    iris = load_iris()
    X = iris.data[::15].T  # 10 samples, (4, 10)
    T = np.eye(3)[:, iris.target[::15]]
    rng = np.random.default_rng(1)
    Ws = [rng.standard_normal((5, 4)), rng.standard_normal((3, 5))]
    bs = [np.zeros(5), np.zeros(3)]
    activations = ("tanh", "softmax")
    good = check_problem(
        correct(activations, "cross_entropy"),
        Ws,
        bs,
        X,
        T,
        activations=activations,
        loss="cross_entropy",
    )
    bad = check_problem(
        flipped(activations, "cross_entropy"),
        Ws,
        bs,
        X,
        T,
        activations=activations,
        loss="cross_entropy",
    )
    assert (good.agree, bad.agree) == (True, False)


@pytest.mark.parametrize("scale", [1e3, 1e6], ids=["1e3", "1e6"])
def test_huge_saturating_weights_correct_agrees_and_a_bug_is_caught(scale):
    arrays = _arrays(scale=scale)
    good = check_problem(correct(), *arrays, activations=TANH_ID)
    bad = check_problem(flipped(), *arrays, activations=TANH_ID)
    assert (good.agree, bad.agree) == (True, False)


def test_tiny_gradients_near_a_perfect_fit_are_judged_relative_to_their_size():
    Ws, bs, X, _ = _arrays()
    outputs = np.tanh(Ws[0] @ X + bs[0][:, None])
    T = Ws[1] @ outputs + bs[1][:, None] + 1e-12  # residuals of 1e-12: gradients ~1e-12
    good = check_problem(correct(), Ws, bs, X, T, activations=TANH_ID)
    bad = check_problem(flipped(), Ws, bs, X, T, activations=TANH_ID)
    assert (good.agree, bad.agree) == (True, False)
    assert np.abs(good.examination.grads[1].W).max() < 1e-10


def test_a_problem_whose_J_overflows_is_refused_with_the_reason():
    _, bs, _, T = _arrays(sizes=(1, 1), N=2)
    with pytest.raises(ValueError, match=r"the suite cannot compute this problem: .*overflow"):
        check_problem(
            correct(("identity",)),
            [np.array([[1e200]])],
            bs,
            1e200 * np.ones((1, 2)),
            T,
            activations=("identity",),
        )


def test_a_problem_whose_rounding_bound_overflows_is_refused_as_unjudgeable():
    """Z^(1) = 2^511·2^512 − 2^511·2^512 = 0 exactly, every result finite, but its terms sum
    over absolute values to 2^1024 = inf: every answer would be within an infinite bound."""
    W = np.array([[2.0**511, -(2.0**511)]])
    X = np.full((2, 1), 2.0**512)
    with pytest.raises(ValueError, match=r"rounding bound of .* is not finite at these magnitudes"):
        check_problem(
            correct(("identity",)),
            [W],
            [np.zeros(1)],
            X,
            np.zeros((1, 1)),
            activations=("identity",),
        )


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda Ws, bs, X, T: (Ws, [bs[0], np.zeros(3)], X, T), r"b\^\(2\)"),
        (lambda Ws, bs, X, T: ([Ws[0], np.zeros((2, 5))], bs, X, T), r"W\^\(2\)"),
        (lambda Ws, bs, X, T: (Ws, bs, X, T[:, :3]), "N = 5 samples but T has 3"),
        (lambda Ws, bs, X, T: (Ws[:1], bs, X, T), "Ws has 1 arrays; 2 activations need 2"),
        (lambda Ws, bs, X, T: (Ws, bs, X[0], T), r"X has shape \(5,\); a 2-d array"),
    ],
    ids=["b2_length", "W2_columns", "T_samples", "one_weight_short", "X_1d"],
)
def test_mis_shaped_arrays_are_refused_naming_the_array(change, match):
    calls = []

    def counted(*args):
        calls.append(1)
        return correct()(*args)

    with pytest.raises(ValueError, match=match):
        check_problem(counted, *change(*_arrays()), activations=TANH_ID)
    assert calls == []


def test_in_out_shape_error_says_the_layout_it_was_read_in():
    Ws, bs, X, T = _arrays()
    with pytest.raises(
        ValueError, match="the arrays were given with layout='columns', weights='in_out'"
    ):
        check_problem(correct(), [Ws[0].T, Ws[1]], bs, X, T, activations=TANH_ID, weights="in_out")


# --- crosscheck check --problem FILE.npz ----------------------------------------------------


USER_CODE = """
from crosscheck.oracle.catalogue import MUTANTS, Backprop

good = Backprop(("tanh", "identity"), "squared_error", 0.0)
flipped = MUTANTS["sign_flipped"].function()
"""


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def user(tmp_path, monkeypatch):
    """(module name, path of a saved problem W1, W2, b1, b2, X, T)."""
    name = f"user_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(USER_CODE)
    monkeypatch.chdir(tmp_path)
    Ws, bs, X, T = _arrays()
    path = tmp_path / "problem.npz"
    np.savez(path, W1=Ws[0], W2=Ws[1], b1=bs[0], b2=bs[1], X=X, T=T)
    return name, path


def test_cli_problem_of_a_correct_function_exits_0(user):
    name, path = user
    status, out, _ = run(
        ["check", f"{name}:good", "--activations", "tanh,identity", "--problem", str(path)]
    )
    assert status == 0 and "AGREE: the function agrees with the suite on the given example" in out


def test_cli_problem_of_a_faulty_function_exits_1_with_the_report_and_json(user, tmp_path):
    name, path = user
    report = tmp_path / "report.json"
    argv = ["check", f"{name}:flipped", "--activations", "tanh,identity", "--problem", str(path)]
    status, out, _ = run([*argv, "--json", str(report)])
    data = json.loads(report.read_text())
    assert (status, data["agree"], data["example"]["sizes"]) == (1, False, [3, 4, 2])
    assert "Example given: your problem" in out and "sign_flipped" in out


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"W1", "W2", "b1", "X", "T"}, "no array b2; it needs W1..W2, b1..b2, X, T"),
        ({"W1", "W2", "b1", "b2", "X", "T", "W3"}, "arrays W3 are not W1..W2, b1..b2, X, T"),
    ],
    ids=["missing_b2", "extra_W3"],
)
def test_cli_problem_missing_or_extra_array_is_a_usage_error(user, tmp_path, arrays, message):
    name, path = user
    with np.load(path) as stored:
        kept = {key: stored[key] for key in stored.files if key in arrays}
    if "W3" in arrays:
        kept["W3"] = np.zeros((2, 2))
    np.savez(path, **kept)
    status, out, err = run(
        ["check", f"{name}:good", "--activations", "tanh,identity", "--problem", str(path)]
    )
    assert (status, out) == (2, "")
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("weights", ["out_in", "in_out"])
def test_problem_with_a_transposed_weight_names_it_and_the_other_layout(weights):
    Ws, bs, X, T = _arrays()
    flipped = [W if weights == "out_in" else W.T for W in Ws]
    flipped[0] = flipped[0].T  # W^(1) in the other layout than the one given
    good = Backprop(("tanh", "identity"), "squared_error", 0.0)
    with pytest.raises(ValueError, match=r"W\^\(1\) looks transposed") as raised:
        check_problem(good, flipped, bs, X, T, activations=("tanh", "identity"), weights=weights)
    other = "in_out" if weights == "out_in" else "out_in"
    assert f"weights={other!r} (--weights {other}) reads the other layout" in str(raised.value)


def test_cli_problem_that_is_not_an_npz_archive_says_so(user, tmp_path):
    name, _ = user
    path = tmp_path / "notes.npz"
    path.write_text("W1 = 0.5\n")  # np.load would take it for a pickle
    status, out, err = run(
        ["check", f"{name}:good", "--activations", "tanh,identity", "--problem", str(path)]
    )
    assert (status, out) == (2, "")
    assert "not an .npz archive" in err and "pickle" not in err
    assert len(err.strip().splitlines()) == 1


def test_cli_problem_mis_shaped_array_is_a_usage_error_naming_it(user):
    name, path = user
    with np.load(path) as stored:
        arrays = dict(stored)
    arrays["b2"] = np.zeros(3)
    np.savez(path, **arrays)
    status, _, err = run(
        ["check", f"{name}:good", "--activations", "tanh,identity", "--problem", str(path)]
    )
    assert status == 2 and "b^(2)" in err


def test_cli_problem_with_replay_is_a_usage_error(user):
    name, path = user
    argv = ["check", f"{name}:good", "--activations", "tanh,identity", "--problem", str(path)]
    status, _, err = run([*argv, "--replay", str(path)])
    assert status == 2 and "give --replay or --problem, not both" in err


def test_cli_problem_rows_layout(user, tmp_path):
    Ws, bs, X, T = _arrays()
    path = tmp_path / "rows.npz"
    np.savez(path, W1=Ws[0], W2=Ws[1], b1=bs[0], b2=bs[1], X=X.T, T=T.T)
    (tmp_path / "rows_user.py").write_text(
        "from crosscheck.oracle.catalogue import Backprop\n"
        "good = Backprop(('tanh', 'identity'), 'squared_error', 0.0)\n"
        "def backprop(Ws, bs, X, T):\n"
        "    return good(Ws, bs, X.T, T.T)\n"
    )
    argv = ["check", "rows_user:backprop", "--activations", "tanh,identity", "--layout", "rows"]
    status, _, _ = run([*argv, "--problem", str(path)])
    assert status == 0

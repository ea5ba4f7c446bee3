"""Judged in the precision it computes in (DESIGN §5 "Verdict rules"): ``dtype=`` on the API,
``--dtype`` on the CLI. The suite computes in float64 on the same input values; the function's
side gets float32's derived bound (``trace_bounds(..., float32)``) and σ'-from-A allowance when
it computes in float32 — asked for (``dtype="float32"``: float32 inputs) or as returned
(``dtype=None``: float32 results for float64 inputs, judged on its inputs rounded to float32,
with a note) — and float64's when float64 was asked explicitly (``dtype="float64"``).
"""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from crosscheck import GradientMismatch, check_gradients, check_problem, vectorized
from crosscheck.cli.main import main
from crosscheck.ffnn import Layer, Network, init_params
from crosscheck.oracle.catalogue import CATALOGUE, Backprop
from crosscheck.oracle.judge import judged_precision
from crosscheck.oracle.search import check_example
from crosscheck.strategies import Problem


@pytest.mark.parametrize(
    ("inputs", "returned", "asked", "judged"),
    [
        ("float64", "float64", None, "float64"),
        ("float64", "float32", None, "float32"),
        ("float64", "float32", "float64", "float64"),
        ("float32", "float32", "float32", "float32"),
        ("float32", "float64", "float32", "float32"),
        ("float32", "float64", None, "float32"),
        ("float64", "float16", None, "float32"),
    ],
)
def test_judged_precision_is_the_asked_one_or_the_coarser_of_inputs_and_results(
    inputs, returned, asked, judged
):
    assert judged_precision(inputs, returned, asked).judged == judged


def test_note_says_float32_results_for_float64_inputs_are_judged_as_float32_code():
    note = judged_precision("float64", "float32", None).note
    assert note.startswith("the function returns float32 results for float64 inputs: it is")
    assert "under float32's bound (pass dtype='float64', --dtype float64, to require" in note


def test_no_note_when_results_come_in_the_inputs_dtype():
    assert judged_precision("float32", "float32", "float32").note is None


def vectorized_in_float32(activations, loss="squared_error"):
    """The suite's own matrix form, run in float32 whatever the inputs' dtype: correct
    float32 code."""

    def fn(Ws, bs, X, T):
        f32 = np.float32
        sizes = (np.shape(X)[0], *(np.shape(W)[0] for W in Ws))
        network = Network(sizes, activations, loss)
        params = [
            Layer(np.asarray(W, f32), np.asarray(b, f32)) for W, b in zip(Ws, bs, strict=True)
        ]
        grads = vectorized.gradients(network, params, np.asarray(X, f32), np.asarray(T, f32))
        J = vectorized.loss(network, params, np.asarray(X, f32), np.asarray(T, f32))
        return J, [g.W for g in grads], [g.b for g in grads]

    return fn


ACTIVATION_SETS = [
    pytest.param(("tanh", "identity"), "squared_error", id="tanh_identity"),
    pytest.param(("sigmoid", "softplus", "identity"), "squared_error", id="sigmoid_softplus"),
    pytest.param(("gelu", "softmax"), "cross_entropy", id="gelu_softmax_ce"),
    pytest.param(("elu", "sigmoid"), "binary_cross_entropy", id="elu_sigmoid_bce"),
]


@pytest.mark.parametrize("dtype", [None, "float32"], ids=["as_returned", "float32"])
@pytest.mark.parametrize(("activations", "loss"), ACTIVATION_SETS)
def test_correct_float32_code_is_accepted(activations, loss, dtype):
    report = check_gradients(
        vectorized_in_float32(activations, loss),
        activations=activations,
        loss=loss,
        max_examples=25,
        seed=0,
        dtype=dtype,
    )
    assert (report.agree, report.precision.judged) == (True, "float32")


def test_correct_float32_code_for_float64_inputs_is_reported_as_judged_in_float32():
    report = check_gradients(
        vectorized_in_float32(("tanh", "identity")),
        activations=("tanh", "identity"),
        max_examples=5,
        seed=0,
    )
    assert "returns float32 results for float64 inputs" in str(report)


def test_float32_code_where_float64_was_asked_is_the_float32_accumulation_finding():
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(
            vectorized_in_float32(("tanh", "identity")),
            activations=("tanh", "identity"),
            max_examples=50,
            seed=0,
            dtype="float64",
        )
    report = raised.value.report
    assert report.finding.message.startswith(
        "computes in float32 where float64 was asked (dtype='float64'):"
    )
    assert "float32_accumulation" in [d.name for d in report.diagnosis]


def test_dtype_float32_hands_the_function_float32_arrays():
    seen = set()

    def records_dtypes(Ws, bs, X, T):
        seen.update(str(np.asarray(a).dtype) for a in [*Ws, *bs, X, T])
        return vectorized_in_float32(("tanh", "identity"))(Ws, bs, X, T)

    check_gradients(
        records_dtypes, activations=("tanh", "identity"), max_examples=5, dtype="float32"
    )
    assert seen == {"float32"}


def textbook_float32(activations):
    """Backprop as textbooks write it, σ' from A (1 − A², A(1 − A)), all in float32."""
    forward = {"tanh": np.tanh, "sigmoid": lambda Z: 1 / (1 + np.exp(-Z)), "identity": lambda Z: Z}
    prime = {
        "tanh": lambda A: 1 - A * A,
        "sigmoid": lambda A: A * (1 - A),
        "identity": np.ones_like,
    }

    def fn(Ws, bs, X, T):
        Ws, bs = [np.asarray(W, np.float32) for W in Ws], [np.asarray(b, np.float32) for b in bs]
        A = [np.asarray(X, np.float32)]
        with np.errstate(over="ignore"):
            for W, b, name in zip(Ws, bs, activations, strict=True):
                A.append(forward[name](W @ A[-1] + b[:, None]))
        N = A[0].shape[1]
        Delta = (A[-1] - np.asarray(T, np.float32)) / np.float32(N)  # eq 2.21
        dWs, dbs = [None] * len(Ws), [None] * len(Ws)
        for l in range(len(Ws), 0, -1):
            H = Delta * prime[activations[l - 1]](A[l])  # eqs 2.13, 2.34
            dWs[l - 1], dbs[l - 1] = H @ A[l - 1].T, H.sum(axis=1)
            Delta = Ws[l - 1].T @ H  # eq 2.32
        return dWs, dbs

    return fn


@pytest.mark.parametrize("activations", [("tanh", "identity"), ("sigmoid", "tanh", "sigmoid")])
def test_textbook_sigma_prime_from_A_in_float32_is_no_false_alarm_eq_2_34(activations):
    report = check_gradients(
        textbook_float32(activations),
        activations=activations,
        max_examples=40,
        seed=2,
        dtype="float32",
    )
    assert report.agree


def in_float32(mutant):
    """The catalogued bug computed in float32 throughout, returning float32 arrays."""

    class Float32(mutant.backprop):
        dtype = np.float32

    s = mutant.settings
    return Float32(s["activations"], s.get("loss", "squared_error"), s.get("weight_decay", 0.0))


BUGS = [mutant for mutant in CATALOGUE if mutant.name != "float32_accumulation"]


@pytest.mark.parametrize("mutant", BUGS, ids=[m.name for m in BUGS])
def test_float32_code_with_a_catalogued_bug_is_still_caught(mutant):
    with pytest.raises(GradientMismatch):
        check_gradients(
            in_float32(mutant), **mutant.settings, max_examples=100, seed=0, dtype="float32"
        )


def test_torch_float32_is_accepted():
    torch_adapter = pytest.importorskip("crosscheck.oracle.external.torch_adapter")
    fn = torch_adapter.torch_backprop(("tanh", "sigmoid"), dtype="float32")
    report = check_gradients(
        fn, activations=("tanh", "sigmoid"), max_examples=25, seed=0, dtype="float32"
    )
    assert (report.agree, report.precision.returned) == (True, "float32")


def _problem(scale: float) -> Problem:
    network = Network((2, 3, 1), ("tanh", "identity"))
    rng = np.random.default_rng(0)
    X, T = scale * rng.standard_normal((2, 4)), rng.standard_normal((1, 4))
    return Problem(network, init_params(network, seed=0), X, T)


def test_check_example_in_float32_refuses_values_beyond_float32_naming_the_array():
    with pytest.raises(ValueError, match=r"X\[\d+, \d+\] = .* is beyond float32's range"):
        check_example(
            Backprop(("tanh", "identity"), "squared_error", 0.0), _problem(1e39), dtype="float32"
        )


def test_check_example_converts_a_float64_problem_to_float32():
    report = check_example(
        vectorized_in_float32(("tanh", "identity")), _problem(1.0), dtype="float32"
    )
    assert (report.agree, str(report.example.X.dtype)) == (True, "float32")


@pytest.mark.parametrize("dtype", ["float16", 32])
def test_unknown_dtype_is_refused_by_name(dtype):
    with pytest.raises((TypeError, ValueError), match="dtype must be None, 'float64' or 'float32'"):
        check_gradients(vectorized_in_float32(("tanh",)), activations=("tanh",), dtype=dtype)


F32_MODULE = """
import numpy as np

from crosscheck.oracle.catalogue import Backprop


class Float32(Backprop):
    dtype = np.float32


backprop = Float32(("tanh", "identity"), "squared_error", 0.0)
"""


def test_cli_dtype_float32_judges_in_float32(tmp_path, monkeypatch):
    (tmp_path / "f32module.py").write_text(F32_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "report.json"
    argv = ["check", "f32module:backprop", "--activations", "tanh,identity", "--dtype", "float32"]
    with contextlib.redirect_stdout(io.StringIO()):
        status = main([*argv, "--max-examples", "10", "--seed", "0", "--json", str(path)])
    data = json.loads(path.read_text())
    assert (status, data["settings"]["dtype"], data["precision"]["judged"]) == (
        0,
        "float32",
        "float32",
    )


def test_a_float32_failure_saved_and_replayed_keeps_its_dtype(tmp_path):
    from crosscheck.oracle.failure_file import load_failure, save_failure

    mutant = CATALOGUE[0]
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(
            in_float32(mutant), **mutant.settings, max_examples=20, seed=0, dtype="float32"
        )
    save_failure(raised.value.report, tmp_path)
    problem, metadata = load_failure(tmp_path)
    replayed = check_example(in_float32(mutant), problem, dtype=metadata["dtype"])
    assert (metadata["dtype"], str(problem.X.dtype), replayed.agree) == (
        "float32",
        "float32",
        False,
    )


def test_float32_code_with_a_bug_is_diagnosed_on_a_given_problem_of_any_values():
    """On arbitrary (not float32-exact) values float32 rounding moves every entry by ~1e-7
    relative: the catalogue is matched at float32's constant, not float64's."""
    mutant = next(m for m in CATALOGUE if m.name == "missing_1_over_N")
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((4, 3)), rng.standard_normal((2, 4))]
    bs = [rng.standard_normal(4), rng.standard_normal(2)]
    X, T = rng.standard_normal((3, 5)), rng.standard_normal((2, 5))
    report = check_problem(in_float32(mutant), Ws, bs, X, T, activations=("tanh", "identity"))
    assert [d.name for d in report.diagnosis] == ["missing_1_over_N"]


def test_float32_code_judged_as_float32_is_never_diagnosed_as_float32_accumulation():
    """PyTorch's vectorized float32 GELU errs by 1.4e-4 relative at z = −3.08 (its erf
    cancels in 1 + erf(z/√2)): a real finding, but not "float32 where float64 was asked"."""
    torch_adapter = pytest.importorskip("crosscheck.oracle.external.torch_adapter")
    activations = ("gelu", "softmax")
    fn = torch_adapter.torch_backprop(activations, loss="cross_entropy", dtype="float32")
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(
            fn,
            activations=activations,
            loss="cross_entropy",
            max_examples=50,
            seed=0,
            dtype="float32",
        )
    assert "float32_accumulation" not in [d.name for d in raised.value.report.diagnosis]


# Values of two precisions (dtype=None): each judged in the precision it was returned in.

CORRECT = Backprop(("tanh", "identity"), "squared_error", 0.0)


def _returning(J_as=None, W_scale=1.0, W_as=None, b_as=None):
    """CORRECT, its J, dWs, dbs cast (None: left float64) and the last dW scaled."""

    def cast(value, dtype):
        return value if dtype is None else np.asarray(value).astype(dtype)

    def fn(Ws, bs, X, T):
        J, dWs, dbs = CORRECT(Ws, bs, X, T)
        dWs = [*dWs[:-1], dWs[-1] * W_scale]
        J = J if J_as is None else J_as(J)
        return J, [cast(dW, W_as) for dW in dWs], [cast(db, b_as) for db in dbs]

    return fn


def test_judged_precision_holds_float64_arrays_beside_float32_ones_to_float64():
    stated = (("∂J/∂W^(1)", "float64"), ("∂J/∂b^(1)", "float32"), ("J", "float64"))
    precision = judged_precision("float64", "float32", None, stated)
    assert (precision.judged, precision.per_array) == ("float32", (("∂J/∂W^(1)", "float64"),))


def test_judged_precision_holds_a_float32_J_beside_float64_gradients_to_float32():
    stated = (("J", "float32"), ("∂J/∂W^(1)", "float64"), ("∂J/∂b^(1)", "float64"))
    precision = judged_precision("float64", "float64", None, stated)
    assert (precision.judged, precision.per_array) == ("float64", (("J", "float32"),))


def test_asked_precision_has_no_per_array_exceptions():
    stated = (("∂J/∂W^(1)", "float64"), ("∂J/∂b^(1)", "float32"))
    assert judged_precision("float64", "float32", "float64", stated).per_array == ()


def test_float64_gradient_error_is_not_hidden_by_float32_bias_gradients():
    # 1e-6 relative in a float64 ∂J/∂W^(2) passes float32's bound, not float64's
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(
            _returning(W_scale=1 + 1e-6, b_as=np.float32),
            activations=("tanh", "identity"),
            max_examples=25,
            seed=0,
        )
    report = raised.value.report
    assert report.examination.comparison.first_mismatch.label == "∂J/∂W^(2)"
    assert dict(report.precision.per_array)["∂J/∂W^(2)"] == "float64"


def test_correct_float64_gradients_with_float32_bias_gradients_are_accepted():
    report = check_gradients(
        _returning(b_as=np.float32), activations=("tanh", "identity"), max_examples=25, seed=0
    )
    assert report.agree
    assert "returns values of two precisions for float64 inputs" in str(report)


def test_correct_float64_gradients_with_a_float32_J_are_accepted():
    report = check_gradients(
        _returning(J_as=np.float32), activations=("tanh", "identity"), max_examples=25, seed=0
    )
    assert (report.agree, report.precision.per_array) == (True, (("J", "float32"),))


def test_float32_gradients_with_a_python_float_J_are_judged_as_float32_code():
    # torch's loss.item(): a Python float states no precision and goes with the gradients
    report = check_gradients(
        _returning(J_as=float, W_as=np.float32, b_as=np.float32),
        activations=("tanh", "identity"),
        max_examples=25,
        seed=0,
    )
    assert (report.agree, report.precision.judged, report.precision.per_array) == (
        True,
        "float32",
        (),
    )

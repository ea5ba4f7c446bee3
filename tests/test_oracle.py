"""crosscheck.check_gradients: the oracle for other people's backprop, its findings and report."""

import json
import sys

import numpy as np
import pytest

from crosscheck import GradientMismatch, check_gradients, vectorized
from crosscheck.ffnn import Layer, Network, init_params
from crosscheck.oracle.catalogue import MUTANTS, Backprop
from crosscheck.oracle.search import CheckReport, check_example
from crosscheck.strategies import Problem

SETTINGS = {"activations": ("tanh", "identity"), "max_examples": 20, "seed": 0}


def textbook(activations):
    """Backprop as textbooks write it: σ' from A (1 − A², A(1 − A)), J of eq 2.16."""
    forward = {"tanh": np.tanh, "sigmoid": lambda Z: 1 / (1 + np.exp(-Z))}
    forward["identity"] = lambda Z: Z
    prime = {"tanh": lambda A: 1 - A * A, "sigmoid": lambda A: A * (1 - A)}
    prime["identity"] = np.ones_like

    def fn(Ws, bs, X, T):
        A = [X]
        for W, b, name in zip(Ws, bs, activations, strict=True):
            A.append(forward[name](W @ A[-1] + b[:, None]))
        N = X.shape[1]
        Delta = (A[-1] - T) / N  # eq 2.21
        dWs, dbs = [None] * len(Ws), [None] * len(Ws)
        for l in range(len(Ws), 0, -1):
            H = Delta * prime[activations[l - 1]](A[l])  # eqs 2.13, 2.34
            dWs[l - 1], dbs[l - 1] = H @ A[l - 1].T, H.sum(axis=1)
            Delta = Ws[l - 1].T @ H  # eq 2.32
        return 0.5 * np.sum((A[-1] - T) ** 2) / N, dWs, dbs

    return fn


def mismatch(fn, **settings):
    """The report of a check that must fail."""
    with pytest.raises(GradientMismatch) as caught:
        check_gradients(fn, **{**SETTINGS, **settings})
    return caught.value.report


def test_correct_function_agrees_on_every_example():
    report = check_gradients(Backprop(("tanh", "identity"), "squared_error", 0.0), **SETTINGS)
    assert report.agree and 20 < report.examples_run <= 40  # the search, then the N sweep


@pytest.mark.parametrize(
    "activations",
    [("tanh", "identity"), ("sigmoid", "sigmoid"), ("tanh", "tanh", "sigmoid")],
    ids=lambda a: "-".join(a),
)
def test_textbook_sigma_prime_from_A_is_no_false_alarm_eq_2_34(activations):
    report = check_gradients(
        textbook(activations), activations=activations, max_examples=60, seed=1
    )
    assert report.agree


def test_rows_and_in_out_layout_with_column_bias_agrees():
    base = Backprop(("tanh", "identity"), "squared_error", 0.0)

    def fn(Ws, bs, X, T):  # X (N, S_0), W^(l) (S_{l-1}, S_l), bias gradients (S, 1)
        J, dWs, dbs = base([W.T for W in Ws], bs, X.T, T.T)
        return J, [dW.T for dW in dWs], [db[:, None] for db in dbs]

    report = check_gradients(fn, layout="rows", weights="in_out", **SETTINGS)
    assert report.agree


def test_weight_decay_gradient_eq_2_14_with_lambda_agrees():
    base = Backprop(("tanh", "identity"), "squared_error", 0.5)
    assert check_gradients(base, weight_decay=0.5, **SETTINGS).agree


def _raises(Ws, bs, X, T):
    raise ZeroDivisionError("boom")


def _nan(Ws, bs, X, T):
    return [np.full(W.shape, np.nan) for W in Ws], [np.zeros(b.shape) for b in bs]


def _one_item(Ws, bs, X, T):
    return ([np.zeros(W.shape) for W in Ws],)


def _missing_layer(Ws, bs, X, T):
    return [np.zeros(W.shape) for W in Ws[:-1]], [np.zeros(b.shape) for b in bs[:-1]]


def _writes_X(Ws, bs, X, T):
    X[0, 0] = 1.0
    return vectorized.gradients(Network((1, 1), ("identity",)), [], X, T)


def _writes_b_behind_the_flag(Ws, bs, X, T):
    bs[1].flags.writeable = True  # allowed: the copy owns its memory
    bs[1][0] += 1.0
    return [np.zeros(W.shape) for W in Ws], [np.zeros(b.shape) for b in bs]


def _exits_0(Ws, bs, X, T):
    sys.exit(0)


def _exits_3(Ws, bs, X, T):
    sys.exit(3)


def _rewrites_X_unchanged(Ws, bs, X, T):
    X *= 1.0  # a write of the same values: found by the read-only copy, not by comparing
    return [np.zeros(W.shape) for W in Ws], [np.zeros(b.shape) for b in bs]


def _rewrites_W1_unchanged(Ws, bs, X, T):
    Ws[0][...] = Ws[0]
    return [np.zeros(W.shape) for W in Ws], [np.zeros(b.shape) for b in bs]


def _one_nan(Ws, bs, X, T):
    dWs = [np.zeros(W.shape) for W in Ws]
    dWs[0][0, 0] = np.nan
    return dWs, [np.zeros(b.shape) for b in bs]


def _rows_product(Ws, bs, X, T):
    X @ Ws[0]  # X taken as (N, S_0) although the default layout passes (S_0, N)
    return Backprop(("tanh", "identity"), "squared_error", 0.0)(Ws, bs, X, T)


_calls = []


def _nondeterministic(Ws, bs, X, T):
    _calls.append(1)
    return [np.full(W.shape, float(len(_calls))) for W in Ws], [np.zeros(b.shape) for b in bs]


@pytest.mark.parametrize(
    ("fn", "kind", "message"),
    [
        (_raises, "raised", "ZeroDivisionError: boom"),
        (_nan, "non-finite", "∂J/∂W^(1) has"),
        (_one_item, "output", "of 1 items"),
        (_missing_layer, "output", "gradients for 1 layers"),
        (_writes_X, "mutation", "it writes to X"),
        (_writes_b_behind_the_flag, "mutation", "it changed b^(2)"),
        (_nondeterministic, "non-deterministic", "the same input differ by up to 1 at"),
        (_exits_0, "raised", "the function called sys.exit(0)"),
        (_exits_3, "raised", "the function called sys.exit(3)"),
        (_rewrites_X_unchanged, "mutation", "it writes to X ("),
        (_rewrites_W1_unchanged, "mutation", "it writes to W^(1) ("),
        (_one_nan, "non-finite", "has 1 non-finite entry, first nan at (0, 0)"),
        (_rows_product, "raised", "pass layout='rows' (--layout rows)"),
    ],
    ids=[
        "raises",
        "nan",
        "arity",
        "layers",
        "writes",
        "flag_reset",
        "nondeterministic",
        "sys_exit_0",
        "sys_exit_3",
        "rewrites_X",
        "rewrites_W1",
        "one_nan",
        "shape_error_hint",
    ],
)
def test_faults_other_than_values_are_findings(fn, kind, message):
    report = mismatch(fn)
    assert report.finding.kind == kind
    assert message in report.finding.message


def test_keyboard_interrupt_is_not_swallowed():
    def interrupted(Ws, bs, X, T):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check_gradients(interrupted, **SETTINGS)


def test_shrinks_to_a_minimal_failing_example():
    base = Backprop(("tanh", "identity"), "squared_error", 0.0)

    def wrong_from_three_inputs(Ws, bs, X, T):
        J, dWs, dbs = base(Ws, bs, X, T)
        return J, [2 * dW if X.shape[0] >= 3 else dW for dW in dWs], dbs

    report = mismatch(wrong_from_three_inputs, max_examples=100)
    network, _, X, _ = report.example
    assert network.sizes[0] == 3 and X.shape[1] == 1 and report.shrunk


def test_first_diverging_quantity_is_in_the_output_layer_eqs_2_14_2_15():
    fn = MUTANTS["output_derivative_dropped"].function()
    report = mismatch(fn, activations=("tanh", "sigmoid"))
    first = report.examination.comparison.first_mismatch
    assert first.layer == 2 and first.equation in ("2.14", "2.15")


def test_summed_loss_convention_is_named_and_self_consistent_eq_2_16():
    report = mismatch(MUTANTS["summed_over_samples"].function())
    N = report.example.X.shape[1]
    assert f"summed over the samples instead of averaged (N·J, N = {N})" in report.conventions
    assert report.consistency.verdict == "consistent"


def test_gradient_of_a_different_loss_is_inconsistent_eq_2_16():
    report = mismatch(MUTANTS["loss_extra_half"].function())
    assert report.finding.kind == "loss"
    assert "extra ½ (J/2)" in report.conventions
    assert report.consistency.verdict == "inconsistent"


def test_suite_agrees_with_itself_on_the_failing_example():
    report = mismatch(MUTANTS["sign_flipped"].function())
    assert [c.actual_name for c in report.suite] == ["reference (contracted)", "autodiff"]
    assert all(c.agree for c in report.suite)


def test_report_names_the_jax_backend_and_device_where_autodiff_ran():
    import jax

    report = mismatch(MUTANTS["sign_flipped"].function())
    backend, device = jax.default_backend(), jax.devices()[0].device_kind
    assert report.to_dict()["jax"] == {"backend": backend, "device": device}
    assert f"(autodiff on JAX backend {backend} ({device}))" in str(report)


def test_an_agreeing_report_runs_no_autodiff_and_names_no_backend():
    report = check_gradients(Backprop(("tanh", "identity"), "squared_error", 0.0), **SETTINGS)
    assert report.to_dict()["jax"] is None


def test_transposed_output_shape_is_diagnosed():
    report = mismatch(MUTANTS["transposed_weight_gradient"].function())
    assert report.finding.kind == "output"
    assert [d.name for d in report.diagnosis] == ["transposed_weight_gradient"]


def test_same_seed_gives_the_same_minimal_example():
    fn = MUTANTS["bias_averaged_twice"].function()
    first, second = mismatch(fn), mismatch(fn)
    assert first.examples_run == second.examples_run
    np.testing.assert_array_equal(first.example.X, second.example.X)


def test_report_text_shows_the_table_and_the_diagnosis():
    text = str(mismatch(MUTANTS["sign_flipped"].function()))
    assert "First diverging quantity" in text
    assert "sign_flipped: sign error" in text
    assert "error/allowed" in text


def test_report_dict_is_strict_json():
    data = mismatch(MUTANTS["sign_flipped"].function()).to_dict()
    decoded = json.loads(json.dumps(data, allow_nan=False))
    assert decoded["finding"]["kind"] == "gradient"
    assert decoded["diagnosis"][0]["name"] == "sign_flipped"
    assert decoded["settings"]["seed"] == 0


def test_a_drawn_seed_is_recorded():
    base = Backprop(("identity",), "squared_error", 0.0)
    report = check_gradients(base, activations=("identity",), max_examples=5)
    assert isinstance(report.settings.seed, int) and report.settings.seed >= 0


def test_shape_error_hint_names_only_options_not_given():
    report = mismatch(_rows_product, weights="in_out")
    assert "layout='rows'" in report.finding.message
    assert "weights='in_out'" not in report.finding.message


def test_eq_2_14_ratio_past_the_underflow_floor_is_capped_with_the_error():
    def ones(Ws, bs, X, T):  # the suite's ∂J/∂W^(1) is exactly 0 when X = 0
        return [np.ones(W.shape) for W in Ws], [np.zeros(b.shape) for b in bs]

    network = Network((1, 1), ("identity",))
    params = [Layer(np.zeros((1, 1)), np.zeros(1))]
    report = check_example(ones, Problem(network, params, np.zeros((1, 1)), np.ones((1, 1))))
    assert "worst error/allowed ≫1e15 (|error| 1)" in report.finding.message


def test_in_out_diagnosis_drops_the_hint_to_pass_in_out():
    network = Network((3, 4, 2), ("tanh", "identity"))
    problem = Problem(network, init_params(network, seed=0), np.ones((3, 2)), np.zeros((2, 2)))
    correct = Backprop(network.activations, network.loss, 0.0)

    def in_out(Ws, bs, X, T):  # takes W^(l) as (S_{l-1}, S_l), returns ∂J/∂W^(l) as out_in
        return correct([W.T for W in Ws], bs, X, T)

    report = check_example(in_out, problem, weights="in_out")
    assert [d.name for d in report.diagnosis] == ["transposed_weight_gradient"]
    assert "weights='in_out'" not in report.diagnosis[0].text


def test_replayed_report_does_not_claim_a_search():
    network = Network((2, 2), ("tanh",))
    problem = Problem(network, init_params(network, seed=1), np.ones((2, 3)), np.zeros((2, 3)))
    text = str(check_example(MUTANTS["sign_flipped"].bind(("tanh",)), problem))
    assert "Example replayed from a saved failure:" in text and "found after" not in text


def test_check_example_judges_one_given_problem():
    network = Network((2, 2), ("tanh",))
    problem = Problem(network, init_params(network, seed=1), np.ones((2, 3)), np.zeros((2, 3)))
    report = check_example(MUTANTS["sign_flipped"].bind(("tanh",)), problem)
    assert isinstance(report, CheckReport) and report.finding.kind == "gradient"


@pytest.mark.parametrize(
    ("settings", "error", "match"),
    [
        ({"activations": "tanh"}, TypeError, "activations must be a sequence"),
        ({"activations": ("tanhh",)}, ValueError, "unknown activation 'tanhh'"),
        ({"loss": "mse"}, ValueError, "unknown loss 'mse'"),
        ({"sizes": (2, 2, 2)}, ValueError, "2 activations are needed"),
        ({"layout": "row"}, ValueError, "unknown layout"),
        ({"weights": "io"}, ValueError, "unknown weights"),
        ({"max_examples": 0}, ValueError, "max_examples must be >= 1"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"seed": 1.5}, TypeError, "seed must be an int"),
        ({"weight_decay": -1.0}, ValueError, "weight_decay must be finite and >= 0"),
    ],
    ids=[
        "str",
        "activation",
        "loss",
        "sizes",
        "layout",
        "weights",
        "examples",
        "seed",
        "seed_type",
        "decay",
    ],
)
def test_bad_arguments_are_refused_before_any_call(settings, error, match):
    calls = []

    def fn(Ws, bs, X, T):
        calls.append(1)

    with pytest.raises(error, match=match):
        check_gradients(fn, **{"activations": ("tanh",), **settings})
    assert calls == []


def test_non_callable_is_refused():
    with pytest.raises(TypeError, match="fn must be callable"):
        check_gradients([Layer(1, 2)], activations=("tanh",))


def test_gradient_finding_names_a_gradient_and_then_a_wrong_J():
    correct = Backprop(("tanh", "identity"), "squared_error", 0.0)

    def wrong_J_and_W(Ws, bs, X, T):
        J, dWs, dbs = correct(Ws, bs, X, T)
        return 2 * J + 1, [dWs[0], 2 * dWs[1] + 1], dbs

    with pytest.raises(GradientMismatch) as raised:
        check_gradients(wrong_J_and_W, activations=("tanh", "identity"), max_examples=5, seed=0)
    finding = raised.value.report.examination.finding
    assert finding.kind == "gradient"
    assert finding.message.startswith("∂J/∂W^(2) disagrees with the suite")
    assert finding.message.endswith("; J disagrees too")

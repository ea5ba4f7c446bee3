"""Diagnosis by layer and by quantity (DESIGN §5): catalogued bugs named with where they live,
the relation seen per quantity and layer, loss conventions of J and gradient, and shrinking
that keeps what a fault needs to be visible (non-zero W, b, X; N = S_l when it needs that)."""

import json

import numpy as np
import pytest
from hypothesis import given, settings

from crosscheck import GradientMismatch, check_gradients, vectorized
from crosscheck.ffnn import Layer, Network, init_params
from crosscheck.oracle.catalogue import CATALOGUE, MUTANTS, Backprop
from crosscheck.oracle.conventions import gradient_conventions, loss_conventions
from crosscheck.oracle.diagnosis import diagnose
from crosscheck.oracle.layouts import Returned
from crosscheck.oracle.relations import Form, fits, measured_ratio, named_factors, relations
from crosscheck.oracle.search import check_example
from crosscheck.strategies import Problem, networks, problems

TANH3 = ("tanh", "sigmoid", "identity")


def _problem(sizes, activations, N, weight_decay=0.0, seed=0, X=None):
    """Non-zero W^(l), b^(l), X, T from a seeded generator (X given: used as it is)."""
    network = Network(sizes, activations, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    params = tuple(
        Layer(W, rng.uniform(-1.0, 1.0, b.shape)) for W, b in init_params(network, seed=seed)
    )
    X = rng.uniform(-1.0, 1.0, (sizes[0], N)) if X is None else np.asarray(X, dtype=float)
    return Problem(network, params, X, rng.uniform(-1.0, 1.0, (sizes[-1], N)))


def _suite(problem):
    """The suite's (J, grads) as a Returned: what a correct function returns."""
    network, params, X, T = problem
    grads = vectorized.gradients(network, params, X, T)
    return Returned(float(vectorized.loss(network, params, X, T)), tuple(grads))


def _replace(returned, l, quantity, value):
    """`returned` with ∂J/∂{quantity}^(l) replaced by `value`."""
    grads = list(returned.grads)
    grads[l - 1] = grads[l - 1]._replace(**{quantity: np.asarray(value, dtype=float)})
    return Returned(returned.J, tuple(grads))


def _relation(found, quantity, l):
    (relation,) = [r for r in found if r.quantity == quantity and r.layer == l]
    return relation


def _others_agree(found, quantity, l):
    return all(r.kind == "agrees" for r in found if (r.quantity, r.layer) != (quantity, l))


# Sizes 3-4-5-3 at N = 4: N, 1/N, S_L, 1/S_L, 2/S_L and −1, 2, ½ are eight distinct values,
# and no W^(l) is square (no "W used transposed" form to coincide with).
DISTINCT = _problem((3, 4, 5, 3), TANH3, 4)
FACTORS = {"−1": -1.0, "2": 2.0, "½": 0.5, "N": 4.0, "1/N": 0.25, "S_L": 3.0, "1/S_L": 1 / 3}
FACTORS["2/S_L"] = 2 / 3
LOCATIONS = [(q, l) for l in (3, 2, 1) for q in "Wb"]
EQUATION = {("W", True): "eq_2_14", ("W", False): "eq_2_33"}
EQUATION |= {("b", True): "eq_2_15", ("b", False): "eq_2_37"}
LOCATION_IDS = [f"{EQUATION[q, l == 3]}_{q}{l}" for q, l in LOCATIONS]


@pytest.mark.parametrize("name", list(FACTORS))
@pytest.mark.parametrize(("quantity", "l"), LOCATIONS, ids=LOCATION_IDS)
def test_named_factor_is_stated_where_it_is(quantity, l, name):
    E = getattr(_suite(DISTINCT).grads[l - 1], quantity)
    found = relations(DISTINCT, _replace(_suite(DISTINCT), l, quantity, FACTORS[name] * E))
    relation = _relation(found, quantity, l)
    assert relation.kind == "factor" and relation.factor == FACTORS[name]
    assert relation.text.startswith(f"{name} × the suite's")
    assert _others_agree(found, quantity, l)


@pytest.mark.parametrize(("quantity", "l"), LOCATIONS, ids=LOCATION_IDS)
def test_generic_constant_ratio_is_measured(quantity, l):
    E = getattr(_suite(DISTINCT).grads[l - 1], quantity)
    relation = _relation(
        relations(DISTINCT, _replace(_suite(DISTINCT), l, quantity, 1.37 * E)), quantity, l
    )
    assert relation.kind == "ratio" and relation.factor == pytest.approx(1.37, rel=1e-12)
    assert relation.text.startswith("1.37 × the suite's")


@pytest.mark.parametrize(("quantity", "l"), LOCATIONS, ids=LOCATION_IDS)
def test_zero_is_stated_where_it_is(quantity, l):
    E = getattr(_suite(DISTINCT).grads[l - 1], quantity)
    found = relations(DISTINCT, _replace(_suite(DISTINCT), l, quantity, np.zeros_like(E)))
    assert _relation(found, quantity, l).kind == "zero" and _others_agree(found, quantity, l)


@pytest.mark.parametrize(("quantity", "l"), LOCATIONS, ids=LOCATION_IDS)
def test_one_entry_off_is_unrelated_not_a_factor(quantity, l):
    E = getattr(_suite(DISTINCT).grads[l - 1], quantity)
    F = 2.0 * E
    F.flat[0] *= 1.001  # a factor 2 everywhere but one entry
    relation = _relation(
        relations(DISTINCT, _replace(_suite(DISTINCT), l, quantity, F)), quantity, l
    )
    assert relation.kind == "unrelated"


SQUARE = _problem((3, 3, 3, 3), TANH3, 4)


@pytest.mark.parametrize("l", [3, 2, 1], ids=["eq_2_14_W3", "eq_2_33_W2", "eq_2_33_W1"])
def test_square_transposed_weight_gradient_is_stated(l):
    E = _suite(SQUARE).grads[l - 1].W
    found = relations(SQUARE, _replace(_suite(SQUARE), l, "W", E.T))
    assert _relation(found, "W", l).form == "transposed" and _others_agree(found, "W", l)


@pytest.mark.parametrize("l", [3, 2, 1], ids=["eq_2_14_W3", "eq_2_33_W2", "eq_2_33_W1"])
def test_transposed_shape_and_reshaped_transpose_are_stated(l):
    E = _suite(DISTINCT).grads[l - 1].W
    transposed = relations(DISTINCT, _replace(_suite(DISTINCT), l, "W", E.T))
    reshaped = relations(DISTINCT, _replace(_suite(DISTINCT), l, "W", E.T.reshape(E.shape)))
    assert _relation(transposed, "W", l).form == "transposed"
    assert _relation(reshaped, "W", l).form == "transposed_reshaped"


@pytest.mark.parametrize("l", [3, 2, 1], ids=["eq_2_14", "eq_2_33_l2", "eq_2_33_l1"])
def test_missing_weight_decay_and_decayed_bias_are_stated(l):
    problem = _problem((3, 4, 5, 3), TANH3, 4, weight_decay=0.3)
    W, b = problem.params[l - 1]
    E = _suite(problem).grads[l - 1]
    no_decay = relations(problem, _replace(_suite(problem), l, "W", E.W - 0.3 * W))
    decayed_b = relations(problem, _replace(_suite(problem), l, "b", E.b + 0.3 * b))
    assert _relation(no_decay, "W", l).form == "without_decay"
    assert _relation(decayed_b, "b", l).form == "bias_decay"
    assert _others_agree(no_decay, "W", l) and _others_agree(decayed_b, "b", l)


@pytest.mark.parametrize(("quantity", "l"), LOCATIONS, ids=LOCATION_IDS)
def test_missing_sigma_prime_factor_is_stated_eqs_2_13_2_34(quantity, l):
    problem = _problem((3, 4, 5, 3), ("tanh", "sigmoid", "tanh"), 4)
    network, params, X, T = problem
    _, trace = vectorized.backprop(network, params, X, T)
    G = trace.Delta[l] @ trace.A[l - 1].T if quantity == "W" else trace.Delta[l].sum(axis=1)
    found = relations(problem, _replace(_suite(problem), l, quantity, G))
    assert _relation(found, quantity, l).form == "without_sigma_prime"


@pytest.mark.parametrize("k", [1, 2, 3])
def test_weight_used_transposed_is_stated_in_every_quantity_it_changes(k):
    _, params, X, T = SQUARE
    Ws = [W.T if j == k else W for j, (W, _) in enumerate(params, start=1)]
    J, dWs, dbs = Backprop(TANH3, "squared_error", 0.0)(Ws, [b for _, b in params], X, T)
    returned = Returned(J, tuple(Layer(dW, db) for dW, db in zip(dWs, dbs, strict=True)))
    found = relations(SQUARE, returned)
    assert {r.form for r in found if r.differs} == {f"W^({k})_transposed"}
    assert _relation(found, "W", k).differs


def test_agreement_on_a_negligible_quantity_is_flagged():
    problem = _problem((2, 3, 2), ("tanh", "identity"), 3, X=np.zeros((2, 3)))
    relation = _relation(relations(problem, _suite(problem)), "W", 1)
    assert relation.kind == "agrees" and relation.negligible


def test_named_factors_merge_equal_values_and_drop_one():
    names = {value: name for value, name, _ in named_factors(2, 1)}
    assert names == {-1.0: "−1", 2.0: "2 = N", 0.5: "½ = 1/N"}


def test_a_ratio_needs_a_non_negligible_entry():
    form = Form("suite", "the suite's", np.array([1e-300, 0.0]), np.array([1e-290, 1e-290]))
    assert measured_ratio(np.array([2e-300, 0.0]), form) is None
    assert not fits(np.array([2e-300, 0.0]), form, 2.0)


# -- honesty: a correct function gets no claim -------------------------------------------


def _textbook(activations, lam):
    """Correct backprop written as textbooks do: σ' from A, J of eq 2.16 + (λ/2)Σ‖W‖²."""
    forward = {"tanh": np.tanh, "sigmoid": lambda Z: 1 / (1 + np.exp(-Z)), "identity": lambda Z: Z}
    prime = {"tanh": lambda A: 1 - A * A, "sigmoid": lambda A: A * (1 - A)}
    prime["identity"] = np.ones_like

    def fn(Ws, bs, X, T):
        A = [X]
        for W, b, name in zip(Ws, bs, activations, strict=True):
            with np.errstate(over="ignore"):  # exp(−z) overflows to inf: σ = 0, correct
                A.append(forward[name](W @ A[-1] + b[:, None]))
        N = X.shape[1]
        Delta = (A[-1] - T) / N
        dWs, dbs = [None] * len(Ws), [None] * len(Ws)
        for l in range(len(Ws), 0, -1):
            H = Delta * prime[activations[l - 1]](A[l])
            dWs[l - 1], dbs[l - 1] = H @ A[l - 1].T + lam * Ws[l - 1], H.sum(axis=1)
            Delta = Ws[l - 1].T @ H
        J = 0.5 * np.sum((A[-1] - T) ** 2) / N + 0.5 * lam * sum(np.sum(W * W) for W in Ws)
        return J, dWs, dbs

    return fn


def _output(fn, problem):
    _, params, X, T = problem
    J, dWs, dbs = fn([W for W, _ in params], [b for _, b in params], X, T)
    return Returned(float(J), tuple(Layer(dW, db) for dW, db in zip(dWs, dbs, strict=True)))


def _no_claims(problem, returned):
    ours = (returned.J, returned.grads)
    assert all(r.kind == "agrees" for r in relations(problem, returned))
    assert diagnose(problem, returned, ours) == ()
    assert loss_conventions(problem, returned.J) == ()
    assert gradient_conventions(problem, returned) == ()


@settings(max_examples=40)
@given(
    problems(
        networks=networks(
            losses=("squared_error", "cross_entropy", "binary_cross_entropy"),
            weight_decay=True,
        )
    )
)
def test_correct_base_gets_no_diagnosis_and_no_relation_claim(problem):
    network = problem.network
    _no_claims(
        problem, _output(Backprop(network.activations, network.loss, network.weight_decay), problem)
    )


@settings(max_examples=40)
@given(problems(networks=networks(activations=("tanh", "sigmoid", "identity"), weight_decay=True)))
def test_correct_textbook_code_gets_no_diagnosis_and_no_relation_claim(problem):
    network = problem.network
    _no_claims(problem, _output(_textbook(network.activations, network.weight_decay), problem))


# -- catalogued bugs named with where they live --------------------------------------------

LOCALISED = [
    ("sign_flipped", 3, ("∂J/∂W^(3)", "∂J/∂b^(3)")),
    ("sign_flipped", 2, ("∂J/∂W^(2)", "∂J/∂b^(2)")),
    ("sign_flipped", 1, ("∂J/∂W^(1)", "∂J/∂b^(1)")),
    ("transposed_weight_gradient", 3, ("∂J/∂W^(3)",)),
    ("transposed_weight_gradient", 2, ("∂J/∂W^(2)",)),
    ("transposed_weight_gradient", 1, ("∂J/∂W^(1)",)),
    ("bias_missing_1_over_N", 2, ("∂J/∂b^(2)",)),
    ("bias_averaged_twice", 1, ("∂J/∂b^(1)",)),
    ("weight_decay_missing", 2, ("∂J/∂W^(2)",)),
    ("weight_decay_on_biases", 3, ("∂J/∂b^(3)",)),
    ("bias_gradient_from_delta", 2, ("∂J/∂b^(2)",)),
    ("sigma_prime_at_A", 2, ("∂J/∂W^(2)", "∂J/∂b^(2)", "∂J/∂W^(1)", "∂J/∂b^(1)")),
    ("delta_without_sigma_prime", 2, ("∂J/∂W^(2)", "∂J/∂b^(2)", "∂J/∂W^(1)", "∂J/∂b^(1)")),
    ("delta_recursion_wrong_weights", 3, ("∂J/∂W^(2)", "∂J/∂b^(2)", "∂J/∂W^(1)", "∂J/∂b^(1)")),
]


@pytest.mark.parametrize(
    ("name", "layer", "where"), LOCALISED, ids=[f"{n}_in_layer_{l}" for n, l, _ in LOCALISED]
)
def test_bug_in_one_layer_is_named_with_its_layer(name, layer, where):
    problem = _problem((3, 3, 3, 3), ("tanh", "sigmoid", "tanh"), 4, weight_decay=0.2)
    fn = MUTANTS[name].only_in_layer(layer, ("tanh", "sigmoid", "tanh"), weight_decay=0.2)
    report = check_example(fn, problem)
    named = [(d.name, d.layer, d.where) for d in report.diagnosis]
    assert (name, layer, where) in named


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("bias_missing_1_over_N", ("∂J/∂b^(2)", "∂J/∂b^(1)")),
        ("weight_decay_on_biases_in_J", ("J", "∂J/∂b^(2)", "∂J/∂b^(1)")),
        ("weight_decay_on_biases", ("∂J/∂b^(2)", "∂J/∂b^(1)")),
        ("loss_extra_half", ("J",)),
        ("missing_1_over_N", ("∂J/∂W^(2)", "∂J/∂b^(2)", "∂J/∂W^(1)", "∂J/∂b^(1)")),
    ],
    ids=["bias_only_eq_2_15", "J_and_bias_eq_2_16", "bias_gradient_only", "J_only", "all"],
)
def test_catalogued_bug_is_named_with_the_arrays_it_changes(name, where):
    problem = _problem((2, 3, 2), ("tanh", "identity"), 3, weight_decay=0.2)
    report = check_example(MUTANTS[name].bind(("tanh", "identity"), weight_decay=0.2), problem)
    assert [(d.name, d.layer, d.where) for d in report.diagnosis] == [(name, None, where)]


def test_only_per_layer_mistakes_can_be_made_in_one_layer():
    per_layer = {m.name for m in CATALOGUE if m.per_layer}
    assert "sign_flipped" in per_layer and "transposed_weight_gradient" in per_layer
    assert not {"missing_1_over_N", "summed_over_samples", "float32_accumulation"} & per_layer
    with pytest.raises(ValueError, match="not a per-layer mistake"):
        MUTANTS["loss_extra_half"].only_in_layer(1, ("tanh",))


def test_one_layer_transposed_drops_the_in_out_hint():
    problem = _problem((3, 3, 3, 3), TANH3, 4)
    fn = MUTANTS["transposed_weight_gradient"].only_in_layer(2, TANH3)
    (diagnosis,) = check_example(fn, problem).diagnosis
    assert diagnosis.title == "transposed_weight_gradient in layer 2 only"
    assert "weights='in_out'" not in diagnosis.text


# -- loss conventions of J and of the gradient -----------------------------------------------


def test_loss_over_outputs_convention_is_named_with_its_factor_eq_2_16():
    problem = _problem((2, 3, 3), ("tanh", "identity"), 4)
    J = float(vectorized.loss(*problem)) / 3
    (text,) = loss_conventions(problem, J)
    assert text.startswith("J reported over the S_L outputs: factor 1/S_L = 1/3")


def test_a_J_off_a_convention_by_more_than_its_bound_is_not_named():
    problem = _problem((2, 3, 3), ("tanh", "identity"), 4)
    assert loss_conventions(problem, float(vectorized.loss(*problem)) / 3 * (1 + 1e-9)) == ()


@pytest.mark.parametrize(("c", "start"), [(4.0, "summed over the samples"), (2 / 3, "'MSE'")])
def test_gradient_convention_scales_the_loss_term_only(c, start):
    problem = _problem((2, 3, 3), ("tanh", "identity"), 4, weight_decay=0.5)
    suite = _suite(problem)
    grads = tuple(
        Layer(c * (g.W - 0.5 * W) + 0.5 * W, c * g.b)
        for g, (W, _) in zip(suite.grads, problem.params, strict=True)
    )
    (text,) = gradient_conventions(problem, Returned(suite.J, grads))
    assert text.startswith(start)


# -- the cases through the search ------------------------------------------------------


def _hand_written(*, bias_1_over_N=True, transpose=None, decay_biases=False, axis_by_length=False):
    """Backprop as a user writes it (Δ^(L) = A − T, the 1/N applied to each gradient), with
    the chosen mistakes: 1/N left out of ∂b, one layer's ∂W transposed, the biases decayed in
    J and gradient, or the bias gradient summed over the axis whose length is N."""

    def fn(Ws, bs, X, T, lam=DECAY if decay_biases else 0.0):
        A = [X]
        for W, b in zip(Ws[:-1], bs[:-1], strict=True):
            A.append(np.tanh(W @ A[-1] + b[:, None]))
        A.append(Ws[-1] @ A[-1] + bs[-1][:, None])
        N = X.shape[1]
        J = 0.5 * np.sum((A[-1] - T) ** 2) / N + 0.5 * lam * sum(np.sum(W * W) for W in Ws)
        J += 0.5 * lam * sum(np.sum(b * b) for b in bs)
        H = A[-1] - T
        dWs, dbs = [None] * len(Ws), [None] * len(Ws)
        for l in range(len(Ws), 0, -1):
            dW = H @ A[l - 1].T / N + lam * Ws[l - 1]
            dWs[l - 1] = A[l - 1] @ H.T / N if l == transpose else dW
            axis = H.shape.index(N) if axis_by_length else 1
            dbs[l - 1] = H.sum(axis=axis) / (1 if bias_1_over_N is False else N) + lam * bs[l - 1]
            if l > 1:
                H = (Ws[l - 1].T @ H) * (1 - A[l - 1] ** 2)
        return J, dWs, dbs

    return fn


DECAY = 0.1


def _search(fn, activations, **kwargs):
    with pytest.raises(GradientMismatch) as raised:
        check_gradients(fn, activations=activations, max_examples=100, seed=0, **kwargs)
    return raised.value.report


def test_bias_only_missing_1_over_N_is_named_as_such_not_as_all_gradients():
    report = _search(_hand_written(bias_1_over_N=False), ("tanh", "identity"))
    assert [(d.name, d.layer) for d in report.diagnosis] == [("bias_missing_1_over_N", None)]
    weights = [r for r in report.relations if r.quantity == "W"]
    assert all(r.kind == "agrees" and not r.negligible for r in weights)
    assert all(
        r.text.startswith("2 = N ×") or r.text.startswith("N ×")
        for r in report.relations
        if r.quantity == "b"
    )


def test_one_transposed_layer_of_three_is_named_with_its_layer():
    report = _search(_hand_written(transpose=2), ("tanh", "tanh", "identity"))
    assert [(d.name, d.layer) for d in report.diagnosis] == [("transposed_weight_gradient", 2)]
    assert [r.label for r in report.relations if r.differs] == ["∂J/∂W^(2)"]


def test_weight_decay_on_biases_in_J_and_gradient_is_named_with_both_eq_2_16():
    report = _search(_hand_written(decay_biases=True), ("tanh", "identity"), weight_decay=DECAY)
    (diagnosis,) = report.diagnosis
    assert diagnosis.name == "weight_decay_on_biases_in_J" and diagnosis.where[0] == "J"
    assert any(c.startswith("weight decay applied to the biases too") for c in report.conventions)
    assert report.consistency.verdict == "consistent"


def test_fault_that_shows_only_when_N_equals_a_width_is_found_small_and_said():
    report = _search(_hand_written(axis_by_length=True), ("tanh", "identity"))
    network, _, X, _ = report.example
    assert X.shape[1] == 2 and 2 in network.sizes[1:]
    (condition,) = report.notes
    assert condition.startswith("This fault shows only when N = S_l")


def test_replayed_N_equals_S_1_example_with_zero_X_says_the_condition():
    problem = _problem((5, 4, 1), ("tanh", "identity"), 4, X=np.zeros((5, 4)))
    report = check_example(_hand_written(axis_by_length=True), problem)
    assert not report.agree
    assert report.notes[0].startswith(
        "This fault shows only when N = S_l: the example has N = S_1 = 4"
    )


def test_fault_at_every_N_gets_no_width_condition():
    report = _search(_hand_written(bias_1_over_N=False), ("tanh", "identity"), sizes=(2, 2, 1))
    assert report.example.X.shape[1] >= 2
    assert not any(note.startswith("This fault shows only when N = S_l") for note in report.notes)


def test_shrunk_example_keeps_non_zero_W_b_and_X():
    report = _search(_hand_written(bias_1_over_N=False), ("tanh", "identity"))
    _, params, X, _ = report.example
    assert all(np.all(W != 0) and np.all(b != 0) for W, b in params) and np.all(X != 0)


def test_shrunk_example_keeps_a_zero_the_fault_needs():
    correct = Backprop(("tanh", "identity"), "squared_error", 0.0)

    def wrong_at_an_exact_zero(Ws, bs, X, T):
        J, dWs, dbs = correct(Ws, bs, X, T)
        return J, dWs, [2 * db if np.any(X == 0) else db for db in dbs]

    report = _search(wrong_at_an_exact_zero, ("tanh", "identity"))
    assert np.any(report.example.X == 0)


def test_coinciding_factor_names_are_told_apart_on_a_second_example():
    correct = Backprop(("tanh", "identity"), "squared_error", 0.0)

    def J_over_outputs(Ws, bs, X, T):  # scikit-learn's multi-output J, eq 2.16 gradient
        J, dWs, dbs = correct(Ws, bs, X, T)
        return J / T.shape[0], dWs, dbs

    report = _search(J_over_outputs, ("tanh", "identity"))
    assert report.example.network.sizes[-1] == 2  # shrunk to S_L = 2, where J/2 = J/S_L
    (note,) = [n for n in report.notes if n.startswith("This example cannot tell apart ½ = 1/S_L")]
    assert "factor 1/S_L = 1/3" in note.split("where they differ")[1]


def test_zeros_that_hide_a_quantity_are_replaced_in_a_follow_up():
    problem = _problem((2, 3, 1), ("tanh", "identity"), 3, X=np.zeros((2, 3)))
    problem = problem._replace(params=tuple(p._replace(b=0 * p.b) for p in problem.params))
    report = check_example(_hand_written(bias_1_over_N=False), problem)
    assert {d.name for d in report.diagnosis} == {"missing_1_over_N", "bias_missing_1_over_N"}
    (note,) = [n for n in report.notes if n.startswith("The example's zeros leave")]
    assert "∂J/∂W^(2), ∂J/∂W^(1) at 0 on both sides" in note
    assert "known bug(s): bias_missing_1_over_N;" in note


# -- the report ----------------------------------------------------------------------------------


def test_report_text_states_bugs_where_and_relations():
    report = _search(_hand_written(transpose=2), ("tanh", "tanh", "identity"))
    text = str(report)
    assert "transposed_weight_gradient in layer 2 only:" in text
    assert "— changes ∂J/∂W^(2)" in text
    assert "∂J/∂W^(2): the suite's transposed" in text
    assert "Differs in: ∂J/∂W^(l) in layer 2" in text


def test_report_json_carries_the_diagnosis_by_layer_and_quantity():
    report = _search(_hand_written(axis_by_length=True), ("tanh", "identity"))
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert {"name", "text", "layer", "where"} <= set(data["diagnosis"][0])
    assert data["relations"][0]["label"] == "J" and data["relations"][0]["kind"] == "agrees"
    assert data["notes"][0].startswith("This fault shows only when N = S_l")
    assert data["gradient_conventions"] == [] and "∂J/∂b^(l)" in data["touched"]

"""compare_backprop localises a disagreement to its first equation (DESIGN §5 "Report").

A broken copy of the matrix-form backprop (eqs 1.4, 2.13–2.15, 2.21, 2.32–2.34, 2.37) lives
here, with one seeded bug at a time; each is compared with the correct ``vectorized``
under the derived bound and must fail first at the equation it breaks, with an error/bound
ratio of at least 1e3.
"""

from typing import Any

import numpy as np
import pytest

from crosscheck import autodiff_oracle, vectorized
from crosscheck.compare.comparison import compare_backprop, compare_backprop_many
from crosscheck.ffnn import Layer, Network, Trace, init_params


def _broken_backprop(network: Network, params: Any, X: np.ndarray, T: np.ndarray, bug: str):
    """Eqs 1.4, 2.21, 2.13/2.34, 2.14/2.33, 2.15/2.37, 2.32 in matrix form, with `bug`."""
    L, N = network.L, X.shape[1]
    Z, A = [None], [X]
    for l, (W, b) in enumerate(params, start=1):
        Z.append(W @ A[-1] + b[:, None])  # eq 1.4
        A.append(network.sigma(l).sigma(Z[-1], np))
    Delta: list[Any] = [None] * (L + 1)
    H: list[Any] = [None] * (L + 1)
    grads: list[Any] = [None] * L
    Delta[L] = (A[L] - T) if bug == "missing_1_over_N" else (A[L] - T) / N  # eq 2.21
    for l in range(L, 0, -1):
        W = params[l - 1].W
        at = A[l] if bug == "sigma_prime_of_A" else Z[l]
        H[l] = Delta[l] * network.sigma(l).sigma_prime(at)  # eqs 2.13, 2.34
        dW = H[l] @ A[l - 1].T  # eqs 2.14, 2.33
        db = H[l].mean(axis=1) if bug == "bias_mean" else H[l].sum(axis=1)  # eqs 2.15, 2.37
        square = dW.shape[0] == dW.shape[1]
        grads[l - 1] = Layer(dW.T if bug == "transposed_W_gradient" and square else dW, db)
        Delta[l - 1] = (-W.T if bug == "sign_error_delta" else W.T) @ H[l]  # eq 2.32
    return tuple(grads), Trace(tuple(Z), tuple(A), tuple(Delta), tuple(H))


BUGS = {
    "sigma_prime_of_A": ("H^(2)", "2.13"),
    "missing_1_over_N": ("Δ^(2)", "2.21"),
    "transposed_W_gradient": ("∂J/∂W^(2)", "2.14"),
    "bias_mean": ("∂J/∂b^(2)", "2.15"),
    "sign_error_delta": ("Δ^(1)", "2.32"),
}
"""seeded bug → (first mismatched row, its equation)."""


def _problem(seed: int, activation: str) -> tuple[Network, Any, np.ndarray, np.ndarray]:
    network = Network((3, 4, 4), (activation, activation))  # square W^(2) for the transpose
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(3, 5))
    T = rng.uniform(-1.0, 1.0, size=(4, 5))
    return network, init_params(network, seed=seed), X, T


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("bug", list(BUGS))
def test_seeded_bug_localised_to_its_equation(bug: str, seed: int, activation: str) -> None:
    problem = _problem(seed, activation)
    comparison = compare_backprop(
        *problem, vectorized.backprop(*problem), _broken_backprop(*problem, bug)
    )
    first = comparison.first_mismatch
    assert (first.label, first.equation) == BUGS[bug]


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("bug", list(BUGS))
def test_seeded_bug_ratio_at_least_1e3(bug: str, seed: int, activation: str) -> None:
    problem = _problem(seed, activation)
    comparison = compare_backprop(
        *problem, vectorized.backprop(*problem), _broken_backprop(*problem, bug)
    )
    assert comparison.first_mismatch.worst_ratio >= 1e3


def test_unbroken_copy_agrees_eqs_1_4_to_2_38() -> None:
    problem = _problem(0, "tanh")
    comparison = compare_backprop(
        *problem, vectorized.backprop(*problem), _broken_backprop(*problem, "none")
    )
    assert comparison.agree and comparison.worst_ratio < 1


def test_rows_in_derivation_order() -> None:
    problem = _problem(0, "tanh")
    result = vectorized.backprop(*problem)
    comparison = compare_backprop(*problem, result, result, expected_loss=1.0, actual_loss=1.0)
    assert [row.label for row in comparison.rows] == [
        "Z^(1)", "A^(1)", "Z^(2)", "A^(2)", "J",
        "Δ^(2)", "H^(2)", "∂J/∂W^(2)", "∂J/∂b^(2)",
        "Δ^(1)", "H^(1)", "∂J/∂W^(1)", "∂J/∂b^(1)",
        "Δ^(0)",
    ]  # fmt: skip


def test_equations_of_a_squared_error_network() -> None:
    network = Network((2, 3, 3, 2), ("tanh", "tanh", "tanh"))
    params = init_params(network, seed=0)
    X, T = np.ones((2, 3)), np.zeros((2, 3))
    result = vectorized.backprop(network, params, X, T)
    comparison = compare_backprop(network, params, X, T, result, result, expected_loss=1.0,
                                  actual_loss=1.0)  # fmt: skip
    equations = {row.label: row.equation for row in comparison.rows}
    assert equations == {
        **{f"{q}^({l})": "1.4" for q in "ZA" for l in (1, 2, 3)},
        "J": "2.16", "Δ^(3)": "2.21", "H^(3)": "2.13", "∂J/∂W^(3)": "2.14",
        "∂J/∂b^(3)": "2.15", "Δ^(2)": "2.32", "H^(2)": "2.34", "∂J/∂W^(2)": "2.33",
        "∂J/∂b^(2)": "2.37", "Δ^(1)": "2.38", "H^(1)": "2.34", "∂J/∂W^(1)": "2.33",
        "∂J/∂b^(1)": "2.37", "Δ^(0)": "2.38",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("loss", "output", "expected"),
    [
        ("cross_entropy", "softmax", ("2.16'", "2.21'", "2.8'", "2.13'")),
        ("binary_cross_entropy", "sigmoid", ("2.16''", "2.21''", "2.8''", "2.13'")),
    ],
    ids=["eq_2_16_p", "eq_2_16_pp"],
)
def test_equations_come_from_the_loss_and_activation(loss, output, expected) -> None:
    network = Network((2, 3, 2), ("softmax", output), loss=loss)
    params = init_params(network, seed=0)
    X, T = np.ones((2, 3)), np.full((2, 3), 0.5)
    result = vectorized.backprop(network, params, X, T)
    comparison = compare_backprop(network, params, X, T, result, result, expected_loss=1.0,
                                  actual_loss=1.0)  # fmt: skip
    equations = {row.label: row.equation for row in comparison.rows}
    assert (equations["J"], equations["Δ^(2)"], equations["H^(2)"], equations["H^(1)"]) == expected


def _underflowed_cross_entropy() -> tuple[Network, tuple[Layer, ...], np.ndarray, np.ndarray]:
    network = Network((1, 2), ("softmax",), loss="cross_entropy")
    params = (Layer(np.array([[800.0], [0.0]]), np.zeros(2)),)
    X = np.array([[1.0, -1.0, 0.0]])
    T = np.full((2, 3), 0.5)  # A = (1, 0) in column 0: Δ_10 = −T/(N·0) = −inf
    return network, params, X, T


def test_eq_2_21_p_non_finite_delta_skipped_and_counted() -> None:
    problem = _underflowed_cross_entropy()
    comparison = compare_backprop(
        *problem, vectorized.backprop(*problem), autodiff_oracle.backprop(*problem)
    )
    row = next(row for row in comparison.rows if row.label == "Δ^(1)")
    assert (row.n_skipped, comparison.agree) == (2, True)


def test_eq_2_21_p_finite_entries_still_compared() -> None:
    problem = _underflowed_cross_entropy()
    expected = vectorized.backprop(*problem)
    grads, trace = expected
    Delta = trace.Delta[1].copy()
    Delta[0, 2] *= 2  # a finite entry, wrong
    broken = (grads, trace._replace(Delta=(trace.Delta[0], Delta)))
    first = compare_backprop(*problem, expected, broken).first_mismatch
    assert (first.label, first.worst_index) == ("Δ^(1)", (0, 2))


def _relu_at_kink() -> tuple[Network, tuple[Layer, ...], np.ndarray, np.ndarray]:
    network = Network((2, 3, 1), ("relu", "identity"))
    params = (
        Layer(np.array([[1.0, -1.0], [0.5, 0.5], [2.0, 1.0]]), np.zeros(3)),
        Layer(np.array([[1.0, 2.0, 3.0]]), np.zeros(1)),
    )
    X = np.array([[1.0, 0.3, 2.0], [1.0, 0.1, -1.0]])  # Z^(1)_00 = 0 exactly
    return network, params, X, np.zeros((1, 3))


def test_entries_at_a_kink_are_counted_on_Z_and_H_rows() -> None:
    problem = _relu_at_kink()
    result = vectorized.backprop(*problem)
    comparison = compare_backprop(*problem, result, result)
    counts = {row.label: row.n_at_kink for row in comparison.rows if row.n_at_kink}
    assert (counts, comparison.n_at_kink) == ({"Z^(1)": 1, "H^(1)": 1}, 1)


def test_at_a_kink_the_other_branch_of_sigma_prime_is_allowed() -> None:
    # One side takes ReLU'(0) = 1 instead of 0: allowed at a kink, downstream too.
    problem = _relu_at_kink()
    expected = vectorized.backprop(*problem)
    grads, trace = expected
    W2 = problem[1][1].W
    H1 = trace.H[1].copy()
    H1[0, 0] = trace.Delta[1][0, 0]
    other = (
        (Layer(H1 @ problem[2].T, H1.sum(axis=1)), grads[1]),
        trace._replace(H=(None, H1, trace.H[2]), Delta=(problem[1][0].W.T @ H1, *trace.Delta[1:])),
    )
    assert W2[0, 0] != 0 and compare_backprop(*problem, expected, other).agree


# compare_backprop_many: several sides against one expected result, the bound computed once.


def test_compare_many_gives_each_side_the_comparison_compare_backprop_gives():
    problem = _problem(0, "tanh")
    expected = vectorized.backprop(*problem)
    actuals = {bug: _broken_backprop(*problem, bug) for bug in BUGS}
    many = compare_backprop_many(*problem, expected, actuals, expected_name="vectorized")
    single = {
        bug: compare_backprop(*problem, expected, actual, names=("vectorized", bug))
        for bug, actual in actuals.items()
    }
    assert many == single


def test_compare_many_localises_each_side_to_its_own_first_equation():
    problem = _problem(0, "tanh")
    actuals = {bug: _broken_backprop(*problem, bug) for bug in BUGS}
    many = compare_backprop_many(*problem, vectorized.backprop(*problem), actuals)
    firsts = {bug: (c.first_mismatch.label, c.first_mismatch.equation) for bug, c in many.items()}
    assert firsts == BUGS


def test_compare_many_without_the_J_of_a_side_names_it():
    problem = _problem(0, "tanh")
    result = vectorized.backprop(*problem)
    with pytest.raises(ValueError, match="actual_losses has no J for 'b'"):
        compare_backprop_many(
            *problem,
            result,
            {"a": result, "b": result},
            expected_loss=1.0,
            actual_losses={"a": 1.0},
        )


def test_compare_many_refuses_a_sequence_of_sides():
    problem = _problem(0, "tanh")
    result = vectorized.backprop(*problem)
    with pytest.raises(TypeError, match="actuals must be a mapping"):
        compare_backprop_many(*problem, result, [("a", result)])


def test_compare_many_refuses_a_J_for_a_side_it_does_not_compare():
    problem = _problem(0, "tanh")
    result = vectorized.backprop(*problem)
    with pytest.raises(ValueError, match=r"actual_losses names sides not in actuals: \['b'\]"):
        compare_backprop_many(
            *problem, result, {"a": result}, expected_loss=1.0, actual_losses={"a": 1.0, "b": 1.0}
        )


def _far_negative_hidden_softmax() -> tuple[Network, Any, np.ndarray, np.ndarray]:
    # logits −1e308, −1e308, −9e307: |Z| + max|Z| overflows in the softmax bound (eq 2.2')
    network = Network((1, 3, 1), ("softmax", "identity"))
    params = (
        Layer(np.zeros((3, 1)), np.array([-1e308, -1e308, -9e307])),
        Layer(np.array([[1.0, 2.0, 3.0]]), np.zeros(1)),
    )
    return network, params, np.ones((1, 2)), np.zeros((1, 2))


def test_eq_2_2_prime_softmax_bound_has_no_nan_where_logits_overflow_it():
    problem = _far_negative_hidden_softmax()
    result = vectorized.backprop(*problem)
    rows = compare_backprop(*problem, result, result).rows
    assert not any(np.isnan(row.allowed) or np.isnan(row.worst_ratio) for row in rows)


def test_eq_2_2_prime_an_output_that_underflowed_to_0_may_not_change():
    problem = _far_negative_hidden_softmax()
    grads, trace = vectorized.backprop(*problem)
    A = list(trace.A)
    A[1] = A[1] + np.array([[1e-3], [0.0], [0.0]])
    comparison = compare_backprop(*problem, (grads, trace), (grads, trace._replace(A=tuple(A))))
    assert (comparison.agree, comparison.first_mismatch.label) == (False, "A^(1)")
    assert comparison.first_mismatch.worst_ratio > 1e3

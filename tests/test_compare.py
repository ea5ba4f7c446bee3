"""Tests of crosscheck.compare.comparison: tolerances, per-array reports, failure text,
validation."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from crosscheck.compare.bounds import DEFAULT_TOLERANCES, DerivedBound, Tolerance
from crosscheck.compare.comparison import (
    ArrayReport,
    Comparison,
    assert_gradients_close,
    compare_backprop,
    compare_gradients,
)
from crosscheck.ffnn import Layer

TOL64 = DEFAULT_TOLERANCES[np.dtype(np.float64)]


def _grads(*shapes: tuple[int, int], start: float = 1.0, dtype=np.float64) -> tuple[Layer, ...]:
    """Layers l = 1..L with W^(l) of the given shape filled with start, start+1, ..."""
    layers, value = [], start
    for rows, cols in shapes:
        W = (value + np.arange(rows * cols, dtype=np.float64)).reshape(rows, cols)
        b = value + np.arange(rows, dtype=np.float64)
        layers.append(Layer(W.astype(dtype), b.astype(dtype)))
        value += rows * cols
    return tuple(layers)


def _with(grads: tuple[Layer, ...], l: int, quantity: str, index, value: float):
    """A copy of grads with entry `index` of ∂J/∂{quantity}^(l) set to value."""
    layers = [Layer(W.copy(), b.copy()) for W, b in grads]
    getattr(layers[l - 1], quantity)[index] = value
    return tuple(layers)


EXPECTED = _grads((3, 2), (2, 3))  # L = 2: W^(1) (3, 2), W^(2) (2, 3)


# --- the fixed rule's table ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_comparison_uses_table_of_less_precise_side(dtype) -> None:
    actual = _grads((3, 2), (2, 3), dtype=dtype)
    comparison = compare_gradients(_grads((3, 2), (2, 3), dtype=np.float32), actual)
    assert comparison.tolerance == DEFAULT_TOLERANCES[np.dtype(np.float32)]


# --- rows, order, equations ---------------------------------------------------------------


def test_identical_gradients_agree_with_zero_ratios() -> None:
    comparison = compare_gradients(EXPECTED, EXPECTED, expected_loss=0.5, actual_loss=0.5)
    assert comparison.agree and comparison.first_mismatch is None
    assert [row.worst_ratio for row in comparison.rows] == [0.0] * 5


def test_rows_in_backward_order_J_then_layers_L_to_1() -> None:
    comparison = compare_gradients(EXPECTED, EXPECTED, expected_loss=0.5, actual_loss=0.5)
    assert [row.label for row in comparison.rows] == [
        "J",
        "∂J/∂W^(2)",
        "∂J/∂b^(2)",
        "∂J/∂W^(1)",
        "∂J/∂b^(1)",
    ]


def test_equation_numbers_eq_2_16_2_14_2_15_2_33_2_37() -> None:
    comparison = compare_gradients(EXPECTED, EXPECTED, expected_loss=0.5, actual_loss=0.5)
    assert [row.equation for row in comparison.rows] == ["2.16", "2.14", "2.15", "2.33", "2.37"]


def test_without_losses_there_is_no_J_row() -> None:
    comparison = compare_gradients(EXPECTED, EXPECTED)
    assert [row.quantity for row in comparison.rows] == ["W", "b", "W", "b"]


def test_eq_2_16_loss_mismatch_is_reported_first() -> None:
    comparison = compare_gradients(EXPECTED, EXPECTED, expected_loss=0.5, actual_loss=0.6)
    row = comparison.first_mismatch
    assert (row.label, row.layer, row.shape, row.worst_index) == ("J", None, (), ())
    assert (row.expected_value, row.actual_value) == (0.5, 0.6)


def test_first_mismatch_is_the_one_closest_to_the_output() -> None:
    actual = _with(_with(EXPECTED, 1, "W", (0, 0), -7.0), 2, "b", (1,), 99.0)
    assert compare_gradients(EXPECTED, actual).first_mismatch.label == "∂J/∂b^(2)"


# --- one mismatched entry -----------------------------------------------------------------


@pytest.fixture
def one_wrong_entry() -> ArrayReport:
    # ∂J/∂W^(1)[2, 1] = 6.0 expected; actual 6.5.
    actual = _with(EXPECTED, 1, "W", (2, 1), 6.5)
    return compare_gradients(EXPECTED, actual).first_mismatch


def test_report_counts_one_mismatch(one_wrong_entry: ArrayReport) -> None:
    assert (one_wrong_entry.label, one_wrong_entry.n_mismatched) == ("∂J/∂W^(1)", 1)


def test_report_worst_index_and_values(one_wrong_entry: ArrayReport) -> None:
    row = one_wrong_entry
    assert (row.worst_index, row.expected_value, row.actual_value) == ((2, 1), 6.0, 6.5)


def test_report_max_abs_and_rel_error(one_wrong_entry: ArrayReport) -> None:
    assert one_wrong_entry.max_abs_error == 0.5
    assert one_wrong_entry.max_rel_error == pytest.approx(0.5 / 6.0, rel=1e-15)


def test_report_worst_ratio_uses_scaled_atol(one_wrong_entry: ArrayReport) -> None:
    # max|∂J/∂W^(1)| = 6, so allowed = atol·6 + rtol·6 at the worst entry.
    allowed = TOL64.atol * 6.0 + TOL64.rtol * 6.0
    assert one_wrong_entry.worst_ratio == pytest.approx(0.5 / allowed, rel=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_actual_is_a_mismatch_not_a_crash(bad: float) -> None:
    row = compare_gradients(EXPECTED, _with(EXPECTED, 2, "W", (1, 2), bad)).first_mismatch
    assert (row.label, row.worst_index, row.n_mismatched) == ("∂J/∂W^(2)", (1, 2), 1)
    assert row.worst_ratio == np.inf and row.max_abs_error == np.inf


def test_nan_actual_loss_is_a_mismatch() -> None:
    comparison = compare_gradients(EXPECTED, EXPECTED, expected_loss=0.5, actual_loss=np.nan)
    assert comparison.first_mismatch.label == "J"


def test_rel_error_is_inf_where_expected_is_zero_and_actual_is_not() -> None:
    expected = _with(EXPECTED, 1, "b", (0,), 0.0)
    actual = _with(EXPECTED, 1, "b", (0,), 1e-3)
    row = compare_gradients(expected, actual).rows[-1]
    assert row.max_rel_error == np.inf


def test_rel_error_is_zero_where_both_are_zero() -> None:
    zeros = (Layer(np.zeros((2, 2)), np.zeros(2)),)
    assert compare_gradients(zeros, zeros).rows[0].max_rel_error == 0.0


# --- how the bound scales -----------------------------------------------------------------


TINY64 = float(np.finfo(np.float64).smallest_normal)


@pytest.mark.parametrize(
    ("error", "passed"), [(2.0 * TINY64, True), (8.0 * TINY64, False)], ids=["in", "out"]
)
def test_all_zero_array_allows_only_tiny_times_entry_count(error: float, passed: bool) -> None:
    # Every expected entry is 0 (a fully cancelled array): allowed = tiny·n, n = 4 entries.
    zeros = (Layer(np.zeros((2, 2)), np.zeros(2)),)
    actual = (Layer(np.full((2, 2), error), np.zeros(2)),)
    assert compare_gradients(zeros, actual).agree is passed


def test_all_zero_array_rejects_an_absolute_error_of_half_atol() -> None:
    # The old floor atol·max(1, 0) = atol let any error below 2⁻³⁰ pass next to zeros.
    zeros = (Layer(np.zeros((2, 2)), np.zeros(2)),)
    actual = (Layer(np.full((2, 2), 0.5 * TOL64.atol), np.zeros(2)),)
    assert not compare_gradients(zeros, actual).agree


@pytest.mark.parametrize(
    ("error", "passed"), [(0.5 * TOL64.atol, True), (2.0 * TOL64.atol, False)], ids=["in", "out"]
)
def test_eq_2_16_J_of_0_keeps_the_absolute_atol(error: float, passed: bool) -> None:
    # J's rounding near a perfect fit is absolute: allowed = atol·max(1, |J|) + tiny.
    comparison = compare_gradients(EXPECTED, EXPECTED, expected_loss=0.0, actual_loss=error)
    assert comparison.rows[0].passed is passed


def _vanishing(values: list[float], dtype=np.float64) -> tuple[Layer, ...]:
    """One layer whose ∂J/∂W^(1) is the row `values` (far below 1), ∂J/∂b^(1) = values[:1]."""
    return (Layer(np.array([values], dtype=dtype), np.array(values[:1], dtype=dtype)),)


VANISHING = [3e-10, -1e-11, 2e-10, 5e-11]


def test_eq_2_14_sign_flip_of_a_vanishing_gradient_is_caught() -> None:
    actual = _vanishing([-3e-10, *VANISHING[1:]])
    row = compare_gradients(_vanishing(VANISHING), actual).rows[0]
    assert (row.passed, row.worst_index) == (False, (0, 0))


def test_eq_2_14_relative_error_5e_4_on_1e_6_gradients_is_caught() -> None:
    expected = [1e-6, -2e-6, 1.5e-6]
    actual = [1e-6 * (1 + 5e-4), -2e-6, 1.5e-6]
    row = compare_gradients(_vanishing(expected), _vanishing(actual)).rows[0]
    assert (row.passed, row.worst_index) == (False, (0, 0))


def test_eq_2_14_float32_relative_error_4e_3_on_1e_6_gradients_is_caught() -> None:
    # float32's fallback is 2⁻¹⁰ + 2⁻¹⁰ ≈ 2.0e-3 relative at the largest entry; 4e-3 fails
    # at the scale of the array (the old absolute 2⁻¹⁰ let any error on 1e-6 pass).
    expected = _vanishing([1e-6, -5e-7], np.float32)
    actual = _vanishing([1e-6 * (1 + 4e-3), -5e-7], np.float32)
    assert not compare_gradients(expected, actual).agree


@pytest.mark.parametrize("scale", [1e-11, 1e-6, 1.0, 1e6], ids=["1e-11", "1e-6", "1", "1e6"])
def test_float64_rounding_error_of_a_few_ulps_passes_at_any_scale(scale: float) -> None:
    expected = np.array([[1.0, -0.3, 0.7]]) * scale
    actual = expected * (1 + 8 * np.finfo(np.float64).eps)
    assert compare_gradients(
        (Layer(expected, expected[0, :1]),), (Layer(actual, actual[0, :1]),)
    ).agree


def test_atol_scales_with_the_array_largest_entry() -> None:
    # A cancelled entry (0) beside an entry of 1e6 may be off by up to atol·1e6.
    expected = (Layer(np.array([[1e6, 0.0]]), np.zeros(1)),)
    actual = (Layer(np.array([[1e6, 0.5 * TOL64.atol * 1e6]]), np.zeros(1)),)
    assert compare_gradients(expected, actual).agree


@pytest.mark.parametrize("size", [2, 200], ids=["small", "large"])
def test_bound_does_not_grow_with_array_size(size: int) -> None:
    expected = (Layer(np.ones((1, size)), np.zeros(1)),)
    actual = (Layer(np.ones((1, size)) + 3.0 * TOL64.atol, np.zeros(1)),)
    assert compare_gradients(expected, actual).rows[0].worst_ratio == pytest.approx(1.5)


def test_explicit_rtol_and_atol_replace_the_default() -> None:
    comparison = compare_gradients(EXPECTED, EXPECTED, rtol=1e-6, atol=1e-3)
    assert comparison.tolerance == Tolerance(rtol=1e-6, atol=1e-3, scale_atol=False)


def test_explicit_atol_is_absolute() -> None:
    # ∂J/∂W^(2) has entries up to 12; an unscaled atol of 1e-3 rejects an error of 2e-3.
    actual = _with(EXPECTED, 2, "W", (0, 0), 7.0 + 2e-3)
    assert not compare_gradients(EXPECTED, actual, rtol=0.0, atol=1e-3).agree


def test_explicit_rtol_alone_keeps_the_scaled_default_atol() -> None:
    comparison = compare_gradients(EXPECTED, EXPECTED, rtol=1e-6)
    assert comparison.tolerance == Tolerance(
        rtol=1e-6, atol=TOL64.atol, scale_atol=True, tiny=TOL64.tiny
    )


# --- properties ---------------------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_subnormal=False)
shapes = st.tuples(st.integers(1, 4), st.integers(1, 4))


@st.composite
def gradient_sets(draw: st.DrawFn) -> tuple[Layer, ...]:
    return tuple(
        Layer(
            draw(hnp.arrays(np.float64, shape, elements=finite)),
            draw(hnp.arrays(np.float64, (shape[0],), elements=finite)),
        )
        for shape in draw(st.lists(shapes, min_size=1, max_size=3))
    )


@given(grads=gradient_sets())
def test_any_gradients_agree_with_themselves(grads: tuple[Layer, ...]) -> None:
    assert compare_gradients(grads, grads).agree


@given(grads=gradient_sets(), data=st.data())
def test_an_error_of_1e_5_of_the_array_magnitude_has_ratio_above_1e3(grads, data) -> None:
    l = data.draw(st.integers(1, len(grads)), label="l")
    W = grads[l - 1].W
    index = data.draw(st.tuples(*(st.integers(0, n - 1) for n in W.shape)), label="index")
    wrong = W[index] + 1e-5 * max(1.0, float(np.abs(W).max()))
    row = next(
        r
        for r in compare_gradients(grads, _with(grads, l, "W", index, wrong)).rows
        if r.label == f"∂J/∂W^({l})"
    )
    assert row.worst_ratio > 1e3


# --- to_dict and the failure text ---------------------------------------------------------


def test_to_dict_passes_strict_json_with_non_finite_values() -> None:
    actual = _with(EXPECTED, 1, "b", (0,), np.nan)
    comparison = compare_gradients(EXPECTED, actual, expected_loss=0.5, actual_loss=0.5)
    data = json.loads(json.dumps(comparison.to_dict(), allow_nan=False))
    assert data["rows"][-1]["actual_value"] == "nan" and data["rows"][-1]["worst_ratio"] == "inf"


def test_to_dict_summary_fields() -> None:
    actual = _with(EXPECTED, 1, "W", (2, 1), 6.5)
    data = compare_gradients(EXPECTED, actual, names=("vectorized", "mine")).to_dict()
    assert (data["expected_name"], data["actual_name"], data["agree"]) == (
        "vectorized",
        "mine",
        False,
    )
    assert data["first_mismatch"] == "∂J/∂W^(1)"


def test_to_dict_row_fields() -> None:
    row = compare_gradients(EXPECTED, _with(EXPECTED, 1, "W", (2, 1), 6.5)).to_dict()["rows"][2]
    assert {k: row[k] for k in ("label", "equation", "shape", "worst_index", "n_mismatched")} == {
        "label": "∂J/∂W^(1)",
        "equation": "2.33",
        "shape": [3, 2],
        "worst_index": [2, 1],
        "n_mismatched": 1,
    }


def test_comparison_is_frozen() -> None:
    comparison = compare_gradients(EXPECTED, EXPECTED)
    with pytest.raises(AttributeError):
        comparison.rows = ()  # type: ignore[misc]


def test_assert_gradients_close_passes_silently() -> None:
    assert assert_gradients_close(EXPECTED, EXPECTED, expected_loss=1.0, actual_loss=1.0) is None


@pytest.mark.parametrize(
    "fragment",
    [
        "∂J/∂W^(1) (eq 2.33), shape (3, 2)",
        "Mismatched elements: 1 / 6",
        "index (2, 1)",
        "expected (vectorized): 6.0",
        "actual   (mine): 6.5",
        "Max absolute difference: 0.5",
        "Max relative difference: 0.0833333",
    ],
)
def test_assert_gradients_close_failure_text(fragment: str) -> None:
    actual = _with(EXPECTED, 1, "W", (2, 1), 6.5)
    with pytest.raises(AssertionError) as info:
        assert_gradients_close(EXPECTED, actual, names=("vectorized", "mine"))
    assert fragment in str(info.value)


def test_assert_gradients_close_hides_its_frame() -> None:
    assert "__tracebackhide__" in assert_gradients_close.__code__.co_varnames


def test_read_only_inputs_work_and_are_not_changed() -> None:
    expected = _grads((2, 2))
    actual = _with(expected, 1, "W", (0, 0), np.nan)
    for W, b in (*expected, *actual):
        W.flags.writeable = b.flags.writeable = False
    compare_gradients(expected, actual)
    assert np.isnan(actual[0].W[0, 0]) and expected[0].W[0, 0] == 1.0


def test_comparison_agree_property_reflects_rows() -> None:
    failing = compare_gradients(EXPECTED, _with(EXPECTED, 2, "b", (0,), 0.0))
    assert isinstance(failing, Comparison) and not failing.agree


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "kwargs", "error", "match"),
    [
        pytest.param(EXPECTED[:1], {}, ValueError, "2 layers but actual has 1", id="layers"),
        pytest.param(
            (EXPECTED[0], Layer(np.ones((3, 3)), EXPECTED[1].b)),
            {},
            ValueError,
            r"∂J/∂W\^\(2\): actual has shape \(3, 3\) but expected has shape \(2, 3\)",
            id="W-shape",
        ),
        pytest.param(
            (Layer(EXPECTED[0].W, np.ones(4)), EXPECTED[1]),
            {},
            ValueError,
            r"∂J/∂b\^\(1\): actual has shape \(4,\)",
            id="b-shape",
        ),
        pytest.param(
            (EXPECTED[0], (EXPECTED[1].W,)), {}, TypeError, r"actual\[1\] \(layer 2\)", id="pair"
        ),
        pytest.param(
            (EXPECTED[0], Layer(EXPECTED[1].W.astype(complex), EXPECTED[1].b)),
            {},
            TypeError,
            r"actual ∂J/∂W\^\(2\) has dtype complex128",
            id="complex",
        ),
        pytest.param(EXPECTED, {"expected_loss": 1.0}, ValueError, "together", id="one-loss"),
        pytest.param(
            EXPECTED,
            {"expected_loss": 1.0, "actual_loss": [1.0, 2.0]},
            ValueError,
            "actual_loss must be a scalar",
            id="loss-shape",
        ),
        pytest.param(EXPECTED, {"rtol": -1.0}, ValueError, "rtol", id="rtol"),
        pytest.param(EXPECTED, {"atol": np.nan}, ValueError, "atol", id="atol"),
        pytest.param(EXPECTED, {"names": ("a",)}, TypeError, "names", id="names"),
    ],
)
def test_bad_input_raises_naming_it(actual, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        compare_gradients(EXPECTED, actual, **kwargs)


def test_non_finite_expected_raises() -> None:
    with pytest.raises(ValueError, match=r"expected ∂J/∂b\^\(2\) contains a non-finite"):
        compare_gradients(_with(EXPECTED, 2, "b", (0,), np.inf), EXPECTED)


def test_empty_arrays_raise() -> None:
    empty = (Layer(np.zeros((0, 2)), np.zeros(0)),)
    with pytest.raises(ValueError, match="empty"):
        compare_gradients(empty, empty)


# --- compare_backprop: whole traces under the derived bound ---------------------------------


def _backprop_problem():
    from crosscheck import vectorized
    from crosscheck.ffnn import Network, init_params

    network = Network((2, 3, 2), ("tanh", "sigmoid"))
    params = init_params(network, seed=1)
    X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])
    T = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.5]])
    return (network, params, X, T), vectorized.backprop(network, params, X, T)


def test_compare_backprop_identical_traces_agree_with_zero_ratio() -> None:
    problem, result = _backprop_problem()
    comparison = compare_backprop(*problem, result, result)
    assert comparison.agree and comparison.worst_ratio == 0.0


def test_compare_backprop_uses_the_derived_bound() -> None:
    problem, result = _backprop_problem()
    rule = compare_backprop(*problem, result, result).tolerance
    assert rule == DerivedBound("float64", "float64")


def test_compare_backprop_explicit_rtol_atol_apply_the_fixed_rule() -> None:
    problem, result = _backprop_problem()
    rule = compare_backprop(*problem, result, result, rtol=1e-6, atol=1e-9).tolerance
    assert rule == Tolerance(rtol=1e-6, atol=1e-9)


def test_compare_backprop_bound_rejects_an_error_of_1e_9_relative() -> None:
    problem, (grads, trace) = _backprop_problem()
    A = trace.A[1] * (1 + 1e-9)
    broken = (grads, trace._replace(A=(trace.A[0], A, trace.A[2])))
    first = compare_backprop(*problem, (grads, trace), broken).first_mismatch
    assert (first.label, first.equation) == ("A^(1)", "1.4") and first.worst_ratio > 1e3


def test_compare_backprop_row_reports_bound_at_worst_entry() -> None:
    problem, (grads, trace) = _backprop_problem()
    Z = trace.Z[2].copy()
    Z[1, 2] += 1e-6
    broken = (grads, trace._replace(Z=(None, trace.Z[1], Z)))
    row = compare_backprop(*problem, (grads, trace), broken).first_mismatch
    assert row.worst_index == (1, 2) and row.worst_ratio == pytest.approx(1e-6 / row.allowed, 1e-6)


def test_compare_backprop_json_carries_worst_error_to_bound() -> None:
    problem, result = _backprop_problem()
    data = json.loads(json.dumps(compare_backprop(*problem, result, result).to_dict()))
    assert data["worst_error_to_bound"] == 0.0
    assert all({"worst_error_to_bound", "bound"} <= set(row) for row in data["rows"])


def test_compare_backprop_wrong_trace_shape_named() -> None:
    problem, (grads, trace) = _backprop_problem()
    broken = (grads, trace._replace(H=(None, trace.H[1][:, :2], trace.H[2])))
    with pytest.raises(ValueError, match=r"actual H\^\(1\) has shape \(3, 2\)"):
        compare_backprop(*problem, (grads, trace), broken)


def test_compare_backprop_validates_the_problem_first() -> None:
    (network, params, X, T), result = _backprop_problem()
    with pytest.raises(ValueError, match="X"):
        compare_backprop(network, params, X[:, :0], T, result, result)


def test_compare_gradients_with_allowed_uses_derived_rule() -> None:
    allowed = tuple(Layer(np.full_like(W, 0.1), np.full_like(b, 0.1)) for W, b in EXPECTED)
    actual = _with(EXPECTED, 1, "W", (0, 0), EXPECTED[0].W[0, 0] + 0.05)
    comparison = compare_gradients(EXPECTED, actual, allowed=allowed)
    assert comparison.agree and comparison.rows[2].worst_ratio == pytest.approx(0.5)


def test_compare_gradients_allowed_and_rtol_together_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        compare_gradients(EXPECTED, EXPECTED, allowed=EXPECTED, rtol=1e-3)

"""crosscheck.verify.datasets: bundled data as X (S_0, N) (eq 1.2) and T (S_L, N) (eq 1.5)."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.datasets import load_digits

from crosscheck.verify.datasets import (
    DATASETS,
    Dataset,
    check_range,
    default_sizes,
    load_dataset,
    load_npz,
    one_hot,
    standardise,
)

SHAPES = {  # name: (S_0, S_L, N)
    "digits": (64, 10, 1797),
    "iris": (4, 3, 150),
    "wine": (13, 3, 178),
    "breast_cancer": (30, 2, 569),
    "diabetes": (10, 1, 442),
}
CLASSIFICATION = ("digits", "iris", "wine", "breast_cancer")

features = arrays(
    np.float64,
    st.tuples(st.integers(2, 20), st.integers(1, 6)),
    elements=st.floats(-1e300, 1e300, allow_subnormal=False),
)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_digits_has_constant_pixels_that_standardise_to_zero(digits):
    raw = load_digits().data
    constant = raw.std(axis=0) == 0
    assert constant.sum() == 3
    assert np.all(digits.X[constant] == 0.0)


def test_digits_standardised_without_nan(digits):
    assert np.isfinite(digits.X).all()


@pytest.mark.parametrize("value", [5.0, 0.1, -1e300])
def test_standardise_constant_column_is_zero_not_nan(value):
    out = standardise(np.array([[value, 1.0], [value, 3.0], [value, 8.0]]))
    np.testing.assert_array_equal(out[:, 0], [0.0, 0.0, 0.0])


def _rounding_bound(data):
    """Per column: the error of centring, N·u·max|x|, relative to the column's std (γ_N)."""
    u = np.finfo(np.float64).eps / 2
    N = data.shape[0]
    magnitude = np.abs(data).max(axis=0)
    scaled = data / np.where(magnitude > 0, magnitude, 1.0)  # the std of x·2^-k would underflow
    std = scaled.std(axis=0)
    return 4 * N * u / np.where(std > 0, std, np.inf)


@given(features)
def test_standardise_zero_mean(data):
    varying = data.max(axis=0) > data.min(axis=0)
    means = np.abs(standardise(data).mean(axis=0))
    assert np.all(means[~varying] == 0.0)
    assert np.all(means[varying] <= _rounding_bound(data)[varying])


@given(features)
def test_standardise_unit_std_where_std_positive(data):
    varying = data.max(axis=0) > data.min(axis=0)
    stds = standardise(data).std(axis=0)
    assert np.all(np.abs(stds - 1.0)[varying] <= _rounding_bound(data)[varying])


def test_standardise_does_not_mutate_read_only_input():
    data = np.array([[1.0, 2.0], [3.0, 5.0]])
    data.flags.writeable = False
    standardise(data)
    np.testing.assert_array_equal(data, [[1.0, 2.0], [3.0, 5.0]])


def test_one_hot_places_each_label_in_its_row():
    np.testing.assert_array_equal(
        one_hot(np.array([2, 0, 1, 2])),
        [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]],
    )


@given(arrays(np.int64, st.integers(1, 30), elements=st.integers(0, 9)))
def test_eq_1_5_one_hot_shape_K_by_N(labels):
    assert one_hot(labels).shape == (labels.max() + 1, labels.size)


@given(arrays(np.int64, st.integers(1, 30), elements=st.integers(0, 9)))
def test_eq_1_5_one_hot_columns_sum_to_one(labels):
    np.testing.assert_array_equal(one_hot(labels).sum(axis=0), np.ones(labels.size))


@pytest.mark.parametrize("labels", [np.array([0.5, 1.0]), np.array([-1, 0]), np.zeros((2, 2))])
def test_one_hot_rejects_bad_labels(labels):
    with pytest.raises(ValueError, match="labels"):
        one_hot(labels)


@pytest.mark.parametrize("name", DATASETS)
def test_eq_1_2_X_is_S0_by_N(name):
    S_0, _, N = SHAPES[name]
    assert load_dataset(name).X.shape == (S_0, N)


@pytest.mark.parametrize("name", DATASETS)
def test_eq_1_5_T_is_SL_by_N(name):
    _, S_L, N = SHAPES[name]
    assert load_dataset(name).T.shape == (S_L, N)


@pytest.mark.parametrize("name", DATASETS)
def test_features_are_standardised_per_row_of_X(name):
    X = load_dataset(name).X
    np.testing.assert_allclose(X.mean(axis=1), 0.0, atol=1e-12)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_T_is_one_hot(name):
    T = load_dataset(name).T
    assert set(np.unique(T)) == {0.0, 1.0}
    np.testing.assert_array_equal(T.sum(axis=0), 1.0)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_output_is_sigmoid(name):
    assert load_dataset(name).output_activation == "sigmoid"


def test_diabetes_scalar_target_standardised_for_identity_output():
    data = load_dataset("diabetes")
    assert data.output_activation == "identity"
    np.testing.assert_allclose([data.T.mean(), data.T.std()], [0.0, 1.0], atol=1e-12)


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_arrays_are_read_only_float64(name):
    data = load_dataset(name)
    assert [a.dtype for a in (data.X, data.T)] == [np.float64, np.float64]
    assert not data.X.flags.writeable and not data.T.flags.writeable


def test_default_sizes_one_hidden_layer_of_32(digits):
    assert default_sizes(digits) == (64, 32, 10)


def test_unknown_dataset_lists_known_ones():
    with pytest.raises(ValueError, match="known datasets: digits, iris"):
        load_dataset("mnist")


def test_npz_rows_become_columns(tmp_path):
    X = np.arange(12.0).reshape(4, 3)  # (N, S_0) = (4, 3)
    T = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    np.savez(tmp_path / "mine.npz", X=X, T=T)
    data = load_npz(tmp_path / "mine.npz")
    np.testing.assert_array_equal(data.X, X.T)
    np.testing.assert_array_equal(data.T, T.T)


def test_npz_integer_arrays_become_float64(tmp_path):
    np.savez(tmp_path / "ints.npz", X=np.arange(6).reshape(3, 2), T=np.array([0, 1, 1]))
    data = load_npz(tmp_path / "ints.npz")
    assert (data.X.dtype, data.T.dtype) == (np.float64, np.float64)


def test_npz_one_dimensional_T_is_one_output(tmp_path):
    np.savez(tmp_path / "one.npz", X=np.ones((5, 2)), T=np.linspace(-2.0, 2.0, 5))
    assert load_npz(tmp_path / "one.npz").T.shape == (1, 5)


@pytest.mark.parametrize(
    ("T", "activation"),
    [(np.array([0.0, 0.5, 1.0]), "sigmoid"), (np.array([0.0, 1.5, 1.0]), "identity")],
)
def test_npz_output_activation_follows_target_range(tmp_path, T, activation):
    np.savez(tmp_path / "t.npz", X=np.ones((3, 2)), T=T)
    assert load_npz(tmp_path / "t.npz").output_activation == activation


def _write(tmp_path, **arrays):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": np.ones((3, 2))}, "lacks array"),
        ({"X": np.ones(3), "T": np.ones(3)}, "'X' has shape"),
        ({"X": np.ones((3, 2)), "T": np.ones((3, 1, 1))}, "'T' has shape"),
        ({"X": np.ones((0, 2)), "T": np.ones(0)}, "N >= 1"),
        ({"X": np.ones((3, 2)), "T": np.ones(4)}, "3 rows"),
        ({"X": np.full((3, 2), np.nan), "T": np.ones(3)}, "NaN or inf"),
        ({"X": np.ones((3, 2), complex), "T": np.ones(3)}, "real numeric"),
        ({"X": np.array([["a", "b"]]), "T": np.ones(1)}, "real numeric"),
    ],
    ids=["missing-T", "X-1d", "T-3d", "no-rows", "row-mismatch", "nan", "complex", "strings"],
)
def test_bad_npz_raises_value_error(tmp_path, arrays, message):
    with pytest.raises(ValueError, match=message):
        load_npz(_write(tmp_path, **arrays))


def test_npz_missing_file(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_npz(tmp_path / "absent.npz")


def test_npz_not_an_archive(tmp_path):
    (tmp_path / "text.npz").write_text("X,T\n1,2\n")
    with pytest.raises(ValueError, match="not an npz archive"):
        load_npz(tmp_path / "text.npz")


def test_npz_object_array_refused_without_pickle(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, X=np.array([None, 1], dtype=object), T=np.ones(2))
    with pytest.raises(ValueError, match="cannot read"):
        load_npz(path)


def test_npz_directory_says_so(tmp_path):
    with pytest.raises(ValueError, match="it is a directory"):
        load_npz(tmp_path)


def _dataset(X, T):
    return Dataset("d", np.asarray(X, np.float64), np.asarray(T, np.float64), "identity", "")


@pytest.mark.parametrize(
    ("X", "T", "message"),
    [
        # X is (S_0, N): the value 1e39 sits at feature 1 of sample n = 3 (row 3 of the file)
        ([[1, 1, 1, 1], [1, 1, 1, 1e39]], [[0, 0, 0, 0]], "X: value 1e+39 at row 3 overflows"),
        ([[1, 1]], [[-4e38, 0]], "T: value -4e+38 at row 0 overflows float32"),
    ],
    ids=["X-row-3", "T-negative"],
)
def test_check_range_names_the_first_value_beyond_float32(X, T, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_range(_dataset(X, T), "float32")


def test_check_range_accepts_the_largest_float32():
    largest = float(np.finfo(np.float32).max)
    assert check_range(_dataset([[largest]], [[-largest]]), "float32") is None

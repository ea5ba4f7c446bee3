"""Real data for `crosscheck verify`, arranged as the seed's X (eq 1.2) and T (eq 1.5).

Only the loaders bundled with scikit-learn are used — nothing is ever downloaded:
digits (the default), iris, wine, breast_cancer (class labels → one-hot T) and diabetes
(a scalar target, standardised, for an identity output). Features are standardised per
column; a constant column (digits has three always-blank pixels) is only centred, never
divided by its zero standard deviation.

A user's own data comes from an ``.npz`` file with arrays ``"X"`` of shape (N, S_0) and
``"T"`` of shape (N, S_L) or (N,) — rows as samples, as in a data frame — converted to
columns as samples and float64 (then to ``verify``'s dtype), but otherwise used as given
(not standardised).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATASETS: tuple[str, ...] = ("digits", "iris", "wine", "breast_cancer", "diabetes")
"""Names of the bundled scikit-learn datasets `load_dataset` knows; digits is the default."""

HIDDEN_WIDTH = 32
"""Width of the single hidden layer in `default_sizes`: (S_0, 32, S_L)."""


@dataclass(frozen=True)
class Dataset:
    """A problem's data in the seed's layout, columns as samples.

    Attributes:
        name: ``"digits"``, ..., or the npz file name.
        X: (S_0, N) float64, read-only; A^(0) (eq 1.2).
        T: (S_L, N) float64, read-only; the targets (eq 1.5).
        output_activation: the σ_L that suits T (``"sigmoid"`` for one-hot or [0, 1]
            targets, ``"identity"`` otherwise).
        description: one line saying where the data came from and what was done to it.
    """

    name: str
    X: np.ndarray
    T: np.ndarray
    output_activation: str
    description: str

    @property
    def N(self) -> int:
        """Number of samples (columns of X and T)."""
        return self.X.shape[1]


def standardise(features: np.ndarray) -> np.ndarray:
    """Centre each column and divide by its standard deviation where that is > 0.

    Args:
        features: (N, F) real array, rows as samples.

    Returns:
        (N, F) float64, a new array: zero column means, unit standard deviation in every
        column whose standard deviation is > 0; constant columns (all entries equal) become
        exactly 0 (no NaN).

    Raises:
        ValueError: `features` is not two-dimensional or has no rows.
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] == 0:
        raise ValueError(f"features must have shape (N, F) with N >= 1, got {features.shape}")
    # A constant column is detected exactly (max == min): its computed mean and std can be
    # off by rounding, so "std > 0" alone could divide rounding noise by rounding noise.
    varying = features.max(axis=0) > features.min(axis=0)
    # Standardising is scale-free; dividing by max|x| first keeps the variance from
    # underflowing (x ~ 1e-161) or overflowing (x ~ 1e200).
    magnitude = np.abs(features).max(axis=0)
    features = np.divide(features, magnitude, out=np.zeros_like(features), where=varying)
    centred = features - features.mean(axis=0)
    std = features.std(axis=0)
    return np.divide(centred, std, out=np.zeros_like(centred), where=varying & (std > 0))


def one_hot(labels: np.ndarray) -> np.ndarray:
    """Return the one-hot target matrix T of integer class labels 0..K−1.

    Args:
        labels: (N,) integer labels; K = max(labels) + 1 classes.

    Returns:
        (K, N) float64 T with T[k, n] = 1 exactly where labels[n] = k (each column sums to 1).

    Raises:
        ValueError: `labels` is not one-dimensional and non-empty, or holds a negative or
            non-integer label.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must have shape (N,) with N >= 1, got {labels.shape}")
    if labels.dtype.kind not in "iu" or labels.min() < 0:
        raise ValueError(f"labels must be integers >= 0, got dtype {labels.dtype}")
    K = int(labels.max()) + 1
    return (np.arange(K)[:, None] == labels[None, :]).astype(np.float64)


def load_dataset(name: str) -> Dataset:
    """Load one of scikit-learn's bundled datasets as X (S_0, N) and T (S_L, N).

    Classification sets (digits, iris, wine, breast_cancer) get standardised features and
    one-hot T for a sigmoid output; diabetes gets standardised features and a standardised
    scalar target (S_L = 1) for an identity output.

    Args:
        name: one of `DATASETS`.

    Returns:
        The Dataset; X and T float64 and read-only.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    import sklearn.datasets  # deferred: only `verify` needs scikit-learn

    bunch = getattr(sklearn.datasets, f"load_{name}")()
    N, S_0 = bunch.data.shape
    constant = int(np.count_nonzero(bunch.data.std(axis=0) == 0))
    kept = f" ({constant} constant features left at 0)" if constant else ""
    X = standardise(bunch.data).T
    if name == "diabetes":
        T = standardise(bunch.target[:, None]).T
        target, activation = "scalar target standardised", "identity"
    else:
        T = one_hot(bunch.target)
        target, activation = f"{T.shape[0]} classes one-hot", "sigmoid"
    description = (
        f"{name} (scikit-learn, bundled): {N} samples, {S_0} features standardised{kept}, {target}"
    )
    return Dataset(name, _frozen(X), _frozen(T), activation, description)


def load_npz(path: str | Path) -> Dataset:
    """Load a user's data from an ``.npz`` file with arrays "X" (N, S_0) and "T" (N, S_L).

    Rows are samples (a data frame's layout); they become columns. T may also be (N,),
    one output. Integer and bool arrays are converted to float64; values are not rescaled.
    The output activation is sigmoid if every target lies in [0, 1], identity otherwise.

    Args:
        path: the ``.npz`` file (``numpy.savez``); other arrays in it are ignored.

    Returns:
        The Dataset named after the file; X (S_0, N) and T (S_L, N) float64, read-only.

    Raises:
        ValueError: the file is missing, a directory or unreadable, is not an npz archive,
            lacks "X" or "T", holds an array of the wrong dimension, a non-real dtype, no
            rows, NaN or inf, or X and T with different numbers of rows.
    """
    path = Path(path)
    features, targets = _read_npz(path)
    X = _float_rows(features, "X", path, ndims=(2,))
    T = _float_rows(targets, "T", path, ndims=(1, 2))
    T = T[:, None] if T.ndim == 1 else T
    if X.shape[0] != T.shape[0]:
        raise ValueError(
            f"{path}: X has {X.shape[0]} rows (samples) but T has {T.shape[0]}:"
            f" shapes {X.shape}, {T.shape}"
        )
    activation = "sigmoid" if ((T >= 0) & (T <= 1)).all() else "identity"
    description = (
        f"{path.name} (user data): {X.shape[0]} samples, {X.shape[1]} features,"
        f" {T.shape[1]} targets, used as given"
    )
    return Dataset(path.name, _frozen(X.T), _frozen(T.T), activation, description)


def check_range(dataset: Dataset, dtype: str | np.dtype) -> None:
    """Refuse X or T holding a value beyond the finite range of `dtype`, before converting.

    Checked explicitly, so no RuntimeWarning from a cast to inf: e.g. 1e39 in float32.

    Args:
        dataset: X (S_0, N), T (S_L, N). dtype: a float dtype, e.g. ``"float32"``.

    Raises:
        ValueError: ``"X: value 1e+39 at row 3 overflows float32"``, naming the first such
            value of X, then of T; the row is the sample n (a row of the ``--data`` file).
    """
    dtype = np.dtype(dtype)
    limit = np.finfo(dtype).max
    for key, array in (("X", dataset.X), ("T", dataset.T)):
        beyond = np.abs(array.T) > limit  # (N, S): rows as samples, as in the file
        if beyond.any():
            n, s = (int(i) for i in np.argwhere(beyond)[0])
            raise ValueError(f"{key}: value {array[s, n]:g} at row {n} overflows {dtype}")


def default_sizes(dataset: Dataset) -> tuple[int, ...]:
    """(S_0, 32, S_L) for the dataset: one hidden layer of `HIDDEN_WIDTH` units."""
    return (dataset.X.shape[0], HIDDEN_WIDTH, dataset.T.shape[0])


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if path.is_dir():
        raise ValueError(f"{path}: it is a directory, not an npz file")
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not an npz archive (as written by numpy.savez)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in ("X", "T") if key in archive.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"cannot read {path} as an npz archive: {error}") from None
    missing = [key for key in ("X", "T") if key not in arrays]
    if missing:
        raise ValueError(
            f"{path} lacks array(s) {', '.join(map(repr, missing))}; it needs 'X' (N, S_0)"
            " and 'T' (N, S_L), rows as samples"
        )
    return arrays["X"], arrays["T"]


def _float_rows(array: np.ndarray, key: str, path: Path, ndims: tuple[int, ...]) -> np.ndarray:
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{path}: {key!r} has dtype {array.dtype}; a real numeric array is needed")
    if array.ndim not in ndims or array.shape[0] == 0:
        shape = "(N, S_0)" if key == "X" else "(N, S_L) or (N,)"
        raise ValueError(f"{path}: {key!r} has shape {array.shape}; expected {shape} with N >= 1")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        row = int(np.argwhere(~np.isfinite(array))[0][0])
        raise ValueError(f"{path}: {key!r} has a NaN or inf in row {row}")
    return array


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array

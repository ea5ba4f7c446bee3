"""scikit-learn's MLP backpropagation as an implementation under test.

``sklearn_backprop(activations, loss=..., weight_decay=...)`` returns
``fn(Ws, bs, X, T) -> (J, dWs, dbs)`` computed by the *private* method
``BaseMultilayerPerceptron._backprop`` (with ``_forward_pass``) of ``MLPRegressor`` /
``MLPClassifier`` — the code their ``fit`` runs. Private API: the behaviour is pinned to
``SKLEARN_VERSION_CHECKED`` (the tests record what that version does).

What scikit-learn supports, and how our networks map onto it:

| our network | estimator | ``out_activation_`` | their loss |
|---|---|---|---|
| σ_L = identity, squared_error | MLPRegressor | identity | ½ · mean_n mean_k (a − t)² |
| σ_L = softmax, cross_entropy | MLPClassifier | softmax | −mean_n Σ_k t log clip(a) |
| σ_L = sigmoid, binary_cross_entropy | MLPClassifier | logistic | binary log-loss, clip(a) |

Every hidden layer shares one activation (``activation=``): identity, sigmoid (their
"logistic"), tanh or relu. ``clip`` keeps probabilities in [ε, 1 − ε], ε = 2⁻⁵²; the binary
log-loss (multilabel) is −mean_n Σ_k [t log clip(a) + (1 − t) log(1 − clip(a))].

Conventions translated here, before any comparison, so that a finding is never a mere
convention difference:
- data as rows (X.T, T.T) and weights as (in, out): ``coefs_[l-1]`` = W^(l)ᵗ, gradients
  transposed back;
- the L2 penalty: theirs is (α / 2n) Σ_l ‖W^(l)‖² in the loss and α·W^(l) / n in the
  gradient (n = number of samples), ours (λ/2) Σ_l ‖W^(l)‖² and λ·W^(l): α = λ·N, set per
  call.
J is returned as scikit-learn computes it, untranslated: for squared error their J is ours
divided by S_L (a mean over outputs) while their gradient is ours (not divided by S_L) —
their loss and gradient belong to different functions when S_L > 1 (scikit-learn issue
#8349), which the oracle reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.neural_network import MLPClassifier, MLPRegressor

SKLEARN_VERSION_CHECKED = "1.9.1"
"""The scikit-learn version whose private ``_backprop`` the tests pin."""

HIDDEN_ACTIVATIONS = {"identity": "identity", "sigmoid": "logistic", "tanh": "tanh", "relu": "relu"}
"""Our hidden activation name → scikit-learn's ``activation=``."""

OUTPUTS = {
    ("identity", "squared_error"): (MLPRegressor, "identity"),
    ("softmax", "cross_entropy"): (MLPClassifier, "softmax"),
    ("sigmoid", "binary_cross_entropy"): (MLPClassifier, "logistic"),
}
"""(σ_L, loss) → (estimator class, their ``out_activation_``): the pairs scikit-learn fits."""

Backprop = Callable[
    [Sequence[np.ndarray], Sequence[np.ndarray], np.ndarray, np.ndarray],
    tuple[float, list[np.ndarray], list[np.ndarray]],
]


def sklearn_backprop(
    activations: Sequence[str], *, loss: str = "squared_error", weight_decay: float = 0.0
) -> Backprop:
    """scikit-learn's J and ∂J/∂W^(l), ∂J/∂b^(l) from ``_backprop`` (eqs 2.14/2.33, 2.15/2.37).

    Args:
        activations: σ_1..σ_L; σ_1..σ_{L-1} all the same name from ``HIDDEN_ACTIVATIONS``,
            (σ_L, loss) a key of ``OUTPUTS``.
        loss: ``"squared_error"``, ``"cross_entropy"`` or ``"binary_cross_entropy"``.
        weight_decay: λ >= 0 (ours); passed to scikit-learn as α = λ·N.

    Returns:
        ``fn(Ws, bs, X, T) -> (J, dWs, dbs)`` with ``Ws[l-1]`` (S_l, S_{l-1}), ``bs[l-1]``
        (S_l,), X (S_0, N), T (S_L, N), computed in float64; J is scikit-learn's loss as it
        computes it (see the module docstring), ``dWs``/``dbs`` new arrays of the
        parameters' shapes. ``fn`` copies its inputs and never writes to them; it raises
        ValueError if len(Ws) != L.

    Raises:
        ValueError: hidden activations that differ or that scikit-learn lacks, a (σ_L,
            loss) pair it does not fit, a negative or non-finite weight_decay.
    """
    activations = tuple(activations)
    if not activations:
        raise ValueError("activations must name at least one layer")
    hidden = set(activations[:-1])
    if len(hidden) > 1 or not hidden <= set(HIDDEN_ACTIVATIONS):
        raise ValueError(
            f"scikit-learn's MLP needs one hidden activation, one of"
            f" {', '.join(HIDDEN_ACTIVATIONS)}; got {activations[:-1]}"
        )
    if (activations[-1], loss) not in OUTPUTS:
        supported = "; ".join(f"σ_L = {s} with {j}" for s, j in OUTPUTS)
        raise ValueError(
            f"scikit-learn fits {supported}; got σ_L = {activations[-1]!r} with {loss!r}"
        )
    if not (np.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"weight_decay must be finite and >= 0, got {weight_decay!r}")
    estimator_class, out_activation = OUTPUTS[activations[-1], loss]
    activation = HIDDEN_ACTIVATIONS[activations[0]] if hidden else "identity"
    L = len(activations)

    def fn(
        Ws: Sequence[np.ndarray], bs: Sequence[np.ndarray], X: np.ndarray, T: np.ndarray
    ) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        if len(Ws) != L or len(bs) != L:
            raise ValueError(
                f"{L} activations need {L} layers, got {len(Ws)} weights and {len(bs)} biases"
            )
        N = np.shape(X)[1]
        estimator = _estimator(estimator_class, activation, out_activation, weight_decay * N, L)
        estimator.coefs_ = [_rows(W) for W in Ws]  # (in, out) = W^(l)ᵗ
        estimator.intercepts_ = [np.array(b, dtype=np.float64) for b in bs]
        rows, targets = _rows(X), _rows(T)  # (N, S_0), (N, S_L)
        J, coef_grads, intercept_grads = estimator._backprop(
            rows, targets, None, [rows] + [None] * L, [None] * L, [None] * L, [None] * L
        )
        dWs = [np.array(g.T) for g in coef_grads]
        dbs = [np.array(g) for g in intercept_grads]
        return float(J), dWs, dbs

    return fn


def _estimator(
    estimator_class: type, activation: str, out_activation: str, alpha: float, L: int
) -> Any:
    """An unfitted estimator with the attributes ``fit`` would set for ``_backprop``."""
    estimator = estimator_class(activation=activation, alpha=alpha)
    estimator.out_activation_ = out_activation
    estimator.n_layers_ = L + 1  # scikit-learn counts the input layer
    return estimator


def _rows(array: np.ndarray) -> np.ndarray:
    """A new float64 C-contiguous copy of the transpose (scikit-learn writes in place)."""
    return np.array(np.asarray(array, dtype=np.float64).T, order="C")

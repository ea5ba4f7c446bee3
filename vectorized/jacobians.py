"""Closed forms of eq 2.13' for non-elementwise σ: H = (∂A/∂Z)ᵗ Δ without forming a Jacobian.

Eq 2.13' (docs/extensions.md): H_k'n = Σ_k J_kk'(n) Δ_kn, with softmax's
J_kk'(n) = A_kn (δ_kk' − A_k'n) (eq 2.2'). The δ_kk' collapses one term of the sum:

    H_k'n = A_k'n Δ_k'n − A_k'n Σ_k A_kn Δ_kn,
    H = A ⊙ (Δ − J_S (J_Sᵗ (A ⊙ Δ)))                                         (eq 2.13'')

(J_S a column of S_l ones: every row minus the column sums of A ⊙ Δ). O(S_l N), not O(S_l² N).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def softmax_H(A: np.ndarray, Delta: np.ndarray) -> np.ndarray:
    """Eq 2.13'': H = A ⊙ (Δ − J_S (J_Sᵗ (A ⊙ Δ))) for A = softmax(Z) over each column.

    Args:
        A: (S_l, N) softmax outputs A^(l), float32 or float64.
        Delta: (S_l, N) Δ^(l) = ∂J/∂A^(l), same dtype.

    Returns:
        (S_l, N) H^(l) = ∂J/∂Z^(l), a new array of the input dtype.

    Raises:
        Nothing beyond NumPy's own errors.
    """
    return A * (Delta - (A * Delta).sum(axis=0, keepdims=True))


CLOSED_FORMS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "softmax": softmax_H,
}
"""Name of a non-elementwise activation → ``(A, Delta) -> H`` (eq 2.13'')."""

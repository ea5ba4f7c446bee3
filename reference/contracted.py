"""The contracted form: the loops of the literal form after the Kronecker deltas collapse.

Each function returns one scalar entry, summing one index at a time over nested lists
stored by rows (``M[i][n]`` is M_in). A comment marks the delta each sum has lost.
"""

from __future__ import annotations

import math

import numpy as np

from crosscheck.ffnn import Activation
from crosscheck.reference.storage import Rows, as_rows


def delta_output(A_L: Rows, T: Rows, i: int, n: int) -> float:
    """Eqs 2.19–2.20: Δ^(L)_in = (1/N)(A^(L)_in − T_in).

    Args:
        A_L: (S_L, N) rows of A^(L).
        T: (S_L, N) rows of the targets.
        i, n: the entry, 0 <= i < S_L, 0 <= n < N.

    Returns:
        Δ^(L)_in = ∂J/∂A^(L)_in of the squared error (eq 2.17), a float.
    """
    N = len(T[0])
    # δ_ij δ_nm collapse Σ_m Σ_j to the single term j = i, m = n; the 2 cancels the ½
    return (A_L[i][n] - T[i][n]) / N


def delta_previous(W: Rows, H: Rows, i: int, n: int) -> float:
    """Eqs 2.32, 2.38: Δ^(l-1)_in = Σ_k W^(l)_ki H^(l)_kn, i.e. ((W^(l))ᵗ H^(l))_in.

    Eq 2.38 (an extension of the seed) carries eq 2.32 to every layer l = L, ..., 1;
    Δ^(0) is ∂J/∂X.

    Args:
        W: (S_l, S_{l-1}) rows of W^(l).
        H: (S_l, N) rows of H^(l) (eq 2.34).
        i, n: the entry, 0 <= i < S_{l-1}, 0 <= n < N.

    Returns:
        Δ^(l-1)_in = ∂J/∂A^(l-1)_in, a float.
    """
    # δ_nn' of eq 2.25 collapses Σ_n to n = n'
    return sum(W_k[i] * H_k[n] for W_k, H_k in zip(W, H, strict=True))


def dJ_dW(H: Rows, A_prev: Rows, i: int, j: int) -> float:
    """Eqs 2.5 (second form), 2.27, 2.33: ∂J/∂W^(l)_ij = Σ_n H^(l)_in A^(l-1)_jn.

    H^(l)_in = Δ^(l)_in σ'_l(Z^(l)_in) for elementwise σ (eqs 2.13, 2.34), eq 2.13' for
    softmax, eqs 2.8', 2.8'' for a fused output. For l = L−1, eq 2.27's Σ_k H^(L)_kn W^(L)_ki
    is Δ^(L-1)_in (eq 2.32), computed once per layer; below L−1 the same by eq 2.38.
    Weight decay is not included here.

    Args:
        H: (S_l, N) rows of H^(l) = ∂J/∂Z^(l).
        A_prev: (S_{l-1}, N) rows of A^(l-1).
        i, j: the entry, 0 <= i < S_l, 0 <= j < S_{l-1}.

    Returns:
        ∂J/∂W^(l)_ij, a float.
    """
    # δ_ik collapses Σ_k to k = i
    return sum(H_in * A_jn for H_in, A_jn in zip(H[i], A_prev[j], strict=True))


def dJ_db(H: Rows, i: int) -> float:
    """Eqs 2.10 (second form), 2.36: ∂J/∂b^(l)_i = Σ_n H^(l)_in.

    Args:
        H: (S_l, N) rows of H^(l) = ∂J/∂Z^(l).
        i: the entry, 0 <= i < S_l.

    Returns:
        ∂J/∂b^(l)_i, a float.
    """
    # δ_ik collapses Σ_k to k = i
    return sum(H[i])


def column_factors(sigma: Activation, Z: Rows, A: Rows) -> list[Rows]:
    """What `h_column` needs for a non-elementwise σ_l: its per-column Jacobian (eq 2.2').

    Returns:
        ``J[k][k'][n]`` = ∂A_kn/∂Z_k'n, nested lists of floats, from ``sigma.jacobian``.
    """
    return as_rows(sigma.jacobian(np.array(Z)))


def h_column(Delta: Rows, jacobian: list[Rows], k_prime: int, n: int) -> float:
    """Eq 2.13': H^(l)_k'n = Σ_k J_kk'(n) Δ^(l)_kn, the transposed Jacobian times Δ per column.

    Args:
        Delta: (S_l, N) rows of Δ^(l) (finite).
        jacobian: ``jacobian[k][k'][n]`` = J_kk'(n) = ∂A_kn/∂Z_k'n (eq 2.2').
        k_prime, n: the entry, 0 <= k' < S_l, 0 <= n < N.

    Returns:
        H^(l)_k'n = ∂J/∂Z^(l)_k'n, a float.
    """
    # δ_nn' of eq 2.2' collapses Σ_n' to n' = n
    return sum(J_k[k_prime][n] * Delta_k[n] for J_k, Delta_k in zip(jacobian, Delta, strict=True))


def _ratio(T_in: float, A_in: float) -> float:
    # T/A; 0 where T = 0 (the term T log A is identically 0 in A), +inf where A = 0 < T
    if T_in == 0:
        return 0.0
    return T_in / A_in if A_in != 0 else math.inf


def delta_output_cross_entropy(A_L: Rows, T: Rows, i: int, n: int) -> float:
    """Eqs 2.20', 2.21': Δ^(L)_in = −T_in / (N A^(L)_in); 0 where T_in = 0, −inf where
    A^(L)_in = 0 < T_in.

    Args:
        A_L, T: (S_L, N) rows of A^(L) (softmax outputs) and of the targets.
        i, n: the entry, 0 <= i < S_L, 0 <= n < N.

    Returns:
        Δ^(L)_in = ∂J/∂A^(L)_in of the cross-entropy (eq 2.16'), a float.
    """
    N = len(T[0])
    # δ_ij δ_nm collapse Σ_m Σ_j to j = i, m = n
    return -_ratio(T[i][n], A_L[i][n]) / N


def delta_output_binary_cross_entropy(A_L: Rows, T: Rows, i: int, n: int) -> float:
    """Eqs 2.20'', 2.21'': Δ^(L)_in = [(1 − T_in)/(1 − A^(L)_in) − T_in/A^(L)_in] / N, each
    ratio 0 where its target factor is 0 and +inf where its output factor is 0.

    Args:
        A_L, T: (S_L, N) rows of A^(L) (sigmoid outputs) and of the targets in [0, 1].
        i, n: the entry, 0 <= i < S_L, 0 <= n < N.

    Returns:
        Δ^(L)_in = ∂J/∂A^(L)_in of the binary cross-entropy (eq 2.16''), a float.
    """
    N = len(T[0])
    A_in, T_in = A_L[i][n], T[i][n]
    # δ_ij δ_nm collapse Σ_m Σ_j to j = i, m = n
    return (_ratio(1 - T_in, 1 - A_in) - _ratio(T_in, A_in)) / N


def h_output_cross_entropy(A_L: Rows, T: Rows, k_prime: int, n: int) -> float:
    """Eq 2.8' (fused softmax + cross-entropy): H^(L)_k'n = (A^(L)_k'n Σ_k T_kn − T_k'n) / N,
    i.e. (A^(L)_k'n − T_k'n)/N for a column of T summing to 1.

    Args:
        A_L, T: (S_L, N) rows of A^(L) (softmax outputs) and of the targets.
        k_prime, n: the entry, 0 <= k' < S_L, 0 <= n < N.

    Returns:
        H^(L)_k'n = ∂J/∂Z^(L)_k'n, a float.
    """
    N = len(T[0])
    # δ_nn' collapses Σ_n; δ_kk' collapses Σ_k in the T_kn δ_kk' term, leaving Σ_k T_kn
    column_sum = sum(T_k[n] for T_k in T)
    return (A_L[k_prime][n] * column_sum - T[k_prime][n]) / N


def h_output_binary_cross_entropy(A_L: Rows, T: Rows, k_prime: int, n: int) -> float:
    """Eq 2.8'' (fused sigmoid + binary cross-entropy): H^(L)_k'n = (A^(L)_k'n − T_k'n) / N.

    Args:
        A_L, T: (S_L, N) rows of A^(L) (sigmoid outputs) and of the targets in [0, 1].
        k_prime, n: the entry, 0 <= k' < S_L, 0 <= n < N.

    Returns:
        H^(L)_k'n = ∂J/∂Z^(L)_k'n, a float.
    """
    N = len(T[0])
    # δ_kk' δ_nn' collapse both sums; T(1 − A) − (1 − T)A = T − A
    return (A_L[k_prime][n] - T[k_prime][n]) / N


DELTA_OUTPUT = {
    "squared_error": delta_output,
    "cross_entropy": delta_output_cross_entropy,
    "binary_cross_entropy": delta_output_binary_cross_entropy,
}
"""Loss name → Δ^(L)_in (eqs 2.20, 2.20'–2.21', 2.20''–2.21'')."""

H_OUTPUT = {
    "cross_entropy": h_output_cross_entropy,
    "binary_cross_entropy": h_output_binary_cross_entropy,
}
"""Loss name → fused H^(L)_k'n (eqs 2.8', 2.8'') for the losses with a required σ_L."""

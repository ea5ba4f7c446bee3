"""The literal form: every sum as the seed prints it, Kronecker deltas kept as factors.

Each function returns one scalar entry. Matrices are nested lists stored by rows
(``M[i][n]`` is M_in); a delta δ_ab is written ``(a == b)`` (a bool, 1 or 0, as a factor)
and marked by a comment. Nothing is collapsed, so a sum over k and n visits every (k, n)
even where a delta makes the term zero: slow by design, O(S·N) per entry.

Where a term may be infinite (Δ^(L) of the classification losses where an output has
underflowed, eqs 2.18', 2.18''), a delta removes the term instead of multiplying it, since
0·inf would be NaN: that is what a Kronecker delta in a sum means.
"""

from __future__ import annotations

import math

from crosscheck.ffnn import Activation
from crosscheck.reference.storage import Rows


def delta_output(A_L: Rows, T: Rows, i: int, n: int) -> float:
    """Eqs 2.18–2.19: Δ^(L)_in = (1/2N) Σ_m Σ_j 2(A^(L)_jm − T_jm) δ_ij δ_nm.

    Args:
        A_L: (S_L, N) rows of A^(L).
        T: (S_L, N) rows of the targets.
        i, n: the entry, 0 <= i < S_L, 0 <= n < N.

    Returns:
        Δ^(L)_in = ∂J/∂A^(L)_in of the squared error (eq 2.17), a float.
    """
    N = len(T[0])
    total = sum(
        2 * (A_jm - T_jm) * (i == j) * (n == m)  # δ_ij δ_nm
        for j, (A_j, T_j) in enumerate(zip(A_L, T, strict=True))
        for m, (A_jm, T_jm) in enumerate(zip(A_j, T_j, strict=True))
    )
    return total / (2 * N)  # the factor 1/(2N) of eq 2.18


def delta_previous(W: Rows, H: Rows, k_prime: int, n_prime: int) -> float:
    """Eqs 2.25–2.26, 2.38: Δ^(l-1)_k'n' = Σ_k Σ_n H^(l)_kn W^(l)_kk' δ_nn'.

    The inner sums of eq 2.26, grouped as the recursion of eq 2.32 groups them, with
    ∂Z^(l)_kn/∂A^(l-1)_k'n' = W^(l)_kk' δ_nn' (eq 2.25) written out. Eq 2.38 (an extension
    of the seed) carries the same step to every layer l = L, ..., 1; Δ^(0) is ∂J/∂X.

    Args:
        W: (S_l, S_{l-1}) rows of W^(l).
        H: (S_l, N) rows of H^(l) (eq 2.34).
        k_prime, n_prime: the entry, 0 <= k' < S_{l-1}, 0 <= n' < N.

    Returns:
        Δ^(l-1)_k'n' = ∂J/∂A^(l-1)_k'n', a float.
    """
    return sum(
        H_kn * W_k[k_prime] * (n == n_prime)  # δ_nn'
        for W_k, H_k in zip(W, H, strict=True)
        for n, H_kn in enumerate(H_k)
    )


def dJ_dW(H: Rows, A_prev: Rows, i: int, j: int) -> float:
    """Eqs 2.1 + 2.2 + 2.4 (= eq 2.5, first form, with H of eq 2.8) and 2.26 (outer sums):
    ∂J/∂W^(l)_ij = Σ_k Σ_n H^(l)_kn δ_ik A^(l-1)_jn.

    H^(l)_kn = Δ^(l)_kn σ'_l(Z^(l)_kn) for elementwise σ (eqs 2.8, 2.13, 2.34), the sum of
    eq 2.13' for softmax, or the fused output of eqs 2.8', 2.8''. For l = L this is eq 2.5
    as first printed; for l = L−1 it is the outer Σ_k' Σ_n' of eq 2.26 once its inner sums
    are Δ^(L-1) (eq 2.32); below, the same by eq 2.38. Weight decay is not included here.

    Args:
        H: (S_l, N) rows of H^(l) = ∂J/∂Z^(l).
        A_prev: (S_{l-1}, N) rows of A^(l-1).
        i, j: the entry, 0 <= i < S_l, 0 <= j < S_{l-1}.

    Returns:
        ∂J/∂W^(l)_ij, a float.
    """
    A_j = A_prev[j]
    return sum(
        H_kn * (i == k) * A_jn  # δ_ik
        for k, H_k in enumerate(H)
        for H_kn, A_jn in zip(H_k, A_j, strict=True)
    )


def dJ_db(H: Rows, i: int) -> float:
    """Eqs 2.1 + 2.2 + 2.9 (= eq 2.10, first form, with H of eq 2.8) and 2.35:
    ∂J/∂b^(l)_i = Σ_k Σ_n H^(l)_kn δ_ik.

    Args:
        H: (S_l, N) rows of H^(l) = ∂J/∂Z^(l).
        i: the entry, 0 <= i < S_l.

    Returns:
        ∂J/∂b^(l)_i, a float.
    """
    return sum(H_kn * (i == k) for k, H_k in enumerate(H) for H_kn in H_k)  # δ_ik


def softmax_dA_dZ(A: Rows, k: int, n: int, k_prime: int, n_prime: int) -> float:
    """Eq 2.2': ∂A_kn/∂Z_k'n' = A_kn (δ_kk' − A_k'n) δ_nn' for A = softmax(Z) per column.

    Args:
        A: (S_l, N) rows of A^(l) = softmax(Z^(l)).
        k, n, k_prime, n_prime: the entry, 0 <= k, k' < S_l, 0 <= n, n' < N.

    Returns:
        The derivative, a float.
    """
    return A[k][n] * ((k == k_prime) - A[k_prime][n]) * (n == n_prime)  # δ_kk', δ_nn'


def column_factors(sigma: Activation, Z: Rows, A: Rows) -> Rows:
    """What `h_column` needs for a non-elementwise σ_l: the rows of A^(l) (eq 2.2').

    Raises:
        NotImplementedError: a non-elementwise σ other than softmax.
    """
    if sigma.name != "softmax":
        raise NotImplementedError(
            f"the literal form writes out eq 2.2' for softmax only, not {sigma.name!r}"
        )
    return A


def h_column(Delta: Rows, A: Rows, k_prime: int, n_prime: int) -> float:
    """Eqs 2.8, 2.2' (= eq 2.13'): H^(l)_k'n' = Σ_k Σ_n Δ^(l)_kn A_kn (δ_kk' − A_k'n) δ_nn'.

    The chain rule through a softmax layer: every A_kn of the column depends on Z_k'n'.

    Args:
        Delta: (S_l, N) rows of Δ^(l) (finite).
        A: (S_l, N) rows of A^(l) = softmax(Z^(l)).
        k_prime, n_prime: the entry, 0 <= k' < S_l, 0 <= n' < N.

    Returns:
        H^(l)_k'n' = ∂J/∂Z^(l)_k'n', a float.
    """
    return sum(
        Delta_kn * softmax_dA_dZ(A, k, n, k_prime, n_prime)
        for k, Delta_k in enumerate(Delta)
        for n, Delta_kn in enumerate(Delta_k)
    )


def _ratio(T_jm: float, A_jm: float) -> float:
    # T/A; 0 where T = 0 (the term T log A is identically 0 in A), +inf where A = 0 < T
    if T_jm == 0:
        return 0.0
    return T_jm / A_jm if A_jm != 0 else math.inf


def _kronecker(value: float, a: int, b: int) -> float:
    # value · δ_ab, where a term that δ_ab removes is absent: 0 even if value is ±inf
    return value if a == b else 0.0


def delta_output_cross_entropy(A_L: Rows, T: Rows, i: int, n: int) -> float:
    """Eqs 2.18', 2.19': Δ^(L)_in = −(1/N) Σ_m Σ_j (T_jm / A^(L)_jm) δ_ij δ_nm.

    Each term is ∂/∂A_in of −(1/N) T_jm log A_jm (eq 2.16'). By definition 0 where T_jm = 0;
    +inf·(−1/N) where an output has underflowed (A_jm = 0 < T_jm); a delta that removes a
    term removes it even when it is infinite.

    Args:
        A_L, T: (S_L, N) rows of A^(L) (softmax outputs) and of the targets.
        i, n: the entry, 0 <= i < S_L, 0 <= n < N.

    Returns:
        Δ^(L)_in = ∂J/∂A^(L)_in of the cross-entropy, a float (possibly −inf).
    """
    N = len(T[0])
    total = sum(
        _kronecker(_kronecker(_ratio(T_jm, A_jm), i, j), n, m)  # δ_ij δ_nm
        for j, (A_j, T_j) in enumerate(zip(A_L, T, strict=True))
        for m, (A_jm, T_jm) in enumerate(zip(A_j, T_j, strict=True))
    )
    return -total / N


def delta_output_binary_cross_entropy(A_L: Rows, T: Rows, i: int, n: int) -> float:
    """Eqs 2.18'', 2.19'':
    Δ^(L)_in = (1/N) Σ_m Σ_j [(1 − T_jm)/(1 − A^(L)_jm) − T_jm/A^(L)_jm] δ_ij δ_nm.

    Each term is ∂/∂A_in of −(1/N)[T_jm log A_jm + (1 − T_jm) log(1 − A_jm)] (eq 2.16'');
    a ratio whose target factor is 0 is 0, one whose output factor is 0 is +inf.

    Args:
        A_L, T: (S_L, N) rows of A^(L) (sigmoid outputs) and of the targets in [0, 1].
        i, n: the entry, 0 <= i < S_L, 0 <= n < N.

    Returns:
        Δ^(L)_in = ∂J/∂A^(L)_in of the binary cross-entropy, a float (possibly ±inf).
    """
    N = len(T[0])
    total = sum(
        _kronecker(_kronecker(_ratio(1 - T_jm, 1 - A_jm) - _ratio(T_jm, A_jm), i, j), n, m)
        for j, (A_j, T_j) in enumerate(zip(A_L, T, strict=True))
        for m, (A_jm, T_jm) in enumerate(zip(A_j, T_j, strict=True))
    )  # δ_ij δ_nm
    return total / N


def h_output_cross_entropy(A_L: Rows, T: Rows, k_prime: int, n_prime: int) -> float:
    """Eq 2.8' (fused softmax + cross-entropy, literal):
    H^(L)_k'n' = −(1/N) Σ_k Σ_n T_kn (δ_kk' − A^(L)_k'n) δ_nn'.

    ∂J/∂Z^(L)_k'n' of eqs 2.16'–2.17' directly, with ∂ log A_kn/∂Z_k'n' = (δ_kk' − A_k'n) δ_nn':
    finite where A^(L) underflows, unlike Δ^(L) (eq 2.21').

    Args:
        A_L, T: (S_L, N) rows of A^(L) (softmax outputs) and of the targets.
        k_prime, n_prime: the entry, 0 <= k' < S_L, 0 <= n' < N.

    Returns:
        H^(L)_k'n' = ∂J/∂Z^(L)_k'n', a float.
    """
    N = len(T[0])
    total = sum(
        T_kn * ((k == k_prime) - A_L[k_prime][n]) * (n == n_prime)  # δ_kk', δ_nn'
        for k, T_k in enumerate(T)
        for n, T_kn in enumerate(T_k)
    )
    return -total / N


def h_output_binary_cross_entropy(A_L: Rows, T: Rows, k_prime: int, n_prime: int) -> float:
    """Eq 2.8'' (fused sigmoid + binary cross-entropy, literal):
    H^(L)_k'n' = −(1/N) Σ_k Σ_n [T_kn (1 − A^(L)_kn) − (1 − T_kn) A^(L)_kn] δ_kk' δ_nn'.

    ∂J/∂Z^(L)_k'n' of eqs 2.16''–2.17'' directly, with ∂ log σ(z)/∂z = 1 − σ(z) and
    ∂ log(1 − σ(z))/∂z = −σ(z): finite where A^(L) rounds to 0 or 1.

    Args:
        A_L, T: (S_L, N) rows of A^(L) (sigmoid outputs) and of the targets in [0, 1].
        k_prime, n_prime: the entry, 0 <= k' < S_L, 0 <= n' < N.

    Returns:
        H^(L)_k'n' = ∂J/∂Z^(L)_k'n', a float.
    """
    N = len(T[0])
    total = sum(
        (T_kn * (1 - A_kn) - (1 - T_kn) * A_kn) * (k == k_prime) * (n == n_prime)  # δ_kk' δ_nn'
        for k, (A_k, T_k) in enumerate(zip(A_L, T, strict=True))
        for n, (A_kn, T_kn) in enumerate(zip(A_k, T_k, strict=True))
    )
    return -total / N


DELTA_OUTPUT = {
    "squared_error": delta_output,
    "cross_entropy": delta_output_cross_entropy,
    "binary_cross_entropy": delta_output_binary_cross_entropy,
}
"""Loss name → Δ^(L)_in (eqs 2.18–2.19, 2.18'–2.19', 2.18''–2.19'')."""

H_OUTPUT = {
    "cross_entropy": h_output_cross_entropy,
    "binary_cross_entropy": h_output_binary_cross_entropy,
}
"""Loss name → fused H^(L)_k'n' (eqs 2.8', 2.8'') for the losses with a required σ_L."""

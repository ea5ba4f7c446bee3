"""The literal form: every sum as the seed prints it, Kronecker deltas kept as factors.

Each function returns one scalar entry. Matrices are nested lists stored by rows
(``M[i][n]`` is M_in); a delta δ_ab is written ``(a == b)`` (a bool, 1 or 0, as a factor)
and marked by a comment. Nothing is collapsed, so a sum over k and n visits every (k, n)
even where a delta makes the term zero: slow by design, O(S·N) per entry.
"""

from __future__ import annotations

from reference.storage import Rows


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


def dJ_dW(Delta: Rows, sigma_prime: Rows, A_prev: Rows, i: int, j: int) -> float:
    """Eqs 2.1 + 2.2 + 2.4 (= eq 2.5, first form) and 2.26 (outer sums):
    ∂J/∂W^(l)_ij = Σ_k Σ_n Δ^(l)_kn σ'_l(Z^(l)_kn) δ_ik A^(l-1)_jn.

    For l = L this is eq 2.5 as first printed; for l = L−1 it is the outer Σ_k' Σ_n' of
    eq 2.26 once its inner sums are Δ^(L-1) (eq 2.32); below, the same by eq 2.38.
    Weight decay is not included here.

    Args:
        Delta: (S_l, N) rows of Δ^(l).
        sigma_prime: (S_l, N) rows of σ'_l(Z^(l)).
        A_prev: (S_{l-1}, N) rows of A^(l-1).
        i, j: the entry, 0 <= i < S_l, 0 <= j < S_{l-1}.

    Returns:
        ∂J/∂W^(l)_ij, a float.
    """
    A_j = A_prev[j]
    return sum(
        Delta_kn * sigma_prime_kn * (i == k) * A_jn  # δ_ik
        for k, (Delta_k, sigma_prime_k) in enumerate(zip(Delta, sigma_prime, strict=True))
        for Delta_kn, sigma_prime_kn, A_jn in zip(Delta_k, sigma_prime_k, A_j, strict=True)
    )


def dJ_db(Delta: Rows, sigma_prime: Rows, i: int) -> float:
    """Eqs 2.1 + 2.2 + 2.9 (= eq 2.10, first form) and 2.35:
    ∂J/∂b^(l)_i = Σ_k Σ_n Δ^(l)_kn σ'_l(Z^(l)_kn) δ_ik.

    Args:
        Delta: (S_l, N) rows of Δ^(l).
        sigma_prime: (S_l, N) rows of σ'_l(Z^(l)).
        i: the entry, 0 <= i < S_l.

    Returns:
        ∂J/∂b^(l)_i, a float.
    """
    return sum(
        Delta_kn * sigma_prime_kn * (i == k)  # δ_ik
        for k, (Delta_k, sigma_prime_k) in enumerate(zip(Delta, sigma_prime, strict=True))
        for Delta_kn, sigma_prime_kn in zip(Delta_k, sigma_prime_k, strict=True)
    )

"""The contracted form: the loops of the literal form after the Kronecker deltas collapse.

Each function returns one scalar entry, summing one index at a time over nested lists
stored by rows (``M[i][n]`` is M_in). A comment marks the delta each sum has lost.
"""

from __future__ import annotations

from reference.storage import Rows


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


def dJ_dW(Delta: Rows, sigma_prime: Rows, A_prev: Rows, i: int, j: int) -> float:
    """Eqs 2.5 (second form), 2.27, 2.33:
    ∂J/∂W^(l)_ij = Σ_n Δ^(l)_in σ'_l(Z^(l)_in) A^(l-1)_jn.

    For l = L−1, eq 2.27's Σ_k H^(L)_kn W^(L)_ki is Δ^(L-1)_in (eq 2.32), computed once
    per layer; below L−1 the same by eq 2.38. Weight decay is not included here.

    Args:
        Delta: (S_l, N) rows of Δ^(l).
        sigma_prime: (S_l, N) rows of σ'_l(Z^(l)).
        A_prev: (S_{l-1}, N) rows of A^(l-1).
        i, j: the entry, 0 <= i < S_l, 0 <= j < S_{l-1}.

    Returns:
        ∂J/∂W^(l)_ij, a float.
    """
    # δ_ik collapses Σ_k to k = i
    return sum(
        Delta_in * sigma_prime_in * A_jn
        for Delta_in, sigma_prime_in, A_jn in zip(Delta[i], sigma_prime[i], A_prev[j], strict=True)
    )


def dJ_db(Delta: Rows, sigma_prime: Rows, i: int) -> float:
    """Eqs 2.10 (second form), 2.36: ∂J/∂b^(l)_i = Σ_n Δ^(l)_in σ'_l(Z^(l)_in).

    Args:
        Delta: (S_l, N) rows of Δ^(l).
        sigma_prime: (S_l, N) rows of σ'_l(Z^(l)).
        i: the entry, 0 <= i < S_l.

    Returns:
        ∂J/∂b^(l)_i, a float.
    """
    # δ_ik collapses Σ_k to k = i
    return sum(
        Delta_in * sigma_prime_in
        for Delta_in, sigma_prime_in in zip(Delta[i], sigma_prime[i], strict=True)
    )

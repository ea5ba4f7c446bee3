"""One backward step at a time: Δ^(L), H^(l), Δ^(l-1) and the gradient entries of layer l.

The form (``reference.literal`` or ``reference.contracted``) supplies the scalar sums; this
module only visits the entries. Rows that an entry does not need may be skipped: they are
stored as 0.0 and never read except multiplied by a Kronecker delta that is 0.
"""

from __future__ import annotations

from collections.abc import Collection
from types import ModuleType

from reference.storage import Rows


def output_delta(form: ModuleType, A_L: Rows, T: Rows, rows: Collection[int]) -> Rows:
    """Eqs 2.18–2.20: Δ^(L)_in for i in `rows`, every n (other rows 0.0, not computed).

    Args:
        form: ``reference.literal`` or ``reference.contracted``.
        A_L, T: (S_L, N) rows of A^(L) and of the targets.
        rows: the indices i to compute, each in 0..S_L-1.

    Returns:
        (S_L, N) rows of Δ^(L) = ∂J/∂A^(L).
    """
    N = len(T[0])
    return [
        [form.delta_output(A_L, T, i, n) for n in range(N)] if i in rows else [0.0] * N
        for i in range(len(T))
    ]


def hadamard(Delta: Rows, sigma_prime: Rows) -> Rows:
    """Eqs 2.13, 2.34: H^(l)_kn = Δ^(l)_kn σ'_l(Z^(l)_kn) (elementwise σ).

    Args:
        Delta, sigma_prime: (S_l, N) rows of Δ^(l) and of σ'_l(Z^(l)).

    Returns:
        (S_l, N) rows of H^(l) = ∂J/∂Z^(l).
    """
    return [
        [Delta_kn * sigma_prime_kn for Delta_kn, sigma_prime_kn in zip(Delta_k, sp_k, strict=True)]
        for Delta_k, sp_k in zip(Delta, sigma_prime, strict=True)
    ]


def previous_delta(form: ModuleType, W: Rows, H: Rows, rows: Collection[int]) -> Rows:
    """Eqs 2.25/2.26 (literal), 2.32 and 2.38: Δ^(l-1)_in for i in `rows`, every n.

    Args:
        form: ``reference.literal`` or ``reference.contracted``.
        W: (S_l, S_{l-1}) rows of W^(l).
        H: (S_l, N) rows of H^(l).
        rows: the indices i to compute, each in 0..S_{l-1}-1 (other rows 0.0).

    Returns:
        (S_{l-1}, N) rows of Δ^(l-1) = ∂J/∂A^(l-1); for l = 1, ∂J/∂X.
    """
    N, S_prev = len(H[0]), len(W[0])
    return [
        [form.delta_previous(W, H, i, n) for n in range(N)] if i in rows else [0.0] * N
        for i in range(S_prev)
    ]


def weight_entry(
    form: ModuleType,
    weight_decay: float,
    W: Rows,
    Delta: Rows,
    sigma_prime: Rows,
    A_prev: Rows,
    i: int,
    j: int,
) -> float:
    """Eqs 2.5, 2.26/2.27, 2.33 plus weight decay: ∂J/∂W^(l)_ij (+ λ W^(l)_ij).

    The λ W^(l)_ij term is the derivative of (λ/2) Σ W² (weight decay, an extension of
    the seed, DESIGN §4).

    Args:
        form: ``reference.literal`` or ``reference.contracted``.
        weight_decay: λ >= 0.
        W: (S_l, S_{l-1}) rows of W^(l).
        Delta, sigma_prime: (S_l, N) rows of Δ^(l) (row i at least) and σ'_l(Z^(l)).
        A_prev: (S_{l-1}, N) rows of A^(l-1).
        i, j: the entry, 0 <= i < S_l, 0 <= j < S_{l-1}.

    Returns:
        ∂J/∂W^(l)_ij, a float.
    """
    return form.dJ_dW(Delta, sigma_prime, A_prev, i, j) + weight_decay * W[i][j]


def layer_gradients(
    form: ModuleType,
    weight_decay: float,
    W: Rows,
    Delta: Rows,
    sigma_prime: Rows,
    A_prev: Rows,
) -> tuple[Rows, list[float]]:
    """Eqs 2.5/2.10 (l = L), 2.26/2.27 and 2.35/2.36 (l < L): every ∂J/∂W^(l)_ij, ∂J/∂b^(l)_i.

    Args:
        form: ``reference.literal`` or ``reference.contracted``.
        weight_decay: λ >= 0 (adds λ W^(l)_ij to each weight entry; biases not decayed).
        W: (S_l, S_{l-1}) rows of W^(l).
        Delta, sigma_prime: (S_l, N) rows of Δ^(l) and σ'_l(Z^(l)).
        A_prev: (S_{l-1}, N) rows of A^(l-1).

    Returns:
        ``(dW, db)``: (S_l, S_{l-1}) rows of ∂J/∂W^(l) and the (S_l,) entries of ∂J/∂b^(l).
    """
    dW = [
        [
            weight_entry(form, weight_decay, W, Delta, sigma_prime, A_prev, i, j)
            for j in range(len(W_i))
        ]
        for i, W_i in enumerate(W)
    ]
    db = [form.dJ_db(Delta, sigma_prime, i) for i in range(len(W))]
    return dW, db

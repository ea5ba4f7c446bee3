"""One backward step at a time: Δ^(L), H^(l), Δ^(l-1) and the gradient entries of layer l.

The form (``crosscheck.reference.literal`` or ``crosscheck.reference.contracted``) supplies the
scalar sums; this module only visits the entries. Rows that an entry does not need may be skipped:
they are stored as 0.0 and never read except multiplied by a Kronecker delta that is 0.
"""

from __future__ import annotations

from collections.abc import Collection
from types import ModuleType

from crosscheck.ffnn import Network
from crosscheck.reference.forward import sigma_prime
from crosscheck.reference.storage import Rows


def output_delta(form: ModuleType, loss: str, A_L: Rows, T: Rows, rows: Collection[int]) -> Rows:
    """Eqs 2.18–2.20 (2.18'–2.21', 2.18''–2.21''): Δ^(L)_in for i in `rows`, every n.

    Args:
        form: ``crosscheck.reference.literal`` or ``crosscheck.reference.contracted``.
        loss: the network's loss name (a key of ``form.DELTA_OUTPUT``).
        A_L, T: (S_L, N) rows of A^(L) and of the targets.
        rows: the indices i to compute, each in 0..S_L-1 (other rows 0.0, not computed).

    Returns:
        (S_L, N) rows of Δ^(L) = ∂J/∂A^(L); for the classification losses ±inf where an
        output has underflowed (eqs 2.21', 2.21'').
    """
    N = len(T[0])
    entry = form.DELTA_OUTPUT[loss]
    return [
        [entry(A_L, T, i, n) for n in range(N)] if i in rows else [0.0] * N for i in range(len(T))
    ]


def layer_H(
    form: ModuleType,
    network: Network,
    l: int,
    Z: Rows,
    A: Rows,
    Delta: Rows | None,
    T: Rows,
    rows: Collection[int],
) -> Rows:
    """H^(l) = ∂J/∂Z^(l) for k in `rows`, every n, by the form's sums:

    - l = L with a loss that requires its σ_L (cross-entropy, binary cross-entropy): the
      fused output of eqs 2.8', 2.8'' from A^(L) and T (Δ^(L) is not used, may be None);
    - elementwise σ_l: the Hadamard product of eqs 2.13, 2.34 (every row; cheap);
    - softmax σ_l: eq 2.13', the sum through the per-column Jacobian (eq 2.2').

    Args:
        form: ``crosscheck.reference.literal`` or ``crosscheck.reference.contracted``.
        network: the architecture (σ_l, J).
        l: the layer, 1 <= l <= L.
        Z, A: (S_l, N) rows of Z^(l), A^(l).
        Delta: (S_l, N) rows of Δ^(l) (every row for a non-elementwise σ_l).
        T: (S_L, N) rows of the targets.
        rows: the indices k to compute for the fused and non-elementwise forms (other rows
            0.0).

    Returns:
        (S_l, N) rows of H^(l).
    """
    N = len(Z[0])
    if fused_output(network, l):
        entry = form.H_OUTPUT[network.loss]
        return [
            [entry(A, T, k, n) for n in range(N)] if k in rows else [0.0] * N for k in range(len(Z))
        ]
    sigma = network.sigma(l)
    if sigma.elementwise:
        return hadamard(Delta, sigma_prime(network, l, Z))
    factors = form.column_factors(sigma, Z, A)
    return [
        [form.h_column(Delta, factors, k, n) for n in range(N)] if k in rows else [0.0] * N
        for k in range(len(Z))
    ]


def fused_output(network: Network, l: int) -> bool:
    """Whether H^(l) is the fused output of eqs 2.8', 2.8'': l = L and J requires its σ_L."""
    return l == network.L and network.J.output_activation is not None


def needs_every_row(network: Network, l: int) -> bool:
    """Whether a row of H^(l) needs every row of Δ^(l): for a non-elementwise σ_l (eq 2.13'),
    unless H^(l) is a fused output (eqs 2.8', 2.8''), which needs no Δ^(L) at all."""
    return not fused_output(network, l) and not network.sigma(l).elementwise


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
        form: ``crosscheck.reference.literal`` or ``crosscheck.reference.contracted``.
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
    form: ModuleType, weight_decay: float, W: Rows, H: Rows, A_prev: Rows, i: int, j: int
) -> float:
    """Eqs 2.5, 2.26/2.27, 2.33 plus weight decay: ∂J/∂W^(l)_ij (+ λ W^(l)_ij).

    The λ W^(l)_ij term is the derivative of (λ/2) Σ W² (weight decay, an extension of
    the seed, DESIGN §4).

    Args:
        form: ``crosscheck.reference.literal`` or ``crosscheck.reference.contracted``.
        weight_decay: λ >= 0.
        W: (S_l, S_{l-1}) rows of W^(l).
        H: (S_l, N) rows of H^(l) (row i at least).
        A_prev: (S_{l-1}, N) rows of A^(l-1).
        i, j: the entry, 0 <= i < S_l, 0 <= j < S_{l-1}.

    Returns:
        ∂J/∂W^(l)_ij, a float.
    """
    return form.dJ_dW(H, A_prev, i, j) + weight_decay * W[i][j]


def layer_gradients(
    form: ModuleType, weight_decay: float, W: Rows, H: Rows, A_prev: Rows
) -> tuple[Rows, list[float]]:
    """Eqs 2.5/2.10 (l = L), 2.26/2.27 and 2.35/2.36 (l < L): every ∂J/∂W^(l)_ij, ∂J/∂b^(l)_i.

    Args:
        form: ``crosscheck.reference.literal`` or ``crosscheck.reference.contracted``.
        weight_decay: λ >= 0 (adds λ W^(l)_ij to each weight entry; biases not decayed).
        W: (S_l, S_{l-1}) rows of W^(l).
        H: (S_l, N) rows of H^(l).
        A_prev: (S_{l-1}, N) rows of A^(l-1).

    Returns:
        ``(dW, db)``: (S_l, S_{l-1}) rows of ∂J/∂W^(l) and the (S_l,) entries of ∂J/∂b^(l).
    """
    dW = [
        [weight_entry(form, weight_decay, W, H, A_prev, i, j) for j in range(len(W_i))]
        for i, W_i in enumerate(W)
    ]
    db = [form.dJ_db(H, i) for i in range(len(W))]
    return dW, db

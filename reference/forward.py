"""The forward pass by index (eqs 1.4, 2.3) and σ'_l(Z^(l)) for the backward pass."""

from __future__ import annotations

import numpy as np

from crosscheck.ffnn import NUMPY, Network
from crosscheck.reference.storage import Rows, as_rows


def forward(
    network: Network, W: tuple[Rows, ...], b: tuple[list[float], ...], X: Rows
) -> tuple[list[Rows | None], list[Rows]]:
    """Eqs 1.4, 2.3: Z^(l)_kn = Σ_j W^(l)_kj A^(l-1)_jn + b^(l)_k, A^(l) = σ_l(Z^(l)), A^(0) = X.

    One scalar Z^(l)_kn at a time; σ_l is ffnn's elementwise activation, applied to the
    whole layer at once.

    Args:
        network: the architecture, sizes (S_0, ..., S_L), activations σ_1..σ_L.
        W: ``W[l-1]`` the (S_l, S_{l-1}) rows of W^(l).
        b: ``b[l-1]`` the (S_l,) entries of b^(l).
        X: (S_0, N) rows of the inputs.

    Returns:
        ``(Z, A)``, lists of length L+1 indexed by layer l: ``Z[l]``, ``A[l]`` the (S_l, N)
        rows of Z^(l), A^(l) (Python floats, float64); ``Z[0]`` is None, ``A[0]`` is X.
    """
    Z: list[Rows | None] = [None]
    A: list[Rows] = [X]
    for l in range(1, network.L + 1):
        W_l, b_l = W[l - 1], b[l - 1]
        columns = list(zip(*A[l - 1], strict=True))  # A_n = (A_0n, A_1n, ...): storage only
        Z_l = [
            [sum(W_kj * A_jn for W_kj, A_jn in zip(W_k, A_n, strict=True)) + b_k for A_n in columns]
            for W_k, b_k in zip(W_l, b_l, strict=True)
        ]
        Z.append(Z_l)
        A.append(as_rows(network.sigma(l).sigma(np.array(Z_l), NUMPY)))
    return Z, A


def sigma_prime(network: Network, l: int, Z_l: Rows) -> Rows:
    """Eqs 2.2, 2.13, 2.34: the factors ∂σ_l/∂Z^(l)_kn = σ'_l(Z^(l)_kn), elementwise.

    Args:
        network: the architecture, activations σ_1..σ_L.
        l: the layer, 1 <= l <= L.
        Z_l: (S_l, N) rows of Z^(l).

    Returns:
        (S_l, N) rows of σ'_l(Z^(l)) — ffnn's σ', stable from Z, with ReLU'(0) = 0.
    """
    return as_rows(network.sigma(l).sigma_prime(np.array(Z_l)))

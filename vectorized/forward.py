"""Forward pass in matrix form (eqs 1.3, 1.4) and the error function J (eqs 2.16, 2.17', 2.17'')."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from crosscheck.ffnn import NUMPY, Layer, Network, weight_decay_term
from crosscheck.vectorized.kernels import activate
from crosscheck.vectorized.workspace import Workspace


def forward(
    network: Network, params: Sequence[Layer], X: np.ndarray, workspace: Workspace | None = None
) -> tuple[tuple[np.ndarray | None, ...], tuple[np.ndarray, ...]]:
    """Eqs 1.3, 1.4: Z^(l) = W^(l) A^(l-1) + b^(l) J_N^t and A^(l) = σ_l(Z^(l)), l = 1..L.

    One matrix product per layer, then the bias added in place: ``b[:, None]`` broadcasts
    b^(l) over the N columns, which is the seed's "+ b^(l) J_N^t"; tanh is applied in place
    (``crosscheck.vectorized.kernels``). Inputs must already be checked by
    ``crosscheck.ffnn.validate``.

    Args:
        network: the architecture, sizes (S_0, ..., S_L).
        params: L validated Layers; W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,).
        X: (S_0, N) inputs, float32 or float64 (the dtype of every result).
        workspace: buffers for (network, N, X's dtype) to write Z^(l), A^(l) into, or None
            for fresh arrays (the caller then owns them).

    Returns:
        ``(Z, A)``, tuples of length L+1 indexed by layer: ``Z[l]``, ``A[l]`` of shape
        (S_l, N); ``Z[0]`` is None and ``A[0]`` is X itself (eq 1.4's A^(0) = X). For an
        identity σ_l, ``A[l]`` is ``Z[l]``. With a workspace they are its buffers.

    Raises:
        Nothing beyond NumPy's own errors; validation is the caller's.
    """
    Z: list[np.ndarray | None] = [None]
    A = [X]
    for l, (W, b) in enumerate(params, start=1):
        Z_l = np.matmul(W, A[l - 1], out=None if workspace is None else workspace.Z[l])
        Z_l += b[:, None]  # eq 1.4
        Z.append(Z_l)
        A.append(activate(network.sigma(l), Z_l, None if workspace is None else workspace.A[l]))
    return tuple(Z), tuple(A)


def total_loss(
    network: Network, params: Sequence[Layer], Z_L: np.ndarray, A_L: np.ndarray, T: np.ndarray
) -> np.floating:
    """Eq 2.16 (or the network's J) plus weight decay: J(T, A^(L)) + (λ/2) Σ_l ‖W^(l)‖_F².

    Cross-entropy and binary cross-entropy are computed from the logits Z^(L)
    (eqs 2.17', 2.17''), finite even where A^(L) has underflowed.

    Args:
        network: the architecture; ``network.J`` and λ = ``network.weight_decay``.
        params: L validated Layers (only the weights W^(l) enter the decay term).
        Z_L: (S_L, N) output pre-activations Z^(L).
        A_L: (S_L, N) output activations A^(L).
        T: (S_L, N) targets, same dtype as A_L.

    Returns:
        J as a NumPy scalar of the input dtype.

    Raises:
        Nothing beyond NumPy's own errors; validation is the caller's.
    """
    J = network.J.J(Z_L, A_L, T, NUMPY)
    if network.weight_decay:
        J = J + weight_decay_term([W for W, _ in params], network.weight_decay, NUMPY)
    return J

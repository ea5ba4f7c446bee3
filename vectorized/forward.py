"""Forward pass in matrix form (eqs 1.3, 1.4) and the error function J (eqs 2.16, 2.17', 2.17'')."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from crosscheck.ffnn import NUMPY, Layer, Network, weight_decay_term
from crosscheck.vectorized import parallel
from crosscheck.vectorized.kernels import kernel
from crosscheck.vectorized.workspace import Workspace


class Forward(NamedTuple):
    """One forward pass: tuples of length L+1 indexed by layer, ``[0]`` for the input.

    Z: ``Z[l]`` (S_l, N) = Z^(l), or None where a pass in a workspace has overwritten it
        with A^(l) or σ'_l(Z^(l)); ``Z[0]`` is None.
    A: ``A[l]`` (S_l, N) = A^(l) (``A[l]`` is ``Z[l]`` for an identity σ_l); ``A[0]`` is X.
    S: ``S[l]`` (S_l, N) = σ'_l(Z^(l)) where the backward pass needs it (an elementwise
        σ_l other than identity, bar a σ_L whose loss has a fused H^(L)), else None.
    """

    Z: tuple[np.ndarray | None, ...]
    A: tuple[np.ndarray, ...]
    S: tuple[np.ndarray | None, ...]


def forward(
    network: Network,
    params: Sequence[Layer],
    X: np.ndarray,
    workspace: Workspace | None = None,
    derivatives: bool = False,
) -> Forward:
    """Eqs 1.3, 1.4: Z^(l) = W^(l) A^(l-1) + b^(l) J_N^t and A^(l) = σ_l(Z^(l)), l = 1..L.

    One matrix product per layer, then the bias added in place: ``b[:, None]`` broadcasts
    b^(l) over the N columns, which is the seed's "+ b^(l) J_N^t". An elementwise σ_l runs
    its kernel (``crosscheck.vectorized.kernels``), which also gives σ'_l(Z^(l)) of eqs
    2.13, 2.34 from the same read of Z^(l) when `derivatives` asks for it. Inputs must
    already be checked by ``crosscheck.ffnn.validate``.

    Args:
        network: the architecture, sizes (S_0, ..., S_L).
        params: L validated Layers; W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,).
        X: (S_0, N) inputs, float32 or float64 (the dtype of every result).
        workspace: buffers for (network, N, X's dtype) to write into, or None for fresh
            arrays (the caller then owns them, and every Z^(l) is kept).
        derivatives: also compute σ'_l(Z^(l)) where the backward pass needs it
            (``Forward.S``); in a workspace, Z^(l) of those layers is then overwritten.

    Returns:
        A ``Forward`` (Z, A, S), in the buffers of `workspace` if one is given.

    Raises:
        Nothing beyond NumPy's own errors; validation is the caller's.
    """
    Z: list[np.ndarray | None] = [None]
    A = [X]
    S: list[np.ndarray | None] = [None]
    for l, (W, b) in enumerate(params, start=1):
        Z_l = np.matmul(W, A[l - 1], out=None if workspace is None else workspace.Z[l])
        Z_l += b[:, None]  # eq 1.4
        sigma = network.sigma(l)
        fused = kernel(sigma)
        derivative = derivatives and (l < network.L or network.J.H is None)
        if sigma.name == "identity":
            A_l, S_l = Z_l, None
        elif fused is None:  # not elementwise (softmax): eq 2.13'' needs A alone
            A_l, S_l = sigma.sigma(Z_l, NUMPY), None
        elif workspace is None:  # fresh arrays; Z^(l) kept, the kernel runs on a copy
            scratch = np.empty(Z_l.shape, fused.scratch_dtype(Z_l.dtype)) if fused.scratch else None
            work = Z_l.copy() if derivative else Z_l
            A_l, S_l = parallel.evaluate(fused, work, np.empty_like(Z_l), scratch, derivative)
        else:
            scratch_dtype = fused.scratch_dtype(Z_l.dtype)
            scratch = workspace.scratch[scratch_dtype][: Z_l.shape[0]] if fused.scratch else None
            A_l, S_l = parallel.evaluate(fused, Z_l, workspace.A[l], scratch, derivative)
            Z_l = None if derivative else Z_l
        Z.append(Z_l)
        A.append(A_l)
        S.append(S_l)
    return Forward(tuple(Z), tuple(A), tuple(S))


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

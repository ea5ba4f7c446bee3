"""Backward pass in matrix form: eqs 2.7, 2.11, 2.13–2.15, 2.21, 2.32–2.34, 2.37, and the
extensions 2.8', 2.8'' (fused classification outputs) and 2.13'' (softmax).

Two loops over the same per-layer steps: ``backward`` keeps every Δ^(l) and H^(l) in fresh
arrays (``backprop``'s trace); ``backward_into`` keeps none of them and runs in a
preallocated ``Workspace`` (``gradients``, the fast path).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ffnn import Layer, Network
from vectorized.jacobians import CLOSED_FORMS
from vectorized.kernels import hadamard_sigma_prime, needs_buffer, output_delta
from vectorized.workspace import Workspace


def backward(
    network: Network,
    params: Sequence[Layer],
    Z: Sequence[np.ndarray | None],
    A: Sequence[np.ndarray],
    T: np.ndarray,
    *,
    input_delta: bool,
) -> tuple[tuple[Layer, ...], tuple[np.ndarray | None, ...], tuple[np.ndarray | None, ...]]:
    """Eqs 2.21, 2.13/2.34, 2.14/2.33, 2.15/2.37, 2.32: ∂J/∂W^(l), ∂J/∂b^(l) from layer L down to 1.

    Per layer l = L..1, with Δ^(L) = ∂J/∂A^(L) from ``network.J.Delta`` (eq 2.21 for
    squared error, 2.21', 2.21'' for the classification losses):
        H^(l) = Δ^(l) ⊙ σ'_l(Z^(l))                 (eqs 2.13, 2.34; elementwise σ_l)
        H^(l) = A ⊙ (Δ − J_S J_Sᵗ (A ⊙ Δ))          (eq 2.13''; softmax σ_l)
        H^(L) = network.J.H(Z^(L), A^(L), T)       (eqs 2.8', 2.8''; fused output, finite
                                                    even where Δ^(L) is ±inf)
        ∂J/∂W^(l) = H^(l) (A^(l-1))^t [+ λ W^(l)]   (eqs 2.7, 2.14, 2.33)
        ∂J/∂b^(l) = H^(l) J_N, the row sums of H^(l) (eqs 2.11, 2.15, 2.37)
        Δ^(l-1) = (W^(l))^t H^(l)                   (eq 2.32, the recursion for every l)
    Inputs must already be checked by ``ffnn.validate``; they are only read.

    Args:
        network: the architecture, sizes (S_0, ..., S_L), σ'_l, J and λ.
        params: L validated Layers; W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,).
        Z: length L+1, ``Z[l]`` of shape (S_l, N) from ``forward``; ``Z[0]`` unused.
        A: length L+1, ``A[l]`` of shape (S_l, N) from ``forward``; ``A[0]`` = X.
        T: (S_L, N) targets.
        input_delta: also compute Δ^(0) = ∂J/∂X = (W^(1))^t H^(1), which only the trace
            needs; if False, ``Delta[0]`` is None and that product is skipped.

    Returns:
        ``(grads, Delta, H)``: grads, L Layers shaped like params; Delta and H, tuples of
        length L+1 with ``Delta[l]``, ``H[l]`` of shape (S_l, N), fresh arrays; ``H[0]`` is
        None. All in the dtype of the inputs. ``Delta[L]`` may hold ±inf where a
        classification output has underflowed (eqs 2.21', 2.21''); everything else is finite.

    Raises:
        NotImplementedError: a non-elementwise σ_l without a closed form in
            ``vectorized.jacobians``.
        Nothing else beyond NumPy's own errors; validation is the caller's.
    """
    L = network.L
    Delta: list[np.ndarray | None] = [None] * (L + 1)
    H: list[np.ndarray | None] = [None] * (L + 1)
    grads: list[Layer] = []  # filled from layer L down to 1
    Delta[L] = network.J.Delta(A[L], T)  # eq 2.21: (A^(L) − T)/N for squared error
    for l in range(L, 0, -1):
        W = params[l - 1].W
        scratch = np.empty_like(Z[l]) if needs_buffer(network.sigma(l)) else None
        H[l] = _H(network, l, Z[l], A[l], Delta[l], T, np.empty_like(Z[l]), scratch)
        grads.append(_layer_gradients(network, W, H[l], A[l - 1]))
        if l > 1 or input_delta:
            Delta[l - 1] = W.T @ H[l]  # eq 2.32; the delta of eq 2.25 collapses the sum over n'
    return tuple(reversed(grads)), tuple(Delta), tuple(H)


def backward_into(
    network: Network,
    params: Sequence[Layer],
    Z: Sequence[np.ndarray | None],
    A: Sequence[np.ndarray],
    T: np.ndarray,
    workspace: Workspace,
) -> tuple[Layer, ...]:
    """The equations of ``backward`` without the trace: ∂J/∂W^(l), ∂J/∂b^(l) only.

    Δ^(l) goes to ``workspace.delta``, one layer at a time, and H^(l) over Z^(l) in
    place (each is dead once H^(l) exists), with A^(l)'s buffer (dead once ∂J/∂W^(l+1)
    exists) as the scratch of σ'_l; Δ^(0) is not computed.

    Args:
        network, params, T: as for ``backward``.
        Z, A: ``forward``'s results written into `workspace`; Z[l] is overwritten.
        workspace: the buffers of (network, N, dtype) that Z and A live in.

    Returns:
        L Layers shaped like params, fresh arrays in the dtype of the inputs.

    Raises:
        NotImplementedError: as for ``backward``.
    """
    L = network.L
    grads: list[Layer] = []  # filled from layer L down to 1
    Delta = None
    if network.J.H is None:  # a fused output H^(L) (eqs 2.8', 2.8'') needs no Δ^(L)
        Delta = output_delta(network.J, A[L], T, out=workspace.delta(network.sizes[L]))
    for l in range(L, 0, -1):
        W = params[l - 1].W
        H = _H(network, l, Z[l], A[l], Delta, T, Z[l], workspace.A[l])
        grads.append(_layer_gradients(network, W, H, A[l - 1]))
        if l > 1:  # eq 2.32; the delta of eq 2.25 collapses the sum over n'
            Delta = np.matmul(W.T, H, out=workspace.delta(network.sizes[l - 1]))
    return tuple(reversed(grads))


def _layer_gradients(network: Network, W: np.ndarray, H: np.ndarray, A_prev: np.ndarray) -> Layer:
    """Eqs 2.7/2.14/2.33 and 2.11/2.15/2.37: (H A^(l-1)ᵗ [+ λ W], H J_N), fresh arrays."""
    dW = H @ A_prev.T  # eqs 2.7, 2.14, 2.33
    if network.weight_decay:
        dW += network.weight_decay * W  # weight decay: ∂/∂W of (λ/2)‖W‖_F²
    # The seed prints H J_N^t in eqs 2.11, 2.15, 2.37; the shapes need H J_N, (S_l, N)·(N,):
    # the Kronecker delta of eq 2.9/2.35 collapses the sum over k, leaving Σ_n H_in.
    return Layer(dW, H.sum(axis=1))


def _H(
    network: Network,
    l: int,
    Z: np.ndarray,
    A: np.ndarray,
    Delta: np.ndarray | None,
    T: np.ndarray,
    out: np.ndarray,
    scratch: np.ndarray | None,
) -> np.ndarray:
    """H^(l) = ∂J/∂Z^(l), (S_l, N): eq 2.8'/2.8'' (fused output), 2.13/2.34 or 2.13''.

    Elementwise σ_l writes into `out` (which may be Z), using `scratch` (None where σ_l
    needs none, ``kernels.needs_buffer``); the other forms return fresh arrays.
    """
    if l == network.L and network.J.H is not None:
        return network.J.H(Z, A, T)  # eqs 2.8', 2.8'': (A − T)/N, never through Δ^(L)
    sigma = network.sigma(l)
    if sigma.elementwise:
        return hadamard_sigma_prime(sigma, Z, Delta, out, scratch)  # eqs 2.13, 2.34
    if sigma.name not in CLOSED_FORMS:
        raise NotImplementedError(f"no closed form of eq 2.13' for activation {sigma.name!r}")
    return CLOSED_FORMS[sigma.name](A, Delta)  # eq 2.13''

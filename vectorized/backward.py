"""Backward pass in matrix form: eqs 2.7, 2.11, 2.13–2.15, 2.21, 2.32–2.34, 2.37, and the
extensions 2.8', 2.8'' (fused classification outputs) and 2.13'' (softmax).

Two loops over the same per-layer steps: ``backward`` keeps every Δ^(l) and H^(l) in fresh
arrays (``backprop``'s trace); ``backward_into`` keeps none of them and runs in the forward
pass's own buffers (``gradients``, the fast path).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from crosscheck.ffnn import Activation, Layer, Network
from crosscheck.vectorized.jacobians import CLOSED_FORMS
from crosscheck.vectorized.kernels import (
    hadamard_sigma_prime,
    needs_buffer,
    output_delta,
    sigma_prime,
)
from crosscheck.vectorized.workspace import Workspace


def backward(
    network: Network,
    params: Sequence[Layer],
    Z: Sequence[np.ndarray | None],
    A: Sequence[np.ndarray],
    T: np.ndarray,
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
    Inputs must already be checked by ``crosscheck.ffnn.validate``; they are only read.

    Args:
        network: the architecture, sizes (S_0, ..., S_L), σ'_l, J and λ.
        params: L validated Layers; W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,).
        Z: length L+1, ``Z[l]`` of shape (S_l, N) from ``forward``; ``Z[0]`` unused.
        A: length L+1, ``A[l]`` of shape (S_l, N) from ``forward``; ``A[0]`` = X.
        T: (S_L, N) targets.

    Returns:
        ``(grads, Delta, H)``: grads, L Layers shaped like params; Delta and H, tuples of
        length L+1 with ``Delta[l]``, ``H[l]`` of shape (S_l, N), fresh arrays;
        ``Delta[0]`` = ∂J/∂X = (W^(1))^t H^(1), which only the trace needs; ``H[0]`` is
        None. All in the dtype of the inputs. ``Delta[L]`` may hold ±inf where a
        classification output has underflowed (eqs 2.21', 2.21''); everything else is finite.

    Raises:
        NotImplementedError: a non-elementwise σ_l without a closed form in
            ``crosscheck.vectorized.jacobians``.
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

    Runs in the forward pass's buffers and no others (but an (S_L, N) scratch for a tanh
    output, ``Workspace``): H^(l) overwrites Z^(l); A^(l-1)'s buffer, dead once
    ∂J/∂W^(l) = H^(l) (A^(l-1))ᵗ exists, is first the scratch of σ'_{l-1}(Z^(l-1)) (computed
    over Z^(l-1)) and then holds Δ^(l-1) = (W^(l))ᵗ H^(l). Δ^(0) is not computed.

    Args:
        network, params, T: as for ``backward``.
        Z, A: ``forward``'s results written into `workspace`; both are overwritten.
        workspace: the buffers of (network, N, dtype) that Z and A live in.

    Returns:
        L Layers shaped like params, fresh arrays in the dtype of the inputs.

    Raises:
        NotImplementedError: as for ``backward``.
    """
    L = network.L
    H = _output_H_into(network, Z[L], A[L], T, workspace.scratch)
    grads: list[Layer] = []  # filled from layer L down to 1
    for l in range(L, 0, -1):
        W = params[l - 1].W
        grads.append(_layer_gradients(network, W, H, A[l - 1]))
        if l > 1:
            H = _hidden_H_into(network, l - 1, W, H, Z[l - 1], A[l - 1], workspace.A[l - 1])
    return tuple(reversed(grads))


def _output_H_into(
    network: Network, Z: np.ndarray, A: np.ndarray, T: np.ndarray, scratch: np.ndarray | None
) -> np.ndarray:
    """H^(L) (eqs 2.8', 2.8'', or 2.21 then 2.13 / 2.13''), over Z^(L) where σ_L allows."""
    if network.J.H is not None:
        return network.J.H(Z, A, T)  # eqs 2.8', 2.8'': (A − T)/N, never through Δ^(L)
    sigma = network.sigma(network.L)
    if sigma.name == "identity":  # A^(L) is Z^(L): H^(L) = Δ^(L) goes over it
        return output_delta(network.J, A, T, out=Z)
    if sigma.name == "tanh":  # Δ^(L) over A^(L) (its own buffer), then σ' over Z^(L)
        Delta = output_delta(network.J, A, T, out=A)
        return np.multiply(Delta, sigma_prime(sigma, Z, Z, scratch), out=Z)
    Delta = output_delta(network.J, A, T, out=None)
    if not sigma.elementwise:
        return _closed_form(sigma)(A, Delta)  # eq 2.13''
    return np.multiply(Delta, sigma.sigma_prime(Z), out=Z)  # eq 2.13


def _hidden_H_into(
    network: Network,
    l: int,
    W_next: np.ndarray,
    H_next: np.ndarray,
    Z: np.ndarray,
    A: np.ndarray,
    buffer: np.ndarray | None,
) -> np.ndarray:
    """H^(l) = Δ^(l) ⊙ σ'_l(Z^(l)) (eq 2.34; 2.13'' for softmax), Δ^(l) = (W^(l+1))ᵗ H^(l+1)
    (eq 2.32), over Z^(l) once A^(l) is dead; `buffer` is A^(l)'s workspace buffer (tanh)."""
    sigma = network.sigma(l)
    # eq 2.32: the delta of eq 2.25 collapses the sum over n'
    if sigma.name == "identity":  # A^(l) is Z^(l) and σ' = 1: H^(l) = Δ^(l) goes over it
        return np.matmul(W_next.T, H_next, out=Z)
    if sigma.name == "tanh":  # σ' over Z^(l), A^(l)'s buffer as scratch; then Δ^(l) there
        sigma_prime(sigma, Z, Z, buffer)
        return np.multiply(np.matmul(W_next.T, H_next, out=buffer), Z, out=Z)
    Delta = W_next.T @ H_next
    if not sigma.elementwise:
        return _closed_form(sigma)(A, Delta)  # eq 2.13''
    return np.multiply(Delta, sigma.sigma_prime(Z), out=Z)  # eq 2.34


def _closed_form(sigma: Activation) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The closed form of eq 2.13' for a non-elementwise σ (``crosscheck.vectorized.jacobians``)."""
    if sigma.name not in CLOSED_FORMS:
        raise NotImplementedError(f"no closed form of eq 2.13' for activation {sigma.name!r}")
    return CLOSED_FORMS[sigma.name]


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
    return _closed_form(sigma)(A, Delta)  # eq 2.13''

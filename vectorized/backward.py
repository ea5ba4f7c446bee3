"""Backward pass in matrix form: eqs 2.7, 2.11, 2.13–2.15, 2.21, 2.32–2.34, 2.37, and the
extensions 2.8', 2.8'' (fused classification outputs) and 2.13'' (softmax).

Two loops over the same per-layer steps, both reading σ'_l(Z^(l)) from the forward pass
(``crosscheck.vectorized.forward.Forward.S``): ``backward`` keeps every Δ^(l) and H^(l) in
fresh arrays (``backprop``'s trace); ``backward_into`` keeps none of them and runs in the
forward pass's own buffers (``gradients``, the fast path).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from crosscheck.ffnn import Activation, Layer, Network
from crosscheck.vectorized.forward import Forward
from crosscheck.vectorized.jacobians import CLOSED_FORMS
from crosscheck.vectorized.kernels import output_delta


def backward(
    network: Network, params: Sequence[Layer], f: Forward, T: np.ndarray
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
        network: the architecture, sizes (S_0, ..., S_L), σ_l, J and λ.
        params: L validated Layers; W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,).
        f: ``forward(..., derivatives=True)`` in fresh arrays (no workspace): Z^(l), A^(l)
            and σ'_l(Z^(l)), each (S_l, N); ``f.A[0]`` = X.
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
    Delta[L] = network.J.Delta(f.A[L], T)  # eq 2.21: (A^(L) − T)/N for squared error
    for l in range(L, 0, -1):
        W = params[l - 1].W
        if l == L and network.J.H is not None:
            H[l] = network.J.H(f.Z[l], f.A[l], T)  # eqs 2.8', 2.8'': never through Δ^(L)
        else:
            H[l] = _H(network.sigma(l), f.A[l], f.S[l], Delta[l], out=None)
            if H[l] is Delta[l]:  # identity: the trace holds Δ^(l) and H^(l) apart
                H[l] = Delta[l].copy()
        grads.append(_layer_gradients(network, W, H[l], f.A[l - 1]))
        Delta[l - 1] = W.T @ H[l]  # eq 2.32; the delta of eq 2.25 collapses the sum over n'
    return tuple(reversed(grads)), tuple(Delta), tuple(H)


def backward_into(
    network: Network, params: Sequence[Layer], f: Forward, T: np.ndarray
) -> tuple[Layer, ...]:
    """The equations of ``backward`` without the trace: ∂J/∂W^(l), ∂J/∂b^(l) only.

    Runs in the forward pass's buffers and no others: A^(l)'s buffer, dead once
    ∂J/∂W^(l+1) = H^(l+1) (A^(l))ᵗ exists, receives Δ^(l) = (W^(l+1))ᵗ H^(l+1), and
    H^(l) = Δ^(l) ⊙ σ'_l(Z^(l)) overwrites σ'_l(Z^(l)). Δ^(0) is not computed.

    Args:
        network, params, T: as for ``backward``.
        f: ``forward(..., derivatives=True)`` written into a workspace; overwritten.

    Returns:
        L Layers shaped like params, fresh arrays in the dtype of the inputs.

    Raises:
        NotImplementedError: as for ``backward``.
    """
    L = network.L
    if network.J.H is not None:
        H = network.J.H(f.Z[L], f.A[L], T)  # eqs 2.8', 2.8'': (A − T)/N, never through Δ^(L)
    else:  # eq 2.21 over A^(L) (a softmax's A^(L) stays for eq 2.13''), then eq 2.13
        sigma = network.sigma(L)
        Delta = output_delta(network.J, f.A[L], T, out=f.A[L] if sigma.elementwise else None)
        H = _H(sigma, f.A[L], f.S[L], Delta, out=f.S[L])
    grads: list[Layer] = []  # filled from layer L down to 1
    for l in range(L, 0, -1):
        W = params[l - 1].W
        grads.append(_layer_gradients(network, W, H, f.A[l - 1]))
        if l > 1:
            # eq 2.32 into A^(l-1)'s buffer (Z^(l-1)'s for identity); the delta of eq 2.25
            # collapses the sum over n'
            sigma = network.sigma(l - 1)
            Delta = np.matmul(W.T, H, out=f.A[l - 1] if sigma.elementwise else None)
            H = _H(sigma, f.A[l - 1], f.S[l - 1], Delta, out=f.S[l - 1])
    return tuple(reversed(grads))


def _H(
    sigma: Activation,
    A: np.ndarray,
    S: np.ndarray | None,
    Delta: np.ndarray,
    out: np.ndarray | None,
) -> np.ndarray:
    """H^(l) from Δ^(l): Δ ⊙ σ'_l(Z^(l)) into `out` (eqs 2.13, 2.34; S = σ'_l(Z^(l)), and
    `out` may be S), Δ itself for identity (σ' = 1), or eq 2.13'' (fresh) for a
    non-elementwise σ_l."""
    if sigma.name == "identity":
        return Delta
    if not sigma.elementwise:
        return _closed_form(sigma)(A, Delta)  # eq 2.13''
    return np.multiply(Delta, S, out=out)  # eqs 2.13, 2.34


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

"""The implementation contract (DESIGN §3) in matrix form: loss, gradients, backprop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crosscheck.ffnn import Layer, Network, Trace, check_finite, overflow_guard, validate
from crosscheck.vectorized.backward import backward, backward_into
from crosscheck.vectorized.forward import forward, total_loss
from crosscheck.vectorized.workspace import workspace


def loss(network: Network, params: Sequence[Any], X: Any, T: Any) -> float:
    """Eqs 1.4, 2.16 (2.17', 2.17'' from Z^(L)): J (+ (λ/2) Σ_l ‖W^(l)‖_F²) after a forward pass.

    Args:
        network: the architecture, sizes (S_0, ..., S_L).
        params: L pairs (W, b); W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,).
        X: (S_0, N) inputs, one column per sample; float64 or float32 like every array.
        T: (S_L, N) targets.

    Returns:
        J as a Python float (computed in the input dtype).

    Raises:
        TypeError, ValueError: from ``crosscheck.ffnn.validate``, before any work.
        ValueError: finite inputs whose results overflow the float range
        (``crosscheck.ffnn.overflow``).
    """
    params, X, T = validate(network, params, X, T)
    with overflow_guard():
        f = forward(network, params, X, workspace(network, X.shape[1], X.dtype))
        J = float(total_loss(network, params, f.Z[-1], f.A[-1], T))
    check_finite(network, J=J)
    return J


def gradients(network: Network, params: Sequence[Any], X: Any, T: Any) -> tuple[Layer, ...]:
    """Eqs 2.7, 2.11, 2.13–2.15, 2.21, 2.32–2.34, 2.37, 2.8', 2.8'', 2.13'': ∂J/∂W^(l), ∂J/∂b^(l).

    The fast path: skips the product Δ^(0) = (W^(1))^t H^(1), which only ``backprop``'s
    trace needs, and runs in buffers cached per (network, N, dtype) and thread
    (``crosscheck.vectorized.workspace``); the returned arrays are fresh and never alias them.
    σ and σ' come from one kernel per layer (``crosscheck.vectorized.kernels``), the same
    as ``backprop``'s, so both return the same gradients bit for bit.

    Args:
        network: the architecture, sizes (S_0, ..., S_L).
        params: L pairs (W, b); W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,).
        X: (S_0, N) inputs; float64 or float32 like every array.
        T: (S_L, N) targets.

    Returns:
        L Layers: ``grads[l-1].W`` of shape (S_l, S_{l-1}), ``grads[l-1].b`` of shape
        (S_l,), in the input dtype.

    Raises:
        TypeError, ValueError: from ``crosscheck.ffnn.validate``, before any work.
        ValueError: finite inputs whose results overflow the float range
        (``crosscheck.ffnn.overflow``).
    """
    params, X, T = validate(network, params, X, T)
    ws = workspace(network, X.shape[1], X.dtype)
    with overflow_guard():
        f = forward(network, params, X, ws, derivatives=True)
        grads = backward_into(network, params, f, T)
    check_finite(network, grads=grads)
    return grads


def backprop(
    network: Network, params: Sequence[Any], X: Any, T: Any
) -> tuple[tuple[Layer, ...], Trace]:
    """Eqs 1.4, 2.7, 2.11, 2.13–2.15, 2.21, 2.32–2.34, 2.37: gradients and every intermediate.

    Args:
        network: the architecture, sizes (S_0, ..., S_L).
        params: L pairs (W, b); W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,).
        X: (S_0, N) inputs; float64 or float32 like every array.
        T: (S_L, N) targets.

    Returns:
        ``(grads, trace)``: grads as from ``gradients``; ``trace`` an ``crosscheck.ffnn.Trace``
        whose fields Z, A, Delta, H are tuples of length L+1 of writable (S_l, N) arrays, none
        aliasing an input: ``Z[0]`` and ``H[0]`` None, ``A[0]`` a copy of X (writing the
        trace never changes X), ``Delta[0]`` = ∂J/∂X = (W^(1))^t H^(1). Input dtype.
        ``Delta[L]`` may be ±inf where a classification output underflows (eqs 2.21',
        2.21''); H, the other Δ and the gradients stay finite (eqs 2.8', 2.8'').

    Raises:
        TypeError, ValueError: from ``crosscheck.ffnn.validate``, before any work.
        ValueError: finite inputs whose results overflow the float range
        (``crosscheck.ffnn.overflow``).
    """
    params, X, T = validate(network, params, X, T)
    with overflow_guard():
        # the pass reads X itself, as `gradients` does (a product's summation order depends on
        # its operands' layout); the trace owns a copy as A^(0)
        f = forward(network, params, X, derivatives=True)
        grads, Delta, H = backward(network, params, f, T)
    trace = Trace(Z=f.Z, A=(X.copy(), *f.A[1:]), Delta=Delta, H=H)
    check_finite(network, grads=grads, trace=trace)
    return grads, trace

"""The implementation contract (DESIGN §3) by JAX autodiff: loss, gradients, backprop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import numpy as np

from crosscheck.autodiff_oracle.compiled import compiled
from crosscheck.autodiff_oracle.padded import Padded, pad, unpad
from crosscheck.ffnn import Layer, Network, Trace, check_finite, validate


def loss(network: Network, params: Sequence[Any], X: Any, T: Any) -> float:
    """Eqs 1.4, 2.16: J(T, A^(L)) (+ (λ/2) Σ_l ‖W^(l)‖_F²), evaluated by the jitted forward.

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
    problem = pad(network, *validate(network, params, X, T))
    with jax.enable_x64(True):
        J = float(_compiled(problem).loss(*problem[1:]))
    check_finite(network, J=J)
    return J


def gradients(network: Network, params: Sequence[Any], X: Any, T: Any) -> tuple[Layer, ...]:
    """∂J/∂W^(l), ∂J/∂b^(l) (what eqs 2.7, 2.11, 2.33, 2.37 give) as jax.grad of eqs 1.4, 2.16.

    Args:
        network: the architecture, sizes (S_0, ..., S_L).
        params: L pairs (W, b); W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,).
        X: (S_0, N) inputs; float64 or float32 like every array.
        T: (S_L, N) targets.

    Returns:
        L Layers of writable NumPy arrays: ``grads[l-1].W`` of shape (S_l, S_{l-1}),
        ``grads[l-1].b`` of shape (S_l,), in the input dtype.

    Raises:
        TypeError, ValueError: from ``crosscheck.ffnn.validate``, before any work.
        ValueError: finite inputs whose results overflow the float range
        (``crosscheck.ffnn.overflow``).
    """
    problem = pad(network, *validate(network, params, X, T))
    with jax.enable_x64(True):
        grads = _unpad_layers(network, _compiled(problem).gradients(*problem[1:]))
    check_finite(network, grads=grads)
    return grads


def backprop(
    network: Network, params: Sequence[Any], X: Any, T: Any
) -> tuple[tuple[Layer, ...], Trace]:
    """Gradients and every intermediate, all by autodiff of eqs 1.4, 2.16.

    Δ^(l) = ∂J/∂A^(l) (eqs 2.12, 2.32) and H^(l) = ∂J/∂Z^(l) (eqs 2.8, 2.34) are the
    gradients of J with respect to zero probes added to A^(l) and Z^(l) in the forward pass;
    Δ^(0) = ∂J/∂X; Z and A come from the same forward pass. One jax.grad gives them all,
    except Δ^(L): it is jax.grad of J written as a function of A^(L) (``Loss.J_of_A``,
    eqs 2.16, 2.16', 2.16''), since cross-entropy and binary cross-entropy are computed
    from the logits Z^(L) (eqs 2.17', 2.17''). Where such an output has underflowed
    (A_kn = 0, or 1 − A_kn = 0), Δ^(L)_kn is ±inf — the derivative of the definition at
    the rounded A — while H^(L) and the gradients, from Z^(L), stay finite.

    Args:
        network: the architecture, sizes (S_0, ..., S_L).
        params: L pairs (W, b); W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,).
        X: (S_0, N) inputs; float64 or float32 like every array.
        T: (S_L, N) targets.

    Returns:
        ``(grads, trace)``: grads as from ``gradients`` (the same values for a padded
        problem, one compilation; equal up to rounding for an exact envelope, where the two
        are separate compilations); ``trace`` an ``crosscheck.ffnn.Trace`` whose
        fields Z, A, Delta, H are tuples of length L+1 of writable (S_l, N) NumPy arrays:
        ``Z[0]`` and ``H[0]`` None, ``A[0]`` = X, ``Delta[0]`` = ∂J/∂X. Input dtype.

    Raises:
        TypeError, ValueError: from ``crosscheck.ffnn.validate``, before any work.
        ValueError: finite inputs whose results overflow the float range
        (``crosscheck.ffnn.overflow``).
    """
    params, X, T = validate(network, params, X, T)
    problem = pad(network, params, X, T)
    with jax.enable_x64(True):
        _, (grads, dX, probe_grads, Delta_L), (Z, A) = _compiled(problem).backprop(*problem[1:])
        grads = _unpad_layers(network, grads)
        L, N, S = network.L, X.shape[1], network.sizes

        def real(arrays: Any) -> tuple[np.ndarray, ...]:
            return tuple(unpad(a, S[l], N) for l, a in enumerate(arrays, start=1))

        trace = Trace(
            Z=(None, *real(Z[1 : L + 1])),
            A=(X.copy(), *real(A[1 : L + 1])),
            Delta=(
                unpad(dX, S[0], N),
                *real([g.A for g in probe_grads[: L - 1]]),
                unpad(Delta_L, S[-1], N),
            ),
            H=(None, *real([g.Z for g in probe_grads[:L]])),
        )
    check_finite(network, grads=grads, trace=trace)
    return grads, trace


class Device(NamedTuple):
    """Where JAX runs the oracle: ``backend`` (``jax.default_backend()``: "cpu", "gpu",
    "tpu") and ``device`` (the first device's ``device_kind``, e.g. "cpu", "NVIDIA H200")."""

    backend: str
    device: str

    def __str__(self) -> str:
        return f"JAX backend {self.backend} ({self.device})"


def device() -> Device:
    """The JAX backend and device the oracle computes on, for reports.

    Raises:
        Nothing of its own (JAX's own errors if no backend can start).
    """
    return Device(jax.default_backend(), jax.devices()[0].device_kind)


def _compiled(problem: Padded) -> Any:
    return compiled(problem.envelope, problem.X.dtype)


def _unpad_layers(network: Network, padded: Any) -> tuple[Layer, ...]:
    """The real blocks of the first L of the padded Layers, as writable NumPy arrays."""
    S = network.sizes
    return tuple(
        Layer(unpad(W, S[l], S[l - 1]), unpad(b, S[l]))
        for l, (W, b) in enumerate(padded[: network.L], start=1)
    )

"""J as a function of (params, X) built only from ffnn's forward definitions (eqs 1.4, 2.16).

J is ``network.J.J(Z^(L), A^(L), T)``: squared error reads A^(L); cross-entropy and binary
cross-entropy read the logits Z^(L) (log-sum-exp, logaddexp: eqs 2.17', 2.17''), so their
gradients stay finite where A^(L) underflows.

Nothing here is a derivative: σ_l is ``network.sigma(l).sigma`` and J is ``network.J.J``,
both evaluated with the JAX namespace, plus ``ffnn.weight_decay_term``. JAX differentiates
these; σ' and Δ formulas are never used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from ffnn import Layer, Network, jax_namespace, weight_decay_term


class Probe(NamedTuple):
    """Zero-valued probes of one layer l, added in the forward pass (eq 1.4).

    Z: (S_l, N) added to Z^(l); ∂J/∂Z probe = H^(l) (eqs 2.8, 2.34).
    A: (S_l, N) added to A^(l); ∂J/∂A probe = Δ^(l) (eqs 2.12, 2.32).
    """

    Z: Any
    A: Any


def objective(
    network: Network,
    params: Sequence[Layer],
    X: Any,
    T: Any,
    probes: Sequence[Probe] | None = None,
) -> tuple[Any, tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """Eqs 1.4, 2.16: J(T, A^(L)) (+ (λ/2) Σ_l ‖W^(l)‖_F²) with Z and A as auxiliary output.

    Traceable by JAX (``jax.grad(..., has_aux=True)``); written with ``ffnn.jax_namespace()``.

    Args:
        network: the architecture, sizes (S_0, ..., S_L), σ_l, J and λ.
        params: L Layers; W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,).
        X: (S_0, N) inputs, A^(0).
        T: (S_L, N) targets.
        probes: None, or L Probes of zeros, ``probes[l-1]`` for layer l, with Z and A of
            shape (S_l, N): Z^(l) = W^(l) A^(l-1) + b^(l) + P_Z and A^(l) = σ_l(Z^(l)) + P_A,
            so that ∂J/∂P_Z = H^(l) and ∂J/∂P_A = Δ^(l) while the values are unchanged.

    Returns:
        ``(J, (Z, A))``: J a scalar of the input dtype; Z and A tuples of length L+1 of
        (S_l, N) arrays with ``Z[0]`` None and ``A[0]`` = X.

    Raises:
        Nothing of its own; inputs are checked by ``ffnn.validate`` before tracing.
    """
    xp = jax_namespace()
    Z: list[Any] = [None]
    A = [X]
    for l, (W, b) in enumerate(params, start=1):
        Z.append(W @ A[l - 1] + b[:, None])  # eq 1.4
        if probes is not None:
            Z[l] = Z[l] + probes[l - 1].Z
        A.append(network.sigma(l).sigma(Z[l], xp))
        if probes is not None:
            A[l] = A[l] + probes[l - 1].A
    J = network.J.J(Z[-1], A[-1], T, xp)
    if network.weight_decay:
        J = J + weight_decay_term([W for W, _ in params], network.weight_decay, xp)
    return J, (tuple(Z), tuple(A))

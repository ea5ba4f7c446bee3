"""The error J by scalar loops (eq 2.17), with optional weight decay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ffnn import Network
from reference.forward import forward
from reference.problem import prepare


def loss(network: Network, params: Sequence[Any], X: Any, T: Any) -> float:
    """Eqs 1.4, 2.3 (forward by index) and 2.17: J = (1/2N) Σ_m Σ_j (A^(L)_jm − T_jm)²,
    plus (λ/2) Σ_l Σ_i Σ_j (W^(l)_ij)² when λ = `network.weight_decay` > 0 (weight decay,
    an extension, DESIGN §4; biases not decayed, not divided by N).

    Args:
        network: the architecture, sizes (S_0, ..., S_L); loss ``"squared_error"``.
        params: L pairs (W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,)).
        X: (S_0, N) inputs; T: (S_L, N) targets; float32 or float64.

    Returns:
        J as a Python float (float64).

    Raises:
        TypeError, ValueError: from ``ffnn.validate``, before any work.
        NotImplementedError: a loss other than ``"squared_error"``.
    """
    problem = prepare(network, params, X, T)
    _, A = forward(network, problem.W, problem.b, problem.X)
    N = len(problem.T[0])
    J = sum(
        (A_jm - T_jm) ** 2
        for A_j, T_j in zip(A[network.L], problem.T, strict=True)
        for A_jm, T_jm in zip(A_j, T_j, strict=True)
    ) / (2 * N)
    lam = network.weight_decay
    if lam > 0:
        J += lam / 2 * sum(W_ij**2 for W_l in problem.W for W_i in W_l for W_ij in W_i)
    return float(J)

"""The error J by scalar loops (eqs 2.17, 2.17', 2.17''), with optional weight decay."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from crosscheck.ffnn import Network, check_finite, overflow_guard
from crosscheck.reference.forward import forward
from crosscheck.reference.problem import Problem, prepare
from crosscheck.reference.storage import Rows


def loss(network: Network, params: Sequence[Any], X: Any, T: Any) -> float:
    """Eqs 1.4, 2.3 (forward by index) and J by scalar loops, plus (λ/2) Σ_l Σ_i Σ_j
    (W^(l)_ij)² when λ = `network.weight_decay` > 0 (weight decay, an extension, DESIGN §4;
    biases not decayed, not divided by N). J is, by `network.loss`:

    - squared_error, eq 2.17: (1/2N) Σ_m Σ_j (A^(L)_jm − T_jm)²;
    - cross_entropy, eq 2.17': −(1/N) Σ_n Σ_k T_kn [Z_kn − m_n − log Σ_k' exp(Z_k'n − m_n)],
      m_n = max_k Z_kn (log-sum-exp of the logits Z^(L): finite where A^(L) underflows);
    - binary_cross_entropy, eq 2.17'': (1/N) Σ_k Σ_n [T_kn s(−Z_kn) + (1 − T_kn) s(Z_kn)]
      with s(z) = log(1 + e^z) = max(z, 0) + log(1 + e^{−|z|}) (no overflow, no log 0).

    Args:
        network: the architecture, sizes (S_0, ..., S_L), σ_1..σ_L, J and λ.
        params: L pairs (W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,)).
        X: (S_0, N) inputs; T: (S_L, N) targets; float32 or float64.

    Returns:
        J as a Python float (float64), finite.

    Raises:
        TypeError, ValueError: from ``crosscheck.ffnn.validate``, before any work.
        ValueError: finite inputs whose J overflows the float range (``crosscheck.ffnn.overflow``).
        NotImplementedError: a loss or non-elementwise activation the reference does not
            write out.
    """
    problem = prepare(network, params, X, T)
    with overflow_guard():
        J = _loss(network, problem)
    check_finite(network, J=J)
    return J


def _loss(network: Network, problem: Problem) -> float:
    Z, A = forward(network, problem.W, problem.b, problem.X)
    L = network.L
    J = _ERRORS[network.loss](Z[L], A[L], problem.T)
    lam = network.weight_decay
    if lam > 0:
        J += lam / 2 * sum(W_ij**2 for W_l in problem.W for W_i in W_l for W_ij in W_i)
    return float(J)


def _squared_error(Z_L: Rows, A_L: Rows, T: Rows) -> float:
    N = len(T[0])
    return sum(
        (A_jm - T_jm) ** 2
        for A_j, T_j in zip(A_L, T, strict=True)
        for A_jm, T_jm in zip(A_j, T_j, strict=True)
    ) / (2 * N)  # eq 2.17


def _cross_entropy(Z_L: Rows, A_L: Rows, T: Rows) -> float:
    N = len(T[0])
    total = 0.0
    for n, Z_n in enumerate(zip(*Z_L, strict=True)):  # the column Z_:n: storage only
        m_n = max(Z_n)
        log_sum = math.log(sum(math.exp(Z_kn - m_n) for Z_kn in Z_n))  # >= log 1 = 0
        total += sum(T_k[n] * (Z_kn - m_n - log_sum) for T_k, Z_kn in zip(T, Z_n, strict=True))
    return -total / N  # eq 2.17'


def _softplus(z: float) -> float:
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def _binary_cross_entropy(Z_L: Rows, A_L: Rows, T: Rows) -> float:
    N = len(T[0])
    return (
        sum(
            T_kn * _softplus(-Z_kn) + (1 - T_kn) * _softplus(Z_kn)
            for Z_k, T_k in zip(Z_L, T, strict=True)
            for Z_kn, T_kn in zip(Z_k, T_k, strict=True)
        )
        / N
    )  # eq 2.17''


_ERRORS = {
    "squared_error": _squared_error,
    "cross_entropy": _cross_entropy,
    "binary_cross_entropy": _binary_cross_entropy,
}
"""Loss name → J from (Z^(L), A^(L), T) rows."""

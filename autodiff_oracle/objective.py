"""J as a function of (params, X) built only from ffnn's forward definitions (eqs 1.4, 2.16).

``objective`` is J of one network at its exact shapes; ``padded_objective`` is J of any
network of depth L inside a shape envelope, σ_l and J chosen at run time
(``crosscheck.autodiff_oracle.padded``). Both run the same forward pass, ``forward``.

J is ``network.J.J(Z^(L), A^(L), T)``: squared error reads A^(L); cross-entropy and binary
cross-entropy read the logits Z^(L) (log-sum-exp, logaddexp: eqs 2.17', 2.17''), so their
gradients stay finite where A^(L) underflows.

Nothing here is a derivative: σ_l is ``network.sigma(l).sigma`` and J is ``network.J.J``,
both evaluated with the JAX namespace, plus ``crosscheck.ffnn.weight_decay_term``. JAX
differentiates these; σ' and Δ formulas are never used.

Matrix products run at ``PRECISION`` (HIGHEST) whatever the backend's default, so the
oracle's answers do not depend on the JAX platform (on a GPU, float32 products default to
TF32).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from jax import lax

from crosscheck.autodiff_oracle.padded import Spec
from crosscheck.ffnn import (
    ACTIVATIONS,
    LOSSES,
    Activation,
    Layer,
    Network,
    jax_namespace,
    weight_decay_term,
)


class Probe(NamedTuple):
    """Zero-valued probes of one layer l, added in the forward pass (eq 1.4).

    Z: (S_l, N) added to Z^(l); ∂J/∂Z probe = H^(l) (eqs 2.8, 2.34).
    A: (S_l, N) added to A^(l); ∂J/∂A probe = Δ^(l) (eqs 2.12, 2.32).
    """

    Z: Any
    A: Any


def forward(
    params: Sequence[Layer],
    X: Any,
    sigma: Callable[[int, Any], Any],
    probes: Sequence[Probe] | None = None,
    active: Any = None,
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Eq 1.4: Z^(l) = W^(l) A^(l-1) + b^(l), A^(l) = σ_l(Z^(l)), l = 1..L; traceable by JAX.

    Args:
        params: L Layers; W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,).
        X: (S_0, N) inputs, A^(0).
        sigma: ``sigma(l, Z) -> A``, the forward definition of σ_l.
        probes: None, or L Probes of zeros, ``probes[l-1]`` for layer l, with Z and A of
            shape (S_l, N): Z^(l) = W^(l) A^(l-1) + b^(l) + P_Z and A^(l) = σ_l(Z^(l)) + P_A,
            so that ∂J/∂P_Z = H^(l) and ∂J/∂P_A = Δ^(l) while the values are unchanged.
        active: None, or (L,) bools: a layer l >= 2 that is not active passes Z^(l-1) and
            A^(l-1) through unchanged (a padded layer beyond the real depth; its S_l equals
            S_{l-1}, and a layer whose S_l differs from S_{l-1} must be active).

    Returns:
        ``(Z, A)``: tuples of length L+1 of (S_l, N) arrays, ``Z[0]`` None and ``A[0]`` = X.
    """
    xp = jax_namespace()
    Z: list[Any] = [None]
    A = [X]
    for l, (W, b) in enumerate(params, start=1):
        Z_l = matmul(W, A[l - 1]) + b[:, None]  # eq 1.4
        # only a layer shaped like the one before can be a pass-through (Envelope)
        passes = active is not None and l > 1 and Z_l.shape == Z[l - 1].shape
        if passes:
            Z_l = xp.where(active[l - 1], Z_l, Z[l - 1])
        if probes is not None:
            Z_l = Z_l + probes[l - 1].Z
        A_l = sigma(l, Z_l)
        if passes:
            A_l = xp.where(active[l - 1], A_l, A[l - 1])
        if probes is not None:
            A_l = A_l + probes[l - 1].A
        Z.append(Z_l)
        A.append(A_l)
    return tuple(Z), tuple(A)


PRECISION = lax.Precision.HIGHEST
"""Every matrix product of the oracle: full float32/float64 arithmetic on every backend. The
platform default may be lower (TF32, a 10-bit mantissa, for float32 on NVIDIA GPUs), which
would put the oracle's own answers beyond the bound it is judged by. Given per product, it
carries into the transposed products of the backward pass and changes no setting of the host
program (``jax.default_matmul_precision`` is left alone)."""


def matmul(W: Any, A: Any) -> Any:
    """W A at ``PRECISION`` (eq 1.4's product; its transposes in the backward pass inherit it)."""
    return lax.dot(W, A, precision=PRECISION)


def objective(
    network: Network,
    params: Sequence[Layer],
    X: Any,
    T: Any,
    probes: Sequence[Probe] | None = None,
) -> tuple[Any, tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """Eqs 1.4, 2.16: J(T, A^(L)) (+ (λ/2) Σ_l ‖W^(l)‖_F²) with Z and A as auxiliary output.

    Traceable by JAX (``jax.grad(..., has_aux=True)``); written with
    ``crosscheck.ffnn.jax_namespace()``.

    Args:
        network: the architecture, sizes (S_0, ..., S_L), σ_l, J and λ.
        params: L Layers; W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,).
        X: (S_0, N) inputs, A^(0).
        T: (S_L, N) targets.
        probes: as in ``forward``.

    Returns:
        ``(J, (Z, A))``: J a scalar of the input dtype; Z and A as from ``forward``.

    Raises:
        Nothing of its own; inputs are checked by ``crosscheck.ffnn.validate`` before tracing.
    """
    xp = jax_namespace()
    Z, A = forward(params, X, lambda l, Z_l: network.sigma(l).sigma(Z_l, xp), probes)
    J = network.J.J(Z[-1], A[-1], T, xp)
    if network.weight_decay:
        J = J + weight_decay_term([W for W, _ in params], network.weight_decay, xp)
    return J, (Z, A)


def padded_objective(
    params: Sequence[Layer],
    X: Any,
    T: Any,
    spec: Spec,
    probes: Sequence[Probe] | None = None,
    fixed: tuple[tuple[int, ...], int] | None = None,
) -> tuple[Any, tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """Eqs 1.4, 2.16 on a padded problem (``crosscheck.autodiff_oracle.padded``): σ_l, J, λ from
    `spec`.

    Args:
        params: L' Layers padded to the envelope, W^(l) (S'_l, S'_{l-1}), b^(l) (S'_l,);
            layers beyond the real depth L pass Z^(L), A^(L) through (``spec.active``).
        X: (S'_0, N') padded inputs; T: (S'_L, N') padded targets (zero outside the problem).
        spec: the run-time ``Spec``: activation and loss indices, λ, the true N, masks.
        probes: as in ``forward``, of the padded shapes.
        fixed: None to choose σ_l and J at run time from `spec`; or an exact envelope's
            ``Envelope.fixed`` (activation indices, loss index), compiled in.

    Returns:
        ``(J, (Z, A))``: J of the real problem (padded entries add exactly 0); Z and A padded,
        their real blocks equal to the unpadded problem's.

    Raises:
        Nothing of its own; inputs are checked by ``crosscheck.ffnn.validate`` before padding.
    """
    xp = jax_namespace()

    def sigma(l, Z_l):
        index = spec.activations[l - 1]
        return choose(fixed and fixed[0][l - 1], index, ACTIVATION_BRANCHES, Z_l, spec.rows[l])

    Z, A = forward(params, X, sigma, probes, spec.active)
    J = choose(
        fixed and fixed[1],
        spec.loss,
        [
            lambda Z_L, A_L, J=J: J.J(*output_fill(J.name, spec, Z_L, A_L), T, xp, spec.N)
            for J in LOSSES.values()
        ],
        Z[-1],
        A[-1],
    )
    decay = weight_decay_term([W for W, _ in params], spec.lam, xp)
    return J + xp.where(spec.lam != 0, decay, 0.0), (Z, A)


def _activation_branch(activation: Activation) -> Callable[[Any, Any], Any]:
    """``branch(Z, rows) -> σ(Z)`` for ``lax.switch``; a non-elementwise σ (softmax) reads
    only the real rows (``rows``, (S,) bools), the others as −inf."""
    if activation.elementwise:
        return lambda Z, rows: activation.sigma(Z, jax_namespace())

    def real_rows_only(Z: Any, rows: Any) -> Any:
        xp = jax_namespace()
        return activation.sigma(xp.where(rows[:, None], Z, -math.inf), xp)

    return real_rows_only


ACTIVATION_BRANCHES = tuple(_activation_branch(a) for a in ACTIVATIONS.values())
"""σ of every activation as a switch branch, in ``ACTIVATION_INDEX`` order; built once, so
JAX traces each branch once per shape however many layers choose among them."""


def choose(fixed: int | None, index: Any, branches: Sequence[Callable], *operands: Any) -> Any:
    """``branches[fixed](*operands)`` when the choice is compiled in (an int), else
    ``lax.switch`` on the run-time `index` (a traced int32)."""
    if fixed is not None:
        return branches[fixed](*operands)
    return lax.switch(index, branches, *operands)


def output_fill(loss: str, spec: Spec, Z_L: Any, A_L: Any) -> tuple[Any, Any]:
    """Z^(L) and A^(L) as loss `loss` reads them in a padded problem, where T is 0: each
    padded entry's term made exactly 0 (module ``crosscheck.autodiff_oracle.padded``).

    squared error reads A: padded entries 0 (= T). Cross-entropy reads Z by columns: padded
    rows −inf (out of every log-sum-exp; their T = 0 terms are 0), padded columns as they are
    (finite, T = 0). Binary cross-entropy reads Z entry by entry: padded entries −inf, where
    (1 − T)·log(1 + e^Z) = 0.
    """
    xp = jax_namespace()
    rows, columns = spec.rows[-1][:, None], spec.columns[None, :]
    if loss == "squared_error":
        return Z_L, xp.where(rows & columns, A_L, 0.0)
    if loss == "cross_entropy":
        return xp.where(rows, Z_L, -math.inf), A_L
    return xp.where(rows & columns, Z_L, -math.inf), A_L

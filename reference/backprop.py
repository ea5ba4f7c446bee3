"""Backpropagation by index: every Z, A, Δ, H and every gradient entry of every layer."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from crosscheck.ffnn import Layer, Network, Trace, check_finite, overflow_guard
from crosscheck.reference.backward import layer_gradients, layer_H, output_delta, previous_delta
from crosscheck.reference.forms import get_form
from crosscheck.reference.forward import forward
from crosscheck.reference.problem import Problem, prepare
from crosscheck.reference.storage import as_array


def backprop(
    network: Network, params: Sequence[Any], X: Any, T: Any, form: str = "contracted"
) -> tuple[tuple[Layer, ...], Trace]:
    """Eqs 1.4, 2.3 (forward), 2.18–2.20 (Δ^(L)), 2.13/2.34 (H), 2.25/2.32 and 2.38 (Δ^(l-1)),
    2.5, 2.10, 2.26/2.27, 2.35/2.36 (gradients), all by scalar loops over every index; with
    the extensions 2.18'–2.21', 2.18''–2.21'' (Δ^(L)), 2.8', 2.8'' (fused H^(L)) and 2.13'
    (softmax H) of docs/extensions.md.

    ``form="literal"`` writes each sum as printed, Kronecker deltas included
    (``crosscheck.reference.literal``); ``form="contracted"`` (default) sums after the deltas
    collapse (``crosscheck.reference.contracted``). Δ^(l-1) = ∂J/∂A^(l-1) is carried layer by layer
    (eq 2.32, extended to every layer as eq 2.38), down to Δ^(0) = ∂J/∂X by the same step.
    With weight decay λ > 0, ∂J/∂W^(l) gains λ W^(l) (an extension, DESIGN §4).

    Args:
        network: the architecture, sizes (S_0, ..., S_L), σ_1..σ_L, J and λ.
        params: L pairs; ``params[l-1]`` = (W^(l) of shape (S_l, S_{l-1}), b^(l) of shape
            (S_l,)), float32 or float64, like X and T.
        X: (S_0, N) inputs, one column per sample.
        T: (S_L, N) targets.
        form: ``"contracted"`` or ``"literal"``.

    Returns:
        ``(grads, trace)``: grads a tuple of L ``Layer(W, b)``, ``grads[l-1].W`` of shape
        (S_l, S_{l-1}) = ∂J/∂W^(l) and ``grads[l-1].b`` of shape (S_l,) = ∂J/∂b^(l);
        trace a ``Trace`` with Z, A, Delta, H of shape (S_l, N) for l = 0..L (Z[0] and H[0]
        None, A[0] = X, Delta[0] = ∂J/∂X). Every array is new and float64. Delta[L] may
        hold ±inf where a classification output underflows (eqs 2.21', 2.21''); H^(L) and
        the gradients come from the fused form (eqs 2.8', 2.8'') and stay finite.

    Raises:
        TypeError, ValueError: from ``crosscheck.ffnn.validate``, before any work.
        ValueError: `form` is neither ``"literal"`` nor ``"contracted"``; finite inputs
            whose results overflow the float range (``crosscheck.ffnn.overflow``).
        NotImplementedError: a loss or non-elementwise activation the reference does not
            write out (it writes squared_error, cross_entropy, binary_cross_entropy, softmax).
    """
    problem = prepare(network, params, X, T)
    sums = get_form(form)
    with overflow_guard():
        grads, Z, A, Delta, H = _backward(network, problem, sums, down_to=0)
    L = network.L
    trace = Trace(
        Z=(None, *(as_array(Z[l]) for l in range(1, L + 1))),
        A=tuple(map(as_array, A)),
        Delta=tuple(map(as_array, Delta)),
        H=(None, *(as_array(H[l]) for l in range(1, L + 1))),
    )
    check_finite(network, grads=grads, trace=trace)
    return grads, trace


def gradients(
    network: Network, params: Sequence[Any], X: Any, T: Any, form: str = "contracted"
) -> tuple[Layer, ...]:
    """Eqs 2.5, 2.10, 2.26/2.27, 2.35/2.36 with Δ by eqs 2.18–2.20, 2.32 and 2.38: ∂J/∂W^(l),
    ∂J/∂b^(l) for l = 1..L by scalar loops (the gradients of `backprop`, see there).

    Args:
        network: the architecture, sizes (S_0, ..., S_L), σ_1..σ_L, J and λ.
        params: L pairs (W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,)).
        X: (S_0, N) inputs; T: (S_L, N) targets; float32 or float64.
        form: ``"contracted"`` or ``"literal"``.

    Returns:
        A tuple of L ``Layer(W, b)``, float64, in the shapes of `params`; with weight decay
        λ, ∂J/∂W^(l) includes λ W^(l).

    Raises:
        TypeError, ValueError: from ``crosscheck.ffnn.validate``, before any work.
        ValueError: `form` is neither ``"literal"`` nor ``"contracted"``; finite inputs
            whose results overflow the float range (``crosscheck.ffnn.overflow``).
        NotImplementedError: a loss or non-elementwise activation the reference does not
            write out (it writes squared_error, cross_entropy, binary_cross_entropy, softmax).
    """
    problem = prepare(network, params, X, T)
    sums = get_form(form)
    with overflow_guard():
        grads, *_ = _backward(network, problem, sums, down_to=1)
    check_finite(network, grads=grads)
    return grads


def _backward(
    network: Network, problem: Problem, form: ModuleType, down_to: int
) -> tuple[Any, ...]:
    """Forward pass, then Δ^(l) for l = L..`down_to` and H^(l), gradients for l = L..1.

    Returns ``(grads, Z, A, Delta, H)``: grads as float64 Layers, the rest lists indexed
    by layer (entries not computed are None).
    """
    L, S = network.L, network.sizes
    Z, A = forward(network, problem.W, problem.b, problem.X)
    Delta: list[Any] = [None] * (L + 1)
    H: list[Any] = [None] * (L + 1)
    Delta[L] = output_delta(form, network.loss, A[L], problem.T, range(S[L]))
    grads = []
    for l in range(L, 0, -1):
        H[l] = layer_H(form, network, l, Z[l], A[l], Delta[l], problem.T, range(S[l]))
        dW, db = layer_gradients(form, network.weight_decay, problem.W[l - 1], H[l], A[l - 1])
        grads.insert(0, Layer(as_array(dW), as_array(db)))
        if l > down_to:
            Delta[l - 1] = previous_delta(form, problem.W[l - 1], H[l], range(S[l - 1]))
    return tuple(grads), Z, A, Delta, H

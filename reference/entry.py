"""One gradient entry ∂J/∂W^(l)_ij or ∂J/∂b^(l)_i, computed on its own."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from types import ModuleType
from typing import Any, Literal

from crosscheck.ffnn import Network, check_finite, overflow_guard
from crosscheck.reference.backward import (
    fused_output,
    layer_H,
    needs_every_row,
    output_delta,
    previous_delta,
    weight_entry,
)
from crosscheck.reference.forms import get_form
from crosscheck.reference.forward import forward
from crosscheck.reference.problem import Problem, prepare


def gradient_entry(
    network: Network,
    params: Sequence[Any],
    X: Any,
    T: Any,
    *,
    layer: int,
    name: Literal["W", "b"],
    index: tuple[int, ...],
    form: str = "contracted",
) -> float:
    """Eqs 2.5/2.10 (l = L), 2.26/2.27 and 2.35/2.36 (l < L) with Δ by eqs 2.18–2.20, 2.32
    and 2.38 (and 2.8', 2.8'', 2.13', 2.18'–2.21''): the single entry ∂J/∂W^(l)_ij or ∂J/∂b^(l)_i.

    Does only the work the entry needs: the forward pass (eqs 1.4, 2.3), then Δ^(m), H^(m)
    in full for the layers m above `layer` and only row i of H^(l) at `layer` itself (the
    other rows meet only δ_ik = 0) — from row i of Δ^(l) for an elementwise σ_l, every row
    for softmax (eq 2.13'), none for a fused output (eqs 2.8', 2.8''); no other gradient
    entry and no Δ below `layer`. With
    weight decay λ > 0 a weight entry gains λ W^(l)_ij (an extension, DESIGN §4). The value
    is the one `gradients` gives for the same form, bit for bit.

    Cost: the contracted form is about one forward pass. The literal Δ^(L) sums over all
    S_L·N entries for each of its own, so the literal form costs O(S_L² N²) for l < L
    (O(S_L N²) for l = L): on N in the thousands, spot-check with a subset of samples.

    Args:
        network: the architecture, sizes (S_0, ..., S_L), σ_1..σ_L, J and λ.
        params: L pairs (W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,)).
        X: (S_0, N) inputs; T: (S_L, N) targets; float32 or float64.
        layer: l, 1 <= l <= L.
        name: ``"W"`` or ``"b"``.
        index: ``(i, j)`` with 0 <= i < S_l, 0 <= j < S_{l-1} for W; ``(i,)`` for b.
        form: ``"contracted"`` or ``"literal"``.

    Returns:
        The entry as a float (float64).

    Raises:
        TypeError, ValueError: from ``crosscheck.ffnn.validate``, before any work.
        ValueError: `form` unknown; `layer` outside 1..L; `name` not "W" or "b"; `index`
            of the wrong length or outside its range (each message names the allowed range).
            Finite inputs whose entry overflows the float range (``crosscheck.ffnn.overflow``).
        TypeError: `layer` or an entry of `index` is not an integer, `index` not a tuple.
        NotImplementedError: a loss or non-elementwise activation the reference does not
            write out.
    """
    problem = prepare(network, params, X, T)
    sums = get_form(form)
    l, i, j = _checked_entry(network, layer, name, index)
    with overflow_guard():
        value = _entry(network, problem, sums, l, name, i, j)
    check_finite(network, entries=[(f"∂J/∂{name}^({l}) entry {index}", value)])
    return value


def _entry(
    network: Network, problem: Problem, sums: ModuleType, l: int, name: str, i: int, j: int
) -> float:
    L, S = network.L, network.sizes
    Z, A = forward(network, problem.W, problem.b, problem.X)
    T = problem.T

    def rows(m: int) -> Sequence[int]:  # the rows of Δ^(m) this entry needs
        return (i,) if m == l and not needs_every_row(network, l) else range(S[m])

    Delta = None if fused_output(network, L) else output_delta(sums, network.loss, A[L], T, rows(L))
    for m in range(L, l, -1):
        H = layer_H(sums, network, m, Z[m], A[m], Delta, T, range(S[m]))
        Delta = previous_delta(sums, problem.W[m - 1], H, rows(m - 1))
    H = layer_H(sums, network, l, Z[l], A[l], Delta, T, (i,))
    if name == "W":
        W_l = problem.W[l - 1]
        return weight_entry(sums, network.weight_decay, W_l, H, A[l - 1], i, j)
    return sums.dJ_db(H, i)


def _checked_entry(
    network: Network, layer: Any, name: Any, index: Any
) -> tuple[int, int, int | None]:
    """Return ``(l, i, j)`` (j None for a bias) or raise naming the allowed range."""
    L, S = network.L, network.sizes
    if not _is_integer(layer):
        raise TypeError(f"layer must be an integer in 1..L = 1..{L}, got {layer!r}")
    l = int(layer)
    if not 1 <= l <= L:
        raise ValueError(f"layer must be in 1..L = 1..{L}, got {l}")
    if not (isinstance(name, str) and name in ("W", "b")):
        raise ValueError(f"name must be 'W' or 'b', got {name!r}")
    bounds = (S[l], S[l - 1]) if name == "W" else (S[l],)
    names = ("i", "j")[: len(bounds)]
    wanted = f"({', '.join(names)})" if name == "W" else "(i,)"
    ranges = ", ".join(f"0 <= {n} < {bound}" for n, bound in zip(names, bounds, strict=True))
    if not isinstance(index, tuple):
        raise TypeError(f"index must be a tuple {wanted} for {name}^({l}), got {index!r}")
    if len(index) != len(bounds):
        raise ValueError(f"index for {name}^({l}) must be {wanted} with {ranges}, got {index!r}")
    for value in index:
        if not _is_integer(value):
            raise TypeError(f"index entries must be integers ({ranges}), got {index!r}")
    if not all(0 <= value < bound for value, bound in zip(index, bounds, strict=True)):
        raise ValueError(
            f"index {index!r} is outside {name}^({l}) of shape {bounds}: need {ranges}"
        )
    i = int(index[0])
    j = int(index[1]) if name == "W" else None
    return l, i, j


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)

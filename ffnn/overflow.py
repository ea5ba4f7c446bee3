"""Finite inputs whose results overflow the float range (DESIGN §7): one ValueError, no warning.

``validate`` accepts every finite input, but finite inputs can still be too large for the
dtype: W^(2) W^(1) X with entries near 1e200 overflows float64, and so does J. Rather than
a RuntimeWarning from NumPy, an OverflowError from Python's float arithmetic, or silent
inf/NaN results, every implementation runs its arithmetic inside ``overflow_guard`` and
checks what it returns with ``check_finite``: a result that is not finite is a ValueError
naming the first quantity, in forward/backward order, where it appears.

One exception, documented in ``crosscheck.ffnn.losses``: Δ^(L) of a loss fused with its output
activation (cross-entropy, binary cross-entropy) is not finite where an output underflows,
while H^(L) and the gradients, from the logits, stay finite; it is not checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from crosscheck.ffnn.layer import Trace
from crosscheck.ffnn.network import Network


@contextmanager
def overflow_guard() -> Iterator[None]:
    """Run a computation on validated inputs without overflow warnings or OverflowError.

    NumPy's overflow and invalid-value warnings are off inside (their results, ±inf and NaN,
    are what ``check_finite`` then refuses); a Python ``OverflowError`` (float ``**`` or
    ``math.exp`` beyond the float range) becomes a ValueError.

    Raises:
        ValueError: an OverflowError raised inside.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            yield
        except OverflowError as error:
            raise ValueError(_message(f"an intermediate ({error})")) from None


def check_finite(
    network: Network,
    *,
    J: float | None = None,
    grads: Sequence[Any] = (),
    trace: Trace | None = None,
    entries: Sequence[tuple[str, float]] = (),
) -> None:
    """Refuse results that overflowed: Z^(l), A^(l) (eq 1.4), J (eq 2.16), Δ^(l), H^(l)
    (eqs 2.21, 2.13, 2.32), ∂J/∂W^(l), ∂J/∂b^(l) (eqs 2.7, 2.11), checked in that order.

    Args:
        network: the architecture, sizes (S_0, ..., S_L) and J.
        J: the loss, if computed.
        grads: L pairs (∂J/∂W^(l) of shape (S_l, S_{l-1}), ∂J/∂b^(l) of shape (S_l,)).
        trace: Z, A, Delta, H, each of length L+1 with (S_l, N) arrays (None skipped).
        entries: (name, value) pairs of single gradient entries, checked last.

    Raises:
        ValueError: the first quantity holding inf or NaN, named with its layer; Δ^(L) of
            cross-entropy or binary cross-entropy is not checked.
    """
    L = network.L
    named: list[tuple[str, Any]] = []
    if trace is not None:
        for l in range(1, L + 1):
            named += [(f"Z^({l})", trace.Z[l]), (f"A^({l})", trace.A[l])]
    if J is not None:
        named.append(("J", J))
    if trace is not None:
        for l in range(L, -1, -1):
            named += [(f"Δ^({l})", trace.Delta[l]), (f"H^({l})", trace.H[l])]
    for l, (dW, db) in enumerate(grads, start=1):
        named += [(f"∂J/∂W^({l})", dW), (f"∂J/∂b^({l})", db)]
    named += entries
    unchecked = f"Δ^({L})" if network.J.output_activation is not None else None
    for name, value in named:
        if value is not None and name != unchecked and not np.isfinite(value).all():
            raise ValueError(_message(name))


def _message(what: str) -> str:
    return (
        f"{what} overflows the float range: the inputs are finite but too large for their"
        " dtype (scale X, T or the parameters down)"
    )

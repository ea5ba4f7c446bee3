"""Checking a problem once, before any work, and holding it as nested lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from crosscheck.ffnn import Network, validate
from crosscheck.reference.storage import Rows, as_rows

LOSSES = ("squared_error", "cross_entropy", "binary_cross_entropy")
"""Losses whose sums the reference writes out (eqs 2.16–2.21, 2.16'–2.21', 2.16''–2.21'')."""

NON_ELEMENTWISE = ("softmax",)
"""Non-elementwise activations whose derivative the reference writes out (eq 2.2')."""


class Problem(NamedTuple):
    """A validated problem as nested lists of Python floats (float64), stored by rows.

    W[l-1]: (S_l, S_{l-1}) rows of W^(l); b[l-1]: (S_l,) b^(l); X: (S_0, N); T: (S_L, N).
    """

    W: tuple[Rows, ...]
    b: tuple[list[float], ...]
    X: Rows
    T: Rows


def prepare(network: Network, params: Sequence[Any], X: Any, T: Any) -> Problem:
    """Validate with ``crosscheck.ffnn.validate``, check the loss, then convert to lists (float64).

    Args:
        network: the architecture, sizes (S_0, ..., S_L).
        params: L pairs (W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,)).
        X: (S_0, N) inputs; T: (S_L, N) targets; float32 or float64.

    Returns:
        The Problem; the inputs are only read.

    Raises:
        TypeError, ValueError: from ``crosscheck.ffnn.validate`` (bad network, shapes, dtypes,
        values).
        NotImplementedError: `network.loss` is not one the reference writes out, or a
            non-elementwise σ_l other than softmax.
    """
    params, X, T = validate(network, params, X, T)
    if network.loss not in LOSSES:
        raise NotImplementedError(
            f"the reference writes out the sums of {', '.join(LOSSES)} only,"
            f" not loss {network.loss!r}"
        )
    for l in range(1, network.L + 1):
        sigma = network.sigma(l)
        if not sigma.elementwise and sigma.name not in NON_ELEMENTWISE:
            raise NotImplementedError(
                f"the reference writes out eq 2.2' for {', '.join(NON_ELEMENTWISE)} only,"
                f" not the non-elementwise σ_{l} = {sigma.name!r}"
            )
    return Problem(
        W=tuple(as_rows(W) for W, _ in params),
        b=tuple(as_rows(b) for _, b in params),
        X=as_rows(X),
        T=as_rows(T),
    )

"""Parameter, gradient and trace containers (DESIGN §2)."""

from __future__ import annotations

from typing import Any, NamedTuple


class Layer(NamedTuple):
    """Parameters (or gradients) of one non-input layer l.

    W: (S_l, S_{l-1}) weights W^(l) — or ∂J/∂W^(l) in a gradient.
    b: (S_l,) bias b^(l), added to every column — or ∂J/∂b^(l).

    A tuple of Layers is a JAX pytree as it stands; ``params[l-1]`` is layer l.
    """

    W: Any
    b: Any


class Trace(NamedTuple):
    """Every intermediate of one forward and backward pass, indexed by layer l = 0..L.

    Each field is a tuple of length L+1:
        Z[l]: (S_l, N) pre-activation Z^(l) (eq 1.4); ``Z[0]`` is None.
        A[l]: (S_l, N) activation A^(l) (eq 1.4); ``A[0]`` is X.
        Delta[l]: (S_l, N) Δ^(l) = ∂J/∂A^(l) (eqs 2.12, 2.32); ``Delta[0]`` is ∂J/∂X.
        H[l]: (S_l, N) H^(l) = ∂J/∂Z^(l) (eqs 2.8, 2.13, 2.34); ``H[0]`` is None.
    """

    Z: tuple[Any, ...]
    A: tuple[Any, ...]
    Delta: tuple[Any, ...]
    H: tuple[Any, ...]

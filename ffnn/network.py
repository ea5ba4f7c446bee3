"""The network architecture of the seed's §1: L+1 layers, widths S_0..S_L, σ_1..σ_L, J."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

from crosscheck.ffnn.activations import Activation, get_activation
from crosscheck.ffnn.losses import Loss, get_loss


@dataclass(frozen=True)
class Network:
    """An immutable feed-forward architecture (seed §1, eq 1.4).

    Args:
        sizes: (S_0, ..., S_L), the widths of layers 0..L; layer 0 is the input. Positive
            integers, at least two of them (L >= 1).
        activations: names of σ_1..σ_L, one per non-input layer (see
        ``crosscheck.ffnn.ACTIVATIONS``).
        loss: name of J (see ``crosscheck.ffnn.LOSSES``); default ``"squared_error"``, eq 2.16,
        which
            fits any σ_L. ``"cross_entropy"`` (eq 2.16') needs σ_L = softmax and
            ``"binary_cross_entropy"`` (eq 2.16'') needs σ_L = sigmoid. Softmax may also be
            the σ_l of a hidden layer (eqs 2.2', 2.13').
        weight_decay: λ >= 0; adds (λ/2) Σ_l ‖W^(l)‖_F² to J (biases not decayed, not / N).

    Raises:
        TypeError: a width that is not an integer (fractional floats and bools included),
            an activation or loss name that is not a str, a non-real weight_decay.
        ValueError: fewer than two sizes, a width < 1, the wrong number of activations,
            an unknown activation or loss name, a loss paired with an output activation
            it does not fit, a negative or non-finite weight_decay.
    """

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str = "squared_error"
    weight_decay: float = 0.0
    _sigmas: tuple[Activation, ...] = field(init=False, repr=False, compare=False)
    _J: Loss = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        sizes = _checked_sizes(self.sizes)
        if isinstance(self.activations, str):
            raise TypeError(
                f"activations must be a sequence of names, one per layer 1..{len(sizes) - 1},"
                f" got the single string {self.activations!r}"
            )
        activations = tuple(self.activations)
        L = len(sizes) - 1
        if len(activations) != L:
            raise ValueError(
                f"sizes {sizes} give L = {L} non-input layers, so {L} activations are needed"
                f" (σ_1..σ_{L}); got {len(activations)}: {activations}"
            )
        sigmas = tuple(get_activation(name) for name in activations)
        J = get_loss(self.loss)
        if J.output_activation not in (None, activations[-1]):
            raise ValueError(
                f"loss {J.name!r} needs a {J.output_activation} output layer"
                f" (σ_{L} = {J.output_activation!r}, eqs {J.equations}); got σ_{L} ="
                f" {activations[-1]!r}. Use activations (..., {J.output_activation!r}),"
                " or loss 'squared_error', which fits any output"
            )
        lam = self.weight_decay
        if isinstance(lam, bool) or not isinstance(lam, numbers.Real):
            raise TypeError(f"weight_decay must be a real number, got {lam!r}")
        if not _finite_non_negative(lam):
            raise ValueError(f"weight_decay must be finite and >= 0, got {lam!r}")
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "activations", activations)
        object.__setattr__(self, "weight_decay", float(lam))
        object.__setattr__(self, "_sigmas", sigmas)
        object.__setattr__(self, "_J", J)

    @property
    def L(self) -> int:
        """Number of non-input layers; layer 0 is the input."""
        return len(self.sizes) - 1

    def sigma(self, l: int) -> Activation:
        """The activation σ_l of layer l, 1 <= l <= L."""
        if not 1 <= l <= self.L:
            raise ValueError(f"layer l must be in 1..{self.L}, got {l}")
        return self._sigmas[l - 1]

    @property
    def J(self) -> Loss:
        """The error function J (without weight decay)."""
        return self._J

    def param_shapes(self) -> tuple[tuple[tuple[int, int], tuple[int]], ...]:
        """((S_l, S_{l-1}), (S_l,)) for l = 1..L: the shapes of W^(l) and b^(l)."""
        S = self.sizes
        return tuple(((S[l], S[l - 1]), (S[l],)) for l in range(1, self.L + 1))


def _checked_sizes(sizes: object) -> tuple[int, ...]:
    if isinstance(sizes, str | bytes) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"sizes must be a sequence of integers (S_0, ..., S_L), got {sizes!r}")
    sizes = tuple(sizes)
    if len(sizes) < 2:
        raise ValueError(
            f"sizes must list at least S_0 and S_1 (L >= 1), got {len(sizes)}: {sizes}"
        )
    checked = []
    for l, S in enumerate(sizes):
        if isinstance(S, bool) or not isinstance(S, numbers.Integral):
            if not isinstance(S, bool) and isinstance(S, numbers.Real) and float(S).is_integer():
                S = int(S)
            else:
                raise TypeError(f"S_{l} = sizes[{l}] must be an integer width, got {S!r}")
        if S < 1:
            raise ValueError(f"S_{l} = sizes[{l}] must be >= 1, got {S}")
        checked.append(int(S))
    return tuple(checked)


def _finite_non_negative(lam: numbers.Real) -> bool:
    try:
        value = float(lam)
    except OverflowError:  # an int or Fraction beyond the float range
        return False
    return math.isfinite(value) and value >= 0

"""Finite-difference witness: a fourth opinion on ∂J/∂W^(l), ∂J/∂b^(l) (DESIGN §5).

Central differences of J over the flattened parameters, by ``numdifftools.Gradient``
(Richardson-extrapolated over a sequence of steps, with an error estimate per entry). It
shares no derivative code with the three implementations: J is evaluated by a forward pass
written once here in NumPy from the definitions in ``ffnn`` alone — eq 1.4 with
``network.sigma(l).sigma``, then ``network.J.J`` and ``crosscheck.ffnn.weight_decay_term`` — and
nothing else of ours (not ``vectorized``: a bug in its forward pass must not be shared).
Everything is computed in float64, whatever the dtype of the inputs.

Steps. ``numdifftools.MaxStepGenerator`` with absolute steps max_step·2^-i, i = 0..5
(default max_step = 1e-3, so 1e-3 down to 3.1e-5): small enough to keep the stencil away
from kinks, large enough that rounding (≈ u·|J|/h) stays near 1e-12 for O(1) problems.

Kinks. Where σ_m is not differentiable (``Activation.kinks``, e.g. ReLU at 0), a sample
whose pre-activation Z^(m)_kn lies within the step of the kink has a non-smooth
contribution to J, and central differences there average the one-sided slopes while the
implementations use a convention (ReLU'(0) = 0). "Within the step" is measured in Z's own
units: an entry θ is *at a kink* if some Z^(m)_kn of a kinked layer satisfies

    0 < reach  and  |Z^(m)_kn(θ) − c| <= reach,
    reach = KINK_SAFETY · max(|Z^(m)_kn(θ ± max_step) − Z^(m)_kn(θ)|),

i.e. the largest step moves it by at least half its distance to the kink c (two forward
passes per entry, no derivatives). A Z that θ does not move (reach 0) cannot make J
non-smooth in θ. Entries at a kink are reported and left out of the comparison.

Comparison (``compare_with_witness``): an entry not at a kink agrees if |gradient − FD| <=
SAFETY · error_estimate + ROUNDING · max(1, |FD|, |gradient|) + CANCELLATION · u · max(1,
|J|) / final_step. On 600 random strategy problems of every activation and loss, correct
gradients stayed below 0.1 of that bound; a single entry off by a relative 1e-6 exceeds it.

Size cap: at most ``MAX_PARAMETERS`` entries and ``MAX_PRODUCTS`` scalar products per
forward pass (each entry costs about 2·6 + 2 forward passes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numdifftools as nd
import numpy as np

from crosscheck.ffnn import NUMPY, Layer, Network, validate, weight_decay_term

MAX_PARAMETERS = 400
"""Largest number of parameters Σ_l S_l (S_{l-1} + 1) the witness accepts."""

MAX_PRODUCTS = 20_000
"""Largest Σ_l S_l·S_{l-1}·N (scalar products of one forward pass) the witness accepts."""

DEFAULT_MAX_STEP = 1e-3
"""The largest central-difference step (absolute); the others are halvings of it."""

NUM_STEPS = 6
"""Number of steps numdifftools extrapolates over: max_step·2^-i, i = 0..NUM_STEPS-1."""

KINK_SAFETY = 2.0
"""A pre-activation within KINK_SAFETY × (its change under the largest step) of a kink makes
the entry "at a kink" (the factor covers Z's curvature in θ over the step)."""

SAFETY = 10.0
"""Allowed |gradient − FD| is SAFETY × numdifftools' error estimate plus rounding floors."""

ROUNDING = 1e-9
"""Relative floor of the allowed difference: ROUNDING · max(1, |FD|, |gradient|)."""

CANCELLATION = 64.0
"""Floor for the cancellation in J(θ + h) − J(θ − h): CANCELLATION · u · max(1, |J|) / h,
with u = 2^-53 and h the entry's final step. numdifftools' estimate measures the spread of
its extrapolations, not this rounding, which dominates when |J| is large."""


@dataclass(frozen=True)
class WitnessReport:
    """Central differences of J, per parameter entry, in the structure of the params.

    Attributes:
        network: the architecture, sizes (S_0, ..., S_L).
        J: the loss at the parameters (float64).
        estimate: L Layers, ``estimate[l-1].W`` (S_l, S_{l-1}) and ``.b`` (S_l,): the FD
            values of ∂J/∂W^(l), ∂J/∂b^(l) (float64).
        error_estimate: the same structure: numdifftools' error estimate of each value.
        final_step: the same structure: the step numdifftools settled on for each entry.
        at_kink: the same structure, bool: True where the entry is at a kink (left out).
        max_step: the largest step used.
    """

    network: Network
    J: float
    estimate: tuple[Layer, ...]
    error_estimate: tuple[Layer, ...]
    final_step: tuple[Layer, ...]
    at_kink: tuple[Layer, ...]
    max_step: float

    @property
    def n_entries(self) -> int:
        """Number of parameter entries."""
        return sum(layer.W.size + layer.b.size for layer in self.estimate)

    @property
    def n_at_kink(self) -> int:
        """Number of entries at a kink."""
        return sum(int(k.W.sum() + k.b.sum()) for k in self.at_kink)


def finite_difference_gradient(
    network: Network,
    params: Sequence[Any],
    X: Any,
    T: Any,
    *,
    max_step: float = DEFAULT_MAX_STEP,
) -> WitnessReport:
    """Eqs 1.4, 2.16 (2.16', 2.16'') differenced: ∂J/∂W^(l), ∂J/∂b^(l) by numdifftools.

    Args:
        network: the architecture, sizes (S_0, ..., S_L), any σ_l and loss of ``ffnn``.
        params: L pairs (W^(l) of shape (S_l, S_{l-1}), b^(l) of shape (S_l,)).
        X: (S_0, N) inputs; T: (S_L, N) targets; float32 or float64 (computed in float64).
        max_step: the largest absolute step, > 0 and finite; steps are max_step·2^-i.

    Returns:
        A WitnessReport (FD values, error estimates, at-kink flags per entry).

    Raises:
        TypeError, ValueError: from ``crosscheck.ffnn.validate``, before any work.
        ValueError: more than MAX_PARAMETERS parameters or MAX_PRODUCTS products per
            forward pass; a max_step that is not finite and > 0.
    """
    params, X, T = validate(network, params, X, T)
    if not (isinstance(max_step, float | int) and math.isfinite(max_step) and max_step > 0):
        raise ValueError(f"max_step must be finite and > 0, got {max_step!r}")
    _check_size(network, X.shape[1])
    params = tuple(Layer(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in params)
    X, T = np.asarray(X, np.float64), np.asarray(T, np.float64)
    theta = flatten(params)
    steps = nd.MaxStepGenerator(
        base_step=float(max_step), step_ratio=2.0, num_steps=NUM_STEPS, step_nom=1.0
    )
    gradient = nd.Gradient(
        lambda v: _loss(network, unflatten(network, v), X, T), step=steps, full_output=True
    )
    result = gradient(theta)
    kinks = _at_kink(network, theta, X, float(max_step))
    entries = (result.estimate, result.error_estimate, result.final_step)
    estimate, error, final_step = (
        unflatten(network, np.reshape(a, theta.shape).astype(np.float64)) for a in entries
    )
    return WitnessReport(
        network=network,
        J=float(_loss(network, params, X, T)),
        estimate=estimate,
        error_estimate=error,
        final_step=final_step,
        at_kink=unflatten(network, kinks),
        max_step=float(max_step),
    )


def flatten(layers: Sequence[Layer]) -> np.ndarray:
    """(P,) vector W^(1).ravel(), b^(1), W^(2).ravel(), b^(2), ... of L (W, b) pairs."""
    return np.concatenate([np.concatenate([np.ravel(W), np.ravel(b)]) for W, b in layers])


def unflatten(network: Network, v: np.ndarray) -> tuple[Layer, ...]:
    """The inverse of `flatten` for `network`'s shapes: L Layers, W (S_l, S_{l-1}), b (S_l,)."""
    layers, start = [], 0
    for (rows, cols), (width,) in network.param_shapes():
        W = v[start : start + rows * cols].reshape(rows, cols)
        b = v[start + rows * cols : start + rows * cols + width]
        layers.append(Layer(W, b))
        start += rows * cols + width
    return tuple(layers)


def _check_size(network: Network, N: int) -> None:
    S = network.sizes
    P = sum(rows * cols + width for (rows, cols), (width,) in network.param_shapes())
    products = N * sum(S[l] * S[l - 1] for l in range(1, network.L + 1))
    if P > MAX_PARAMETERS:
        raise ValueError(
            f"the witness is for small problems: sizes {S} have {P} parameters, more than"
            f" MAX_PARAMETERS = {MAX_PARAMETERS}"
        )
    if products > MAX_PRODUCTS:
        raise ValueError(
            f"the witness is for small problems: sizes {S} with N = {N} need {products}"
            f" products per forward pass, more than MAX_PRODUCTS = {MAX_PRODUCTS}"
        )


def _forward(network: Network, params: Sequence[Layer], X: np.ndarray) -> list[np.ndarray]:
    """Eq 1.4: [Z^(1), ..., Z^(L), A^(L)], each (S_l, N), from ffnn's σ_l alone."""
    A, out = X, []
    for l, (W, b) in enumerate(params, start=1):
        Z = W @ A + b[:, None]  # eq 1.4
        A = network.sigma(l).sigma(Z, NUMPY)
        out.append(Z)
    return [*out, A]


def _loss(network: Network, params: Sequence[Layer], X: np.ndarray, T: np.ndarray) -> float:
    """J (eq 2.16, or 2.17'/2.17'' from the logits Z^(L)) plus weight decay, after eq 1.4."""
    *Z, A_L = _forward(network, params, X)
    J = network.J.J(Z[-1], A_L, T, NUMPY)
    if network.weight_decay:
        J = J + weight_decay_term([W for W, _ in params], network.weight_decay, NUMPY)
    return float(J)


def _at_kink(network: Network, theta: np.ndarray, X: np.ndarray, step: float) -> np.ndarray:
    """(P,) bool: entry p is at a kink (module docstring), by forward passes at θ ± step."""
    kinked = [
        (l - 1, np.asarray(network.sigma(l).kinks))
        for l in range(1, network.L + 1)
        if network.sigma(l).kinks
    ]
    flags = np.zeros(theta.shape, dtype=bool)
    if not kinked:
        return flags
    Z0 = _forward(network, unflatten(network, theta), X)
    for p in range(theta.size):
        moved = []
        for sign in (1.0, -1.0):
            shifted = theta.copy()
            shifted[p] += sign * step
            moved.append(_forward(network, unflatten(network, shifted), X))
        for m, points in kinked:
            reach = KINK_SAFETY * np.maximum(*(np.abs(Zs[m] - Z0[m]) for Zs in moved))
            distance = np.min(np.abs(Z0[m][..., None] - points), axis=-1)
            flags[p] |= bool(np.any((reach > 0) & (distance <= reach)))
    return flags


# ---------------------------------------------------------------------------------------
# Comparing a gradient with the witness.
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WitnessRow:
    """One array (∂J/∂W^(l) or ∂J/∂b^(l)) compared with the witness.

    Attributes:
        quantity: "W" or "b"; layer: l.
        n_compared: entries compared (not at a kink); n_at_kink: entries left out.
        n_mismatched: compared entries with |gradient − FD| > allowed.
        worst_index: index of the largest |gradient − FD| / allowed among compared entries
            (None if none was compared).
        fd_value, gradient_value, error_estimate: at worst_index (nan if none compared).
        worst_ratio: |gradient − FD| / allowed there; < 1 passes (0.0 if none compared).
    """

    quantity: str
    layer: int
    n_compared: int
    n_at_kink: int
    n_mismatched: int
    worst_index: tuple[int, ...] | None
    fd_value: float
    gradient_value: float
    error_estimate: float
    worst_ratio: float

    @property
    def passed(self) -> bool:
        """No compared entry mismatched."""
        return self.n_mismatched == 0

    @property
    def label(self) -> str:
        """e.g. "∂J/∂W^(2)"."""
        return f"∂J/∂{self.quantity}^({self.layer})"


@dataclass(frozen=True)
class WitnessComparison:
    """Every array compared with the witness, layers L..1 (W, b), and the rule used.

    Per entry not at a kink: allowed = safety · error_estimate
    + rounding · max(1, |FD|, |gradient|) + CANCELLATION · u · max(1, |J|) / final_step.
    """

    rows: tuple[WitnessRow, ...]
    safety: float
    rounding: float

    @property
    def agree(self) -> bool:
        """True if every row passed."""
        return all(row.passed for row in self.rows)


def compare_with_witness(
    report: WitnessReport,
    grads: Sequence[Any],
    *,
    safety: float = SAFETY,
    rounding: float = ROUNDING,
) -> WitnessComparison:
    """Compare ∂J/∂W^(l), ∂J/∂b^(l) (eqs 2.14/2.33, 2.15/2.37) with the FD witness.

    Each entry not at a kink must satisfy |gradient − FD| <= allowed, with allowed =
    safety · error_estimate (numdifftools' own estimate) + rounding · max(1, |FD|,
    |gradient|) (a floor for entries whose estimate is ~0, e.g. J linear in them) +
    CANCELLATION · u · max(1, |J|) / final_step (the rounding of J(θ+h) − J(θ−h)).

    Args:
        report: from ``finite_difference_gradient``.
        grads: L pairs (∂J/∂W^(l) of shape (S_l, S_{l-1}), ∂J/∂b^(l) of shape (S_l,)).
        safety: factor on the error estimate, >= 1.
        rounding: relative floor, >= 0.

    Returns:
        A WitnessComparison with one row per array, layers L..1; a NaN or inf in `grads`
        is a mismatch.

    Raises:
        ValueError: `grads` has another number of layers or shapes than the report, or
            safety/rounding out of range.
    """
    if not (math.isfinite(safety) and safety >= 1):
        raise ValueError(f"safety must be finite and >= 1, got {safety!r}")
    if not (math.isfinite(rounding) and rounding >= 0):
        raise ValueError(f"rounding must be finite and >= 0, got {rounding!r}")
    if len(grads) != len(report.estimate):
        raise ValueError(
            f"grads has {len(grads)} layers but the witness has {len(report.estimate)}"
        )
    cancellation = CANCELLATION * np.finfo(np.float64).eps / 2 * max(1.0, abs(report.J))
    rows = []
    for l in range(len(grads), 0, -1):
        for k, quantity in enumerate("Wb"):
            gradient = np.asarray(grads[l - 1][k], dtype=np.float64)
            fd = report.estimate[l - 1][k]
            if gradient.shape != fd.shape:
                raise ValueError(
                    f"∂J/∂{quantity}^({l}) has shape {gradient.shape}; the witness has {fd.shape}"
                )
            with np.errstate(invalid="ignore", over="ignore"):
                difference = np.abs(gradient - fd)
                difference = np.where(np.isnan(difference), np.inf, difference)
                magnitude = np.maximum(np.abs(fd), np.nan_to_num(np.abs(gradient), posinf=0.0))
            allowed = (
                safety * report.error_estimate[l - 1][k]
                + rounding * np.maximum(1.0, magnitude)
                + cancellation / report.final_step[l - 1][k]
            )
            rows.append(_row(quantity, l, gradient, fd, report, difference, allowed, k))
    return WitnessComparison(tuple(rows), safety, rounding)


def assert_agrees_with_witness(report: WitnessReport, grads: Sequence[Any], **kwargs: Any) -> None:
    """Assert `grads` agree with the witness (see compare_with_witness, same arguments).

    Raises:
        AssertionError: naming, per failing array, the mismatched count, the worst index,
            the FD value, the gradient, the error estimate and the ratio.
    """
    __tracebackhide__ = True
    comparison = compare_with_witness(report, grads, **kwargs)
    if not comparison.agree:
        lines = [
            f"Gradient disagrees with central differences (allowed = {comparison.safety:g}"
            f"·error_estimate + {comparison.rounding:g}·max(1, |FD|, |gradient|)"
            f" + {CANCELLATION:g}·u·max(1, |J|)/step):"
        ]
        lines += [
            f"  {row.label}: {row.n_mismatched}/{row.n_compared} mismatched"
            f" ({row.n_at_kink} at a kink, left out); worst at {row.worst_index}:"
            f" FD {row.fd_value!r}, gradient {row.gradient_value!r},"
            f" error estimate {row.error_estimate:.3g}, ratio {row.worst_ratio:.3g}"
            for row in comparison.rows
            if not row.passed
        ]
        raise AssertionError("\n".join(lines))


def _row(
    quantity: str,
    layer: int,
    gradient: np.ndarray,
    fd: np.ndarray,
    report: WitnessReport,
    difference: np.ndarray,
    allowed: np.ndarray,
    k: int,
) -> WitnessRow:
    at_kink = report.at_kink[layer - 1][k]
    compared = ~at_kink
    if not compared.any():
        nan = float("nan")
        return WitnessRow(quantity, layer, 0, int(at_kink.sum()), 0, None, nan, nan, nan, 0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        ratio = np.where(at_kink, -1.0, difference / allowed)
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    return WitnessRow(
        quantity=quantity,
        layer=layer,
        n_compared=int(compared.sum()),
        n_at_kink=int(at_kink.sum()),
        n_mismatched=int(np.count_nonzero(compared & ~(difference <= allowed))),
        worst_index=tuple(int(i) for i in worst),
        fd_value=float(fd[worst]),
        gradient_value=float(gradient[worst]),
        error_estimate=float(report.error_estimate[layer - 1][k][worst]),
        worst_ratio=float(ratio[worst]),
    )

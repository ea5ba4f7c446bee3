"""Hypothesis strategies for networks and problems (DESIGN §5 "Strategies").

``networks()`` draws architectures (depth L, widths S_0..S_L, σ_l per layer, J, λ);
``problems()`` draws a network with parameters, inputs X and targets T — a ``Problem``.
Both take keyword-only bounds with stated defaults and reject a bad argument by name when
called (not when first drawn).

What they reach, and shrink towards (shown by ``tests/test_strategies.py``):
- L = 1 and S_l = 1 (depth and widths shrink to their minimum; σ shrinks to the first
  name given, ``identity`` by default; λ to 0; N to min_samples);
- N == S_l for some l, square W^(l) (S_l == S_{l-1}): N (1..8) and widths (1..6) overlap;
- exact zeros in W, X, b, T (elements shrink to 0; all but a few elements of each array,
  drawn one by one, repeat one background value, which shrinks to 0 on its own), hence
  Z^(l) exactly 0 at a ReLU kink;
- saturated units: up to ``MAX_LARGE_WEIGHTS`` entries of each W^(l) may be replaced by
  large weights, |w| in [5, 12]·max_magnitude, so |Z| reaches far past 20 where σ' of
  sigmoid, tanh, ELU underflows relative to 1; shrinking removes them where not needed.

Every element is finite and bounded: |X|, |b| <= max_magnitude, |W| <= 12·max_magnitude;
no subnormals. T lies in the domain of the loss: |T| <= max_magnitude for squared error,
entries in [0, 1] for binary cross-entropy, probability columns (one-hot among them) for
cross-entropy; a loss that needs a particular σ_L (softmax, sigmoid) gets it as its last
activation. Arrays are read-only, so an implementation that mutates its inputs fails
loudly. A size cap keeps the literal reference fast: N is lowered so that
Σ_l S_l·S_{l-1}·N <= max_products (but never below min_samples).
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

from crosscheck.ffnn import ACTIVATIONS, LOSSES, Layer, Network, targets

MAX_LARGE_WEIGHTS = 2
"""At most this many entries of each W^(l) are drawn large (to saturate units)."""

LARGE_WEIGHT_RANGE = (5.0, 12.0)
"""Large weights have |w| in this range times max_magnitude."""

MAX_WEIGHT_DECAY = 1.0
"""With ``weight_decay=True``, λ is at most this."""

_weight_decays = st.one_of(
    st.just(0.0), st.floats(0.0, MAX_WEIGHT_DECAY, exclude_min=True, allow_subnormal=False)
)
"""λ = 0 in about half the draws, else λ in (0, MAX_WEIGHT_DECAY]; shrinks to 0."""


class Problem(NamedTuple):
    """One drawn problem.

    network: the architecture, sizes (S_0, ..., S_L).
    params: L Layers; ``params[l-1].W`` (S_l, S_{l-1}), ``params[l-1].b`` (S_l,).
    X: (S_0, N) inputs. T: (S_L, N) targets. All arrays share the dtype and are read-only.
    """

    network: Network
    params: tuple[Layer, ...]
    X: np.ndarray
    T: np.ndarray


def networks(
    *,
    min_layers: int = 1,
    max_layers: int = 4,
    min_width: int = 1,
    max_width: int = 6,
    activations: Sequence[str] | None = None,
    losses: Sequence[str] = ("squared_error",),
    weight_decay: bool = False,
) -> SearchStrategy[Network]:
    """Strategy for ``crosscheck.ffnn.Network``: L in [min_layers, max_layers], every S_l in
    [min_width, max_width] (S_0 included), σ_l drawn per layer from `activations` (default:
    every name in ``crosscheck.ffnn.ACTIVATIONS``), J from `losses` (a loss that needs a particular
    σ_L, such as cross_entropy's softmax, overrides the last activation), and λ = 0 — or,
    with ``weight_decay=True``, λ = 0 in about half the draws and λ in
    (0, MAX_WEIGHT_DECAY] otherwise (shrinking to 0).

    Raises:
        TypeError: a bound that is not an int, names that are not strings, a non-bool
            weight_decay.
        ValueError: a bound < 1 or min > max (naming it), an empty or unknown activation or
            loss name (listing the known ones).
    """
    _check_range("min_layers", min_layers, "max_layers", max_layers)
    _check_range("min_width", min_width, "max_width", max_width)
    activations = _checked_names("activations", activations, ACTIVATIONS)
    losses = _checked_names("losses", losses, LOSSES)
    if not isinstance(weight_decay, bool):
        raise TypeError(f"weight_decay must be a bool, got {weight_decay!r}")
    decays = _weight_decays if weight_decay else st.just(0.0)
    return _networks(
        st.integers(min_layers, max_layers),
        st.integers(min_width, max_width),
        st.sampled_from(activations),
        st.sampled_from(losses),
        decays,
    )


@st.composite
def _networks(
    draw: st.DrawFn,
    depths: SearchStrategy[int],
    widths: SearchStrategy[int],
    activations: SearchStrategy[str],
    losses: SearchStrategy[str],
    decays: SearchStrategy[float],
) -> Network:
    L = draw(depths)
    sizes = tuple(draw(widths) for _ in range(L + 1))
    loss = draw(losses)
    sigmas = [draw(activations) for _ in range(L)]
    required = LOSSES[loss].output_activation  # e.g. cross_entropy needs σ_L = softmax
    if required is not None:
        sigmas[-1] = required
    return Network(sizes, tuple(sigmas), loss=loss, weight_decay=draw(decays))


_default_networks = networks


def problems(
    *,
    networks: SearchStrategy[Network] | None = None,
    min_samples: int = 1,
    max_samples: int = 8,
    dtype: Any = np.float64,
    max_magnitude: float = 4.0,
    max_products: int = 4096,
) -> SearchStrategy[Problem]:
    """Strategy for a ``Problem`` (network, params, X, T), every element finite and bounded.

    Args:
        networks: strategy for the architecture; default ``networks()``.
        min_samples, max_samples: bounds on N (1 <= min_samples <= max_samples).
        dtype: float64 (default) or float32, shared by every array.
        max_magnitude: bound on |X|, |b|, |T| (squared error) and on ordinary weights;
            large weights (at most MAX_LARGE_WEIGHTS per W^(l)) have |w| in
            LARGE_WEIGHT_RANGE·max_magnitude. Classification targets lie in [0, 1].
        max_products: cap on Σ_l S_l·S_{l-1}·N, the scalar products of one forward pass
            (N is lowered to meet it, never below min_samples).

    Returns:
        Problems with W^(l) (S_l, S_{l-1}), b^(l) (S_l,), X (S_0, N), T (S_L, N), read-only.

    Raises:
        TypeError: `networks` not a strategy, a non-int sample bound, a non-float dtype.
        ValueError: a bound < 1 or min_samples > max_samples, a max_magnitude that is not
            finite and > 0, or one too large for the dtype (naming the argument).
    """
    if networks is None:
        networks = _default_networks()
    if not isinstance(networks, SearchStrategy):
        raise TypeError(f"networks must be a hypothesis strategy, got {type(networks).__name__}")
    _check_range("min_samples", min_samples, "max_samples", max_samples)
    _check_positive_int("max_products", max_products)
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise TypeError(f"dtype must be float64 or float32, got {dtype}")
    if isinstance(max_magnitude, bool) or not isinstance(max_magnitude, numbers.Real):
        raise TypeError(f"max_magnitude must be a real number, got {max_magnitude!r}")
    largest = LARGE_WEIGHT_RANGE[1] * max_magnitude
    if not (max_magnitude > 0 and math.isfinite(largest) and largest < float(np.finfo(dtype).max)):
        raise ValueError(
            f"max_magnitude must be > 0 and {LARGE_WEIGHT_RANGE[1]:g}·max_magnitude finite"
            f" in {dtype}, got {max_magnitude!r}"
        )
    return _problems(networks, min_samples, max_samples, dtype, float(max_magnitude), max_products)


@st.composite
def _problems(
    draw: st.DrawFn,
    networks: SearchStrategy[Network],
    min_samples: int,
    max_samples: int,
    dtype: np.dtype,
    max_magnitude: float,
    max_products: int,
) -> Problem:
    network = draw(networks)
    S = network.sizes
    products_per_sample = sum(S[l] * S[l - 1] for l in range(1, network.L + 1))
    N_max = max(min_samples, min(max_samples, max_products // products_per_sample))
    N = draw(st.integers(min_samples, N_max))
    shapes = [shape for pair in network.param_shapes() for shape in pair] + [(S[0], N), (S[-1], N)]
    arrays = _draw_arrays(draw, dtype, shapes, max_magnitude)  # W^(1), b^(1), ..., X, T
    large = tuple(r * max_magnitude for r in LARGE_WEIGHT_RANGE)
    params = []
    for W, b in zip(arrays[0:-2:2], arrays[1:-2:2], strict=True):
        for index, magnitude, negative in draw(_large_weights(dtype, W.size, large)):
            W.flat[index] = -magnitude if negative else magnitude
        params.append(Layer(_read_only(W), _read_only(b)))
    T = _targets(network.J.check_targets, arrays[-1], max_magnitude)
    return Problem(network, tuple(params), _read_only(arrays[-2]), _read_only(T))


def _draw_arrays(
    draw: st.DrawFn, dtype: np.dtype, shapes: list[tuple[int, ...]], max_magnitude: float
) -> list[np.ndarray]:
    """Arrays of `shapes`, elements in [-max_magnitude, max_magnitude], in two draws: a few
    elements drawn explicitly, scattered over all the arrays (one hypothesis sparse array of
    their total size, NaN where none was drawn), then one background value per array for
    the rest, so each array shrinks to its own constant, and that to 0, on its own."""
    bound = (-max_magnitude, max_magnitude)
    sizes = [math.prod(shape) for shape in shapes]
    scattered = draw(_scattered(dtype, sum(sizes), bound))
    backgrounds = draw(_backgrounds(dtype, len(shapes), bound))
    arrays, start = [], 0
    for shape, size, background in zip(shapes, sizes, backgrounds, strict=True):
        piece = scattered[start : start + size].reshape(shape)
        arrays.append(np.where(np.isnan(piece), dtype.type(background), piece))
        start += size
    return arrays


# The three builders below are cached per (dtype, size, bound): rebuilt on every draw, an
# example took 2.0–3.1 ms to draw instead of 1.6–2.3 ms (benchmarks/strategy_cache.py, load
# 2.8–2.9 on 2 cores), a tenth of the agreement property's time per example. st.integers
# needs no cache: hypothesis returns the same strategy for the same arguments already.
@functools.cache
def _scattered(
    dtype: np.dtype, size: int, bound: tuple[float, float]
) -> SearchStrategy[np.ndarray]:
    """(size,) arrays: elements in `bound` where hypothesis draws one, NaN elsewhere."""
    return hnp.arrays(dtype, (size,), elements=_elements(dtype, *bound), fill=st.just(np.nan))


@functools.cache
def _backgrounds(
    dtype: np.dtype, count: int, bound: tuple[float, float]
) -> SearchStrategy[tuple[float, ...]]:
    """`count` floats in `bound`, one background value per array."""
    return st.tuples(*[_elements(dtype, *bound)] * count)


@functools.cache
def _large_weights(
    dtype: np.dtype, size: int, bound: tuple[float, float]
) -> SearchStrategy[list[tuple[int, float, bool]]]:
    """Up to MAX_LARGE_WEIGHTS (flat index, |w| in `bound`, negative?) for a W of `size`."""
    override = st.tuples(st.integers(0, size - 1), _elements(dtype, *bound), st.booleans())
    return st.lists(override, max_size=MAX_LARGE_WEIGHTS)


def _targets(
    domain: Callable[[np.ndarray], None], T: np.ndarray, max_magnitude: float
) -> np.ndarray:
    """T (S_L, N), drawn in [-max_magnitude, max_magnitude], moved into the domain of the
    loss whose target check is `domain`: unchanged (any targets), |T|/max_magnitude in
    [0, 1] (subnormals flushed to 0), or those scaled to probability columns."""
    if domain is targets.any_targets:
        return T
    unit = np.abs(T) / T.dtype.type(max_magnitude)
    unit[unit < np.finfo(T.dtype).tiny] = 0.0
    if domain is targets.unit_interval:
        return unit
    if domain is targets.probability_columns:
        return _probability_columns(unit)
    raise ValueError(f"no target strategy for the loss domain {domain.__name__}")


def _probability_columns(weights: np.ndarray) -> np.ndarray:
    """Columns of `weights` >= 0 scaled to sum to 1; an all-zero column becomes one-hot e_0.
    An entry the scaling takes below the smallest normal becomes 0 (no subnormals; the column
    sum moves by less than S_L·tiny)."""
    weights = weights.copy()
    weights[0, weights.sum(axis=0) == 0] = 1.0
    columns = weights / weights.sum(axis=0, keepdims=True)
    columns[columns < np.finfo(columns.dtype).tiny] = 0.0
    return columns


def _elements(dtype: np.dtype, low: float, high: float) -> SearchStrategy[float]:
    """Floats of `dtype` in [low, high] (bounds rounded inwards); no subnormals, NaN or inf."""
    low, high = _inward(dtype, low, high)
    return st.floats(low, high, width=8 * dtype.itemsize, allow_subnormal=False)


def _inward(dtype: np.dtype, low: float, high: float) -> tuple[float, float]:
    """`low` and `high` as the nearest values of `dtype` inside [low, high]."""
    lo, hi = dtype.type(low), dtype.type(high)
    if lo < low:
        lo = np.nextafter(lo, dtype.type(np.inf))
    if hi > high:
        hi = np.nextafter(hi, dtype.type(-np.inf))
    return float(lo), float(hi)


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")


def _check_range(low_name: str, low: Any, high_name: str, high: Any) -> None:
    _check_positive_int(low_name, low)
    _check_positive_int(high_name, high)
    if low > high:
        raise ValueError(f"{low_name} = {low} exceeds {high_name} = {high}")


def _checked_names(
    argument: str, names: Sequence[str] | None, registry: dict[str, Any]
) -> tuple[str, ...]:
    if names is None:
        return tuple(registry)
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"{argument} must be a sequence of names, got {names!r}")
    if not names:
        raise ValueError(f"{argument} must name at least one of: {', '.join(registry)}")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{argument} must hold names (str), got {name!r}")
        if name not in registry:
            raise ValueError(f"{argument}: unknown name {name!r}; known: {', '.join(registry)}")
    return tuple(names)

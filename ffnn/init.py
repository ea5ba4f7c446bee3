"""Seeded parameter initialisation."""

from __future__ import annotations

import numpy as np

from crosscheck.ffnn.layer import Layer
from crosscheck.ffnn.network import Network


def init_params(
    network: Network, *, seed: int = 0, dtype: type | np.dtype = np.float64, bias_scale: float = 0.1
) -> tuple[Layer, ...]:
    """Draw W^(l) ~ U(−r, r) with r = √(6/(S_{l−1} + S_l)) (Glorot) and b^(l) ~ N(0, bias_scale²).

    Biases are non-zero by default so that ∂J/∂b is exercised by every check.

    Args:
        network: the architecture, sizes (S_0, ..., S_L).
        seed: seed of ``numpy.random.default_rng``; the same seed gives the same parameters.
        dtype: float64 (default) or float32.
        bias_scale: standard deviation of the biases, >= 0.

    Returns:
        L Layers; ``params[l-1].W`` of shape (S_l, S_{l-1}), ``params[l-1].b`` of shape (S_l,).

    Raises:
        TypeError: `network` is not a Network, or `dtype` is not float32/float64.
        ValueError: `bias_scale` is negative or not finite.
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a crosscheck.ffnn.Network, got {type(network).__name__}")
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float64 or float32, got {dtype}")
    if not np.isfinite(bias_scale) or bias_scale < 0:
        raise ValueError(f"bias_scale must be finite and >= 0, got {bias_scale!r}")
    rng = np.random.default_rng(seed)
    params = []
    for (rows, cols), (width,) in network.param_shapes():
        r = np.sqrt(6.0 / (rows + cols))
        W = rng.uniform(-r, r, size=(rows, cols)).astype(dtype)
        b = (bias_scale * rng.standard_normal(width)).astype(dtype)
        params.append(Layer(W, b))
    return tuple(params)

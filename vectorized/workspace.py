"""Preallocated buffers for ``crosscheck.vectorized.gradients`` and ``loss``, cached per (network,
N, dtype).

Fresh (S_l, N) arrays of a megabyte or more cost page faults on every call; a warm
workspace costs none. Each thread keeps its own small cache (least recently used dropped),
so concurrent calls never share buffers. Nothing in a workspace is ever returned to a
caller: gradients are fresh arrays, ``backprop``'s trace is built without a workspace.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

import numpy as np

from crosscheck.ffnn import Network
from crosscheck.vectorized.kernels import kernel

CACHE_SIZE = 2
"""Workspaces kept per thread; a large network's holds hundreds of MB (see ``Workspace``)."""

_local = threading.local()


class Workspace(NamedTuple):
    """Buffers for one pass of one (network, N, dtype); C-contiguous, uninitialised.

    Z: length L+1; ``Z[l]`` (S_l, N) for Z^(l), then (kernel's choice) A^(l) or σ'_l(Z^(l)),
        then H^(l) in the backward pass; ``Z[0]`` is None.
    A: length L+1; ``A[l]`` (S_l, N) for an elementwise σ_l with a kernel
        (``crosscheck.vectorized.kernels``): the other of A^(l) and σ'_l(Z^(l)), then Δ^(l)
        in the backward pass; None for identity (A = Z) and softmax (fresh arrays);
        ``A[0]`` is None.
    scratch: the kernels' scratch by its dtype (``Kernel.scratch_dtype``: float64 for a
        wide kernel): (max S_l, N) over the layers whose kernel uses one of that dtype; a
        layer uses its first S_l rows. Empty when no kernel uses scratch.
    """

    Z: tuple[np.ndarray | None, ...]
    A: tuple[np.ndarray | None, ...]
    scratch: dict[np.dtype, np.ndarray]


def workspace(network: Network, N: int, dtype: np.dtype) -> Workspace:
    """This thread's workspace for (network, N, dtype), built on first use.

    Args:
        network: the architecture, sizes (S_0, ..., S_L).
        N: the number of samples (columns), >= 1.
        dtype: float32 or float64.

    Returns:
        A ``Workspace``; the same object on the next call with the same key in this thread,
        until ``CACHE_SIZE`` other keys have been used since.

    Raises:
        Nothing beyond NumPy's own errors (MemoryError).
    """
    cache: OrderedDict = _local.__dict__.setdefault("cache", OrderedDict())
    key = (network, N, np.dtype(dtype))
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    S, layers = network.sizes, range(1, network.L + 1)
    kernels = {l: kernel(network.sigma(l)) for l in layers}
    scratch_rows: dict[np.dtype, int] = {}
    for l in layers:
        if kernels[l] is not None and kernels[l].scratch:
            scratch_dtype = kernels[l].scratch_dtype(dtype)
            scratch_rows[scratch_dtype] = max(S[l], scratch_rows.get(scratch_dtype, 0))
    ws = Workspace(
        Z=(None, *(np.empty((S[l], N), dtype) for l in layers)),
        A=(None, *(None if kernels[l] is None else np.empty((S[l], N), dtype) for l in layers)),
        scratch={d: np.empty((rows, N), d) for d, rows in scratch_rows.items()},
    )
    cache[key] = ws
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
    return ws


def clear_workspaces() -> None:
    """Drop this thread's cached workspaces (frees their memory)."""
    _local.__dict__.pop("cache", None)

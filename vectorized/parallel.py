"""Elementwise kernels over several cores: the rows of a layer split among threads.

NumPy's and SciPy's ufuncs run on one core and release the GIL, while the matrix products
around them use every core the BLAS has. A kernel (``crosscheck.vectorized.kernels``) is
elementwise, so it gives the same bits on any split of its rows: ``evaluate`` runs it on
contiguous row blocks, one per thread of a ``concurrent.futures.ThreadPoolExecutor``, the
calling thread taking the first block. Arrays under ``MIN_ENTRIES`` entries run in the
calling thread alone, where handing work to a thread costs more than it saves.

The thread count is the number of cores this process may use (``os.sched_getaffinity``)
unless ``set_elementwise_threads`` says otherwise; 1 turns the split off.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from crosscheck.vectorized.kernels import Kernel, Result

MIN_ENTRIES = 1 << 18
"""Entries (S_l·N) from which a kernel is split among threads (256k: a 512 × 512 layer)."""

_state: dict[str, int | None] = {"threads": None}


def set_elementwise_threads(threads: int | None) -> None:
    """Split large kernels among `threads` threads (1: the caller alone; None: every usable
    core, the default).

    Raises:
        ValueError: threads is not None or a positive int.
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)):
        raise ValueError(f"threads must be a positive int or None, got {threads!r}")
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be a positive int or None, got {threads!r}")
    _state["threads"] = threads


def elementwise_threads() -> int:
    """The threads a large kernel is split among (``set_elementwise_threads``)."""
    if _state["threads"] is not None:
        return _state["threads"]
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def evaluate(
    kernel: Kernel, Z: np.ndarray, other: np.ndarray, scratch: np.ndarray | None, derivative: bool
) -> Result:
    """``kernel.evaluate(Z, other, scratch, derivative)``, its rows split among threads when
    Z has ``MIN_ENTRIES`` entries or more; the same result, bit for bit.

    Raises:
        Whatever the kernel raises (NumPy's own errors).
    """
    threads = min(elementwise_threads(), Z.shape[0])
    if threads == 1 or Z.size < MIN_ENTRIES:
        return kernel.evaluate(Z, other, scratch, derivative)
    bounds = np.linspace(0, Z.shape[0], threads + 1).astype(int)
    blocks = [slice(start, stop) for start, stop in itertools.pairwise(bounds)]

    def block(rows: slice) -> Result:
        return kernel.evaluate(
            Z[rows], other[rows], None if scratch is None else scratch[rows], derivative
        )

    futures = [_pool(threads - 1).submit(block, rows) for rows in blocks[1:]]
    A, S = block(blocks[0])
    for future in futures:
        future.result()

    def whole(part: np.ndarray) -> np.ndarray:  # every block puts A and S in the same buffers
        return Z if np.may_share_memory(part, Z) else other

    return whole(A), None if S is None else whole(S)


_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """One executor per worker count, made on first use and kept for the process."""
    with _pools_lock:
        if workers not in _pools:
            _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="crosscheck-kernel")
        return _pools[workers]

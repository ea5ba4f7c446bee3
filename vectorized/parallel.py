"""Elementwise kernels over several cores: the rows of a layer split among threads.

NumPy's and SciPy's ufuncs run on one core and release the GIL, while the matrix products
around them use every core the BLAS has. A kernel (``crosscheck.vectorized.kernels``) is
elementwise, so it gives the same bits on any split of its rows: ``evaluate`` runs it on
contiguous row blocks, one per thread of a ``concurrent.futures.ThreadPoolExecutor``, the
calling thread taking the first block. A kernel whose work on one core is under
``MIN_SECONDS`` (its ``Kernel.cost`` per entry times S_l·N) runs in the calling thread
alone: handing work to a thread costs tens of microseconds, and on 2 cores OpenBLAS's
worker thread still spins for a while after each product.

The thread count is the number of cores this process may use (``os.sched_getaffinity``)
unless ``set_elementwise_threads`` (or, for a block of code, ``elementwise_threads_set``)
says otherwise; 1 turns the split off.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from crosscheck.vectorized.kernels import Kernel, Result

MIN_SECONDS = 8e-4
"""Single-core seconds of a kernel from which it is split among threads: tanh from about
270k entries (a 512 × 512 layer), GELU (scipy's ndtr) from 62k."""

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


@contextlib.contextmanager
def elementwise_threads_set(threads: int | None) -> Iterator[None]:
    """``set_elementwise_threads(threads)`` for the block, the previous setting after it.

    Raises:
        ValueError: as ``set_elementwise_threads``.
    """
    previous = _state["threads"]
    set_elementwise_threads(threads)
    try:
        yield
    finally:
        _state["threads"] = previous


def elementwise_threads() -> int:
    """The threads a large kernel is split among (``set_elementwise_threads``)."""
    if _state["threads"] is not None:
        return _state["threads"]
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def evaluate(
    kernel: Kernel, Z: np.ndarray, other: np.ndarray, scratch: np.ndarray | None, derivative: bool
) -> Result:
    """``kernel.evaluate(Z, other, scratch, derivative)``, its rows split among threads when
    its work is ``MIN_SECONDS`` or more; the same result, bit for bit.

    Raises:
        Whatever the kernel raises (NumPy's own errors).
    """
    if Z.size * kernel.cost * 1e-9 < MIN_SECONDS:
        return kernel.evaluate(Z, other, scratch, derivative)
    threads = min(elementwise_threads(), Z.shape[0])
    if threads == 1:
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

"""pytest-benchmark runs of the cases in ``crosscheck.bench.cases``, as ``crosscheck bench``.

Run: ``pytest benchmarks/ --benchmark-json=out.json`` (``-k "not large"`` to skip the large
case, ``-k sweep`` for the activation sweep alone). The floors are benchmarked in the same
run: ``gemm_only`` per case and dtype, and
``test_matmul_rate`` (square matmuls; the arithmetic floor is a case's flops over the best
of their rates, ``extra_info["flops"]`` / ``2n³/min``).
"""

import pytest

from crosscheck.bench.cases import CASES, DTYPES, NETWORKS, implementations

PARAMS = [
    pytest.param(case, dtype, name, id=f"{case.name}-{dtype}-{name}")
    for case in CASES
    for dtype in DTYPES
    for name in implementations(case, dtype)
]
"""(case, dtype, implementation) for every benchmarked pass."""

SWEEP_PARAMS = [
    pytest.param(
        case.with_network(*network),
        dtype,
        name,
        id=f"{case.name}-{dtype}-{case.with_network(*network).label.replace(' ', '')}-{name}",
    )
    for case in CASES
    for dtype in DTYPES
    for network in NETWORKS
    for name in ("vectorized", "backprop", "autodiff")
]
"""(case with a sweep network, dtype, implementation): the activation sweep of
``crosscheck bench`` (``crosscheck.bench.sweep``); its GEMM-only floor is ``test_pass``'s."""

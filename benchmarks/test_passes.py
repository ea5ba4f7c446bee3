"""One forward + backward pass per (case, dtype, implementation), grouped by case and dtype."""

import numpy as np
import pytest
from conftest import PARAMS, SWEEP_PARAMS

from crosscheck.bench.cases import runner
from crosscheck.bench.run import RATE_SIZES


@pytest.mark.parametrize(("case", "dtype", "name"), PARAMS)
def test_pass(benchmark, case, dtype, name):
    benchmark.group = f"{case.name} {dtype}"
    benchmark.extra_info.update(sizes=list(case.sizes), N=case.N, flops=case.flops)
    run = runner(case, name, dtype)
    run()  # warm-up: JAX compiles, the vectorized workspace is built
    benchmark(run)


@pytest.mark.parametrize(("case", "dtype", "name"), SWEEP_PARAMS)
def test_sweep(benchmark, case, dtype, name):
    benchmark.group = f"sweep {case.name} {dtype} {case.label}"
    benchmark.extra_info.update(
        sizes=list(case.sizes), N=case.N, flops=case.flops, network=case.label
    )
    run = runner(case, name, dtype)
    run()  # warm-up: JAX compiles, the vectorized workspace is built
    benchmark(run)


@pytest.mark.parametrize("n", RATE_SIZES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matmul_rate(benchmark, dtype, n):
    benchmark.group = f"matmul rate {dtype}"
    benchmark.extra_info["flops"] = 2 * n**3
    rng = np.random.default_rng(0)
    A, B = (rng.standard_normal((n, n)).astype(dtype) for _ in range(2))
    C = np.empty((n, n), dtype)
    benchmark(np.matmul, A, B, out=C)

"""Checking against computing (issue 14.3): one comparison with the derived bound, timed
beside the vectorized pass it checks, per network and dtype at medium size, and the
agreement property's three-side comparison at ``crosscheck-ci`` sizes.

Run: ``pytest benchmarks/test_checking.py``; the ratio compare/backprop of one process, run
by run with its spread, comes from ``crosscheck bench`` and ``benchmarks/checking_cost.py``
(``crosscheck.bench.check_timing``).
"""

import pytest

from crosscheck import reference, vectorized
from crosscheck.bench.cases import HIDDEN, case_by_name, make_problem
from crosscheck.bench.check_timing import property_problems
from crosscheck.compare.comparison import compare_backprop, compare_backprop_many

NETWORKS = (
    ("tanh", "identity", "squared_error"),
    ("relu", "identity", "squared_error"),
    ("sigmoid", "identity", "squared_error"),
    (HIDDEN, "softmax", "cross_entropy"),
)
"""(hidden σ, σ_L, J) of the networks timed: three hidden activations, and a classifier."""

CASES = [
    pytest.param(
        case_by_name("medium").with_network(hidden, output, loss),
        dtype,
        id=f"medium-{hidden}-{output}-{dtype}",
    )
    for hidden, output, loss in NETWORKS
    for dtype in ("float64", "float32")
]


@pytest.mark.parametrize(("case", "dtype"), CASES)
def test_pass(benchmark, case, dtype):
    benchmark.group = f"checking medium {case.label} {dtype}"
    problem = make_problem(case, dtype)
    vectorized.backprop(*problem)
    benchmark(vectorized.backprop, *problem)


@pytest.mark.parametrize(("case", "dtype"), CASES)
def test_check(benchmark, case, dtype):
    benchmark.group = f"checking medium {case.label} {dtype}"
    problem = make_problem(case, dtype)
    expected, actual = vectorized.backprop(*problem), vectorized.backprop(*problem)
    J = vectorized.loss(*problem)
    benchmark(compare_backprop, *problem, expected, actual, expected_loss=J, actual_loss=J)


def test_property_comparison(benchmark):
    """compare_backprop_many of the literal and contracted reference and vectorized against
    vectorized, over 50 problems of the agreement property's "bounded" family."""
    cases = []
    for problem in property_problems(50):
        sides = {
            "literal": reference.backprop(*problem, form="literal"),
            "contracted": reference.backprop(*problem),
            "vectorized": vectorized.backprop(*problem),
        }
        J = vectorized.loss(*problem)
        cases.append((problem, vectorized.backprop(*problem), sides, J))

    def compare_all():
        for problem, expected, sides, J in cases:
            compare_backprop_many(
                *problem,
                expected,
                sides,
                expected_loss=J,
                actual_losses=dict.fromkeys(sides, J),
            )

    benchmark.extra_info["problems"] = len(cases)
    benchmark(compare_all)

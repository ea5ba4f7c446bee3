"""Checking against computing (issue 14.3): one comparison with the derived bound, timed
beside the vectorized pass it checks, per network kind and dtype at medium size, and the
agreement property's three-side comparison at ``crosscheck-ci`` sizes.

Run: ``pytest benchmarks/test_checking.py``; the ratio check/pass of one process, with its
spread, comes from ``benchmarks/checking_cost.py`` (``crosscheck.bench.checking``).
"""

import pytest

from crosscheck import reference, vectorized
from crosscheck.bench.checking import NETWORK_KINDS, CheckingCase, property_problems
from crosscheck.compare.comparison import compare_backprop, compare_backprop_many

CASES = [
    pytest.param(CheckingCase("medium", kind, dtype), id=f"medium-{kind}-{dtype}")
    for kind in NETWORK_KINDS
    for dtype in ("float64", "float32")
]


@pytest.mark.parametrize("case", CASES)
def test_pass(benchmark, case):
    benchmark.group = f"checking {case.name}"
    problem = case.problem()
    vectorized.backprop(*problem)
    benchmark(vectorized.backprop, *problem)


@pytest.mark.parametrize("case", CASES)
def test_check(benchmark, case):
    benchmark.group = f"checking {case.name}"
    problem = case.problem()
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

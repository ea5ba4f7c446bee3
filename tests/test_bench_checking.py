"""crosscheck.bench.checking: the cost of checking against computing (issue 14.3).

Timings are never asserted; these tests pin what the measurement measures.
"""

import pytest

from crosscheck.bench.checking import (
    NETWORK_KINDS,
    CheckingCase,
    checking_cost,
    property_comparison_seconds,
    property_problems,
)


@pytest.mark.parametrize("kind", list(NETWORK_KINDS))
def test_checking_case_builds_the_kind_of_network(kind: str) -> None:
    network = CheckingCase("tiny", kind).problem().network  # sizes (2, 3, 1)
    hidden, output, loss = NETWORK_KINDS[kind]
    assert (network.activations, network.loss) == ((hidden, output), loss)


def test_checking_cost_times_every_run_and_compares_equal_sides() -> None:
    cost = checking_cost(CheckingCase("tiny", "tanh", sides=2), runs=3)
    assert len(cost.ratios) == 3 and all(ratio > 0 for ratio in cost.ratios)
    assert cost.worst_ratio == 0.0  # two calls of one deterministic pass


@pytest.mark.parametrize(
    ("case", "runs", "match"),
    [
        (CheckingCase("tiny", "tanh"), 0, "runs"),
        (CheckingCase("tiny", "swish"), 1, "swish"),
        (CheckingCase("tiny", "tanh", sides=0), 1, "sides"),
        (CheckingCase("huge", "tanh"), 1, "huge"),
    ],
    ids=["runs", "kind", "sides", "size"],
)
def test_checking_cost_refuses_bad_arguments_by_name(case, runs: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        checking_cost(case, runs=runs)


def test_checking_cost_in_cpu_time_says_so() -> None:
    cost = checking_cost(CheckingCase("tiny", "relu"), runs=1, cpu_time=True)
    assert cost.cpu_time and len(cost.check_seconds) == 1


def test_property_problems_are_drawn_deterministically() -> None:
    first, second = property_problems(3), property_problems(3)
    assert [p.network for p in first] == [p.network for p in second]


def test_property_comparison_seconds_one_mean_per_run() -> None:
    seconds = property_comparison_seconds(property_problems(2), sides=3, runs=2)
    assert len(seconds) == 2 and all(s > 0 for s in seconds)

"""pytest plugin: crosscheck's oracle, strategies and profiles in another project's tests.

Installed with the package (entry point ``pytest11: crosscheck``); it changes nothing in
the host project unless asked. Loading it imports neither JAX nor hypothesis, registers
no hypothesis profile, loads none and switches no JAX setting: the fixtures import what
they need when a test requests them.

Fixtures:
- ``check_backprop``: ``crosscheck.oracle.search.check_gradients`` — checks a function
  ``fn(Ws, bs, X, T)`` against the suite's three implementations.
- ``crosscheck_strategies``: the module ``crosscheck.strategies`` (``networks()``,
  ``problems()``), for a host's own ``@given``.
- ``crosscheck_problem``: a factory of one seeded ``Problem`` (network, params, X, T).

Asked for with an option or an ini setting, one of crosscheck's hypothesis profiles
(``crosscheck.profiles.PROFILES``) is registered and loaded for the whole run:

    pytest --crosscheck-profile crosscheck-ci        # or, in the ini file:
    [pytest]
    crosscheck_profile = crosscheck-ci

The option wins over the ini setting, and over a profile loaded by the host's conftest.
hypothesis's own ``--hypothesis-profile crosscheck-ci`` works too: the plugin registers
crosscheck's profiles (without loading one) when that option names one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import pytest

_PROFILE_PREFIX = "crosscheck-"
_LOADED = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--crosscheck-profile NAME`` and the ini setting ``crosscheck_profile``."""
    group = parser.getgroup("crosscheck", "crosscheck (backprop oracle)")
    group.addoption(
        "--crosscheck-profile",
        metavar="NAME",
        default=None,
        help="load one of crosscheck's hypothesis profiles"
        " (crosscheck-dev, crosscheck-ci, crosscheck-thorough) for this run",
    )
    parser.addini(
        "crosscheck_profile",
        "crosscheck hypothesis profile to load (as --crosscheck-profile); empty: none",
        default="",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Load the requested crosscheck profile; register ours if hypothesis's option names one.

    Raises:
        pytest.UsageError: a requested name that is not one of crosscheck's profiles.
    """
    hypothesis_profile = config.getoption("hypothesis_profile", None)
    name = config.getoption("crosscheck_profile") or config.getini("crosscheck_profile")
    if name:
        _profiles(name)
        from hypothesis import settings

        settings.load_profile(name)
        config.stash[_LOADED] = name
    elif isinstance(hypothesis_profile, str) and hypothesis_profile.startswith(_PROFILE_PREFIX):
        _profiles(hypothesis_profile)  # registered now; hypothesis's own plugin loads it


def pytest_report_header(config: pytest.Config) -> str | None:
    """One header line naming the crosscheck profile loaded, if any."""
    name = config.stash.get(_LOADED, None)
    return None if name is None else f"crosscheck: hypothesis profile {name!r} loaded"


@pytest.fixture
def check_backprop() -> Callable[..., Any]:
    """``crosscheck.oracle.search.check_gradients(fn, *, activations, ...)`` (imported on
    request)."""
    from crosscheck.oracle.search import check_gradients

    return check_gradients


@pytest.fixture
def crosscheck_strategies() -> ModuleType:
    """The module ``crosscheck.strategies`` (``networks()``, ``problems()``, ``Problem``)."""
    import crosscheck.strategies

    return crosscheck.strategies


@pytest.fixture
def crosscheck_problem() -> Callable[..., Any]:
    """A factory of one seeded problem (eq 1.4's network with params, X, T).

    ``crosscheck_problem(sizes=(3, 4, 2), activations=("tanh", "identity"),
    loss="squared_error", weight_decay=0.0, N=5, seed=0) -> crosscheck.strategies.Problem``:
    Glorot-uniform W^(l) (S_l, S_{l-1}), small normal b^(l) (S_l,), standard normal X
    (S_0, N), float64; T (S_L, N) standard normal for squared error, one-hot columns for
    cross_entropy, uniform in [0, 1] for binary_cross_entropy. Raises what
    ``crosscheck.ffnn.Network`` raises for a bad architecture (ValueError/TypeError).
    """
    return _seeded_problem


def _seeded_problem(
    sizes: Sequence[int] = (3, 4, 2),
    activations: Sequence[str] = ("tanh", "identity"),
    loss: str = "squared_error",
    weight_decay: float = 0.0,
    N: int = 5,
    seed: int = 0,
) -> Any:
    from crosscheck.ffnn import Network, init_params
    from crosscheck.strategies import Problem

    network = Network(tuple(sizes), tuple(activations), loss=loss, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((network.sizes[0], N))
    S_L = network.sizes[-1]
    if loss == "cross_entropy":
        T = np.eye(S_L)[:, rng.integers(0, S_L, size=N)]
    elif loss == "binary_cross_entropy":
        T = rng.uniform(0.0, 1.0, size=(S_L, N))
    else:
        T = rng.standard_normal((S_L, N))
    return Problem(network, init_params(network, seed=seed), X, T)


def _profiles(name: str) -> None:
    """Register crosscheck's profiles, after checking that `name` is one of them."""
    from crosscheck.profiles import PROFILES, register_profiles

    if name not in PROFILES:
        raise pytest.UsageError(
            f"unknown crosscheck profile {name!r}; known: {', '.join(PROFILES)}"
        )
    register_profiles()

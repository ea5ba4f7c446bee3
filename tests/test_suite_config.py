"""The test command survives its plugins: the project's own ``filterwarnings`` (pyproject.toml)
in a host run, with warnings from a plugin, from test code and from an escaping exception.

A plugin that warns at start-up (pytest-benchmark's "Benchmarks are automatically disabled
because xdist plugin is active", through ``config.issue_config_time_warning``) must not turn
the README's test command into an INTERNALERROR; a warning from the code under test, or an
exception that escapes it unraisably, must still fail the test.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
FILTERS = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"][
    "filterwarnings"
]


@pytest.fixture
def host(pytester: pytest.Pytester) -> pytest.Pytester:
    """A host project whose ini carries this project's filterwarnings."""
    lines = "\n".join(f"    {entry}" for entry in FILTERS)
    pytester.makeini(f"[pytest]\nfilterwarnings =\n{lines}\n")
    return pytester


def test_a_plugin_warning_at_start_up_is_shown_not_a_crash(host):
    host.makeconftest(
        """
        import pytest

        class PytestBenchmarkWarning(pytest.PytestWarning):
            pass

        def pytest_configure(config):
            config.issue_config_time_warning(
                PytestBenchmarkWarning("Benchmarks are automatically disabled because xdist"
                                       " plugin is active"),
                stacklevel=2,
            )
        """
    )
    host.makepyfile("def test_passes():\n    assert True\n")
    result = host.runpytest_subprocess()
    assert (result.ret, "automatically disabled" in result.stdout.str()) == (0, True)


def test_a_warning_from_the_code_under_test_still_fails(host):
    host.makepyfile(
        """
        import warnings

        def test_warns():
            warnings.warn("the code under test warned", UserWarning)
        """
    )
    result = host.runpytest_subprocess()
    result.assert_outcomes(failed=1)


def test_an_exception_escaping_unraisably_still_fails(host):
    host.makepyfile(
        """
        import gc

        class Broken:
            def __del__(self):
                raise RuntimeError("escapes from __del__")

        def test_leaks_an_exception():
            Broken()
            gc.collect()
        """
    )
    result = host.runpytest_subprocess()
    assert result.ret != 0


def test_a_test_that_cannot_be_collected_still_fails(host):
    host.makepyfile(
        """
        def test_passes():
            assert True

        class TestWithInit:
            def __init__(self):
                pass

            def test_never_collected(self):
                assert False
        """
    )
    result = host.runpytest_subprocess()
    assert result.ret != 0

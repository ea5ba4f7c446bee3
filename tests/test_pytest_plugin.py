"""The pytest plugin (entry point ``pytest11: crosscheck``) in a host project's test run.

Each test builds a fresh host project with ``pytester`` and runs pytest on it; the host's
tests assert from inside what the plugin did or did not do. The run without any option is a
subprocess (nothing of this run's imports or hypothesis registry leaks into it), and so is
the plugin page's example (docs/pytest-plugin.md) (NumPy's extension modules cannot be re-imported
in process); the others run in process, from hypothesis's "default" profile, and this run's profile
is restored.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

pytest_plugins = ["pytester"]

PLUGIN_PAGE = Path(__file__).resolve().parent.parent / "docs" / "pytest-plugin.md"

PROFILE_PROBE = """
from hypothesis import settings

def test_profile():
    assert settings.get_current_profile_name() == {name!r}
    assert settings().max_examples == {max_examples}
"""


def _readme_example() -> str:
    text = PLUGIN_PAGE.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- plugin-example:start -->\n```python\n(.*?)```\n<!-- plugin-example:end -->",
        text,
        re.DOTALL,
    )
    assert block is not None, "docs/pytest-plugin.md lost its plugin example block"
    return block.group(1)


@pytest.fixture
def host(pytester):
    """``pytester``, with hypothesis's "default" profile loaded for the run and ours restored."""
    saved = settings.get_current_profile_name()
    settings.load_profile("default")
    yield pytester
    settings.load_profile(saved)


def hypothesis_own_profile() -> str:
    """The profile hypothesis loads by itself here: "ci" when it detects a CI, else "default"."""
    probe = "from hypothesis import settings; print(settings.get_current_profile_name())"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return run.stdout.strip()


def test_host_without_option_keeps_hypothesis_own_profile_and_imports_no_jax(pytester):
    pytester.makepyfile(
        f"""
        import sys
        import pytest
        from hypothesis import settings
        from hypothesis.errors import InvalidArgument

        def test_untouched():
            assert settings.get_current_profile_name() == {hypothesis_own_profile()!r}
            assert "jax" not in sys.modules
            with pytest.raises(InvalidArgument):
                settings.get_profile("crosscheck-ci")  # not even registered
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_option_loads_a_crosscheck_profile(host):
    host.makepyfile(PROFILE_PROBE.format(name="crosscheck-ci", max_examples=200))
    result = host.runpytest("--crosscheck-profile", "crosscheck-ci")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["crosscheck: hypothesis profile 'crosscheck-ci' loaded"])


def test_ini_setting_loads_a_crosscheck_profile(host):
    host.makeini("[pytest]\ncrosscheck_profile = crosscheck-thorough\n")
    host.makepyfile(PROFILE_PROBE.format(name="crosscheck-thorough", max_examples=2000))
    host.runpytest().assert_outcomes(passed=1)


def test_option_wins_over_the_host_conftest_profile(host):
    host.makeconftest(
        """
        from hypothesis import settings
        settings.register_profile("host", max_examples=7)
        settings.load_profile("host")
        """
    )
    host.makepyfile(PROFILE_PROBE.format(name="crosscheck-ci", max_examples=200))
    result = host.runpytest("--crosscheck-profile", "crosscheck-ci")
    result.assert_outcomes(passed=1)


def test_hypothesis_own_option_can_name_a_crosscheck_profile(host):
    host.makepyfile(PROFILE_PROBE.format(name="crosscheck-thorough", max_examples=2000))
    result = host.runpytest("--hypothesis-profile", "crosscheck-thorough")
    result.assert_outcomes(passed=1)


def test_unknown_profile_name_is_a_usage_error(host):
    host.makepyfile("def test_never_runs():\n    pass\n")
    result = host.runpytest("--crosscheck-profile", "fast")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown crosscheck profile 'fast'; known: crosscheck-dev*"])


def test_fixtures_give_strategies_and_a_seeded_problem(host):
    host.makepyfile(
        """
        def test_fixtures(crosscheck_strategies, crosscheck_problem):
            assert crosscheck_strategies.__name__ == "crosscheck.strategies"
            network, params, X, T = crosscheck_problem(sizes=(2, 3, 1), N=4, seed=3)
            assert network.sizes == (2, 3, 1) and X.shape == (2, 4) and T.shape == (1, 4)
            again = crosscheck_problem(sizes=(2, 3, 1), N=4, seed=3)
            assert (again.X == X).all() and (again.params[0].W == params[0].W).all()
        """
    )
    host.runpytest().assert_outcomes(passed=1)


def test_readme_example_runs_as_written(pytester):
    pytester.makepyfile(test_my_backprop=_readme_example())
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_a_failing_check_shows_the_report_not_the_oracle_source(host):
    host.makepyfile(
        """
        def test_sign_flipped(check_backprop):
            from crosscheck.oracle.catalogue import MUTANTS

            flipped = MUTANTS["sign_flipped"].function()
            check_backprop(flipped, activations=["tanh", "identity"], max_examples=10, seed=0)
        """
    )
    # in a subprocess: the failing check imports JAX, which pytester's in-process run would
    # unload afterwards, and XLA aborts the process when it is imported a second time
    result = host.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    assert "GradientMismatch: σ = tanh, identity" in result.stdout.str()
    assert "config = _settings(" not in result.stdout.str()

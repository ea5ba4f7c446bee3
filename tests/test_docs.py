"""The documentation stays true: README.md is a front door to docs/, its and the Python API
page's code runs as written, links resolve, no page names a module path that no longer
exists, and every sample output is what its command prints today (tools/docs_samples.py,
wall times and error/bound ratios masked); the figures of docs/performance.md come from
tools/docs_figures.py, which writes between its markers and nowhere else."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import shlex
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import hypothesis
import pytest

from crosscheck.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
MANUAL = (
    "verify",
    "checking-your-backprop",
    "pytest-plugin",
    "python-api",
    "reading-a-report",
    "performance",
    "equations",
    "errata",
    "extensions",
    "bad-input",
    "development",
)
"""The pages of the manual (docs/NAME.md), each linked from the README."""


def _tool(name: str) -> ModuleType:
    """tools/NAME.py, imported from its file (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _blocks(path: Path, language: str) -> list[str]:
    """The fenced blocks of `language` in a Markdown file, in order."""
    pattern = rf"^```{language}\n(.*?)^```$"
    return re.findall(pattern, path.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --- the README: a front door -----------------------------------------------------------


def test_readme_is_at_most_about_200_lines():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


def test_readme_keeps_its_quick_start_heading():
    assert "## Quick start" in README.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("page", MANUAL)
def test_readme_links_every_page_of_the_manual(page):
    assert f"(docs/{page}.md" in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("command", ["verify", "check", "bench", "selftest"])
def test_readme_describes_each_command_with_a_link(command):
    assert re.search(rf"^- \[`crosscheck {command}[^`]*`\]\(docs/", README.read_text("utf-8"), re.M)


def _quick_start() -> list[list[str]]:
    """The README's quick-start commands, each split into words (one per `&&` step)."""
    (block,) = _blocks(README, "bash")
    return [shlex.split(step) for line in block.splitlines() for step in line.split("&&")]


def test_readme_install_names_extras_that_exist():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installs = [w for words in _quick_start() for w in words if w.startswith(".[")]
    assert installs, "the quick start installs the project"
    for install in installs:
        wanted = set(install.removeprefix(".[").removesuffix("]").split(","))
        assert wanted <= set(extras["optional-dependencies"])


def test_readme_test_command_names_a_profile_and_plugins_that_exist():
    (command,) = [words for words in _quick_start() if "pytest" in words]
    profile = next(w.split("=", 1)[1] for w in command if w.startswith("CROSSCHECK_PROFILE="))
    hypothesis.settings.get_profile(profile)  # registered by tests/conftest.py
    test_extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["test"]
    if "-n" in command:
        assert any(d.startswith("pytest-xdist") for d in test_extra)


def test_readme_verify_command_exists():
    commands = [words for words in _quick_start() if words[-1:] == ["verify"]]
    assert commands and commands[0][0].endswith("crosscheck")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["verify", "--help"]) == 0


# --- code runs as written ---------------------------------------------------------------

PYTHON_BLOCKS = [
    pytest.param(path, index, id=f"{_id(path)}-{index}")
    for path in (README, ROOT / "docs" / "python-api.md", ROOT / "docs" / "verify.md")
    for index in range(len(_blocks(path, "python")))
]


@pytest.mark.parametrize(("path", "index"), PYTHON_BLOCKS)
def test_python_block_runs_as_written(path, index, tmp_path, monkeypatch):
    source = _blocks(path, "python")[index]
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, f"{path.name} block {index}", "exec"), {"__name__": "__docs__"})
    # a print whose comment states a truth value (`print(result.agree)  # True`) prints it
    stated = re.findall(r"^print\(.*\)\s+#\s*(True|False)\b", source, re.M)
    printed = [line.split()[0].strip(",()") for line in out.getvalue().splitlines()]
    assert printed[: len(stated)] == stated


def test_the_python_api_page_has_code_to_run():
    assert _blocks(ROOT / "docs" / "python-api.md", "python")


# --- links and names --------------------------------------------------------------------

LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("path", [README, *PAGES], ids=_id)
def test_relative_links_resolve(path):
    targets = LINK.findall(path.read_text(encoding="utf-8"))
    local = [t for t in targets if not re.match(r"[a-z]+:", t)]
    assert [t for t in local if not (path.parent / t).exists()] == []


STALE = re.compile(
    r"crosscheck/(?:tolerance|oracle_bound|mutants|examine|oracle_report|registry|compare"
    r"|verify|datasets|render|check_command|bench_command)\.py"
    r"|crosscheck\.(?:datasets|tolerance|oracle_bound|mutants|examine|oracle_report|render)\b"
    r"|python -m crosscheck\.registry"
    r"|`(?:ffnn|vectorized|reference|autodiff_oracle)\.(?!py\b)[A-Za-z_]"
)
"""Module paths and names of the package before it was one namespace with a folder per
job (issue 13), and the implementations' modules named without ``crosscheck.``."""


def _prose(path: Path) -> str:
    """A page without its fenced blocks (code may import ``from crosscheck import
    vectorized`` and then call ``vectorized.gradients``)."""
    return re.sub(r"^```.*?^```$", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)


@pytest.mark.parametrize("path", [README, *PAGES], ids=_id)
def test_page_names_no_stale_module_path(path):
    assert STALE.findall(_prose(path)) == []


@pytest.mark.parametrize("command", [[], ["verify"], ["check"], ["bench"], ["selftest"]])
def test_help_names_no_stale_module_path(command):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main([*command, "--help"])
    assert STALE.findall(out.getvalue()) == []


# --- sample outputs and figures ---------------------------------------------------------

SAMPLES = _tool("docs_samples")

SAMPLE_PARAMS = [
    pytest.param(sample, id=f"{_id(path)}-{sample.command.split()[1]}-{number}")
    for path in (README, *PAGES)
    for number, sample in enumerate(SAMPLES.samples(path))
]


def test_readme_and_the_manual_have_samples():
    assert {Path(p.values[0].path).name for p in SAMPLE_PARAMS} >= {
        "README.md",
        "verify.md",
        "checking-your-backprop.md",
    }


@pytest.mark.parametrize("sample", SAMPLE_PARAMS)
def test_sample_is_what_its_command_prints(sample):
    printed = SAMPLES.shown(sample, SAMPLES.run(sample.command))
    assert SAMPLES.mask(SAMPLES.current(sample)) == SAMPLES.mask(printed), (
        f"run `python tools/docs_samples.py {_id(sample.path)}` to regenerate it"
    )


def test_mask_hides_times_ratios_and_the_backend_only():
    lines = [
        "autodiff: JAX backend gpu (NVIDIA H200), matrix products at HIGHEST precision",
        "│ Z^(1)     │ 1.4  │    2.1e-02 │          0 │",
        "Wall time (s)",
        "│ vectorized                  │  0.00403 │      0.00107 │",
        "autodiff: JIT compilation included   ",
        "AGREE: all 8 checks agree (worst error/bound ratio 2.5e-01 < 1)",
    ]
    assert SAMPLES.mask(lines) == [
        "autodiff: JAX backend B, matrix products at HIGHEST precision",
        "│ Z^(1)     │ 1.4  │    R │          0 │",
        "Wall time (s)",
        "vectorized",
        "autodiff: JIT compilation included",
        "AGREE: all 8 checks agree (worst error/bound ratio R < 1)",
    ]


def test_mask_hides_the_error_allowed_column_of_a_table():
    lines = [
        "┃ quantity  ┃ eq   ┃ mismatched ┃ error/allowed ┃",
        "│ ∂J/∂W^(1) │ 2.33 │        0/1 │          0.01 │",
        "│ ∂J/∂b^(1) │ 2.37 │        1/1 │       6e+13 ✗ │",
        "└───────────┴──────┴────────────┴───────────────┘",
        "│ Z^(1)     │ 1.4  │        0/4 │             0 │",
    ]
    assert SAMPLES.mask(lines) == [
        "┃ quantity  ┃ eq   ┃ mismatched ┃ error/allowed ┃",
        "│ ∂J/∂W^(1) │ 2.33 │        0/1 │ R │",
        "│ ∂J/∂b^(1) │ 2.37 │        1/1 │ R ✗ │",
        "└───────────┴──────┴────────────┴───────────────┘",
        "│ Z^(1)     │ 1.4  │        0/4 │             0 │",
    ]


FIGURES = _tool("docs_figures")


def test_performance_page_has_the_figures_markers():
    FIGURES.markers(ROOT / "docs" / "performance.md")


def test_docs_figures_writes_the_bench_report_between_the_markers_only(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text(f"before\n{FIGURES.START}\nold figures\n{FIGURES.END}\nafter\n")
    argv = ["--quick", "--cases", "tiny", "--no-sweeps", "--no-activations", "--no-checking"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        FIGURES.main([*argv, "--doc", str(doc), "--figures", str(tmp_path / "figures")])
    text = doc.read_text()
    head, block = text.split(FIGURES.START + "\n")
    block, tail = block.split(FIGURES.END)
    assert (head, tail) == ("before\n", "\nafter\n")
    assert "old figures" not in block and "#### Headline ratios" in block
    assert "| tiny | float64 |" in block
    assert "![time_vs_size](figures/time_vs_size.png)" in block
    assert (tmp_path / "figures" / "time_vs_size.png").stat().st_size > 0


def test_docs_figures_refuses_a_page_without_markers_before_any_timing(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text("no markers\n")
    with pytest.raises(ValueError, match="needs the lines"):
        FIGURES.main(["--doc", str(doc), "--figures", str(tmp_path / "figures")])
    assert not (tmp_path / "figures").exists()

"""The house (DESIGN §1): one import name, arrows one way, no cycles.

Every module of the installed package is read as source (its imports, function-level ones
included) and mapped to its installed name, so the rules below hold for the package a user
gets: ``crosscheck.ffnn`` imports nothing of ours; the three implementations import only
``crosscheck.ffnn``, never each other; the harness is layered — bounds and comparison, then
the jobs (oracle, verify, bench, equations), then the command line — and no arrow runs back up.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
from pathlib import Path

import pytest

import crosscheck

IMPLEMENTATIONS = ("crosscheck.reference", "crosscheck.vectorized", "crosscheck.autodiff_oracle")

JOBS = ("crosscheck.oracle", "crosscheck.verify", "crosscheck.bench", "crosscheck.equations")

LAYERS = (
    ("crosscheck.ffnn",),
    IMPLEMENTATIONS,
    ("crosscheck.compare", "crosscheck.strategies", "crosscheck.profiles"),
    ("crosscheck.implementations",),
    JOBS,
    ("crosscheck.pytest_plugin", "crosscheck.cli", "crosscheck.__main__"),
)
"""Parts of the package, lowest first: a module may import its own layer and lower ones. The
list of implementations (``crosscheck.implementations``) imports the three and is read by
the jobs; comparison never reads it. The package root (``crosscheck/__init__.py``: the
version and the oracle's public face) sits with the jobs."""

ROOT_LAYER = LAYERS.index(JOBS)


def _package_modules() -> dict[str, Path]:
    """Installed module name → source file, for every module of the package (in a source
    checkout the implementations' folders lie beside crosscheck/, installed inside it)."""
    modules = {}
    roots = {"crosscheck": Path(crosscheck.__file__).parent}
    for sub in ("ffnn", *(name.rpartition(".")[2] for name in IMPLEMENTATIONS)):
        spec = importlib.util.find_spec(f"crosscheck.{sub}")
        roots[f"crosscheck.{sub}"] = Path(spec.origin).parent
    for package, root in roots.items():
        for path in root.rglob("*.py"):
            relative = path.relative_to(root).with_suffix("").parts
            modules[".".join((package, *relative)).removesuffix(".__init__")] = path
    return modules


MODULES = _package_modules()


def _imports(name: str, path: Path) -> set[str]:
    """The package's modules that `name` imports anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            # `from crosscheck import vectorized` imports the submodule, not the package's face
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            targets = [s for s in submodules if s in MODULES] or [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _part(name: str) -> tuple[int, str]:
    """(layer index, part) of a module."""
    if name == "crosscheck":
        return ROOT_LAYER, name
    for index, parts in enumerate(LAYERS):
        for part in parts:
            if name == part or name.startswith(part + "."):
                return index, part
    raise AssertionError(f"{name} belongs to no part of LAYERS: add it")


def test_installing_adds_one_top_level_import_name():
    distribution = importlib.metadata.distribution("ffnn-crosscheck")
    assert distribution.read_text("top_level.txt").split() == ["crosscheck"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_belongs_to_a_layer(name):
    assert _part(name)[0] >= 0


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_run_down_the_layers_only(name):
    layer, part = _part(name)
    upward = sorted(target for target in GRAPH[name] if _part(target)[0] > layer)
    assert upward == [], f"{name} ({part}) imports a higher layer"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if _part(n)[1] in IMPLEMENTATIONS))
def test_implementations_import_only_ffnn_and_themselves(name):
    own = _part(name)[1]
    others = sorted(
        target
        for target in GRAPH[name]
        if not (target.startswith(own) or target.startswith("crosscheck.ffnn"))
    )
    assert others == []


def test_ffnn_imports_nothing_of_the_package_beyond_itself():
    outside = {
        target
        for name in MODULES
        if name.startswith("crosscheck.ffnn")
        for target in GRAPH[name]
        if not target.startswith("crosscheck.ffnn")
    }
    assert outside == set()


def test_the_package_root_imports_only_its_own_public_face():
    assert GRAPH["crosscheck"] <= {"crosscheck.oracle"}


def test_no_import_cycles():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert cycles == []

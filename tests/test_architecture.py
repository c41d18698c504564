"""The architecture as rules a test can check (issue 16, DESIGN.md §2, STYLE.md).

* ``sim`` never imports ``experiments``;
* no import circle inside ``sim`` or inside ``experiments``, counting imports made inside
  functions (only ``if TYPE_CHECKING:`` blocks are left out: they never run);
* ``experiments`` reads in layers, each importing only the layers before it;
* no module over 600 lines, no function over 60 lines, no folder of more than 12 modules.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sim", "experiments")

#: experiments' layers, in order: a module may import its own layer and the ones before it.
LAYERS = ("spec", "run", "analysis", "report", "national", "viz", "cli")

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60
MAX_MODULES_PER_FOLDER = 12


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


MODULES = _modules()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(sub) for stmt in node.body for sub in ast.walk(stmt))
    return skip


def _target(name: str) -> str | None:
    """The deepest project module a dotted import name refers to (None: not ours)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    """Project modules ``module`` imports anywhere in its body (TYPE_CHECKING blocks excepted)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from pkg import mod`` imports the module mod; ``from mod import name`` the module
            names = [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found.update(t for t in map(_target, names) if t is not None and t != module)
    return found


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for module in MODULES:
        graph.add_node(module)
        graph.add_edges_from((module, t) for t in imports_of(module))
    return graph


def test_sim_never_imports_experiments() -> None:
    graph = import_graph()
    bad = sorted((a, b) for a, b in graph.edges if a.startswith("sim") and b.startswith("experiments"))
    assert not bad, f"sim imports experiments: {bad}"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_circle(package: str) -> None:
    graph = import_graph()
    inside = graph.subgraph(m for m in graph if m.split(".")[0] == package)
    circles = sorted(" -> ".join([*c, c[0]]) for c in nx.simple_cycles(inside))
    assert not circles, "import circles:\n" + "\n".join(circles)


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_experiments_import_only_earlier_layers() -> None:
    graph = import_graph()
    bad = []
    for a, b in graph.edges:
        la, lb = _layer(a), _layer(b)
        if a.startswith("experiments.") and b.startswith("experiments") and (la is None or lb is None or lb > la):
            bad.append(f"{a} ({LAYERS[la] if la is not None else '?'}) imports {b}")
    assert not bad, "imports against the layers " + " → ".join(LAYERS) + ":\n" + "\n".join(sorted(bad))


def test_every_experiments_module_is_in_a_layer() -> None:
    loose = sorted(m for m in MODULES if m.startswith("experiments.") and _layer(m) is None)
    assert not loose, f"modules outside the layers {LAYERS}: {loose}"


def test_module_and_function_sizes() -> None:
    long_modules, long_functions = [], []
    for module, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        if (n := len(text.splitlines())) > MAX_MODULE_LINES:
            long_modules.append(f"{module}: {n} lines")
        for node in ast.walk(ast.parse(text)):
            is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_function and (n := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES:
                long_functions.append(f"{module}.{node.name}: {n} lines")
    assert not long_modules, f"modules over {MAX_MODULE_LINES} lines: {long_modules}"
    assert not long_functions, f"functions over {MAX_FUNCTION_LINES} lines: {long_functions}"


def test_folders_stay_small() -> None:
    per_folder = Counter(str(p.parent.relative_to(ROOT)) for p in MODULES.values() if p.name != "__init__.py")
    crowded = {d: n for d, n in per_folder.items() if n > MAX_MODULES_PER_FOLDER}
    assert not crowded, f"folders with more than {MAX_MODULES_PER_FOLDER} modules: {crowded}"


def test_the_checks_can_fail() -> None:
    """The circle check sees a circle and the layer rule sees an upward import (a check that
    cannot fail is a defect)."""
    graph = nx.DiGraph([("a", "b"), ("b", "a")])
    assert list(nx.simple_cycles(graph))
    assert _layer("experiments.spec.plan") < _layer("experiments.analysis.sensitivity")
    assert "sim.errors" in imports_of("sim.config.loading" if "sim.config.loading" in MODULES else "sim.config")

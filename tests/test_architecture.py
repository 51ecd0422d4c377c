"""The data flows one way: every import in hitm/ and formulations/ points upstream.

The layers (docs/architecture.md), upstream first: the shared kernels (errors,
fields, names, resources), the hardware, the budget, the description, the
analysis, the cost model, the problem, the solvers and the exact formulations,
the pipeline model, the frontier and comparison, the reports, the CLI. A
module may import its own layer or any upstream one, never a downstream one;
the module graph has no cycle; OR-Tools and PuLP are imported only inside
formulations/. Imports are read from the source (``ast``), function-level
ones included; those under ``if TYPE_CHECKING:`` are annotations only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS: tuple[tuple[str, ...], ...] = (
    ("formulations",),  # exact models on plain arrays: they know nothing of hitm
    (
        "hitm.errors",
        "hitm.named",
        "hitm.fields",
        "hitm.resources",
        "hitm.files",
        "hitm.patterns",
        "hitm.dag",
        "hitm.methods",
    ),
    ("hitm.hardware",),
    ("hitm.budget",),
    ("hitm.description",),
    ("hitm.analysis", "hitm.traffic", "hitm.digital"),
    ("hitm.costs", "hitm.movement", "hitm.mesh"),
    ("hitm.problem", "hitm.staircase"),
    ("hitm.optimize",),
    ("hitm.pipeline",),
    ("hitm.frontier", "hitm.comparison"),
    ("hitm.sweeps",),
    ("hitm.report",),
    ("hitm.cli",),
)
TOP = ("hitm", "hitm.__main__")  # the package's front door may gather everything


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> set[str]:
    """Modules ``path`` imports at run time (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node)
            for n in ast.walk(node)}  # fmt: skip
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _graph() -> nx.DiGraph:
    files = sorted([*ROOT.glob("hitm/**/*.py"), *ROOT.glob("formulations/**/*.py")])
    modules = {_module(f): f for f in files}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for target in _imports(path):
            if target in modules and target != name:
                graph.add_edge(name, target)
            elif target.split(".")[0] in ("ortools", "pulp", "highspy"):
                graph.add_edge(name, target.split(".")[0])
    return graph


def _layer(module: str) -> int | None:
    for i, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    return None


GRAPH = _graph()
OWN = [n for n in GRAPH if n.startswith(("hitm", "formulations"))]


def test_the_reader_sees_imports():
    """Imports at the top, inside functions, and of names from a package all count."""
    assert GRAPH.has_edge("hitm.cli.app", "hitm.report.tables")
    assert GRAPH.has_edge("hitm.description.load", "hitm.description.onnx")  # inside a function
    assert GRAPH.has_edge("hitm.analysis", "hitm.hardware")


def test_every_module_has_a_layer():
    assert [m for m in OWN if m not in TOP and _layer(m) is None] == []


def test_no_import_cycle():
    own = GRAPH.subgraph(OWN)
    assert list(nx.simple_cycles(own)) == []


@pytest.mark.parametrize("module", sorted(m for m in OWN if m not in TOP))
def test_imports_point_upstream(module):
    mine = _layer(module)
    downstream = [
        t for t in GRAPH.successors(module) if t in OWN and t not in TOP and _layer(t) > mine
    ]
    assert downstream == []


def test_solver_libraries_only_in_formulations():
    users = {
        m for lib in ("ortools", "pulp", "highspy") if lib in GRAPH for m in GRAPH.predecessors(lib)
    }
    assert users, "the formulations import the solver libraries"
    assert all(m.startswith("formulations") for m in users), sorted(users)


def test_formulations_know_nothing_of_hitm():
    assert [
        (m, t) for m in OWN if m.startswith("formulations") for t in GRAPH.successors(m)
        if t.startswith("hitm")
    ] == []  # fmt: skip


HEAVY = (
    "networkx",
    "pandas",
    "scipy",
    "ortools",
    "pulp",
    "highspy",
    "matplotlib",
    "onnx",
    "dask",
    "duckdb",
    "hitm.frontier",
    "hitm.comparison",
    "hitm.sweeps",
    "hitm.report.documents",
)


def _loaded_after(code: str) -> set[str]:
    import subprocess
    import sys

    probe = f"import sys; {code}; print('\\n'.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_the_command_line_loads_no_heavy_library_until_a_command_needs_it() -> None:
    """Every command pays for what it imports at start: the CLI's module loads none of the
    solver libraries, dataframes, plotting, ONNX, sweeps, the frontier or the JSON documents;
    `import hitm` loads nothing of hitm but the package (its names resolve on first use)."""
    loaded = _loaded_after("import hitm.cli")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY}
    assert {m for m in _loaded_after("import hitm") if m.startswith("hitm")} == {"hitm"}


def test_every_public_name_of_the_package_resolves() -> None:
    import hitm

    assert sorted(hitm.__all__) == sorted(hitm._HOME)
    for name in hitm.__all__:
        assert getattr(hitm, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = hitm.nope


def test_the_command_lines_preset_names_are_the_presets() -> None:
    from hitm.cli.options import PRESET_NAMES
    from hitm.hardware import PRESETS

    assert tuple(PRESETS) == PRESET_NAMES

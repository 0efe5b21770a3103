"""Imports run one way and never in a circle, and db/reads/ is exactly the set of read models.

- No import circle among the project's modules (every .py outside .venv, tests, bench and sdk, which
  runs inside the SDKs' apps, not Footfall), counting
  imports inside functions too: a lazy import still ties two modules together.
- No import runs up a layer. Lowest first: core, db, services, then collector and ui, then pages
  and the app scripts, then footfall (the command line), which nothing else imports. A package
  imports its own modules and those of lower layers only, never a neighbour's on its own layer.
  tests/ and bench/ may import anything.
- ui.data.read accepts every public function of every module of db/reads/, and nothing else of db/.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOT_THE_APP = {".venv", "tests", "bench", "sdk", "node_modules", "build", "dist"}
LAYERS = (("core",), ("db",), ("services",), ("collector", "ui"), ("pages", "streamlit_app", "dashboard_app"),
          ("footfall",))


def project_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if not NOT_THE_APP & set(p.relative_to(root).parts)
                  and not any(part.startswith(".") or part.endswith(".egg-info") for part in p.relative_to(root).parts))


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Each project module -> the project modules it imports, at module level or in a function
    (`from db.reads import home` imports db.reads.home; a name from a module imports that module)."""
    files = {module_name(root, p): p for p in project_files(root)}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in files:  # a name inside a module: the module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.add(target)
        graph[name] = found
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports (its first module again at the end), or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[module] = "done"
        path.pop()
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def layer(module: str) -> int | None:
    top = module.split(".")[0]
    return next((index for index, packages in enumerate(LAYERS) if top in packages), None)


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a higher layer, or of another package on the importer's own layer."""
    return sorted(f"{module} -> {target}" for module, targets in graph.items() for target in targets
                  if module.split(".")[0] != target.split(".")[0] and layer(target) >= layer(module))


GRAPH = import_graph(ROOT)


def test_the_checks_see_every_form_of_import_and_catch_a_circle_and_an_upward_import(tmp_path):
    for name, text in {
        "core/__init__.py": "",
        "core/a.py": "import os\n",
        "db/__init__.py": "",
        "db/reads/__init__.py": "",
        "db/reads/home.py": "from core import a\n",
        "db/b.py": "def f():\n    from db.reads import home\n",  # in a function, a module named in `from`
        "db/c.py": "from .reads.home import x\nimport core.a\n",  # relative, and plain
        "tests/t.py": "import footfall\n",  # tests may import anything: not in the graph
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path)
    assert graph == {"core": set(), "core.a": set(), "db": set(), "db.reads": set(), "db.reads.home": {"core.a"},
                     "db.b": {"db.reads.home"}, "db.c": {"db.reads.home", "core.a"}}
    assert find_cycle(graph) is None and upward_imports(graph) == []
    (tmp_path / "core/a.py").write_text("def g():\n    from db import b\n")  # core -> db: up, and a circle
    graph = import_graph(tmp_path)
    assert find_cycle(graph) == ["core.a", "db.b", "db.reads.home", "core.a"]
    assert upward_imports(graph) == ["core.a -> db.b"]


def test_every_module_of_the_app_is_in_a_layer():
    assert {module.split(".")[0] for module in GRAPH if layer(module) is None} == set()
    assert {"core", "db", "services", "collector", "ui", "pages", "footfall"} <= {m.split(".")[0] for m in GRAPH}


def test_no_import_circle():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_no_import_runs_up_a_layer():
    assert upward_imports(GRAPH) == []


def test_nothing_imports_the_command_line_but_itself():
    assert sorted(f"{m} -> {t}" for m, ts in GRAPH.items() for t in ts
                  if t.split(".")[0] == "footfall" and m.split(".")[0] != "footfall") == []


def public_functions(module) -> list:
    return [fn for name, fn in inspect.getmembers(module, inspect.isfunction)
            if not name.startswith("_") and fn.__module__ == module.__name__]


READS = [importlib.import_module(f"db.reads.{info.name}") for info in pkgutil.iter_modules([str(ROOT / "db" / "reads")])]
OTHER_DB = [importlib.import_module(info.name) for info in pkgutil.walk_packages([str(ROOT / "db")], "db.")
            if not info.name.startswith("db.reads.") and not info.ispkg]


def test_db_reads_holds_the_read_models():
    assert {module.__name__.rpartition(".")[2] for module in READS} >= {"home", "customers", "profile", "own_page"}
    assert len(OTHER_DB) > 20


@pytest.mark.parametrize("module", READS, ids=lambda m: m.__name__)
def test_every_public_function_of_db_reads_is_a_read_model_ui_data_accepts(module):
    from ui.data import read_model_name

    functions = public_functions(module)
    assert functions, "a read model with nothing to read"
    assert [read_model_name(fn) for fn in functions] == [f"{module.__name__}.{fn.__name__}" for fn in functions]


@pytest.mark.parametrize("module", OTHER_DB, ids=lambda m: m.__name__)
def test_no_function_outside_db_reads_is_a_read_model(module):
    from ui.data import read_model_name

    accepted = []
    for fn in public_functions(module):
        try:
            accepted.append(read_model_name(fn))
        except TypeError:
            pass
    assert accepted == []

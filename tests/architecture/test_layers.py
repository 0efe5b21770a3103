"""The layers hold: each rule of the layout is checked over every file it governs.

- SQL lives only in db/;
- db/ never imports Streamlit, the UI, the collector, the services or the CLI;
- only db/backends/ asks which engine it is on (on_postgres, is_postgres) or imports a driver;
- settings are read from the environment only in services/settings.py;
- streamlit_app.py only routes, and pages reach the database only through ui/data.py;
- nothing changes sys.path;
- every public function and class has a docstring, every read model says what it serves and reads.
(core/'s purity has its own test, tests/core/test_core_is_pure.py; the direction of every import
and the read models' folder theirs, tests/architecture/test_imports.py.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_DIRS = ("core", "db", "services", "ui", "collector", "footfall", "pages")
APP_FILES = sorted(p for d in APP_DIRS for p in (ROOT / d).rglob("*.py")) + [ROOT / "streamlit_app.py"]
ALL_FILES = APP_FILES + sorted((ROOT / "bench").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py"))
SQL = re.compile(r"\b(SELECT\b[\s\S]*\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|PRAGMA)\b")


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def sql_strings(path: Path) -> list[str]:
    return [node.value for node in ast.walk(tree(path))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value)]


def sql_calls(path: Path) -> list[str]:
    return [node.func.attr for node in ast.walk(tree(path)) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr in ("execute", "executemany", "executescript")]


def test_the_checks_see_sql_and_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('import os\nfrom db.reads import home\nq = "SELECT id FROM apis"\nconn.execute(q)\n'
                      'p = "PRAGMA user_version"\n')
    assert len(sql_strings(sample)) == 2 and sql_calls(sample) == ["execute"]
    assert {"os", "db.reads", "db.reads.home"} <= imports(sample)
    sample.write_text('text = "Select a row to open the profile"\n')
    assert sql_strings(sample) == []


@pytest.mark.parametrize("path", [p for p in APP_FILES if not name(p).startswith("db/")], ids=name)
def test_sql_lives_only_in_db(path):
    assert sql_strings(path) == [] and sql_calls(path) == []


DB_FILES = sorted((ROOT / "db").rglob("*.py"))


@pytest.mark.parametrize("path", DB_FILES, ids=name)
def test_db_imports_no_streamlit_ui_collector_services_or_cli(path):
    assert not {m for m in imports(path)
                if m.split(".")[0] in ("streamlit", "ui", "collector", "services", "footfall", "pages")}


# Only db/backends/ asks which engine it is on or imports a driver (db/connection.py reads the
# setting: is_postgres); SQLite's own schema asks sqlite3 where its statements end.
ENGINE_QUESTIONS = {"on_postgres", "is_postgres"}
DRIVERS = ("sqlite3", "psycopg", "psycopg_pool")
OUTSIDE_THE_BACKENDS_MAY = {"db/connection.py": {"is_postgres"}, "db/schema/sqlite.py": {"sqlite3"}}


def engine_questions_and_drivers(path: Path) -> set[str]:
    """The engine questions (on_postgres, is_postgres) a module names and the drivers it imports."""
    named = {node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else node.name
             for node in ast.walk(tree(path)) if isinstance(node, ast.Name | ast.Attribute | ast.FunctionDef | ast.alias)}
    return ({name for name in named if name and name.rpartition(".")[2] in ENGINE_QUESTIONS}
            | {m.split(".")[0] for m in imports(path) if m.split(".")[0] in DRIVERS})


def test_the_engine_check_sees_questions_and_drivers(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import sqlite3\nfrom psycopg import pq\nfrom db.connection import is_postgres\n"
                      "def f(conn):\n    return backends.on_postgres(conn)\n")
    assert engine_questions_and_drivers(sample) == {"sqlite3", "psycopg", "is_postgres", "on_postgres"}


@pytest.mark.parametrize("path", [p for p in APP_FILES if not name(p).startswith("db/backends/")], ids=name)
def test_only_the_backends_ask_which_engine_they_are_on_or_import_a_driver(path):
    assert engine_questions_and_drivers(path) <= OUTSIDE_THE_BACKENDS_MAY.get(name(path), set())


def environment_reads(path: Path) -> list[int]:
    """Lines that read the environment: os.getenv(...), os.environ.get(...), os.environ[...]."""
    lines = []
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = ast.unparse(node.func)
            if target in ("os.getenv", "os.environ.get", "environ.get", "getenv"):
                lines.append(node.lineno)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and ast.unparse(node.value) in (
                "os.environ", "environ"):
            lines.append(node.lineno)
    return lines


def test_the_environment_check_sees_every_form_of_read(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('import os\na = os.getenv("X")\nb = os.environ.get("Y")\nc = os.environ["Z"]\n'
                      'env = {**os.environ, "FOOTFALL_DB": "x"}\nos.environ.update(A="1")\n')
    assert environment_reads(sample) == [2, 3, 4]


@pytest.mark.parametrize("path", [p for p in APP_FILES if name(p) != "services/settings.py"], ids=name)
def test_settings_are_read_from_the_environment_only_in_services_settings(path):
    assert environment_reads(path) == []


def test_streamlit_app_only_routes_and_draws_the_sidebar():
    assert {m.split(".")[0] for m in imports(ROOT / "streamlit_app.py")} <= {"streamlit", "ui"}


@pytest.mark.parametrize("path", sorted((ROOT / "pages").glob("*.py")) + sorted((ROOT / "ui").glob("*.py")), ids=name)
def test_pages_reach_the_database_only_through_ui_data(path):
    """No connection, no SQLite, no writer, no figure builder, no backend: read-model functions
    (db/reads/) go to data.read, edits to data.write."""
    if name(path) == "ui/data.py":
        return
    forbidden = ("sqlite3", "db.connection", "db.backends", "db.schema", "db.queries", "db.operations",
                 "db.writes.records", "db.writes.apis", "db.writes.upserts", "db.writes.counters")
    assert not {m for m in imports(path) if m.startswith(forbidden)}


@pytest.mark.parametrize("path", [p for p in APP_FILES if p.parent.name in ("ui", "pages")] + [ROOT / "streamlit_app.py"],
                         ids=name)
def test_the_dashboard_uses_only_streamlit_s_public_api(path):
    """No private module (streamlit.runtime, ...), so no patch of Streamlit's internals. One module
    may read them: the sign-in gate on Streamlit's HTTP routes (its route names and cookie), whose
    test (tests/browser/test_sign_in.py) fails when a Streamlit upgrade changes them."""
    if name(path) == "ui/session_gate.py":
        return
    assert not {m for m in imports(path) if m.startswith("streamlit.") and not m.startswith("streamlit.column_config")}


@pytest.mark.parametrize("path", ALL_FILES, ids=name)
def test_nothing_changes_sys_path(path):
    assert not re.search(r"sys\.path\.(insert|append|extend)|sys\.path\s*=", path.read_text(encoding="utf-8"))


def public_definitions(path: Path) -> list[ast.AST]:
    return [node for node in tree(path).body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_")]


@pytest.mark.parametrize("path", [p for p in APP_FILES if p.parent.name != "pages"], ids=name)
def test_every_module_public_function_and_class_has_a_docstring(path):
    assert ast.get_docstring(tree(path)), "module"
    assert [node.name for node in public_definitions(path) if not ast.get_docstring(node)] == []


READ_MODELS = sorted(p for p in (ROOT / "db" / "reads").glob("*.py") if p.name != "__init__.py")  # the folder is the list


@pytest.mark.parametrize("model", READ_MODELS, ids=name)
def test_each_read_model_says_which_page_it_serves_and_which_rollups_it_reads(model):
    doc = ast.get_docstring(tree(model))
    assert re.search(r"\b(page|sidebar|profile|history)\b.*read model", doc, re.S), doc
    assert re.search(r"\b(api_hourly|customer_hourly|customer_daily|api_customers|customers|apis|requests)\b", doc), doc
    assert len(model.read_text().splitlines()) < 400  # one sitting

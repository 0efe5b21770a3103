"""core/ is the domain: it imports neither streamlit, nor sqlite, nor any other layer (storage, services, UI,
collector, command line)."""

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"
FORBIDDEN = ("streamlit", "sqlite3", "db", "services", "ui", "collector", "footfall")


def imported_modules(source: str) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def forbidden_imports(source: str) -> set[str]:
    return {m for m in imported_modules(source) if m.split(".")[0] in FORBIDDEN}


def test_the_check_catches_every_form_of_import():
    assert forbidden_imports("import streamlit as st") == {"streamlit"}
    assert forbidden_imports("from sqlite3 import connect") == {"sqlite3"}
    assert forbidden_imports("def f():\n    import sqlite3\n") == {"sqlite3"}
    assert forbidden_imports("from db.reads.customers import customer_page") == {"db.reads.customers"}
    assert forbidden_imports("from ui.format import plain") == {"ui.format"}
    assert forbidden_imports("import polars, orjson\nfrom core.periods import Period") == set()


CORE_FILES = sorted(CORE.rglob("*.py"))


def test_core_has_modules_to_check():
    assert len(CORE_FILES) > 1


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(CORE)))
def test_core_modules_import_neither_streamlit_nor_sqlite_nor_another_layer(path):
    assert forbidden_imports(path.read_text(encoding="utf-8")) == set()

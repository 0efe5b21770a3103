"""Every SQL literal of db/ survives the translation for PostgreSQL (db/backends/postgres.py's
to_postgres) with nothing of SQLite's dialect left in it.

The literals are found by reading the code (ast), not by running it: string constants passed to
execute, executemany, executescript, frame and the other functions that take SQL (SQL_CALLS),
those assigned to SQL-ish names (sql, where, query, ...), and any other string that reads as SQL
(SQL_TEXT: a statement, a clause, a `?` parameter) but a docstring, a message or a pattern (NOT_SQL);
an f-string or a concatenation by its static parts, each value put in stands as `x`. SQLite's own
files (SQLITE_ONLY) never reach PostgreSQL and are left out. Each literal is translated, and what
comes out is checked for what the translation must never leave, outside strings and comments:
a `?`, INSERT OR, json_each, a MIN or MAX of two arguments, a LIKE with a parameter, BEGIN
IMMEDIATE, PRAGMA, SQLite's tables and functions, and a % psycopg would misread.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from db.backends.postgres import to_postgres
from db.errors import UntranslatableSql

ROOT = Path(__file__).resolve().parents[2]
SQLITE_ONLY = {"db/backends/sqlite.py", "db/schema/sqlite.py"}
SQL_CALLS = {"execute", "executemany", "executescript", "frame", "for_update", "delete_requests", "request_tables",
             "upsert", "_edit"}
SQL_NAME = re.compile(r"(^|_)(sql|query|where|clause|select|statement|condition)s?($|_)", re.IGNORECASE)
SQL_TEXT = re.compile(r"\b(SELECT\b[\s\S]*\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM"
                      r"|CREATE\s+(TABLE|INDEX)|(ALTER|DROP)\s+TABLE|BEGIN|PRAGMA|VACUUM|TRUNCATE|WHERE|LIKE|JOIN"
                      r"|ORDER\s+BY|GROUP\s+BY|ON\s+CONFLICT|CASE\s+WHEN|(MIN|MAX)\()\b|[=<>(,]\s*\?")
NOT_SQL = re.compile(r"^([A-Z]\w*|refuse|print|compile)$")  # exceptions, messages, regular expressions


def rendered(node: ast.AST) -> str | None:
    """A string expression's text (an f-string's or a concatenation's static parts, `x` for each
    value put in); None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "x" for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = rendered(node.left), rendered(node.right)
        if left is not None or right is not None:
            return (left if left is not None else "x") + (right if right is not None else "x")
    return None


def sql_literals(path: Path) -> dict[int, set[str]]:
    """Every SQL literal of a module, by line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    inside = {id(child) for node in ast.walk(tree) if rendered(node) is not None and not isinstance(node, ast.Constant)
              for child in ast.walk(node) if child is not node}  # the parts of a rendered whole
    messages = {id(argument) for node in ast.walk(tree) if isinstance(node, ast.Call)
                and NOT_SQL.match(node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", ""))
                for argument in node.args}
    found: dict[int, set[str]] = {}

    def add(node: ast.AST) -> None:
        text = rendered(node)
        if text is not None:
            found.setdefault(node.lineno, set()).add(text)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in SQL_CALLS:
                for argument in node.args:
                    add(argument)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Name) and SQL_NAME.search(target.id) for target in targets):
                add(node.value)
        elif id(node) not in docstrings | inside | messages and SQL_TEXT.search(rendered(node) or ""):
            add(node)
    return found


def untranslated(sql: str) -> list[str]:
    """What of SQLite's dialect is left in a translated statement, outside strings and comments."""
    code = re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", " ", sql, flags=re.DOTALL)
    left = [name for name, pattern in LEFTOVERS.items() if re.search(pattern, code, re.IGNORECASE)]
    if any(_arguments(code, start) >= 2 for start in (m.end() for m in re.finditer(r"\b(MIN|MAX)\s*\(", code, re.I))):
        left.append("MIN or MAX of two arguments")
    if re.search(r"%(?![s%])", code.replace("%%", "")):
        left.append("a % psycopg would read as a placeholder")
    return left


LEFTOVERS = {
    "a ? parameter": r"\?",
    "INSERT OR": r"\bINSERT\s+OR\b",
    "REPLACE INTO": r"\bREPLACE\s+INTO\b",
    "json_each": r"\bjson_each\s*\(",
    "a case-sensitive LIKE of a parameter": r"(?<!I)\bLIKE\s+(%s|\?)",
    "BEGIN IMMEDIATE": r"\bBEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED)\b",
    "PRAGMA": r"\bPRAGMA\b|\bpragma_\w+",
    "SQLite's tables": r"\bsqlite_\w+",
    "SQLite's table options": r"\bWITHOUT\s+ROWID\b|\bAUTOINCREMENT\b",
    "SQLite's JSON operators": r"->",
    "SQLite's functions": r"\b(ifnull|group_concat|strftime|julianday|unixepoch|printf|instr|iif|typeof|total)\s*\(",
}


def _arguments(code: str, start: int) -> int:
    """How many arguments the call whose parenthesis opens before `start` has."""
    depth, commas = 1, 0
    for char in code[start:]:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            break
        commas += char == "," and depth == 1
    return commas + 1


def problems(root: Path, translate: Callable[[str], str]) -> list[str]:
    """Every SQL literal of root's db/ that `translate` refuses or leaves untranslated, with where."""
    found = []
    for path in sorted((root / "db").rglob("*.py")):
        where = str(path.relative_to(root))
        if where in SQLITE_ONLY:
            continue
        for line, texts in sorted(sql_literals(path).items()):
            for text in sorted(texts):
                try:
                    left = untranslated(translate(text))
                except UntranslatableSql as refused:
                    left = [str(refused)]
                found += [f"{where}:{line}: {problem}: {' '.join(text.split())[:120]}" for problem in left]
    return found


def test_every_sql_literal_of_db_is_translated_for_postgresql_with_nothing_of_sqlite_left():
    assert sum(len(texts) for path in (ROOT / "db").rglob("*.py") for texts in sql_literals(path).values()) > 250
    assert problems(ROOT, to_postgres) == []


def test_the_guard_fails_against_a_translation_that_leaves_sqlite_in_place():
    kinds = {problem.split(": ")[1] for problem in problems(ROOT, lambda sql: sql)}
    assert {"a ? parameter", "INSERT OR", "json_each", "MIN or MAX of two arguments",
            "a case-sensitive LIKE of a parameter", "BEGIN IMMEDIATE"} <= kinds


def test_the_guard_finds_sql_in_every_form_and_flags_what_the_translation_refuses(tmp_path):
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "sample.py").write_text('''
def f(conn, table, lock):
    """A docstring that says SELECT a FROM t WHERE b = ? is not SQL."""
    conn.execute("SELECT a FROM t WHERE b = ?", (1,))
    conn.execute(f"UPDATE {table} SET a = MIN(a, COALESCE(b, 0))")
    where = " AND c = 'why?'"
    sql = "SELECT a FROM " + table + " WHERE d GLOB 'x*'"
    sql += " -- and a comment? "
    frame(conn, "INSERT OR IGNORE INTO t (a) VALUES (?) RETURNING id", [])
    statements = ["DELETE FROM t WHERE a IN (SELECT value FROM json_each(t.ids))"]
    return conn.execute(conn.backend.for_update(f"SELECT x FROM {table}{lock}"))
''')
    assert sql_literals(tmp_path / "db" / "sample.py") == {
        4: {"SELECT a FROM t WHERE b = ?"}, 5: {"UPDATE x SET a = MIN(a, COALESCE(b, 0))"},
        6: {" AND c = 'why?'"}, 7: {"SELECT a FROM x WHERE d GLOB 'x*'"}, 8: {" -- and a comment? "},
        9: {"INSERT OR IGNORE INTO t (a) VALUES (?) RETURNING id"},
        10: {"DELETE FROM t WHERE a IN (SELECT value FROM json_each(t.ids))"}, 11: {"SELECT x FROM xx"}}
    flagged = problems(tmp_path, to_postgres)
    assert [problem.split(": ")[0] for problem in flagged] == [f"db/sample.py:{line}" for line in (5, 6, 7, 8, 9, 10)]
    assert untranslated("SELECT a, MAX(b, c) FROM t WHERE d = 'x?' AND e LIKE %s AND f % 2 -- ?") == [
        "a case-sensitive LIKE of a parameter", "MIN or MAX of two arguments", "a % psycopg would read as a placeholder"]

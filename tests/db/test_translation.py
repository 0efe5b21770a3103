"""The translation of db/'s SQL for PostgreSQL (db/backends/postgres.py's to_postgres) does what its
docstring promises, and refuses what it does not cover rather than passing it on half translated.
(Every SQL literal of db/ goes through it in tests/architecture/test_sql_translation.py.)"""

from __future__ import annotations

import pytest

from db.backends.postgres import to_postgres
from db.errors import ProgrammingError, UntranslatableSql


@pytest.mark.parametrize("sql, translated", [
    ("SELECT a FROM t WHERE b = ? AND c % 7 = ?", "SELECT a FROM t WHERE b = %s AND c %% 7 = %s"),
    ("SELECT a FROM t WHERE b = '50%' -- a 5% sample", "SELECT a FROM t WHERE b = '50%%' -- a 5%% sample"),
    ("SELECT value FROM json_each(?)",
     "SELECT value FROM (SELECT value::bigint AS value FROM json_array_elements_text(%s::json)) AS json_each"),
    ("SELECT c.id FROM json_each(?) AS moved CROSS JOIN customers c",
     "SELECT c.id FROM (SELECT value::bigint AS value FROM json_array_elements_text(%s::json)) AS moved"
     " CROSS JOIN customers c"),
    ("INSERT OR IGNORE INTO favorites (analyst, customer_id) SELECT ?, id FROM customers WHERE external_id = ?",
     "INSERT INTO favorites (analyst, customer_id) SELECT %s, id FROM customers WHERE external_id = %s"
     " ON CONFLICT DO NOTHING"),
    ("INSERT OR IGNORE INTO t VALUES (?);", "INSERT INTO t VALUES (%s) ON CONFLICT DO NOTHING;"),
    ("UPDATE t SET a = MIN(t.a, excluded.a), b = MAX(b, 0), n = MAX(n)",
     "UPDATE t SET a = LEAST(t.a, excluded.a), b = GREATEST(b, 0), n = MAX(n)"),
    ("SELECT MIN(COALESCE(a, 0)) FROM t", "SELECT MIN(COALESCE(a, 0)) FROM t"),  # an aggregate stays
    ("SELECT a FROM t WHERE a LIKE ? ESCAPE '\\' OR b NOT LIKE ?",
     "SELECT a FROM t WHERE a ILIKE %s ESCAPE '\\' OR b NOT ILIKE %s"),
    ("SELECT a FROM t WHERE a LIKE 'x%'", "SELECT a FROM t WHERE a ILIKE 'x%%'"),
    ("CREATE TABLE requests_d1 (LIKE requests INCLUDING DEFAULTS)", "CREATE TABLE requests_d1 (LIKE requests INCLUDING DEFAULTS)"),
    ("BEGIN IMMEDIATE", "BEGIN"),
    ("SELECT a FROM t WHERE x = 1 AND +api_id = ? OR +day >= ?", "SELECT a FROM t WHERE x = 1 AND api_id = %s OR day >= %s"),
    ("SELECT a + +b FROM t WHERE c = 'it''s'", "SELECT a + +b FROM t WHERE c = 'it''s'"),
    ("SELECT CAST(? AS regclass)::text, s.customers FROM t AS s", "SELECT CAST(%s AS regclass)::text, s.customers FROM t AS s"),
])
def test_what_the_translation_promises(sql, translated):
    assert to_postgres(sql) == translated


@pytest.mark.parametrize("sql, why", [
    ("SELECT a FROM t -- is it? \nWHERE b = ?", "a ? inside a comment"),
    ("SELECT a FROM t /* ? */ WHERE b = ?", "a ? inside a comment"),
    ("SELECT a FROM t WHERE b = 'why?'", "a ? inside a string"),
    ('SELECT "a?" FROM t', "a ? inside a name"),
    ("SELECT a FROM t WHERE b = ?1", "the parameter ?1"),
    ("SELECT a FROM t WHERE b = :b", "the parameter :b"),
    ("SELECT a FROM t WHERE b = @b", "the parameter @b"),
    ("INSERT OR IGNORE INTO t (a) VALUES (?) RETURNING id", "RETURNING or a conflict clause"),
    ("INSERT OR IGNORE INTO t (a) VALUES (?) ON CONFLICT (a) DO NOTHING", "RETURNING or a conflict clause"),
    ("INSERT OR REPLACE INTO t (a) VALUES (?)", "only as INSERT OR IGNORE INTO"),
    ("WITH x AS (SELECT 1) INSERT OR IGNORE INTO t SELECT * FROM x", "only as INSERT OR IGNORE INTO"),
    ("REPLACE INTO t (a) VALUES (?)", "REPLACE is SQLite's"),
    ("SELECT value FROM json_each(t.ids)", "json_each of anything but a ? parameter"),
    ("SELECT ids.value FROM json_each(?) ids", "aliased without AS"),
    ("UPDATE t SET a = MIN(a, COALESCE(b, 0))", "not a column or a number"),
    ("UPDATE t SET a = MAX(a, b + 1)", "not a column or a number"),
    ("UPDATE t SET a = MIN(a, ?)", "not a column or a number"),
    ("SELECT a FROM t WHERE a LIKE b", "LIKE against anything but a ? parameter or a string"),
    ("SELECT a FROM t WHERE a GLOB ?", "GLOB is SQLite's"),
    ("BEGIN EXCLUSIVE", "BEGIN EXCLUSIVE"),
    ("PRAGMA user_version", "PRAGMA is SQLite's"),
    ("SELECT name FROM sqlite_master", "sqlite_master is SQLite's"),
    ("SELECT * FROM pragma_table_info('t')", "pragma_table_info is SQLite's"),
    ("CREATE TABLE t (a INTEGER PRIMARY KEY AUTOINCREMENT)", "AUTOINCREMENT is SQLite's"),
    ("CREATE TABLE t (a INTEGER PRIMARY KEY) WITHOUT ROWID", "WITHOUT is SQLite's"),
    ("SELECT ifnull(a, 0) FROM t", "ifnull() is SQLite's"),
    ("SELECT strftime('%s', ts) FROM t", "strftime() is SQLite's"),
    ("SELECT value ->> 0 FROM t", "SQLite's JSON operator ->>"),
    ("SELECT a FROM t WHERE b = 'open", "an unterminated string"),
    ("SELECT MIN(a, b FROM t", "unbalanced parentheses"),
])
def test_what_the_translation_cannot_do_it_refuses(sql, why):
    with pytest.raises(UntranslatableSql, match=why.replace("?", r"\?").replace("(", r"\(").replace(")", r"\)")):
        to_postgres(sql)


def test_a_refusal_is_a_programming_error_that_shows_the_statement():
    with pytest.raises(ProgrammingError) as refused:
        to_postgres("SELECT a FROM t\n  WHERE b = MIN(a, abs(b))")
    assert str(refused.value).endswith(": SELECT a FROM t WHERE b = MIN(a, abs(b))")

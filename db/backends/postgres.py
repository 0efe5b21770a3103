"""PostgreSQL behind the same db/ functions: a psycopg 3 connection that db/ talks to as it talks
to sqlite3's, and the dialect translation in one place.

db/ writes its SQL once, in the subset both servers share (bound parameters as `?`, upserts with
their conflict target, RETURNING, row values). What differs is rewritten here, statement by
statement, and cached:
- `?` becomes psycopg's `%s` (a literal `%`, the modulo operator, becomes `%%`);
- `json_each(?)`, the list of ids a query is handed as a JSON array, becomes a set of bigints;
- `INSERT OR IGNORE` becomes `INSERT ... ON CONFLICT DO NOTHING`;
- two-argument MIN and MAX (SQLite's scalar forms) become LEAST and GREATEST;
- `LIKE ?` becomes `ILIKE ?`: SQLite's LIKE ignores ASCII case, PostgreSQL's does not;
- `BEGIN IMMEDIATE` becomes `BEGIN` (PostgreSQL's row locks do what SQLite's write lock did);
- a unary `+` before a column in a condition (`AND +api_id = ?`), SQLite's way of keeping its planner
  off that column's index, is dropped: PostgreSQL would estimate `+api_id = ?` blindly (0.5% of the
  rows) and, at 10M requests, sort a customer's whole period instead of reading its newest rows
  from the (customer_id, ts) index; with the bare column its statistics choose the index.
Errors come out as the sqlite3 module's classes (IntegrityError, OperationalError), so a caller
handles one family whatever the server. NUMERIC results (SUM of integers) come back as int when
whole and float otherwise, as SQLite gives them.
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache

import psycopg
from psycopg import pq
from psycopg.adapt import Loader

from db.backends.postgres_url import CannotConnect, without_password, without_secrets

# Every connection's: autocommit (transactions are explicit), and JIT off: Footfall's queries are
# short, and compiling one costs more than it saves (at 10M, 497 ms on a plan that ran in 100).
CONNECT_OPTIONS = {"autocommit": True, "connect_timeout": 30, "options": "-c jit=off"}


class _NumericLoader(Loader):
    """NUMERIC as SQLite gives sums: int when whole, float otherwise."""

    def load(self, data) -> int | float:
        text = bytes(data)
        if b"." in text or b"e" in text or b"N" in text:
            return float(text)
        return int(text)


class PgConnection:
    """One PostgreSQL connection in autocommit mode, transactions opened explicitly (BEGIN), as
    db/connection.py opens SQLite's."""

    dialect = "postgresql"

    def __init__(self, url: str, *, read_only: bool = False):
        try:
            self.raw = psycopg.connect(url, **CONNECT_OPTIONS)
        except psycopg.Error as error:
            raise CannotConnect(f"cannot reach PostgreSQL at {without_password(url)}: {without_secrets(str(error), url)}"
                                ) from None
        self.raw.adapters.register_loader("numeric", _NumericLoader)
        self.url = url
        if read_only:
            self.raw.execute("SET default_transaction_read_only = on")

    def execute(self, sql: str, params=()) -> psycopg.Cursor:
        try:
            return self.raw.execute(to_postgres(sql), _params(params), prepare=False)
        except psycopg.Error as error:
            raise _as_sqlite_error(error) from error

    def executemany(self, sql: str, rows) -> psycopg.Cursor:
        cursor = self.raw.cursor()
        try:
            cursor.executemany(to_postgres(sql), [_params(row) for row in rows])
        except psycopg.Error as error:
            raise _as_sqlite_error(error) from error
        return cursor

    def cursor(self) -> psycopg.Cursor:
        return self.raw.cursor()

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_only_pooled(raw: psycopg.Connection, url: str) -> PgConnection:
    """A read-only PgConnection around a connection a pool opened (psycopg_pool, autocommit), set
    up as connect_readonly's, without connecting again; the pool's `configure` calls it once per
    connection."""
    conn = PgConnection.__new__(PgConnection)
    conn.raw, conn.url = raw, url
    raw.adapters.register_loader("numeric", _NumericLoader)
    raw.execute("SET default_transaction_read_only = on")
    return conn


def _params(params):
    if isinstance(params, dict):
        return params
    return tuple(params)


def _as_sqlite_error(error: psycopg.Error) -> sqlite3.Error:
    if isinstance(error, psycopg.errors.IntegrityError):
        return sqlite3.IntegrityError(str(error))
    if isinstance(error, psycopg.OperationalError | psycopg.errors.OperationalError
                  | psycopg.errors.ReadOnlySqlTransaction):  # a write on a read-only connection, as SQLite's
        return sqlite3.OperationalError(str(error))
    if isinstance(error, psycopg.errors.ProgrammingError | psycopg.errors.DataError):
        return sqlite3.ProgrammingError(str(error))
    return sqlite3.DatabaseError(str(error))


_LITERAL_OR_MARK = re.compile(r"'(?:[^']|'')*'|\?|%")
_JSON_EACH = re.compile(r"json_each\(\?\)(\s+AS\s+(\w+))?", re.IGNORECASE)
_INSERT_OR_IGNORE = re.compile(r"^\s*INSERT OR IGNORE INTO", re.IGNORECASE)
_SCALAR_MIN_MAX = re.compile(r"\b(MIN|MAX)\(([\w.+]+),\s*([\w.+]+)\)", re.IGNORECASE)
_LIKE = re.compile(r"\bLIKE(?=\s+\?)")
_UNARY_PLUS = re.compile(r"\b(AND|OR|WHERE|ON)(\s+)\+(?=[A-Za-z_])", re.IGNORECASE)


@lru_cache(maxsize=4096)
def to_postgres(sql: str) -> str:
    """The statement in PostgreSQL's dialect (the rules in this module's docstring)."""
    if sql.lstrip().upper().startswith("BEGIN IMMEDIATE"):
        return "BEGIN"
    sql = _JSON_EACH.sub(lambda m: f"(SELECT value::bigint AS value FROM json_array_elements_text(?::json))"
                                   f" AS {m.group(2) or 'json_each'}", sql)
    if _INSERT_OR_IGNORE.match(sql):
        sql = _INSERT_OR_IGNORE.sub("INSERT INTO", sql, count=1).rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    sql = _SCALAR_MIN_MAX.sub(lambda m: f"{'LEAST' if m.group(1).upper() == 'MIN' else 'GREATEST'}"
                                        f"({m.group(2)}, {m.group(3)})", sql)
    sql = _LIKE.sub("ILIKE", sql)
    sql = _UNARY_PLUS.sub(r"\1\2", sql)
    # psycopg reads % as a placeholder inside string literals too: a literal keeps its ? but doubles its %.
    return _LITERAL_OR_MARK.sub(lambda m: {"?": "%s", "%": "%%"}.get(m.group(0), m.group(0).replace("%", "%%")), sql)

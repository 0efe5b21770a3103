"""PostgreSQL behind the same db/ functions: a psycopg 3 connection that db/ talks to as it talks to
SQLite's, the translation of db/'s SQL, and PostgreSQL's side of every operation that differs
(db/backends/base.py): several writers on one server (row locks, advisory locks, COPY), raw
requests in day partitions, pg_dump backups, keys in a settings row, leases for a team server.

The translation (to_postgres). db/ writes its SQL once, in SQLite's dialect with `?` parameters,
using only what both servers share (upserts with their conflict target, RETURNING, row values,
CAST, COALESCE, aggregates) and these few forms, which are rewritten, statement by statement, and
cached:
- `?`, a parameter, becomes psycopg's `%s`, and a literal `%` (the modulo operator, in a string or
  comment too) becomes `%%`;
- `json_each(?)`, handed a JSON array of integers, becomes a set of bigints, read through its
  `value` column (none of SQLite's other json_each columns exist), aliased `AS name` or not at all;
- `INSERT OR IGNORE INTO ...` (as the statement) becomes `INSERT INTO ... ON CONFLICT DO NOTHING`;
- MIN and MAX of two or more columns or numbers (SQLite's scalar forms) become LEAST and GREATEST
  (they skip a NULL where SQLite's give NULL: Footfall compares NOT NULL columns alone);
- `LIKE ?` and `LIKE 'pattern'` become ILIKE: SQLite's LIKE ignores ASCII case, PostgreSQL's does not;
- `BEGIN IMMEDIATE` becomes `BEGIN` (PostgreSQL's row locks do what SQLite's write lock did);
- a unary `+` before a column right after AND, OR, WHERE or ON (`AND +api_id = ?`), SQLite's way of
  keeping its planner off that column's index, is dropped: PostgreSQL would estimate `+api_id = ?`
  blindly (0.5% of the rows) and, at 10M requests, sort a customer's whole period instead of reading
  its newest rows from the (customer_id, ts) index; with the bare column its statistics choose it.
Everything else is passed as it is. Refused, with UntranslatableSql, rather than sent half
translated: a `?` inside a string, a quoted name or a comment (a parameter meant there would be
lost); `?NNN`, `:name`, `@name` and `$name` parameters; other forms of INSERT OR, REPLACE INTO,
INSERT OR IGNORE with RETURNING or a conflict clause of its own; json_each of anything but `?`, or
aliased without AS; MIN or MAX of two or more arguments of which one is not a column or a number
(a nested call, an expression); LIKE against anything but a parameter or a string (but CREATE TABLE's
`(LIKE table ...)`), GLOB and REGEXP; BEGIN DEFERRED and EXCLUSIVE; PRAGMA, sqlite_ and pragma_
tables, WITHOUT ROWID, AUTOINCREMENT, SQLite's JSON operators and SQLite-only functions
(SQLITE_ONLY_FUNCTIONS); an unterminated string, name or comment; unbalanced parentheses.

Errors come out as db/errors.py's. NUMERIC results (SUM of integers) come back as int when whole
and float otherwise, as SQLite gives them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager, suppress
from functools import lru_cache
from pathlib import Path

import psycopg
from psycopg import pq
from psycopg.adapt import Loader
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from core.periods import DAY
from db.backends.base import AfterErase, Backend, Connection, checked_key, new_key
from db.backends.partitions import (LOWEST, Partitions, create_ahead, drop_partition, partitions_holding,
                                     spans_before)
from db.backends.postgres_url import postgres_parameters, without_password, without_secrets
from db.errors import (
    BackupFailed,
    CannotConnect,
    DatabaseError,
    DataError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
    UntranslatableSql,
)
from db.schema.inline_details import WRITTEN_COLUMNS, inline_rows
from db.schema.postgres import migrate
from db.writes.counters import INGEST_KEY, bump_counter

# Every connection's: autocommit (transactions are explicit), and JIT off: Footfall's queries are
# short, and compiling one costs more than it saves (at 10M, 497 ms on a plan that ran in 100).
CONNECT_OPTIONS = {"autocommit": True, "connect_timeout": 30, "options": "-c jit=off"}
# Advisory lock keys, beside db/schema/postgres.py's, db/backends/partitions.py's and
# db/operations/leases.py's: an erasure holds this one exclusively, writers shared (hold_off_*).
ERASE_LOCK = 7_346_003


class _NumericLoader(Loader):
    """NUMERIC as SQLite gives sums: int when whole, float otherwise."""

    def load(self, data) -> int | float:
        text = bytes(data)
        if b"." in text or b"e" in text or b"N" in text:
            return float(text)
        return int(text)


def footfall_error(error: psycopg.Error) -> DatabaseError:
    """psycopg's error as db/errors.py's class of it, with its message."""
    if isinstance(error, psycopg.IntegrityError):
        return IntegrityError(str(error))
    if isinstance(error, psycopg.OperationalError | psycopg.errors.ReadOnlySqlTransaction):  # as SQLite's readonly
        return OperationalError(str(error))
    if isinstance(error, psycopg.DataError):
        return DataError(str(error))
    if isinstance(error, psycopg.ProgrammingError | psycopg.InterfaceError | psycopg.NotSupportedError):
        return ProgrammingError(str(error))
    return DatabaseError(str(error))


class PgConnection:
    """One PostgreSQL connection in autocommit mode, transactions opened explicitly (BEGIN), as
    SQLite's are; every statement translated (to_postgres)."""

    backend: PostgresBackend

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

    def execute(self, sql: str, params=(), /) -> psycopg.Cursor:
        try:
            return self.raw.execute(to_postgres(sql), _params(params), prepare=False)
        except psycopg.Error as error:
            raise footfall_error(error) from error

    def executemany(self, sql: str, rows, /) -> psycopg.Cursor:
        cursor = self.raw.cursor()
        try:
            cursor.executemany(to_postgres(sql), [_params(row) for row in rows])
        except psycopg.Error as error:
            raise footfall_error(error) from error
        return cursor

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


# --- The translation --------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<string>'(?:[^']|'')*')
  | (?P<name>"(?:[^"]|"")*")
  | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<unterminated>['"]|/\*)
  | (?P<cast>::)
  | (?P<named>\?\d+|[:@$][A-Za-z_0-9]\w*)
  | (?P<param>\?)
  | (?P<arrow>->>?)
  | (?P<word>[A-Za-z_][A-Za-z_0-9$]*)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)
  | (?P<space>\s+)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)

# Functions SQLite has and PostgreSQL lacks (or has otherwise): refused rather than failing there.
SQLITE_ONLY_FUNCTIONS = frozenset({
    "changes", "datetime", "group_concat", "ifnull", "iif", "instr", "json_extract", "json_group_array",
    "json_group_object", "julianday", "last_insert_rowid", "printf", "randomblob", "strftime", "total", "typeof",
    "unixepoch", "zeroblob"})
_SQLITE_ONLY_WORDS = frozenset({"pragma", "autoincrement", "glob", "regexp", "rowid", "_rowid_"})
# What may follow a table reference (json_each(?)) other than an alias: a word not among them is an
# alias without AS, which the rewrite would lose.
_AFTER_A_TABLE = frozenset({"where", "join", "cross", "inner", "left", "right", "full", "natural", "on", "using",
                            "order", "group", "having", "window", "limit", "offset", "union", "except", "intersect",
                            "for", "returning"})
_BEFORE_UNARY_PLUS = frozenset({"and", "or", "where", "on"})


class _Statement:
    """A statement's tokens (kind, text), and the significant ones' positions (no space, no comment)."""

    def __init__(self, sql: str):
        self.sql = sql
        self.tokens: list[list[str]] = []
        for match in _TOKEN.finditer(sql):
            kind = match.lastgroup
            if kind == "unterminated":
                self.refuse(f"an unterminated {'comment' if match.group() == '/*' else 'string or name'}")
            self.tokens.append([kind, match.group()])
        self.significant = [i for i, (kind, _) in enumerate(self.tokens) if kind not in ("space", "comment")]

    def refuse(self, why: str) -> None:
        raise UntranslatableSql(f"cannot translate for PostgreSQL: {why}: {' '.join(self.sql.split())}")

    def word(self, at: int) -> str:
        """The lower-cased word at significant position `at` ("" for anything else, or past the end)."""
        if 0 <= at < len(self.significant):
            kind, text = self.tokens[self.significant[at]]
            if kind == "word":
                return text.lower()
        return ""

    def text(self, at: int) -> str:
        return self.tokens[self.significant[at]][1] if 0 <= at < len(self.significant) else ""

    def kind(self, at: int) -> str:
        return self.tokens[self.significant[at]][0] if 0 <= at < len(self.significant) else ""

    def set(self, at: int, text: str) -> None:
        self.tokens[self.significant[at]][1] = text

    def drop(self, at: int) -> None:
        """Leave out the token at significant position `at`, with the space before it."""
        index = self.significant[at]
        self.tokens[index][1] = ""
        if index and self.tokens[index - 1][0] == "space":
            self.tokens[index - 1][1] = ""

    def closing(self, at: int) -> int:
        """The significant position of the parenthesis closing the one at `at`."""
        depth = 0
        for position in range(at, len(self.significant)):
            depth += {"(": 1, ")": -1}.get(self.text(position), 0)
            if depth == 0:
                return position
        self.refuse("unbalanced parentheses")
        return -1


@lru_cache(maxsize=4096)
def to_postgres(sql: str) -> str:
    """The statement in PostgreSQL's dialect (the rules in this module's docstring); raises
    UntranslatableSql for what they do not cover."""
    s = _Statement(sql)
    _check_tokens(s)
    _begin(s)
    _insert_or_ignore(s)
    for at in range(len(s.significant)):
        word = s.word(at)
        if word == "json_each":
            _json_each(s, at)
        elif word in ("min", "max") and s.text(at + 1) == "(":
            _scalar_min_max(s, at)
        elif word == "like":
            _like(s, at)
        elif s.text(at) == "+" and s.word(at - 1) in _BEFORE_UNARY_PLUS and s.word(at + 1) \
                and s.significant[at + 1] == s.significant[at] + 1:
            s.set(at, "")
        elif word in SQLITE_ONLY_FUNCTIONS and s.text(at + 1) == "(":
            s.refuse(f"{word}() is SQLite's")
        elif word in _SQLITE_ONLY_WORDS or word.startswith(("sqlite_", "pragma_")) \
                or (word == "without" and s.word(at + 1) == "rowid") or (word == "replace" and s.word(at + 1) == "into"):
            s.refuse(f"{s.text(at)} is SQLite's")
    return "".join(text for _, text in s.tokens)


def _check_tokens(s: _Statement) -> None:
    """Parameters to %s, every % doubled (psycopg reads it anywhere); no ? where it is not a parameter."""
    for token in s.tokens:
        kind, text = token
        if kind == "param":
            token[1] = "%s"
        elif kind == "named":
            s.refuse(f"the parameter {text} (only ? is translated)")
        elif kind == "arrow":
            s.refuse(f"SQLite's JSON operator {text}")
        elif kind in ("string", "name", "comment"):
            if "?" in text:
                s.refuse(f"a ? inside a {'comment' if kind == 'comment' else 'string' if kind == 'string' else 'name'}")
            token[1] = text.replace("%", "%%")
        elif text == "%":
            token[1] = "%%"


def _begin(s: _Statement) -> None:
    if s.word(0) == "begin" and s.word(1) in ("immediate", "deferred", "exclusive"):
        if s.word(1) != "immediate":
            s.refuse(f"BEGIN {s.text(1)}")
        s.drop(1)


def _insert_or_ignore(s: _Statement) -> None:
    at = next((i for i in range(len(s.significant) - 1) if s.word(i) == "insert" and s.word(i + 1) == "or"), None)
    if at is None:
        return
    if at != 0 or s.word(2) != "ignore" or s.word(3) != "into":
        s.refuse("INSERT OR is translated only as INSERT OR IGNORE INTO, starting the statement")
    words = {s.word(i) for i in range(len(s.significant))}
    if "returning" in words or "conflict" in words:
        s.refuse("INSERT OR IGNORE with RETURNING or a conflict clause of its own")
    s.drop(1)
    s.drop(2)
    last = len(s.significant) - 1
    if s.text(last) == ";":
        s.set(last, " ON CONFLICT DO NOTHING;")
    else:
        s.set(last, s.text(last) + " ON CONFLICT DO NOTHING")


def _json_each(s: _Statement, at: int) -> None:
    if (s.text(at + 1), s.kind(at + 2), s.text(at + 3)) != ("(", "param", ")"):
        s.refuse("json_each of anything but a ? parameter")
    alias = "json_each"
    if s.word(at + 4) == "as":
        alias = ""  # its own AS name follows
    elif s.word(at + 4) and s.word(at + 4) not in _AFTER_A_TABLE:
        s.refuse("json_each(?) aliased without AS")
    s.set(at, "(SELECT value::bigint AS value FROM json_array_elements_text(%s::json))" + (f" AS {alias}" if alias else ""))
    for offset in (1, 2, 3):
        s.set(at + offset, "")


def _scalar_min_max(s: _Statement, at: int) -> None:
    end = s.closing(at + 1)
    arguments: list[list[int]] = [[]]
    depth = 0
    for position in range(at + 2, end):
        text = s.text(position)
        depth += {"(": 1, ")": -1}.get(text, 0)
        if text == "," and depth == 0:
            arguments.append([])
        else:
            arguments[-1].append(position)
    if len(arguments) < 2:
        return  # the aggregate
    for argument in arguments:
        shape = "".join("w" if s.kind(p) == "word" else "n" if s.kind(p) == "number" else s.text(p) for p in argument)
        if shape not in ("w", "+w", "w.w", "+w.w", "n"):
            s.refuse(f"{s.text(at)} of two or more arguments, one of them not a column or a number")
    s.set(at, "LEAST" if s.word(at) == "min" else "GREATEST")


def _like(s: _Statement, at: int) -> None:
    if s.kind(at + 1) in ("param", "string"):
        s.set(at, "ILIKE")
    elif s.text(at - 1) != "(":  # CREATE TABLE name (LIKE other ...) is PostgreSQL's own
        s.refuse("LIKE against anything but a ? parameter or a string (its case rule differs)")


# --- The backend -------------------------------------------------------------------------------------


class _PartitionsAhead:
    """The writer's upkeep on PostgreSQL: today's partitions and the days' ahead, made outside any
    transaction, so that an insert never waits for one. No WAL file to keep small: the server's."""

    def tend(self, conn: Connection) -> None:
        create_ahead(conn, int(time.time()))

    def stop(self) -> None:
        pass


class AdvisoryLease:
    """A lease on a team server: a session advisory lock on a connection of its own. The holder
    does the work, the others stand by and try again each round, and when the holder dies its
    connection closes, the lock with it, so another takes the lease over within a round."""

    contended = True

    def __init__(self, url: str, key: int):
        self.url, self.key = url, key
        self.conn: PgConnection | None = None
        self.holding = False

    def held(self) -> bool:
        """True while this process holds the lease: taken now if it is free, kept until close().
        Raises DatabaseError when the server cannot be reached; the lease is then let go, and the
        next round connects again and takes it if it is free."""
        try:
            if self.conn is None:
                self.conn = POSTGRES.connect(self.url)
            if self.holding:
                self.conn.execute("SELECT 1").fetchone()  # still connected: the lock is still ours
            else:
                self.holding = bool(self.conn.execute("SELECT pg_try_advisory_lock(?)", (self.key,)).fetchone()[0])
        except DatabaseError:  # the server went away, and the lock with the session
            self.close()
            raise
        return self.holding

    def close(self) -> None:
        """Hand the lease on: unlocked at once (a closed session's locks go only once its server
        process has ended)."""
        if self.conn is not None:
            with suppress(DatabaseError):  # a lost session has let go already
                if self.holding:
                    self.conn.execute("SELECT pg_advisory_unlock(?)", (self.key,))
            with suppress(DatabaseError):
                self.conn.close()
        self.conn, self.holding = None, False



class PostgresBackend(Backend):
    """PostgreSQL's side of every operation that differs (db/backends/base.py says what each is)."""

    name = "postgresql"
    detail_tables = ()  # in the request_log rows (db/schema/inline_details.py)

    def connect(self, setting: str | Path) -> PgConnection:
        url = str(setting)
        postgres_parameters(url)  # a URL libpq would misread is refused before connecting
        conn = PgConnection(url)
        try:
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def connect_readonly(self, setting: str | Path) -> PgConnection:
        """A connection whose transactions are read-only."""
        url = str(setting)
        postgres_parameters(url)
        return PgConnection(url, read_only=True)

    def missing(self, setting: str | Path) -> str | None:
        """A database without Footfall's tables (not migrated) counts as none."""
        with closing(self.connect_readonly(setting)) as probe:
            if probe.execute("SELECT to_regclass('footfall_schema') IS NOT NULL").fetchone()[0]:
                return None
        return f"no Footfall database at {without_password(setting)}"

    def migrate(self, conn: Connection) -> int:
        return migrate(conn)

    def translate(self, sql: str) -> str:
        return to_postgres(sql)

    def connection_lost(self, conn: Connection) -> bool:
        """A restart, a network cut: every statement on it fails from then on."""
        return conn.raw.closed

    def for_update(self, select: str) -> str:
        return f"{select} FOR UPDATE"

    def upsert(self, conn: Connection, table: str, key: tuple[str, ...], values: tuple[str, ...],
               rows: Mapping[tuple, Sequence], updates: str, arrival_order: bool = False) -> None:
        """One statement over arrays (unnest), so a batch costs one round trip per table, not one
        per row; always in key order, so that writers lock rows in one order and never deadlock."""
        columns = key + values
        ordered = [(*k, *rows[k]) for k in sorted(rows)]
        arrays = [list(column) for column in zip(*ordered)]
        unnest = ", ".join(f"?::{_array_type(column)}[]" for column in arrays)
        conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({unnest})"
                     f" AS batch({', '.join(columns)}) ORDER BY {', '.join(key)}"
                     f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}", arrays)

    def sets_for_update(self, conn: Connection, table: str, key: tuple[str, str],
                        keys: Sequence[tuple[int, int]]) -> Iterable[tuple[int, int, bytes]]:
        """One pass in key order: a missing set is made (empty), an existing one is locked (the
        no-op update) and read. A second pass to lock would let two writers deadlock."""
        first, second = key
        return conn.execute(
            f"INSERT INTO {table} AS s ({first}, {second}, customers)"
            f" SELECT k.a, k.b, ''::bytea FROM unnest(?::bigint[], ?::bigint[]) AS k(a, b) ORDER BY k.a, k.b"
            f" ON CONFLICT ({first}, {second}) DO UPDATE SET customers = s.customers"
            f" RETURNING {first}, {second}, customers",
            ([k[0] for k in keys], [k[1] for k in keys]))

    def partitions(self, days_behind: int | None) -> Partitions:
        return Partitions(days_behind)

    def new_request_ids(self, conn: Connection, count: int) -> list[int]:
        """From the requests' sequence: several writers take ids at once."""
        return [i for (i,) in conn.execute("SELECT nextval('requests_id_seq') FROM generate_series(1, ?)", (count,))]

    def insert_requests(self, conn: Connection, requests: Iterable[tuple], details: Iterable[tuple]) -> None:
        """One COPY: each request's details in its request_log row (db/schema/inline_details.py)."""
        self.load_rows(conn, "request_log", WRITTEN_COLUMNS, inline_rows(requests, details))

    def load_rows(self, conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
        """Through COPY."""
        loaded = 0
        try:
            with conn.raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    loaded += 1
        except psycopg.Error as error:
            raise footfall_error(error) from error
        return loaded

    def batch_written(self, conn: Connection) -> None:
        """Several writers take request ids from one sequence and may commit out of id order: the
        newest id alone could miss a batch, so each batch is counted (INGEST_KEY)."""
        bump_counter(conn, INGEST_KEY)

    def newest_request_id(self, conn: Connection) -> int:
        return 0  # it misses a batch committed after a later one, and costs a look into every day's partition

    def writer_upkeep(self, conn: Connection, setting: str | Path, stopping: threading.Event) -> _PartitionsAhead:
        return _PartitionsAhead()

    def drop_before(self, conn: Connection, cutoff: int) -> Iterator[int]:
        """The partitions wholly before the cutoff (requests with their details), oldest first, each
        dropped in a transaction of its own (db/backends/partitions.py)."""
        for span in spans_before(conn, cutoff):
            yield drop_partition(conn, span)

    @contextmanager
    def deleting_in_batches(self, conn: Connection) -> Iterator[Callable[[], None]]:
        yield lambda: None  # no WAL file to checkpoint: the server's

    def by_time(self, conn: Connection) -> tuple[str, list]:
        return "", []  # the day partitions and the BRIN on ts: no index leads by API (issue 22)

    def older_requests(self, conn: Connection, before: int, batch: int) -> Iterator[list[tuple[int, int]]]:
        """In id order (about their arrival's) through requests_id, within the partitions before
        `before`: after drop_before, the one partition holding it. Each batch takes up the ids
        where the last one left off, so that the partition is read once, not once per batch."""
        after = LOWEST
        while rows := conn.execute("SELECT id, ts FROM request_log WHERE ts < ? AND id > ? ORDER BY id LIMIT ?",
                                   (before, after, batch)).fetchall():
            yield rows
            after = rows[-1][0]

    def within_times(self, times: Sequence[int]) -> tuple[str, list]:
        """The details are in the requests' rows, partitioned by day: bounding their time lets the
        server search only the days the requests fall on, not every day kept (a probe of 91
        partitions' indexes per request at 90 days)."""
        return (" AND ts >= ? AND ts <= ?", [min(times), max(times)]) if times else ("", [])

    def hold_off_erasures(self, conn: Connection) -> None:
        conn.execute("SELECT pg_advisory_xact_lock_shared(?)", (ERASE_LOCK,))

    def hold_off_writers(self, conn: Connection) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(?)", (ERASE_LOCK,))

    def customer_references(self, conn: Connection) -> list[tuple[str, str]]:
        """No foreign keys on the rollups here: every table (a partitioned one as a whole) with a
        customer_id column, the tables that reference others first (alert_firings before
        alert_rules), so that deleting in this order never breaks a foreign key."""
        tables = [name for (name,) in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
            " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')"
            " AND NOT c.relispartition AND a.attname = 'customer_id' AND NOT a.attisdropped ORDER BY c.relname")]
        references = conn.execute(
            "SELECT f.relname, t.relname FROM pg_constraint k JOIN pg_class f ON f.oid = k.conrelid"
            " JOIN pg_class t ON t.oid = k.confrelid WHERE k.contype = 'f'").fetchall()
        ordered: list[str] = []
        while len(ordered) < len(tables):  # a table goes once no table left references it
            left = [t for t in tables if t not in ordered]
            free = [t for t in left if not any(target == t and source in left and source != t
                                               for source, target in references)]
            ordered += free or left
        return [(table, "customer_id") for table in ordered]

    def request_tables(self, conn: Connection, where: str, param: object) -> list[str]:
        """The day partitions of request_log holding them (their details in their rows)."""
        days = [day for (day,) in conn.execute(f"SELECT DISTINCT ts - ts % ? FROM request_log WHERE {where}", (DAY, param))]
        return partitions_holding(conn, days)

    def clean_after_erase(self, conn: Connection, tables: Iterable[str], full: bool) -> AfterErase:
        """VACUUM (with ANALYZE) of every table touched, outside any transaction, so that no query,
        backup or replica finds a row of the erased and the dead rows leave the tables and their
        indexes; PostgreSQL does not zero the space they leave, so the bytes stay in the files until
        it is reused. `full` makes it VACUUM FULL, which rewrites those tables and indexes into new
        files (writes to them wait meanwhile). What the server keeps beside the tables, its
        write-ahead log, an archive of it, replicas, earlier backups, is not Footfall's to purge.

        The planner's statistics (pg_statistic) hold values sampled from the tables (most common
        values, histograms: paths, names, bodies) wherever autovacuum analyzed a table, and `copy`
        the partitioned tables as wholes. The ANALYZE rewrites those of the tables touched; the
        partitioned tables with statistics as wholes are analyzed again (with every partition:
        PostgreSQL 15 has no ANALYZE ONLY); then pg_statistic is vacuumed (FULL with `full`), since
        the rows an ANALYZE replaces stay in it, dead, with the old values. Two places keep them,
        which the caveats name: pg_statistic, when this role may not vacuum it (only a superuser or
        the database's owner may), and the statistics of a table the erasure left empty (ANALYZE
        writes none for no rows)."""
        touched = list(dict.fromkeys(tables))
        conn.execute(f"VACUUM ({'FULL, ' if full else ''}ANALYZE) {', '.join(touched)}")
        wholes = [name for name in _analyzed_as_wholes(conn) if name not in touched]
        if wholes:
            conn.execute(f"ANALYZE {', '.join(wholes)}")
        caveats = [] if full else [
            "PostgreSQL does not zero the space deleted rows leave: run with --vacuum to rewrite the tables touched"
            " (VACUUM FULL), so that no file of them holds a byte of the customer"]
        if _may_vacuum_catalogs(conn):
            conn.execute(f"VACUUM {'FULL ' if full else ''}pg_statistic")
        else:
            caveats.append("the planner's statistics (pg_statistic) keep values of the customer in rows replaced by"
                           " the erasure: only a superuser or the database's owner may run VACUUM FULL pg_statistic")
        emptied = [name for name in _sampled_but_empty(conn) if name in touched]
        if emptied:
            caveats.append(f"the planner's statistics of {', '.join(emptied)}, left empty by the erasure, keep values"
                           " sampled before it until rows come and are analyzed (PostgreSQL analyzes no empty table)")
        return AfterErase(False, full, False, (*caveats, "the server's write-ahead log, its archive, replicas and"
                                                      " earlier backups keep copies until they age out"))

    def backup(self, conn: Connection, path: Path) -> None:
        """pg_dump's custom format, in one snapshot while writers go on (dump_postgres)."""
        dump_postgres(conn.url, path)

    def restore_command(self, path: Path) -> str:
        return f"pg_restore --no-owner --dbname postgresql://... {path}"

    def kept_key(self, setting: str | Path, suffix: str, name: str) -> bytes:
        """The key in the settings row `name` (the team's dashboards and CLIs run on several machines
        with no file in common, and a pg_dump carries it along), written once (INSERT ... ON
        CONFLICT DO NOTHING, then read back), so that every process on every machine has the same."""
        found = self.stored_key(setting, suffix, name)
        if found is not None:
            return found
        with closing(self.connect(setting)) as conn:
            conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                         (name, new_key()))
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (name,)).fetchone()
        return checked_key(row[0], f"the settings row {name!r}")

    def stored_key(self, setting: str | Path, suffix: str, name: str) -> bytes | None:
        with closing(self.connect_readonly(setting)) as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (name,)).fetchone()
        return None if row is None else checked_key(row[0], f"the settings row {name!r}")

    def replace_kept_key(self, setting: str | Path, suffix: str, name: str) -> None:
        with closing(self.connect(setting)) as conn:
            conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                         " SET value = excluded.value", (name, new_key()))

    def copy_kept_key(self, setting: str | Path, backup: str | Path, suffix: str) -> None:
        return None  # in the settings row, and so in the dump

    def lease(self, setting: str | Path, key: int) -> AdvisoryLease:
        return AdvisoryLease(str(setting), key)


def _analyzed_as_wholes(conn: Connection) -> list[str]:
    """The partitioned tables whose statistics as wholes exist (ANALYZE of the table itself made
    them: `copy`, or an operator; autovacuum never does)."""
    return [name for (name,) in conn.execute(
        "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema() AND inherited ORDER BY 1")]


def _sampled_but_empty(conn: Connection) -> list[str]:
    """The tables that have no rows, as their last VACUUM or ANALYZE counted, and still have
    statistics holding values: sampled while they had rows."""
    return [name for (name,) in conn.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.reltuples = 0"
        " AND EXISTS (SELECT 1 FROM pg_stats s WHERE s.schemaname = current_schema() AND s.tablename = c.relname"
        " AND NOT s.inherited AND (s.most_common_vals IS NOT NULL OR s.histogram_bounds IS NOT NULL))"
        " ORDER BY 1")]


def _may_vacuum_catalogs(conn: Connection) -> bool:
    """Whether this role may vacuum the database's own catalogs (pg_statistic): a superuser or the
    database's owner (or a member of its role) may; anyone else's VACUUM skips them with a warning."""
    return conn.execute("SELECT pg_has_role(datdba, 'USAGE') FROM pg_database"
                        " WHERE datname = current_database()").fetchone()[0]


def _array_type(column: list) -> str:
    """The PostgreSQL array type of a column of values (a batch's columns hold one Python type,
    with None where a value is missing)."""
    value = next((v for v in column if v is not None), 0)
    return {str: "text", bytes: "bytea", float: "float8"}.get(type(value), "bigint")


def dump_postgres(url: str, path: str | Path) -> None:
    """pg_dump of the database at `url` into `path` (custom format: pg_restore reads it), in one
    snapshot, so that the copy holds exactly the transactions committed when it began. The
    password goes to pg_dump in its environment (PGPASSWORD), never on its command line, where
    any user of the machine could read it; pg_dump is never left waiting for one to be typed."""
    program = shutil.which("pg_dump")
    if program is None:
        raise BackupFailed("pg_dump is not installed: install PostgreSQL's client programs (Debian: apt install"
                           " postgresql-client) in a version no older than the server, or run pg_dump yourself")
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = {**os.environ, "PGPASSWORD": password} if password else dict(os.environ)
    done = subprocess.run([program, "--format=custom", "--no-password", "--file", str(path),
                           "--dbname", make_conninfo(**params)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        detail = done.stderr.strip().replace(password, "***") if password else done.stderr.strip()
        raise BackupFailed(f"pg_dump failed (exit {done.returncode}): {detail}")


POSTGRES = PostgresBackend()
PgConnection.backend = POSTGRES

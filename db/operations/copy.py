"""Moving up: a SQLite database copied whole into PostgreSQL (raw requests, details, every rollup,
the active-customer sets, the analysts' edits, alerts, links and snapshots), so that every figure
reads the same after as before.

The copy is one transaction on the server: the target's tables are emptied and filled again from
the source, so a copy cut short leaves the target as it was, and running it again gives the same
result. It only ever replaces a copy of the same source: a target holding other data (an API the
source lacks, traffic a PostgreSQL collector wrote) is refused, nothing touched.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.periods import DAY
from db.backends.base import Connection
from db.schema.inline_details import NO_DETAILS, from_separate
from db.writes.identity import carry_identity_key
from db.writes.links import carry_signing_key

COPIED_FROM_KEY = "copy.source"  # settings: the file a target's data was copied from
CHUNK = 10_000


class CopyRefused(Exception):
    """The target holds data that is not a copy of this source."""


@dataclass(frozen=True)
class CopyReport:
    """What a copy moved, and how long it took."""

    tables: int
    rows: int
    requests: int
    seconds: float


def copied_tables(target: Connection) -> list[str]:
    """Every table of the target's schema but the migrations' own, partitions counted with their parent."""
    rows = target.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
        " AND c.relname <> 'footfall_schema' ORDER BY c.relname").fetchall()
    parents_first = {"apis": 0, "customers": 1, "alert_rules": 2}  # foreign keys point at these
    return sorted((name for (name,) in rows), key=lambda name: (parents_first.get(name, 3), name))


def _columns(target: Connection, table: str) -> list[str]:
    return [name for (name,) in target.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = ? ORDER BY ordinal_position", (table,))]


def _source_query(table: str, columns: list[str]) -> str:
    """The SELECT on the SQLite source for a target table: request_log takes each request's details
    from SQLite's request_details into its row (db/schema/inline_details.py)."""
    if table == "request_log":
        picked = ", ".join(from_separate(c, f"X'{NO_DETAILS.hex()}'") for c in columns)
        return f"SELECT {picked} FROM request_log r LEFT JOIN request_details d ON d.request_id = r.id"
    return f"SELECT {', '.join(columns)} FROM {table}"


def check_target(source: Connection, target: Connection, source_name: str) -> None:
    """Refuse a target that holds anything but a copy of this source."""
    marker = target.execute("SELECT value FROM settings WHERE key = ?", (COPIED_FROM_KEY,)).fetchone()
    if marker is not None and marker[0] == source_name:
        return
    has_data = target.execute("SELECT EXISTS (SELECT 1 FROM apis) OR EXISTS (SELECT 1 FROM customers)"
                              " OR EXISTS (SELECT 1 FROM requests)").fetchone()[0]
    if has_data:
        origin = f"a copy of {marker[0]}" if marker else "data of its own"
        raise CopyRefused(f"the target database already holds {origin}; copy only into an empty database"
                          " or over an earlier copy of the same file")


def copy_database(source: Connection, target: Connection, source_name: str, link_key: bytes | None = None,
                  identity_key: bytes | None = None) -> CopyReport:
    """Copy every table of the source into the target in one transaction (see the module's
    docstring). link_key: the key the source's customer links are signed with (db.writes.links.key_file),
    kept as the target's, so that they keep opening there; identity_key: the key its API keys are
    hashed with (db.writes.identity.identity_key_file), so that mapped keys and fingerprints match there."""
    started = time.perf_counter()
    check_target(source, target, source_name)
    days = [day for (day,) in source.execute(f"SELECT DISTINCT ts - ts % {DAY:d} FROM requests")]
    target.backend.partitions(None).ensure(target, days)  # outside the transaction: making one locks the table
    tables = copied_tables(target)
    rows = 0
    target.execute("BEGIN")
    try:
        check_target(source, target, source_name)  # again, inside: a collector may have written meanwhile
        target.execute(f"TRUNCATE {', '.join(tables)}")
        for table in tables:
            columns = _columns(target, table)
            rows += target.backend.load_rows(target, table, columns,
                                             _source_rows(source, _source_query(table, columns)))
        _continue_ids(target)
        if link_key is not None:
            carry_signing_key(link_key, target)
        if identity_key is not None:
            carry_identity_key(identity_key, target)
        target.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET"
                       " value = excluded.value", (COPIED_FROM_KEY, source_name))
        target.execute("COMMIT")
    except BaseException:
        if target.in_transaction:
            target.execute("ROLLBACK")
        raise
    # Statistics for the planner now: autovacuum never analyzes a partitioned table itself.
    target.execute("ANALYZE")
    requests = target.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
    return CopyReport(len(tables), rows, requests, time.perf_counter() - started)


def _source_rows(source: Connection, sql: str) -> Iterator[tuple]:
    """The rows of `sql` on the source, read CHUNK at a time, each _without_nul."""
    read = source.execute(sql)
    while chunk := read.fetchmany(CHUNK):
        for row in chunk:
            yield _without_nul(row)


def _without_nul(row: tuple) -> tuple:
    """The row with every NUL in its text as U+FFFD, as the writer stores it on both servers now:
    PostgreSQL's text cannot hold NUL, which a SQLite file written before could."""
    if not any(type(v) is str and "\x00" in v for v in row):
        return row
    return tuple(v.replace("\x00", "\ufffd") if type(v) is str else v for v in row)


def _continue_ids(target: Connection) -> None:
    """Identities and the requests' sequence go on after the highest id copied."""
    identities = target.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND is_identity = 'YES'").fetchall()
    for table, column in identities:
        target.execute(f"SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1,"
                       " false)", (table, column))
    target.execute("SELECT setval('requests_id_seq', COALESCE((SELECT MAX(id) FROM requests), 0) + 1, false)")


def source_name(path: Path) -> str:
    """How a target names the file it is a copy of (COPIED_FROM_KEY)."""
    return str(Path(path).resolve())

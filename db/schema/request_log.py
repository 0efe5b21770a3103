"""The raw requests' compact layout (SQLite's migration 11, PostgreSQL's 8), shared by both engines:
the table request_log keeps integers, and the repeated strings live once in small lookup tables
(routes: method and endpoint; agents: the user agent with what is read from it and the SDK;
places: the IP with its location); the view `requests` gives every reader the columns as they
were. This module is the layout's encoding (the writer, db/writes/lookups.py, encodes the same
way) and the batches that convert a database of the earlier layout; each engine's file has its
tables and the view.

A conversion (both engines): begin makes the new tables; each batch moves the oldest BATCH rows
of the old `requests` table into request_log and deletes them there, in the transaction it is
given, so that a conversion cut short continues where it stopped; end drops the old table and
makes the view and the indexes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from db.backends.base import Connection

BATCH = 50_000  # old rows moved per transaction
# Each lookup table and the values one row of it stands for; `key` (lookup_key) is what is unique.
LOOKUPS = {
    "routes": ("method", "endpoint"),
    "agents": ("user_agent", "device", "os", "browser", "ai_agent", "sdk"),
    "places": ("ip", "country", "city"),
}
THREAT_LEVELS = ("low", "medium", "high")  # request_log.threat is the index
NO_THREAT_REASONS = "[]"  # stored as NULL
# The columns of request_log, in the order a writer hands its rows over (Backend.insert_requests).
REQUEST_LOG_COLUMNS = ("id", "ts", "size", "api_id", "customer_id", "route_id", "agent_id", "place_id", "load_us",
                       "status", "threat", "path", "query", "threat_reasons")


def lookup_key(values: Sequence) -> str:
    """One lookup row's unique key: its values as a compact JSON array (NULL and '' stay apart)."""
    return json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))


def threat_code(level: str) -> int:
    """A threat level as request_log.threat keeps it; ValueError for anything but the three."""
    if level not in THREAT_LEVELS:
        raise ValueError(f"a threat level is one of {', '.join(THREAT_LEVELS)}, not {level!r}")
    return THREAT_LEVELS.index(level)


def load_us(load_time_ms: float) -> int:
    """A load time in whole microseconds: core.record keeps milliseconds to 3 decimals, so
    load_us / 1000 gives the very float back."""
    return round(load_time_ms * 1000)


def add_lookups(conn: Connection, table: str, values: Iterable[tuple]) -> dict[tuple, int]:
    """The id of each of these values in the lookup table, made where missing, inside the caller's
    transaction: inserted in key order (concurrent writers on PostgreSQL lock them in one order, and
    ON CONFLICT DO NOTHING makes one row of a key two of them add), then read back by key."""
    keyed = sorted({lookup_key(v): v for v in values}.items())
    if not keyed:
        return {}
    columns = LOOKUPS[table]
    conn.executemany(f"INSERT OR IGNORE INTO {table} (key, {', '.join(columns)})"
                     f" VALUES (?, {', '.join('?' * len(columns))})", [(key, *v) for key, v in keyed])
    ids: dict[str, int] = {}
    for start in range(0, len(keyed), 500):
        chunk = [key for key, _ in keyed[start:start + 500]]
        ids.update(conn.execute(f"SELECT key, id FROM {table} WHERE key IN ({','.join('?' * len(chunk))})", chunk))
    return {v: ids[key] for key, v in keyed}


# The old layout's columns a batch reads, in this order.
_OLD = ("id", "ts", "size", "api_id", "customer_id", "method", "endpoint", "user_agent", "device", "os", "browser",
        "ai_agent", "sdk", "ip", "country", "city", "load_time_ms", "status", "threat_level", "path", "query",
        "threat_reasons")


def convert_batch(conn: Connection, batch: int = BATCH) -> int:
    """Move the oldest `batch` rows of the old table `requests` into request_log (their strings into
    the lookups) and delete them there, in the caller's transaction; returns how many moved (0: done)."""
    rows = conn.execute(f"SELECT {', '.join(_OLD)} FROM requests ORDER BY id LIMIT ?", (batch,)).fetchall()
    if not rows:
        return 0
    old = [dict(zip(_OLD, row)) for row in rows]
    ids = {table: add_lookups(conn, table, (tuple(r[c] for c in columns) for r in old))
           for table, columns in LOOKUPS.items()}
    conn.backend.load_rows(conn, "request_log", REQUEST_LOG_COLUMNS, [
        (r["id"], r["ts"], r["size"], r["api_id"], r["customer_id"],
         ids["routes"][(r["method"], r["endpoint"])],
         ids["agents"][tuple(r[c] for c in LOOKUPS["agents"])],
         ids["places"][tuple(r[c] for c in LOOKUPS["places"])],
         load_us(r["load_time_ms"]), r["status"], threat_code(r["threat_level"]),
         None if r["path"] == r["endpoint"] else r["path"], r["query"],
         None if r["threat_reasons"] == NO_THREAT_REASONS else r["threat_reasons"]) for r in old])
    conn.execute("DELETE FROM requests WHERE id <= ?", (old[-1]["id"],))
    return len(old)

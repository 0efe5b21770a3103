"""Pruning: raw requests (requests, request_details) older than a moment go, in short transactions;
every rollup is kept (api_hourly, customer_hourly, customer_daily, customer_latency_daily,
api_customers, customers, active_daily, active_hourly), so every dashboard figure stays exactly
what it was for every period: db/queries/figures.py reads only rollups. What goes is the request
history (db/reads/history.py: the profile's table, one request's details, the CLI's `requests`)
before then.

Deleted content is overwritten with zeros (PRAGMA secure_delete). Writes requests,
request_details and settings (the edit counter of db/writes/counters.py, so that cached figures are
read afresh; and PRUNED_BEFORE_KEY, the latest cutoff, so that the history can say what it no longer
holds: db/reads/history.py). On PostgreSQL prune drops the partitions wholly past the cutoff
(db/backends/partitions.py) and deletes the older rows of the one holding it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from core.periods import DAY
from db.backends.base import Connection
from db.connection import transaction
from db.operations.raw_requests import delete_requests
from db.writes.counters import EDITS_KEY, bump_counter

PRUNE_BATCH = 10_000  # raw requests per prune transaction: the longest a collector's commit waits
PRUNE_PAUSE = 0.1  # seconds the write lock stays free between two prune transactions
PRUNED_BEFORE_KEY = "prune.before"  # settings: raw requests before this time (epoch seconds) were pruned


@dataclass(frozen=True)
class PruneReport:
    """What a prune removed."""

    before: int  # requests with ts < before (epoch seconds, UTC) were pruned
    requests: int  # raw requests removed, each with its details
    transactions: int  # write transactions it took (none when there was nothing to prune)
    longest_transaction_ms: float  # the longest time a concurrent writer may have waited
    seconds: float


def prune(conn: Connection, before: int, batch: int = PRUNE_BATCH, pause: float = PRUNE_PAUSE) -> PruneReport:
    """Delete raw requests with ts < before and their details, `batch` at a time, oldest first,
    each batch in a transaction of its own (BEGIN IMMEDIATE), so that a collector writing
    meanwhile waits for one batch at most. Between batches the WAL is checkpointed (PASSIVE) and
    the lock left free for `pause` seconds: a writer waiting for it (SQLite's busy handler looks
    again every 100 ms at most) gets its turn rather than waiting for the whole prune.

    Every rollup is kept: the dashboard's figures (db/queries/figures.py) stay the same for every period,
    before `before` too; only the request history (db/reads/history.py) of that time is gone. On
    SQLite it goes API by API, and costs one index lookup per API when nothing is older than
    `before`. Deleted rows are overwritten with zeros.

    On PostgreSQL the partitions wholly before `before` go first (requests and details), each
    dropped in a transaction of its own (db/backends/partitions.py); then the older rows of the partition
    holding `before` (a day's, or one shared by older days) are deleted in batches as above, in
    the order of their ids (no checkpoints: the server has no WAL file to keep small). Every
    statement is bounded by time, so that it reads the partitions before `before` alone
    (Backend.by_time, Backend.older_requests)."""
    started = time.perf_counter()
    removed = transactions = 0
    longest = 0.0
    if older_requests_stored(conn, before):
        with transaction(conn):  # first, so that a prune cut short leaves its trace too
            record_cutoff(conn, before)
    began = time.perf_counter()
    for requests in conn.backend.drop_before(conn, before):  # each piece dropped whole, in a transaction
        removed += requests
        longest = max(longest, (time.perf_counter() - began) * 1000)
        transactions += 1
        began = time.perf_counter()
    if transactions:
        with transaction(conn):
            bump_counter(conn, EDITS_KEY)  # cached dashboard reads are keyed by it
    with conn.backend.deleting_in_batches(conn) as between_transactions:
        for rows in conn.backend.older_requests(conn, before, batch):
            if transactions:
                between_transactions()
                time.sleep(pause)
            began = time.perf_counter()
            with transaction(conn):
                removed += delete_requests(conn, "id IN (SELECT value FROM json_each(?))",
                                           json.dumps([row[0] for row in rows]), [row[1] for row in rows])
                bump_counter(conn, EDITS_KEY)  # cached dashboard reads are keyed by it
            longest = max(longest, (time.perf_counter() - began) * 1000)
            transactions += 1
    return PruneReport(before, removed, transactions, longest, time.perf_counter() - started)


def record_cutoff(conn: Connection, before: int) -> None:
    """Keep `before` as the time raw requests were pruned up to, unless an earlier prune went further."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (PRUNED_BEFORE_KEY,)).fetchone()
    if row is None or int(row[0]) < before:
        conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (PRUNED_BEFORE_KEY, str(before)))


@dataclass(frozen=True)
class PrunePreview:
    """What a prune before a moment would remove, said before it does: raw requests, the
    customers they came from, the UTC days they fall on (first and last day's midnights), and
    whether they are every raw request stored."""

    before: int
    requests: int
    customers: int  # identified customers among them
    days: int
    first_day: int | None  # None when there is nothing to prune
    last_day: int | None
    everything: bool  # no raw request at or after `before` is left (and some are pruned)


def prune_preview(conn: Connection, before: int) -> PrunePreview:
    """What prune(conn, before) would remove now, found by time (Backend.by_time): as quick as a
    prune that has nothing to do when nothing is older than `before`."""
    by_time, params = conn.backend.by_time(conn)
    requests, customers, days, first, last = conn.execute(
        f"SELECT COUNT(*), COUNT(DISTINCT customer_id), COUNT(DISTINCT ts - ts % {DAY:d}), MIN(ts), MAX(ts)"
        f" FROM requests WHERE {by_time}ts < ?", (*params, before)).fetchone()
    kept = conn.execute(f"SELECT EXISTS (SELECT 1 FROM requests WHERE {by_time}ts >= ?)", (*params, before)).fetchone()[0]
    return PrunePreview(before, requests, customers, days, None if first is None else first - first % DAY,
                        None if last is None else last - last % DAY, bool(requests) and not kept)


def older_requests_stored(conn: Connection, before: int) -> bool:
    """Whether any raw request older than `before` is stored, found by time (Backend.by_time)."""
    by_time, params = conn.backend.by_time(conn)
    return bool(conn.execute(f"SELECT EXISTS (SELECT 1 FROM requests WHERE {by_time}ts < ?)",
                             (*params, before)).fetchone()[0])

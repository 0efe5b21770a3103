"""PostgreSQL's raw requests (and their details) by UTC day: one partition per day, created before
any row needs it, and dropped whole when retention passes it.

A partition is made as a table of its own and then attached, and dropped after being detached
concurrently: both take a lock on the parent that lets reads and inserts go on (CREATE TABLE ...
PARTITION OF and a plain DROP would block every reader and writer of requests meanwhile). It
happens outside the batch transactions and one process at a time (an advisory lock): a writer
makes the partitions a batch needs before it opens the batch's transaction, and the collector makes
the days ahead of now on its schedule, so live traffic never waits for one.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.periods import DAY

PARTITIONED = ("requests", "request_details")
PARTITION_LOCK = 7_346_002
DAYS_AHEAD = 7  # made in advance of today, so that live traffic never waits on a CREATE


def partition_name(table: str, day: int) -> str:
    """The partition of `table` holding the UTC day starting at `day`: requests_d<days since 1970>."""
    return f"{table}_d{day // DAY:d}"


def existing_days(conn) -> set[int]:
    """The days (UTC midnights) that have a requests partition."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'requests'").fetchall()
    return {int(name.rsplit("_d", 1)[1]) * DAY for (name,) in rows}


class Partitions:
    """The days one process knows have partitions; asks the server again only for a day it lacks."""

    def __init__(self) -> None:
        self._known: set[int] = set()

    def ensure(self, conn, timestamps: Iterable[int]) -> None:
        """Every day these timestamps fall on has its partitions, created if need be (outside any
        transaction of the caller's)."""
        days = {ts - ts % DAY for ts in timestamps} - self._known
        if not days:
            return
        self._known |= existing_days(conn)
        missing = sorted(days - self._known)
        if missing:
            create_partitions(conn, missing)
            self._known |= set(missing)

    def forget(self) -> None:
        self._known.clear()


def create_partitions(conn, days: Iterable[int]) -> None:
    """The partitions of these days, in one transaction, under the partition lock."""
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT pg_advisory_xact_lock(?)", (PARTITION_LOCK,))
        existing = existing_days(conn)  # another process may have made some while we waited
        for day in sorted(set(days) - existing):
            for table in PARTITIONED:
                name = partition_name(table, day)
                conn.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
                conn.execute(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ({day:d}) TO ({day + DAY:d})")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def create_ahead(conn, now: int, days: int = DAYS_AHEAD) -> None:
    """Today's partitions and the next `days` days'."""
    today = now - now % DAY
    Partitions().ensure(conn, (today + n * DAY for n in range(days + 1)))


def drop_before(conn, cutoff: int) -> tuple[int, int]:
    """Drop every partition wholly older than `cutoff`; returns (partitions dropped, requests in them).
    The day holding the cutoff is left for a DELETE of its older rows."""
    dropped = rows = 0
    for day in sorted(existing_days(conn)):
        if day + DAY > cutoff:
            continue
        conn.execute("SELECT pg_advisory_lock(?)", (PARTITION_LOCK,))
        try:
            rows += conn.execute(f"SELECT COUNT(*) FROM {partition_name('requests', day)}").fetchone()[0]
            for table in PARTITIONED:
                name = partition_name(table, day)
                # CONCURRENTLY: outside a transaction, and without blocking the table's readers and writers.
                conn.execute(f"ALTER TABLE {table} DETACH PARTITION {name} CONCURRENTLY")
                conn.execute(f"DROP TABLE {name}")
        finally:
            conn.execute("SELECT pg_advisory_unlock(?)", (PARTITION_LOCK,))
        dropped += 1
    return dropped, rows

"""PostgreSQL's raw requests (their details in their rows) by time: a partition per UTC day, created before
any row needs it, and dropped whole when retention passes it.

A partition is made as a table of its own and then attached, and dropped after being detached
concurrently: both take a lock on the parent that lets reads and inserts go on (CREATE TABLE ...
PARTITION OF and a plain DROP would block every reader and writer of requests meanwhile). It
happens outside the batch transactions and one process at a time (an advisory lock): a writer
makes the partitions a batch needs before it opens the batch's transaction, and the collector makes
the days ahead of now on its schedule, so live traffic never waits for one.

A sender names any day from 2000 on (core/payload.py's window), and every partition costs each
write and read of the table: a partition per day of a flood of a thousand old dates stalled every
sender for most of a minute. So the collector's writer (Partitions with `days_behind`) gives a day a partition of its
own only from DAYS_BEHIND days before today on; a row of an older day that has none goes into a
partition shared by the whole gap its day lies in (from the partition before it, or the start of
time, to the partition after it, or that bound): a thousand days of 2000 make one partition. It is
a plain range, not a DEFAULT partition, so attaching a new day's partition never has to scan it,
and a day it covers never gets a partition of its own. `import` and `copy` (the operator's own
data) make a partition per day, so that retention drops their days whole.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right, insort
from collections.abc import Iterable
from typing import NamedTuple

from core.periods import DAY
from db.backends.base import Connection

PARTITIONED = ("request_log",)  # the raw requests with their details (the views requests and request_details read it)
PARTITION_LOCK = 7_346_002
DAYS_AHEAD = 7  # made in advance of today, so that live traffic never waits on a CREATE
DAYS_BEHIND = 7  # the collector: days before today that still get a partition of their own
DAYS_PER_TRANSACTION = 50  # days' partitions made per transaction: an import of years lets others in between
LOWEST = -(2**63)  # where a partition reaching back to the start of time begins (MINVALUE)
HIGHEST = 2**63  # past any time: (ts, HIGHEST) sorts after every span starting at ts


class Span(NamedTuple):
    """The times [start, end) one partition of the raw requests holds."""

    start: int
    end: int

    def name(self, table: str) -> str:
        """requests_d<days since 1970> for a day; requests_d<first>_d<end> for a shared partition,
        requests_dmin_d<end> for one reaching back to the start of time."""
        if self.end - self.start == DAY:
            return f"{table}_d{self.start // DAY:d}"
        first = "min" if self.start == LOWEST else f"{self.start // DAY:d}"
        return f"{table}_d{first}_d{self.end // DAY:d}"

    def bounds(self) -> str:
        return f"FROM ({'MINVALUE' if self.start == LOWEST else f'{self.start:d}'}) TO ({self.end:d})"


def partition_name(table: str, day: int) -> str:
    """The partition of `table` holding the UTC day starting at `day` alone: requests_d<days since 1970>."""
    return Span(day, day + DAY).name(table)


_BOUND = re.compile(r"FROM \((MINVALUE|'?-?\d+'?)\) TO \('?(-?\d+)'?\)")


def existing_spans(conn: Connection) -> list[Span]:
    """Every partition of the raw requests (request_log), by start."""
    rows = conn.execute(
        "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'request_log'").fetchall()
    spans = []
    for (bound,) in rows:
        start, end = _BOUND.search(bound).groups()
        spans.append(Span(LOWEST if start == "MINVALUE" else int(start.strip("'")), int(end)))
    return sorted(spans)


def existing_days(conn: Connection) -> set[int]:
    """The days (UTC midnights) that have a requests partition of their own."""
    return {span.start for span in existing_spans(conn) if span.end - span.start == DAY}


def covering(spans: list[Span], ts: int) -> Span | None:
    """The span, of these (sorted, none overlapping), that holds the time ts; None when none does."""
    at = bisect_right(spans, (ts, HIGHEST)) - 1  # the last one starting at ts or before
    return spans[at] if at >= 0 and ts < spans[at].end else None


class Partitions:
    """The partitions one process knows of; asks the server again only for a day none holds.

    days_behind: None, every day gets a partition of its own (import, copy, tests); N (the
    collector), only the days from N before today on, older ones share one (the module's docstring)."""

    def __init__(self, days_behind: int | None = None) -> None:
        self.days_behind = days_behind
        self._known: list[Span] = []

    def ensure(self, conn: Connection, timestamps: Iterable[int], now: float | None = None) -> None:
        """Every day these timestamps fall on lies in a partition, created if need be (outside any
        transaction of the caller's)."""
        days = {ts - ts % DAY for ts in timestamps}
        if all(covering(self._known, day) for day in days):
            return
        self._known = existing_spans(conn)
        missing = [day for day in days if not covering(self._known, day)]
        if missing:
            create_partitions(conn, missing, self._own_from(now))
            self._known = existing_spans(conn)

    def _own_from(self, now: float | None) -> int | None:
        if self.days_behind is None:
            return None
        now = int(time.time() if now is None else now)
        return now - now % DAY - self.days_behind * DAY

    def forget(self) -> None:
        self._known = []


def create_partitions(conn: Connection, days: Iterable[int], own_from: int | None = None) -> None:
    """Partitions for the days that lie in none, DAYS_PER_TRANSACTION at a time, each batch in a
    transaction of its own under the partition lock. A day before `own_from` goes into a partition
    shared with the gap it lies in; with no `own_from` every day gets its own."""
    days = sorted(set(days))
    for first in range(0, len(days), DAYS_PER_TRANSACTION):
        _create(conn, days[first:first + DAYS_PER_TRANSACTION], own_from)


def _create(conn: Connection, days: list[int], own_from: int | None) -> None:
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT pg_advisory_xact_lock(?)", (PARTITION_LOCK,))
        spans = existing_spans(conn)  # another process may have made some while we waited
        for day in days:
            if covering(spans, day):
                continue
            span = Span(day, day + DAY) if own_from is None or day >= own_from else _gap(spans, day, own_from)
            for table in PARTITIONED:
                name = span.name(table)
                conn.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
                conn.execute(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES {span.bounds()}")
            insort(spans, span)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _gap(spans: list[Span], day: int, own_from: int) -> Span:
    """The shared partition for a day before own_from that lies in none: from the end of the
    partition before it (or the start of time) to the start of the one after it, or own_from."""
    start = max((span.end for span in spans if span.end <= day), default=LOWEST)
    end = min((span.start for span in spans if span.start > day), default=own_from)
    return Span(start, min(end, own_from))


def create_ahead(conn: Connection, now: int, days: int = DAYS_AHEAD) -> None:
    """Today's partitions and the next `days` days'."""
    today = now - now % DAY
    Partitions().ensure(conn, (today + n * DAY for n in range(days + 1)))


def spans_before(conn: Connection, cutoff: int) -> list[Span]:
    """The partitions that hold only times before `cutoff`, oldest first."""
    return [span for span in existing_spans(conn) if span.end <= cutoff]


def partitions_holding(conn: Connection, timestamps: Iterable[int]) -> list[str]:
    """The partitions of the raw requests that hold these times."""
    spans = existing_spans(conn)
    holding = {covering(spans, ts) for ts in timestamps} - {None}
    return [span.name(table) for span in sorted(holding) for table in PARTITIONED]


def drop_partition(conn: Connection, span: Span) -> int:
    """Drop one partition of the raw requests (their details with them); returns the requests it held."""
    conn.execute("SELECT pg_advisory_lock(?)", (PARTITION_LOCK,))
    try:
        rows = conn.execute(f"SELECT COUNT(*) FROM {span.name('request_log')}").fetchone()[0]
        for table in PARTITIONED:
            name = span.name(table)
            # CONCURRENTLY: outside a transaction, and without blocking the table's readers and writers.
            conn.execute(f"ALTER TABLE {table} DETACH PARTITION {name} CONCURRENTLY")
            conn.execute(f"DROP TABLE {name}")
    finally:
        conn.execute("SELECT pg_advisory_unlock(?)", (PARTITION_LOCK,))
    return rows


def drop_before(conn: Connection, cutoff: int) -> tuple[int, int]:
    """Drop every partition wholly older than `cutoff`; returns (partitions dropped, requests in them).
    The partition holding the cutoff is left for a DELETE of its older rows."""
    spans = spans_before(conn, cutoff)
    return len(spans), sum(drop_partition(conn, span) for span in spans)

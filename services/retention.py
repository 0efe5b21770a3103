"""Retention: the raw requests past FOOTFALL_RETENTION_DAYS pruned (every figure is kept), which
the collector's writer does on a schedule (collector/writer.py); `footfall prune` takes its cutoff from here."""

from __future__ import annotations

from pathlib import Path

from core.periods import DAY, floor_hour
from db.backends.base import Connection
from db.connection import connect
from db.operations.prune import PRUNE_PAUSE, PruneReport, prune


def retention_cutoff(retention_days: int, now: float) -> int:
    """The moment before which raw requests have outlived a retention of `retention_days` days:
    the start of the hour `retention_days` days before now (whole hours go, as the rollups keep
    them)."""
    return floor_hour(now) - retention_days * DAY


def prune_expired(db: str | Path | Connection, retention_days: int | None, now: float,
                  pause: float = PRUNE_PAUSE) -> PruneReport | None:
    """Prune the raw requests past their retention age (None: kept forever, nothing done), for the
    collector to call on a schedule, given a database path (opened and closed here) or a
    connection. When nothing is that old it costs one index lookup per API and no write.

    Call it from a thread or process of its own, not the collector's writer: the first prune
    after a retention is set may take minutes (about 15,000 requests a second), and between its
    batches it leaves the write lock free for `pause` seconds so that the writer commits
    meanwhile (on the writer's own connection, pass pause=0)."""
    if retention_days is None:
        return None
    before = retention_cutoff(retention_days, now)
    if not isinstance(db, str | Path):  # a connection (SQLite's or PostgreSQL's)
        return prune(db, before, pause=pause)
    conn = connect(db)
    try:
        return prune(conn, before, pause=pause)
    finally:
        conn.close()

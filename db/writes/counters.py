"""Counters kept in settings that say the data changed: the dashboard's cached reads are keyed by
them (db/reads/freshness.py reads them), and a writer that remembers customer ids checks one of
them (db/operations/erase.py's erasures)."""

from __future__ import annotations

from db.backends.base import Connection

EDITS_KEY = "dashboard.version"  # the settings row db/writes/edits.py bumps with every edit
# Bumped by every batch a writer commits on PostgreSQL, where several writers take request ids
# from one sequence and may commit out of id order: the newest id alone could miss a batch.
INGEST_KEY = "ingest.batches"


def bump_counter(conn: Connection, key: str) -> None:
    """Add one to a counter kept in settings (EDITS_KEY, db.operations.erase's erasures), inside the
    caller's transaction."""
    conn.execute("INSERT INTO settings (key, value) VALUES (?, '1')"
                 " ON CONFLICT(key) DO UPDATE SET value = CAST(settings.value AS INTEGER) + 1", (key,))

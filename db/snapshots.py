"""Signals computed on a schedule (footfall/signals.py refresh_signals: the collector runs it
every FOOTFALL_SIGNALS_INTERVAL seconds, `footfall signals` once), kept as frames in
signal_snapshots so that a page reads a few rows instead of computing over every customer.

A snapshot is one signal ("quiet", "peers"), for one API (0: every API), under a key (the rule,
the period), with when it was computed. Readers decide how old is too old (db/quiet.py,
db/standing.py) and compute the signal themselves otherwise.
"""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass

import polars as pl

from core.scope import Scope

EVERY_API = 0  # signal_snapshots.api_id for "All APIs"


@dataclass(frozen=True)
class Snapshot:
    """A stored frame and when it was computed."""

    key: str
    computed_at: int
    frame: pl.DataFrame


def period_key(scope: Scope) -> str:
    """A key for a scope's period: "since:until", an open end left empty."""
    since, until = scope.period.since, scope.period.until
    return f"{'' if since is None else since}:{'' if until is None else until}"


def save_snapshot(conn: sqlite3.Connection, signal: str, api_id: int | None, key: str, frame: pl.DataFrame,
                  computed_at: int) -> None:
    """Keep the frame as the signal's latest for this API and key (in the caller's transaction)."""
    blob = io.BytesIO()
    frame.write_ipc(blob, compression="uncompressed")
    conn.execute(
        "INSERT INTO signal_snapshots (signal, api_id, key, computed_at, frame) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (signal, api_id, key) DO UPDATE SET computed_at = excluded.computed_at, frame = excluded.frame",
        (signal, EVERY_API if api_id is None else api_id, key, computed_at, blob.getvalue()),
    )


def forget_snapshots(conn: sqlite3.Connection, signal: str, older_than: int) -> None:
    """Drop the signal's snapshots computed before `older_than` (keys no longer refreshed)."""
    conn.execute("DELETE FROM signal_snapshots WHERE signal = ? AND computed_at < ?", (signal, older_than))


def snapshot(conn: sqlite3.Connection, signal: str, api_id: int | None, key: str) -> Snapshot | None:
    """The signal's snapshot for this API and key, or None."""
    row = conn.execute("SELECT computed_at, frame FROM signal_snapshots WHERE signal = ? AND api_id = ? AND key = ?",
                       (signal, EVERY_API if api_id is None else api_id, key)).fetchone()
    return None if row is None else Snapshot(key, row[0], pl.read_ipc(io.BytesIO(row[1])))


def snapshot_keys(conn: sqlite3.Connection, signal: str, api_id: int | None) -> dict[str, int]:
    """Every key the signal has a snapshot under for this API, with when each was computed."""
    return dict(conn.execute("SELECT key, computed_at FROM signal_snapshots WHERE signal = ? AND api_id = ?",
                             (signal, EVERY_API if api_id is None else api_id)))

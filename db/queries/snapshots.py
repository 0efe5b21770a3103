"""Signals computed on a schedule (services/signal_refresh.py: the collector runs it every
FOOTFALL_SIGNALS_INTERVAL seconds, `footfall signals` once), kept as frames in signal_snapshots
so that a page reads a few rows instead of computing over every customer; this is the reading side
(db/writes/snapshots.py keeps them).

A snapshot is one signal ("quiet", "peers"), for one API (0: every API), under a key (the rule,
the period), with when it was computed. Readers decide how old is too old (db/reads/quiet.py,
db/reads/standing.py) and compute the signal themselves otherwise.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import polars as pl

from core.scope import Scope
from db.backends.base import Connection

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


def snapshot(conn: Connection, signal: str, api_id: int | None, key: str) -> Snapshot | None:
    """The signal's snapshot for this API and key, or None."""
    row = conn.execute("SELECT computed_at, frame FROM signal_snapshots WHERE signal = ? AND api_id = ? AND key = ?",
                       (signal, EVERY_API if api_id is None else api_id, key)).fetchone()
    return None if row is None else Snapshot(key, row[0], pl.read_ipc(io.BytesIO(row[1])))


def snapshot_keys(conn: Connection, signal: str, api_id: int | None) -> dict[str, int]:
    """Every key the signal has a snapshot under for this API, with when each was computed."""
    return dict(conn.execute("SELECT key, computed_at FROM signal_snapshots WHERE signal = ? AND api_id = ?",
                             (signal, EVERY_API if api_id is None else api_id)))

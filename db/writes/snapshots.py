"""Keeping the signals computed on a schedule (services/signal_refresh.py) as frames in
signal_snapshots, the latest per signal, API and key; db/queries/snapshots.py reads them.
"""

from __future__ import annotations

import io

import polars as pl

from db.backends.base import Connection
from db.queries.snapshots import EVERY_API


def save_snapshot(conn: Connection, signal: str, api_id: int | None, key: str, frame: pl.DataFrame,
                  computed_at: int) -> None:
    """Keep the frame as the signal's latest for this API and key (in the caller's transaction)."""
    blob = io.BytesIO()
    frame.write_ipc(blob, compression="uncompressed")
    conn.execute(
        "INSERT INTO signal_snapshots (signal, api_id, key, computed_at, frame) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (signal, api_id, key) DO UPDATE SET computed_at = excluded.computed_at, frame = excluded.frame",
        (signal, EVERY_API if api_id is None else api_id, key, computed_at, blob.getvalue()),
    )


def forget_snapshots(conn: Connection, signal: str, older_than: int) -> None:
    """Drop the signal's snapshots computed before `older_than` (keys no longer refreshed)."""
    conn.execute("DELETE FROM signal_snapshots WHERE signal = ? AND computed_at < ?", (signal, older_than))

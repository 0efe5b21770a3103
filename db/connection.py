"""Opening the SQLite file: WAL, sane pragmas, schema brought up to date."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from db.schema import migrate


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode; writers open transactions explicitly (BEGIN IMMEDIATE)."""
    path = Path(path)
    if not readonly:
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        migrate(conn)
    # FULL: an acknowledged commit survives power loss; group commit keeps the fsyncs few.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def checkpoint_in_background(conn: sqlite3.Connection, path: str | Path, stop: threading.Event,
                             every_seconds: float = 0.5) -> threading.Thread:
    """Move WAL checkpoints off `conn`'s commits onto a thread of their own, until `stop` is set.
    A checkpoint copies pages into the database file and syncs it; inside a commit it holds up
    every sender waiting on that commit."""
    conn.execute("PRAGMA wal_autocheckpoint = 0")

    def run() -> None:
        checkpointer = connect(path)
        try:
            while not stop.wait(every_seconds):
                checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            checkpointer.close()

    thread = threading.Thread(target=run, name="wal-checkpoint", daemon=True)
    thread.start()
    return thread

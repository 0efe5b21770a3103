"""Opening the SQLite file: WAL, sane pragmas, schema brought up to date."""

from __future__ import annotations

import sqlite3
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

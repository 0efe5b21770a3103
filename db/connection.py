"""Opening the SQLite file: WAL, sane pragmas, schema brought up to date; or read-only.

A database Footfall creates is readable by its owner only (0600; SQLite gives its -wal and -shm
files the main file's mode), in a folder only its owner can enter (0700) when Footfall makes the
folder too. Existing files and folders keep the modes they have."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from urllib.parse import quote

from db.schema import migrate

CACHE_PRAGMAS = (
    "PRAGMA busy_timeout = 30000",
    "PRAGMA cache_size = -65536",  # 64 MiB
    "PRAGMA temp_store = MEMORY",
)


def connect(path: str | Path) -> sqlite3.Connection:
    """A read-write connection in autocommit mode, the file created and migrated if need be;
    writers open transactions explicitly (BEGIN IMMEDIATE)."""
    path = Path(path)
    create_private(path)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    for pragma in CACHE_PRAGMAS:
        conn.execute(pragma)
    conn.execute("PRAGMA journal_mode = WAL")
    # Deleted content (pruned requests, an erased customer) is overwritten, never left in free pages.
    conn.execute("PRAGMA secure_delete = ON")
    migrate(conn)
    # FULL: an acknowledged commit survives power loss; group commit keeps the fsyncs few.
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def create_private(path: Path) -> None:
    """Create the database file, empty and readable by its owner only (0600), unless it exists;
    its folder, when missing, is created for the owner only (0700; folders above it as usual)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # an existing folder keeps its mode
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
    except FileExistsError:
        pass


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """A connection that cannot write (SQLite's mode=ro), for the dashboard's reads and the
    collector's key lookups. The file must exist; open it with connect() once to create and
    migrate it."""
    path = Path(path).resolve()
    if not path.exists():
        raise FileNotFoundError(f"no database at {path}")
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, isolation_level=None,
                           check_same_thread=False, timeout=30)
    for pragma in CACHE_PRAGMAS:
        conn.execute(pragma)
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

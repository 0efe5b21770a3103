"""The collector's writer leaves WAL checkpoints to a thread of their own, and the WAL still
stays small."""

import threading
import time

import pytest

from db.backends.sqlite import checkpoint_in_background
from db.connection import connect

pytestmark = pytest.mark.sqlite_only  # SQLite's WAL file; PostgreSQL's write-ahead log is the server's

ROW = b"x" * 100_000


def commit_rows(conn, bursts: int = 10, per_burst: int = 6) -> int:
    """Bursts of commits with a quiet moment after each, as traffic comes: a checkpoint that ends
    in a quiet moment has copied the whole WAL, so the next commit starts it again from the top.
    (A checkpoint during a burst copies only what was committed when it began.)"""
    conn.execute("CREATE TABLE IF NOT EXISTS blobs (data BLOB)")
    for _ in range(bursts):
        for _ in range(per_burst):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO blobs VALUES (?)", (ROW,))
            conn.execute("COMMIT")
            time.sleep(0.01)
        time.sleep(0.3)
    return bursts * per_burst * len(ROW)


def wal_bytes(db_path) -> int:
    return db_path.with_name(db_path.name + "-wal").stat().st_size


def test_the_wal_is_checkpointed_by_the_background_thread(db_path):
    conn, stop = connect(db_path), threading.Event()
    thread = checkpoint_in_background(conn, db_path, stop, every_seconds=0.05)
    written = commit_rows(conn)
    stop.set()
    thread.join()
    assert wal_bytes(db_path) < written / 3
    conn.close()


def test_without_it_the_writer_s_commits_no_longer_checkpoint(db_path):
    conn = connect(db_path)
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # what checkpoint_in_background sets
    written = commit_rows(conn)
    assert wal_bytes(db_path) >= written
    conn.close()

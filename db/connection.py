"""Opening the database: a SQLite file (WAL, sane pragmas, schema brought up to date; or
read-only), or a PostgreSQL server when the setting is a postgresql:// URL (db/backends/postgres.py).

A database Footfall creates is readable by its owner only (0600; SQLite gives its -wal and -shm
files the main file's mode), in a folder only its owner can enter (0700) when Footfall makes the
folder too. Existing files and folders keep the modes they have."""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from db.backends.dialect import on_postgres
from db.backends.postgres_url import postgres_parameters
from db.schema import migrate

# Past this size the WAL is checkpointed with TRUNCATE, and it shrinks back to it afterwards.
WAL_LIMIT_BYTES = 64 * 1024 * 1024

CACHE_PRAGMAS = (
    "PRAGMA busy_timeout = 30000",
    "PRAGMA cache_size = -65536",  # 64 MiB
    "PRAGMA temp_store = MEMORY",
)


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(setting: object) -> bool:
    """Whether a database setting (FOOTFALL_DB, --db) names a PostgreSQL server rather than a file."""
    return str(setting).startswith(POSTGRES_SCHEMES)


def database(setting: str | Path) -> str | Path:
    """A database setting (FOOTFALL_DB, --db) as Footfall keeps it: a PostgreSQL URL as it is, a
    file as an absolute Path."""
    return str(setting) if is_postgres(setting) else Path(setting).resolve()


def connect(path: str | Path) -> sqlite3.Connection:
    """A read-write connection in autocommit mode, the file (or the PostgreSQL database) created
    and migrated if need be; writers open transactions explicitly (BEGIN IMMEDIATE)."""
    if is_postgres(path):
        return _connect_postgres(str(path))
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


def _connect_postgres(url: str, read_only: bool = False):
    from db.backends.postgres import PgConnection  # here, not above: psycopg only for a PostgreSQL database

    postgres_parameters(url)  # a URL libpq would misread is refused before connecting
    conn = PgConnection(url, read_only=read_only)
    if not read_only:
        migrate(conn)
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE, the block, COMMIT; on any error ROLLBACK, unless SQLite rolled back
    already (it does on a full disk), so that the error the caller sees is the first one."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """A connection that cannot write (SQLite's mode=ro), for the dashboard's reads and the
    collector's key lookups. The file must exist; open it with connect() once to create and
    migrate it. On PostgreSQL: a connection whose transactions are read-only."""
    if is_postgres(path):
        return _connect_postgres(str(path), read_only=True)
    path = Path(path).resolve()
    if not path.exists():
        raise FileNotFoundError(f"no database at {path}")
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, isolation_level=None,
                           check_same_thread=False, timeout=30)
    for pragma in CACHE_PRAGMAS:
        conn.execute(pragma)
    return conn


# Every error a database raises, on either backend (db/backends/postgres.py raises sqlite3's classes too):
# what callers outside db/ catch, without naming a driver.
DatabaseError = sqlite3.Error


def connection_lost(conn) -> bool:
    """Whether a PostgreSQL connection has lost its server (a restart, a network cut): every
    statement on it fails from then on, so its owner opens another. Never on SQLite: a file does
    not go away."""
    return on_postgres(conn) and conn.raw.closed


def bound_wal(conn: sqlite3.Connection) -> None:
    """After a checkpoint, the WAL file shrinks back to WAL_LIMIT_BYTES (a burst does not keep it
    big); checkpoint_in_background keeps it from growing far past that."""
    conn.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES:d}")


def checkpoint_in_background(conn: sqlite3.Connection, path: str | Path, stop: threading.Event,
                             every_seconds: float = 0.5) -> threading.Thread:
    """Move WAL checkpoints off `conn`'s commits onto a thread of their own, until `stop` is set.
    A checkpoint copies pages into the database file and syncs it; inside a commit it holds up
    every sender waiting on that commit. Checkpoints are PASSIVE (they never wait for the writer)
    until the WAL passes WAL_LIMIT_BYTES, when one TRUNCATE checkpoint waits its turn and starts
    the WAL again from nothing: under commits with no gap, passive ones never catch up. An error
    (a full disk) is reported and the next round tries again: the thread never stops early."""
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    wal = Path(f"{path}-wal")

    def run() -> None:
        checkpointer = connect(path)
        failing = False
        try:
            while not stop.wait(every_seconds):
                try:
                    mode = "TRUNCATE" if _size(wal) > WAL_LIMIT_BYTES else "PASSIVE"
                    checkpointer.execute(f"PRAGMA wal_checkpoint({mode})")
                    failing = False
                except sqlite3.Error as error:
                    if not failing:  # once per episode, not twice a second
                        print(f"footfall: a WAL checkpoint failed, retrying: {error}", file=sys.stderr, flush=True)
                    failing = True
        finally:
            checkpointer.close()

    thread = threading.Thread(target=run, name="wal-checkpoint", daemon=True)
    thread.start()
    return thread


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0

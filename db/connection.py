"""Opening the database the setting names (FOOTFALL_DB, --db): a SQLite file, or a PostgreSQL server
when it is a postgresql:// URL; each through its backend (db/backends/), which the connection then
knows (`conn.backend`). Transactions, the same on both."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from db.backends.base import Backend, Connection
from db.backends.sqlite import SQLITE

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(setting: object) -> bool:
    """Whether a database setting (FOOTFALL_DB, --db) names a PostgreSQL server rather than a file."""
    return str(setting).startswith(POSTGRES_SCHEMES)


def backend_for(setting: str | Path) -> Backend:
    """The backend of the database a setting names, for what is done before (or without) a
    connection; a connection's is `conn.backend`."""
    if is_postgres(setting):
        from db.backends.postgres import POSTGRES  # here, not above: psycopg only for a PostgreSQL database

        return POSTGRES
    return SQLITE


def database(setting: str | Path) -> str | Path:
    """A database setting (FOOTFALL_DB, --db) as Footfall keeps it: a PostgreSQL URL as it is, a
    file as an absolute Path."""
    return str(setting) if is_postgres(setting) else Path(setting).resolve()


def connect(setting: str | Path) -> Connection:
    """A read-write connection in autocommit mode, the file (or the PostgreSQL database) created
    and migrated if need be; writers open transactions explicitly (transaction())."""
    return backend_for(setting).connect(setting)


def connect_readonly(setting: str | Path) -> Connection:
    """A connection that cannot write (SQLite's mode=ro), for the dashboard's reads and the
    collector's key lookups. The file must exist; open it with connect() once to create and
    migrate it. On PostgreSQL: a connection whose transactions are read-only."""
    return backend_for(setting).connect_readonly(setting)


@contextmanager
def transaction(conn: Connection) -> Iterator[None]:
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


def connection_lost(conn: Connection) -> bool:
    """Whether a connection has lost its server (a PostgreSQL restart, a network cut): every
    statement on it fails from then on, so its owner opens another. Never on SQLite: a file does
    not go away."""
    return conn.backend.connection_lost(conn)


def live_readonly(conn: Connection | None, setting: str | Path) -> Connection:
    """`conn`, or a new read-only connection in its place when there is none or it has lost its
    server (for a process that keeps one open between reads)."""
    if conn is not None and not connection_lost(conn):
        return conn
    if conn is not None:
        conn.close()
    return connect_readonly(setting)

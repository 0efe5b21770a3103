"""Pools of read-only connections, one kind per backend behind one interface: `connection()` lends
one for a block, `close()` closes them all. ui/data.py keeps one per database for the dashboard.

- SQLite: a queue of read-only connections to the file, made when none is free, up to `size` kept;
- PostgreSQL: psycopg_pool's ConnectionPool, one connection kept open and up to `size` made while
  callers wait, each checked before it is lent (the server may have restarted), each read through a
  read-only PgConnection made once per pooled connection.
"""

from __future__ import annotations

import contextlib
import queue
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from db.backends.postgres_url import postgres_parameters
from db.connection import connect_readonly, is_postgres


def read_pool(db: str | Path, size: int) -> SqlitePool | ServerPool:
    """The pool for a database setting: a SQLite file or a PostgreSQL URL (migrated already)."""
    return ServerPool(str(db), size) if is_postgres(db) else SqlitePool(db, size)


class SqlitePool:
    """Read-only connections to a SQLite file, kept in a queue between uses."""

    def __init__(self, path: str | Path, size: int):
        self._path, self._size = path, size
        self._idle: queue.SimpleQueue = queue.SimpleQueue()

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = connect_readonly(self._path)
        try:
            yield conn
        finally:
            if self._idle.qsize() < self._size:
                self._idle.put(conn)
            else:
                conn.close()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                break


class ServerPool:
    """Read-only connections to a PostgreSQL database, through psycopg_pool."""

    def __init__(self, url: str, size: int):
        from psycopg_pool import ConnectionPool

        from db.backends.postgres import CONNECT_OPTIONS, read_only_pooled

        postgres_parameters(url)  # a URL libpq would misread is refused before the pool's threads log it
        self._wrapped: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # raw -> PgConnection

        def configure(raw) -> None:
            self._wrapped[raw] = read_only_pooled(raw, url)

        self._pool = ConnectionPool(url, kwargs=CONNECT_OPTIONS, min_size=1, max_size=size, configure=configure,
                                    check=ConnectionPool.check_connection, open=True, name="footfall-dashboard")
        try:
            self._pool.wait(timeout=30)
        except BaseException:
            self._pool.close()
            raise

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        with self._pool.connection() as raw:
            yield self._wrapped[raw]

    def close(self) -> None:
        self._pool.close()

"""What a backend is: one object per engine (sqlite.py's SQLITE, postgres.py's POSTGRES) doing every
operation that differs between them, and the connection db/ talks to, which knows its backend
(`conn.backend`). Everything else in db/ is written once, for both: it asks the connection's
backend where the engines part, never which engine it is on.

Connection, Cursor, Upkeep and Lease are protocols for annotations only (they cost nothing at run
time): a SQLite connection is db.backends.sqlite.SqliteConnection (a sqlite3.Connection), a
PostgreSQL one db.backends.postgres.PgConnection.
"""

from __future__ import annotations

import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

KEY_BYTES = 32  # a kept key's randomness (kept_key)


class Cursor(Protocol):
    """A statement's result, as both drivers give it."""

    description: Any
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ...) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection in autocommit mode, transactions opened explicitly (db.connection.transaction),
    parameters bound as `?`; its errors are db/errors.py's."""

    backend: Backend

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...

    def close(self) -> None: ...


class Partitions(Protocol):
    """Room for a writer's raw requests by time: PostgreSQL's day partitions
    (db/backends/partitions.py), made before a batch's transaction; nothing to make on SQLite."""

    def ensure(self, conn: Connection, timestamps: Iterable[int], now: float | None = None) -> None: ...

    def forget(self) -> None: ...


class Upkeep(Protocol):
    """What the collector's writer does for its database besides writing (Backend.writer_upkeep)."""

    def tend(self, conn: Connection) -> None:
        """The periodic part, on the writer's connection, between batches; raises on failure."""

    def stop(self) -> None:
        """Stop whatever runs on its own (called once the writer's stop event is set)."""


class Lease(Protocol):
    """Work one collector does for all (db/operations/leases.py); held() is asked every round."""

    contended: bool  # other collectors may want it (a team server's)

    def held(self) -> bool: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class AfterErase:
    """What an erasure's clean-up did (Backend.clean_after_erase)."""

    wal_truncated: bool  # the WAL was emptied (never on PostgreSQL: its write-ahead log is the server's)
    vacuumed: bool  # the whole database (PostgreSQL: every table touched) was rewritten
    freed_space_zeroed: bool  # the engine zeroes freed space by default: earlier writes left no copies
    caveats: tuple[str, ...]  # where the erased bytes may remain, and what removes them, for the operator


class Backend(ABC):
    """Every operation that differs between SQLite and PostgreSQL. A setting is the database
    setting (FOOTFALL_DB, --db): a file's path, or a postgresql:// URL."""

    name: str  # "sqlite" or "postgresql": for messages and the tests; behaviour goes through the methods
    # The tables of raw requests' details apart from request_log (rows keyed by request_id); none
    # where each request's details are in its request_log row (PostgreSQL: request_details is a view).
    detail_tables: tuple[str, ...]

    # --- Connecting ------------------------------------------------------------------------------

    @abstractmethod
    def connect(self, setting: str | Path) -> Connection:
        """A read-write connection, the database created and migrated if need be."""

    @abstractmethod
    def connect_readonly(self, setting: str | Path) -> Connection:
        """A connection that cannot write; the database must exist (migrated by connect())."""

    @abstractmethod
    def missing(self, setting: str | Path) -> str | None:
        """Why there is no Footfall database there, for the operator; None when there is one. Found
        without creating or changing anything; CannotConnect when its server cannot be reached."""

    @abstractmethod
    def migrate(self, conn: Connection) -> int:
        """Apply the migrations the database lacks (db/schema/); returns the version reached."""

    @abstractmethod
    def translate(self, sql: str) -> str:
        """A statement of db/ (SQLite's dialect, `?` parameters) as this engine runs it."""

    @abstractmethod
    def connection_lost(self, conn: Connection) -> bool:
        """Whether the connection has lost its server for good: its owner opens another."""

    # --- Writing ---------------------------------------------------------------------------------

    @abstractmethod
    def for_update(self, select: str) -> str:
        """A SELECT inside a write transaction that locks the rows it reads against other writers
        until the transaction ends (the write lock does that on SQLite: the SELECT as it is)."""

    @abstractmethod
    def upsert(self, conn: Connection, table: str, key: tuple[str, ...], values: tuple[str, ...],
               rows: Mapping[tuple, Sequence], updates: str, arrival_order: bool = False) -> None:
        """Insert rows (key -> values) into a table, or on a key already there apply `updates` (the
        SET of an ON CONFLICT ... DO UPDATE), in key order (arrival_order: in the mapping's own
        where the engine has one writer)."""

    @abstractmethod
    def sets_for_update(self, conn: Connection, table: str, key: tuple[str, str],
                        keys: Sequence[tuple[int, int]]) -> Iterable[tuple[int, int, bytes]]:
        """The stored roaring-bitmap sets of these keys, as (first, second, blob), to be added to
        and written back in the caller's transaction: no other writer's additions are lost
        meanwhile. A key without a set may be missing, or come with an empty blob."""

    @abstractmethod
    def partitions(self, days_behind: int | None) -> Partitions:
        """A writer's room for raw requests (Partitions), made ahead of its batches."""

    @abstractmethod
    def new_request_ids(self, conn: Connection, count: int) -> Sequence[int]:
        """Ids for a batch's raw requests, inside the batch's transaction."""

    @abstractmethod
    def insert_requests(self, conn: Connection, requests: Iterable[tuple], details: Iterable[tuple]) -> None:
        """A batch's raw requests (in db.schema.REQUEST_COLUMNS' order) and their details (in
        DETAIL_COLUMNS'), inside the caller's transaction."""

    @abstractmethod
    def load_rows(self, conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
        """Bulk-load rows into a table, inside the caller's transaction; returns how many."""

    @abstractmethod
    def batch_written(self, conn: Connection) -> None:
        """A writer's batch is about to commit: whatever newest_request_id leaves out is counted,
        last in the transaction (the row every writer updates is held the shortest)."""

    @abstractmethod
    def newest_request_id(self, conn: Connection) -> int:
        """The part of the data version (db/reads/freshness.py) only raw requests can give: the
        newest request's id, or 0 where batches are counted instead (batch_written)."""

    @abstractmethod
    def writer_upkeep(self, conn: Connection, setting: str | Path, stopping: threading.Event) -> Upkeep:
        """The collector's writer's upkeep of the database, started now on its connection."""

    # --- Pruning and erasing ---------------------------------------------------------------------

    @abstractmethod
    def drop_before(self, conn: Connection, cutoff: int) -> Iterator[int]:
        """Drop whole what holds only raw requests older than `cutoff`, each piece in a transaction
        of its own, yielding the requests each held (nothing where requests are deleted row by row)."""

    @abstractmethod
    def deleting_in_batches(self, conn: Connection) -> AbstractContextManager[Callable[[], None]]:
        """Around a run of delete transactions (a prune): yields what to do between two of them."""

    @abstractmethod
    def by_time(self, conn: Connection) -> tuple[str, list]:
        """The start of a condition on the raw requests ("... AND ", its parameters) that one on
        their ts completes, so that the engine finds them by time; ("", []) where time alone does."""

    @abstractmethod
    def older_requests(self, conn: Connection, before: int, batch: int) -> Iterator[list[tuple[int, int]]]:
        """The raw requests with ts < before, (id, ts) each, `batch` at a time, about oldest first,
        until none is left (a prune): each batch read after the caller deleted the one before."""

    @abstractmethod
    def within_times(self, times: Sequence[int]) -> tuple[str, list]:
        """A condition (" AND ...", its parameters) on raw requests (request_log, or the view
        request_details) bounding them to these times, where that narrows the search (PostgreSQL's day
        partitions); ("", []) where it does not."""

    @abstractmethod
    def hold_off_erasures(self, conn: Connection) -> None:
        """In a writer's transaction: an erasure waits until it ends (the write lock does that on
        SQLite)."""

    @abstractmethod
    def hold_off_writers(self, conn: Connection) -> None:
        """In an erasure's transaction: every writer waits until it ends (hold_off_erasures)."""

    @abstractmethod
    def customer_references(self, conn: Connection) -> list[tuple[str, str]]:
        """(table, column) of the tables whose rows name a customer by database id and go with
        it: every column declared as a reference to customers at least, the tables that reference
        others first (erasing deletes in this order)."""

    @abstractmethod
    def request_tables(self, conn: Connection, where: str, param: object) -> list[str]:
        """Before raw requests matching `where` are deleted: the tables (or partitions) they lie in."""

    @abstractmethod
    def clean_after_erase(self, conn: Connection, tables: Iterable[str], full: bool) -> AfterErase:
        """After an erasure's commit: leave none of its bytes where the engine can reach them
        (`tables`: every one it touched); full rewrites the files (writes wait meanwhile)."""

    # --- Backups and keys ------------------------------------------------------------------------

    @abstractmethod
    def backup(self, conn: Connection, path: Path) -> None:
        """A consistent copy of the whole database into `path` (made empty, 0600), while writers go
        on: it holds exactly the transactions committed when it began."""

    @abstractmethod
    def restore_command(self, path: Path) -> str | None:
        """How to restore a backup at `path`, when it takes more than opening the file."""

    @abstractmethod
    def kept_key(self, setting: str | Path, suffix: str, name: str) -> bytes:
        """A random key kept with the database (db/writes/kept_keys.py), made now, once, if there is
        none: beside a file, in `<db file><suffix>`; in a database, in the settings row `name`."""

    @abstractmethod
    def stored_key(self, setting: str | Path, suffix: str, name: str) -> bytes | None:
        """The key kept with the database, None when there is none (nothing is made)."""

    @abstractmethod
    def replace_kept_key(self, setting: str | Path, suffix: str, name: str) -> None:
        """A new random key in place of the database's."""

    @abstractmethod
    def copy_kept_key(self, setting: str | Path, backup: str | Path, suffix: str) -> Path | None:
        """Put the database's key beside a backup of it, when the backup does not hold it already;
        returns where."""

    # --- A team server ---------------------------------------------------------------------------

    @abstractmethod
    def lease(self, setting: str | Path, key: int) -> Lease:
        """A lease on work one collector does for all (db/operations/leases.py)."""


def new_key() -> str:
    """A new random key, as kept (text)."""
    return secrets.token_urlsafe(KEY_BYTES)


def checked_key(text: str, where: str) -> bytes:
    """The key in `text` (read from `where`), refused when there is none."""
    key = text.strip()
    if not key:
        raise ValueError(f"{where} is empty: delete it to have a new key made (whatever the old key signed stops"
                         " being valid)")
    return key.encode("ascii")

"""SQLite: a file beside the collector, one writer at a time (BEGIN IMMEDIATE takes the write lock),
WAL mode with checkpoints off the writer's commits, keys kept in files beside the database.

A database Footfall creates is readable by its owner only (0600; SQLite gives its -wal and -shm
files the main file's mode), in a folder only its owner can enter (0700) when Footfall makes the
folder too. Existing files and folders keep the modes they have.

Errors come out as db/errors.py's: SqliteConnection translates sqlite3's as a statement runs
(execute, executemany, executescript: every write, and a read's first row); a read's later rows,
stepped as they are fetched, are left untranslated, since a check per row would slow every read
(only a file damaged or unreadable mid-read fails there).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import quote

from db.backends.base import AfterErase, Backend, Connection, checked_key, new_key
from db.errors import DatabaseError, DataError, IntegrityError, OperationalError, ProgrammingError
from db.schema import DETAIL_COLUMNS, REQUEST_COLUMNS
from db.schema.sqlite import migrate

# Past this size the WAL is checkpointed with TRUNCATE, and it shrinks back to it afterwards.
WAL_LIMIT_BYTES = 64 * 1024 * 1024

CACHE_PRAGMAS = (
    "PRAGMA busy_timeout = 30000",
    "PRAGMA cache_size = -65536",  # 64 MiB
    "PRAGMA temp_store = MEMORY",
)

_TRANSLATED = ((sqlite3.IntegrityError, IntegrityError), (sqlite3.OperationalError, OperationalError),
               (sqlite3.DataError, DataError),
               ((sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.NotSupportedError, sqlite3.Warning),
                ProgrammingError))


def footfall_error(error: sqlite3.Error | sqlite3.Warning) -> DatabaseError:
    """sqlite3's error as db/errors.py's class of it, with its message."""
    for theirs, ours in _TRANSLATED:
        if isinstance(error, theirs):
            return ours(str(error))
    return DatabaseError(str(error))


_execute, _executemany, _executescript = (sqlite3.Connection.execute, sqlite3.Connection.executemany,
                                          sqlite3.Connection.executescript)


class SqliteConnection(sqlite3.Connection):
    """A sqlite3 connection (made by connect()'s factory) that knows its backend and raises
    db/errors.py's errors."""

    backend: SqliteBackend

    def execute(self, sql: str, parameters=(), /) -> sqlite3.Cursor:
        try:
            return _execute(self, sql, parameters)
        except (sqlite3.Error, sqlite3.Warning) as error:
            raise footfall_error(error) from error

    def executemany(self, sql: str, parameters, /) -> sqlite3.Cursor:
        try:
            return _executemany(self, sql, parameters)
        except (sqlite3.Error, sqlite3.Warning) as error:
            raise footfall_error(error) from error

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        try:
            return _executescript(self, script)
        except (sqlite3.Error, sqlite3.Warning) as error:
            raise footfall_error(error) from error


@contextmanager
def _translated() -> Iterator[None]:
    """sqlite3's errors raised in the block as db/errors.py's (connecting, a backup, a commit)."""
    try:
        yield
    except (sqlite3.Error, sqlite3.Warning) as error:
        raise footfall_error(error) from error


def create_private(path: Path) -> None:
    """Create the database file, empty and readable by its owner only (0600), unless it exists;
    its folder, when missing, is created for the owner only (0700; folders above it as usual)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # an existing folder keeps its mode
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
    except FileExistsError:
        pass


def bound_wal(conn: Connection) -> None:
    """After a checkpoint, the WAL file shrinks back to WAL_LIMIT_BYTES (a burst does not keep it
    big); checkpoint_in_background keeps it from growing far past that."""
    conn.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES:d}")


def checkpoint_in_background(conn: Connection, path: str | Path, stop: threading.Event,
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
        checkpointer = SQLITE.connect(path)
        failing = False
        try:
            while not stop.wait(every_seconds):
                try:
                    mode = "TRUNCATE" if _size(wal) > WAL_LIMIT_BYTES else "PASSIVE"
                    checkpointer.execute(f"PRAGMA wal_checkpoint({mode})")
                    failing = False
                except DatabaseError as error:
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


class _NoPartitions:
    """SQLite keeps every raw request in one table: no room to make ahead."""

    def ensure(self, conn: Connection, timestamps: Iterable[int], now: float | None = None) -> None:
        pass

    def forget(self) -> None:
        pass


class _Checkpoints:
    """The writer's upkeep on SQLite: a bounded WAL, checkpointed on a thread of its own."""

    def __init__(self, conn: Connection, path: str | Path, stopping: threading.Event):
        bound_wal(conn)
        self._thread = checkpoint_in_background(conn, path, stopping)

    def tend(self, conn: Connection) -> None:
        pass

    def stop(self) -> None:
        self._thread.join()


class _OwnLease:
    """One machine runs one collector on a SQLite file: the lease is always its own."""

    contended = False

    def held(self) -> bool:
        return True

    def close(self) -> None:
        pass



# The request details' columns as SQLite stores them: every one handed over but ts (?2, bound and unused).
_DETAILS_INSERT = (f"INSERT INTO request_details ({', '.join(c for c in DETAIL_COLUMNS if c != 'ts')})"
                   f" VALUES ({', '.join(f'?{n}' for n, c in enumerate(DETAIL_COLUMNS, start=1) if c != 'ts')})")
_REQUESTS_INSERT = (f"INSERT INTO request_log ({', '.join(REQUEST_COLUMNS)})"
                    f" VALUES ({', '.join('?' * len(REQUEST_COLUMNS))})")


class SqliteBackend(Backend):
    """SQLite's side of every operation that differs (db/backends/base.py says what each is)."""

    name = "sqlite"
    detail_tables = ("request_details",)

    def connect(self, setting: str | Path) -> SqliteConnection:
        """Autocommit (writers open transactions explicitly, BEGIN IMMEDIATE), WAL mode, deleted
        content zeroed, the schema migrated; commits survive power loss (synchronous FULL)."""
        path = Path(setting)
        create_private(path)
        with _translated():
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30,
                                   factory=SqliteConnection)
            try:
                for pragma in CACHE_PRAGMAS:
                    conn.execute(pragma)
                conn.execute("PRAGMA journal_mode = WAL")
                # Deleted content (pruned requests, an erased customer) is overwritten, never left in free pages.
                conn.execute("PRAGMA secure_delete = ON")
                migrate(conn)
                # FULL: an acknowledged commit survives power loss; group commit keeps the fsyncs few.
                conn.execute("PRAGMA synchronous = FULL")
            except BaseException:
                conn.close()
                raise
        return conn

    def connect_readonly(self, setting: str | Path) -> SqliteConnection:
        """SQLite's mode=ro; FileNotFoundError when there is no file."""
        path = Path(setting).resolve()
        if not path.exists():
            raise FileNotFoundError(f"no database at {path}")
        with _translated():
            conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, isolation_level=None,
                                   check_same_thread=False, timeout=30, factory=SqliteConnection)
        for pragma in CACHE_PRAGMAS:
            conn.execute(pragma)
        return conn

    def missing(self, setting: str | Path) -> str | None:
        return None if Path(setting).exists() else f"no database at {setting}"

    def migrate(self, conn: Connection) -> int:
        with _translated():  # its transactions commit through sqlite3's context manager
            return migrate(conn)

    def translate(self, sql: str) -> str:
        return sql

    def connection_lost(self, conn: Connection) -> bool:
        return False  # a file does not go away

    def for_update(self, select: str) -> str:
        return select  # BEGIN IMMEDIATE holds the write lock: no other writer until the commit

    def upsert(self, conn: Connection, table: str, key: tuple[str, ...], values: tuple[str, ...],
               rows: Mapping[tuple, Sequence], updates: str, arrival_order: bool = False) -> None:
        """One executemany: one writer at a time, so no order to keep against others."""
        columns = key + values
        conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                         f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
                         [(*k, *rows[k]) for k in (rows if arrival_order else sorted(rows))])

    def sets_for_update(self, conn: Connection, table: str, key: tuple[str, str],
                        keys: Sequence[tuple[int, int]]) -> Iterable[tuple[int, int, bytes]]:
        first, second = key
        return conn.execute(f"SELECT {first}, {second}, customers FROM {table} WHERE ({first}, {second}) IN"
                            " (SELECT value ->> 0, value ->> 1 FROM json_each(?))", (json.dumps(keys),))

    def partitions(self, days_behind: int | None) -> _NoPartitions:
        return _NoPartitions()

    def new_request_ids(self, conn: Connection, count: int) -> range:
        first = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM request_log").fetchone()[0]
        return range(first, first + count)

    def insert_requests(self, conn: Connection, requests: Iterable[tuple], details: Iterable[tuple]) -> None:
        conn.executemany(_REQUESTS_INSERT, requests)
        conn.executemany(_DETAILS_INSERT, details)

    def load_rows(self, conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
        return conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                                rows).rowcount

    def batch_written(self, conn: Connection) -> None:
        pass  # one writer: the newest request id tells every batch

    def newest_request_id(self, conn: Connection) -> int:
        return conn.execute("SELECT COALESCE(MAX(id), 0) FROM request_log").fetchone()[0]

    def writer_upkeep(self, conn: Connection, setting: str | Path, stopping: threading.Event) -> _Checkpoints:
        return _Checkpoints(conn, setting, stopping)

    def drop_before(self, conn: Connection, cutoff: int) -> Iterator[int]:
        return iter(())  # one table: pruned row by row

    @contextmanager
    def deleting_in_batches(self, conn: Connection) -> Iterator[Callable[[], None]]:
        """No automatic checkpoint at the end of a commit; a PASSIVE one between two transactions
        (the connection's own setting comes back after)."""
        before = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        try:
            yield lambda: conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.execute(f"PRAGMA wal_autocheckpoint = {int(before):d}")

    def by_time(self, conn: Connection) -> tuple[str, list]:
        """Through the requests_api_ts index, one API after another (it leads with the API)."""
        return "api_id IN (SELECT value FROM json_each(?)) AND ", [json.dumps(request_api_ids(conn))]

    def older_requests(self, conn: Connection, before: int, batch: int) -> Iterator[list[tuple[int, int]]]:
        """API by API, oldest first, through the requests_api_ts index: one lookup per API when
        none is older."""
        for api_id in request_api_ids(conn):
            while rows := conn.execute("SELECT id, ts FROM request_log WHERE api_id = ? AND ts < ? ORDER BY ts LIMIT ?",
                                       (api_id, before, batch)).fetchall():
                yield rows

    def within_times(self, times: Sequence[int]) -> tuple[str, list]:
        return "", []  # found by request_id, their primary key

    def hold_off_erasures(self, conn: Connection) -> None:
        pass  # BEGIN IMMEDIATE: one writer at a time, erasures included

    def hold_off_writers(self, conn: Connection) -> None:
        pass

    def customer_references(self, conn: Connection) -> list[tuple[str, str]]:
        """Every column declared as a reference to customers."""
        return conn.execute(
            "SELECT m.name, f.\"from\" FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f"
            " WHERE m.type = 'table' AND f.\"table\" = 'customers'").fetchall()

    def request_tables(self, conn: Connection, where: str, param: object) -> list[str]:
        return ["request_log", *self.detail_tables]

    def clean_after_erase(self, conn: Connection, tables: Iterable[str], full: bool) -> AfterErase:
        """Deleted content is zeroed as it goes (secure_delete); then the WAL is checkpointed and
        truncated, so that it keeps no old page. Copies that earlier writes moved or rewrote are
        zeroed only where SQLite zeroes freed space by default (built with SQLITE_SECURE_DELETE,
        as Debian's is); `full` rewrites the whole file first (VACUUM: seconds per GB, holding
        the write lock)."""
        if full:
            conn.execute("VACUUM")
        truncated = checkpoint_truncate(conn)
        zeroed = freed_space_zeroed(conn)
        caveats = []
        if not truncated:
            caveats.append("the -wal file may still hold old pages (other connections kept reading): stop every"
                           " Footfall process once, the last one to close the database removes it")
        if not (zeroed or full):
            caveats.append("this SQLite does not zero freed space by default: run with --vacuum to be sure that"
                           " no copy moved earlier is left in the file")
        return AfterErase(truncated, full, zeroed, tuple(caveats))

    def backup(self, conn: Connection, path: Path) -> None:
        """SQLite's online backup, every page in one step under one read transaction: the copy
        holds exactly the transactions committed when it began (writers go on meanwhile; only
        checkpoints wait for it)."""
        with _translated(), closing(sqlite3.connect(path, isolation_level=None)) as target:
            conn.backup(target)  # pages=-1: in one step, one read transaction

    def restore_command(self, path: Path) -> None:
        return None  # the copy is a database file

    def kept_key(self, setting: str | Path, suffix: str, name: str) -> bytes:
        """The key in `<db file><suffix>` (0600), made now if there is none: written aside and
        linked into place, so that two processes starting together end up with the same key."""
        path = key_path(setting, suffix)
        try:
            return read_key(path)
        except FileNotFoundError:
            pass
        aside = _new_key_file(path)
        try:
            try:
                os.link(aside, path)  # fails when another process got there first: its key wins
            except FileExistsError:
                pass
        finally:
            os.unlink(aside)
        return read_key(path)

    def stored_key(self, setting: str | Path, suffix: str, name: str) -> bytes | None:
        try:
            return read_key(key_path(setting, suffix))
        except FileNotFoundError:
            return None

    def replace_kept_key(self, setting: str | Path, suffix: str, name: str) -> None:
        path = key_path(setting, suffix)
        os.replace(_new_key_file(path), path)  # atomic: a reader sees the old key or the new one, whole

    def copy_kept_key(self, setting: str | Path, backup: str | Path, suffix: str) -> Path | None:
        """The key file, when there is one, copied beside the backup (owner only)."""
        source = key_path(setting, suffix)
        if not source.exists():
            return None
        target = Path(f"{backup}{suffix}")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(source.read_text(encoding="ascii"))
        os.chmod(target, 0o600)
        return target

    def lease(self, setting: str | Path, key: int) -> _OwnLease:
        return _OwnLease()


def request_api_ids(conn: Connection) -> list[int]:
    """Every API with raw requests stored, registered or not: a skip through the requests_api_ts
    index, one lookup per API."""
    found: list[int] = []
    while (row := conn.execute("SELECT MIN(api_id) FROM request_log WHERE api_id > ?",
                               (found[-1] if found else -1,)).fetchone())[0] is not None:
        found.append(row[0])
    return found


def checkpoint_truncate(conn: Connection) -> bool:
    """Copy every page of the WAL into the database file and truncate the WAL to nothing (waiting
    for readers up to the busy timeout); False when a reader kept it from finishing."""
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return busy == 0


def freed_space_zeroed(conn: Connection) -> bool:
    """Whether this SQLite zeroes the space it frees by default (compiled with
    SQLITE_SECURE_DELETE), on every connection, the collector's writes included: then rows it
    moved or rewrote earlier left no stale copies in free space."""
    return any(option == "SECURE_DELETE" for (option,) in conn.execute("PRAGMA compile_options"))


def key_path(setting: str | Path, suffix: str) -> Path:
    """Where a SQLite database's key is kept: beside the file."""
    return Path(f"{Path(setting).resolve()}{suffix}")


def read_key(path: Path) -> bytes:
    """The key in a key file; FileNotFoundError when there is none."""
    return checked_key(path.read_text(encoding="ascii"), str(path))


def _new_key_file(path: Path) -> str:
    """A new random key in a file beside `path` (0600, synced); returns the file's name."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, aside = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(new_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(aside)
        raise
    return aside


SQLITE = SqliteBackend()
SqliteConnection.backend = SQLITE

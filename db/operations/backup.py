"""Backup: a consistent copy of the whole database while the collector writes. On SQLite, its online
backup of every page under one read transaction, into a new file only its owner can read; on
PostgreSQL, pg_dump's custom format, the password handed over in its environment.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from db.backends.dialect import on_postgres

@dataclass(frozen=True)
class BackupReport:
    """A backup written."""

    path: Path
    bytes: int
    seconds: float


def backup(conn: sqlite3.Connection, path: str | Path, overwrite: bool = False) -> BackupReport:
    """Write a consistent copy of the database to `path`, while the collector may be writing:
    SQLite's online backup copies every page in one step, under one read transaction, so the copy
    holds exactly the transactions committed when it began (in WAL mode writers go on meanwhile;
    only checkpoints wait for it).

    The copy is written to a temporary file beside `path` (created 0600: owner only), synced, and
    then given its name, so that `path` never holds half a backup. An existing `path` is refused
    (FileExistsError) unless overwrite is set, in which case it is replaced at once.

    On PostgreSQL the copy is pg_dump's, in its custom format (restore it with pg_restore), taken
    in one snapshot while writers go on (dump_postgres); the same temporary file, mode and naming."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; choose another name, or overwrite it")
    started = time.perf_counter()
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        if on_postgres(conn):
            dump_postgres(conn.url, partial)
        else:
            target = sqlite3.connect(partial, isolation_level=None)
            try:
                conn.backup(target)  # pages=-1: in one step, one read transaction
            finally:
                target.close()
        _fsync(partial)
        if overwrite:
            os.replace(partial, path)
        else:
            os.link(partial, path)  # fails if `path` appeared meanwhile: never overwritten
            os.unlink(partial)
        _fsync(path.parent)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(path, path.stat().st_size, time.perf_counter() - started)


class BackupFailed(RuntimeError):
    """pg_dump is missing or failed; the message says why (never the password)."""


def dump_postgres(url: str, path: str | Path) -> None:
    """pg_dump of the database at `url` into `path` (custom format: pg_restore reads it), in one
    snapshot, so that the copy holds exactly the transactions committed when it began. The
    password goes to pg_dump in its environment (PGPASSWORD), never on its command line, where
    any user of the machine could read it; pg_dump is never left waiting for one to be typed."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    program = shutil.which("pg_dump")
    if program is None:
        raise BackupFailed("pg_dump is not installed: install PostgreSQL's client programs (Debian: apt install"
                           " postgresql-client) in a version no older than the server, or run pg_dump yourself")
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = {**os.environ, "PGPASSWORD": password} if password else dict(os.environ)
    done = subprocess.run([program, "--format=custom", "--no-password", "--file", str(path),
                           "--dbname", make_conninfo(**params)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        detail = done.stderr.strip().replace(password, "***") if password else done.stderr.strip()
        raise BackupFailed(f"pg_dump failed (exit {done.returncode}): {detail}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""Backup: a consistent copy of the whole database while the collector writes, into a new file only
its owner can read, made by the database's backend (Backend.backup: SQLite's online backup of every
page under one read transaction; PostgreSQL's pg_dump, the password handed over in its environment).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from db.backends.base import Connection


@dataclass(frozen=True)
class BackupReport:
    """A backup written."""

    path: Path
    bytes: int
    seconds: float
    restore_command: str | None = None  # how to restore it, when it takes more than opening the file


def backup(conn: Connection, path: str | Path, overwrite: bool = False) -> BackupReport:
    """Write a consistent copy of the database to `path`, while the collector may be writing: the
    copy holds exactly the transactions committed when it began (SQLite's online backup copies
    every page in one step, under one read transaction; in WAL mode writers go on meanwhile, only
    checkpoints wait for it. On PostgreSQL it is pg_dump's, in its custom format, taken in one
    snapshot: restore it with pg_restore).

    The copy is written to a temporary file beside `path` (created 0600: owner only), synced, and
    then given its name, so that `path` never holds half a backup. An existing `path` is refused
    (FileExistsError) unless overwrite is set, in which case it is replaced at once.
    db.errors.BackupFailed when the backend's tool (pg_dump) is missing or fails."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; choose another name, or overwrite it")
    started = time.perf_counter()
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        conn.backend.backup(conn, partial)
        _fsync(partial)
        if overwrite:
            os.replace(partial, path)
        else:
            os.link(partial, path)  # fails if `path` appeared meanwhile: never overwritten
            os.unlink(partial)
        _fsync(path.parent)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(path, path.stat().st_size, time.perf_counter() - started, conn.backend.restore_command(path))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

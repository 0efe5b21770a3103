"""Random keys Footfall makes once per database and keeps with it: beside a SQLite file,
`<db file><suffix>`, readable by its owner only (0600); inside a PostgreSQL database, in a settings
row, since the team's dashboards and CLIs run on several machines with no file in common (and a
pg_dump carries the key along). The customer links' signing key (db/writes/links.py) and the dashboard's
cookie key (db/writes/sessions.py) are kept this way.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from db.connection import connect, connect_readonly, is_postgres

KEY_BYTES = 32


def kept_key(db_path: str | Path, suffix: str, setting: str) -> bytes:
    """The database's key: read, or else made now, once, atomically: a file is written aside and
    linked into place, so that two processes starting together end up with the same key; on
    PostgreSQL the settings row is written once (INSERT ... ON CONFLICT DO NOTHING, then read
    back), so that every process on every machine has the same key."""
    if is_postgres(db_path):
        with connect_readonly(str(db_path)) as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (setting,)).fetchone()
        if row is not None:
            return checked_key(row[0], f"the settings row {setting!r}")
        with connect(str(db_path)) as conn:
            return key_in_settings(conn, setting)
    path = key_path(db_path, suffix)
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


def replace_kept_key(db_path: str | Path, suffix: str, setting: str) -> None:
    """Put a new random key in place of the database's (made if there was none): whatever the old
    one signed stops being valid wherever the new one is read."""
    if is_postgres(db_path):
        with connect(str(db_path)) as conn:
            conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                         " SET value = excluded.value", (setting, secrets.token_urlsafe(KEY_BYTES)))
        return
    path = key_path(db_path, suffix)
    aside = _new_key_file(path)
    os.replace(aside, path)  # atomic: a reader sees the old key or the new one, whole


def key_in_settings(conn, setting: str) -> bytes:
    """On a read-write PostgreSQL connection: the key in settings, a new random one stored first
    unless one is there; whichever process inserted first, every process reads its key."""
    conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                 (setting, secrets.token_urlsafe(KEY_BYTES)))
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (setting,)).fetchone()
    return checked_key(row[0], f"the settings row {setting!r}")


def key_path(db_path: str | Path, suffix: str) -> Path:
    """Where a SQLite database's key is kept: beside the file."""
    return Path(f"{Path(db_path).resolve()}{suffix}")


def read_key(path: Path) -> bytes:
    """The key in a key file; FileNotFoundError when there is none."""
    return checked_key(path.read_text(encoding="ascii"), str(path))


def checked_key(text: str, where: str) -> bytes:
    """The key in `text` (read from `where`), refused when there is none."""
    key = text.strip()
    if not key:
        raise ValueError(f"{where} is empty: delete it to have a new key made (whatever the old key signed stops"
                         " being valid)")
    return key.encode("ascii")


def _new_key_file(path: Path) -> str:
    """A new random key in a file beside `path` (0600, synced); returns the file's name."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, aside = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(KEY_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(aside)
        raise
    return aside

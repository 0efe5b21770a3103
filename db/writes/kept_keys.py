"""Random keys Footfall makes once per database and keeps with it, where its backend keeps them:
beside a SQLite file, `<db file><suffix>`, readable by its owner only (0600); inside a PostgreSQL
database, in a settings row, since the team's dashboards and CLIs run on several machines with no
file in common (and a pg_dump carries the key along). The customer links' signing key
(db/writes/links.py) and the dashboard's cookie key (db/writes/sessions.py) are kept this way.
"""

from __future__ import annotations

from pathlib import Path

from db.connection import backend_for


def kept_key(db_path: str | Path, suffix: str, setting: str) -> bytes:
    """The database's key: read, or else made now, once, atomically, so that every process (on
    every machine, on a server) ends up with the same key."""
    return backend_for(db_path).kept_key(db_path, suffix, setting)


def stored_key(db_path: str | Path, suffix: str, setting: str) -> bytes | None:
    """The database's key, None when it has none yet (nothing is made)."""
    return backend_for(db_path).stored_key(db_path, suffix, setting)


def replace_kept_key(db_path: str | Path, suffix: str, setting: str) -> None:
    """Put a new random key in place of the database's (made if there was none): whatever the old
    one signed stops being valid wherever the new one is read."""
    backend_for(db_path).replace_kept_key(db_path, suffix, setting)


def copy_kept_key(db_path: str | Path, backup_path: str | Path, suffix: str) -> Path | None:
    """Copy the database's key beside a backup of it (readable by its owner only), unless the
    backup holds it already (PostgreSQL's dump); returns the copy's path, None when none was made."""
    return backend_for(db_path).copy_kept_key(db_path, backup_path, suffix)

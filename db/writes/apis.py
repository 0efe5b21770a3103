"""The registered APIs: register one, list them, look them up, rotate a key, remove one.

Keys are stored as core.keys.key_hash and a short prefix, never in plain text: a key is shown
once, when it is made. No polars here: the collector's HTTP workers look keys up through this
module. Each change bumps the dashboard's edit counter (db/writes/counters.py), so that a running
dashboard lists a new API at once, before its first request."""

from __future__ import annotations

import time

from core.keys import key_hash, key_prefix, new_key
from db.backends.base import Connection
from db.errors import IntegrityError
from db.writes.counters import EDITS_KEY, bump_counter


def add_api(conn: Connection, name: str, api_key: str | None = None) -> str:
    """Register an API; returns its key (a new random one unless given: a Treblle project ID)."""
    api_key = api_key or new_key()
    try:
        conn.execute(
            "INSERT INTO apis (name, key_hash, key_prefix, created_at) VALUES (?, ?, ?, ?)",
            (name, key_hash(api_key), key_prefix(api_key), int(time.time())),
        )
    except IntegrityError as error:
        which = "name" if "name" in str(error) else "API key"  # apis.name, apis_name_key
        raise ValueError(f"an API with this {which} is already registered") from None
    bump_counter(conn, EDITS_KEY)
    return api_key


def rotate_key(conn: Connection, api_id: int) -> str:
    """A new random key for the API; the old one stops working. Returns the new key."""
    api_key = new_key()
    conn.execute("UPDATE apis SET key_hash = ?, key_prefix = ? WHERE id = ? AND removed_at IS NULL",
                 (key_hash(api_key), key_prefix(api_key), api_id))
    bump_counter(conn, EDITS_KEY)
    return api_key


def retire_api(conn: Connection, api_id: int) -> None:
    """Remove the API but keep its data: its key stops working, its figures stay on every page."""
    conn.execute("UPDATE apis SET key_hash = NULL, removed_at = ? WHERE id = ?", (int(time.time()), api_id))
    bump_counter(conn, EDITS_KEY)


def api_list(conn: Connection) -> list[dict]:
    """Every API: id, name, key_prefix, created_at, removed_at (None while it takes traffic); by name."""
    cursor = conn.execute("SELECT id, name, key_prefix, created_at, removed_at FROM apis ORDER BY name")
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row)) for row in cursor]


def api_id_by_name(conn: Connection, name: str) -> int | None:
    """The id of the API with this name (or this key), None when there is none."""
    row = conn.execute("SELECT id FROM apis WHERE name = ? OR key_hash = ?", (name, key_hash(name))).fetchone()
    return row[0] if row else None


def api_ids_by_hash(conn: Connection) -> dict[str, int]:
    """The hash of every key that works now, with its API's id: what ingest checks payloads against."""
    return dict(conn.execute("SELECT key_hash, id FROM apis WHERE key_hash IS NOT NULL"))


def api_count(conn: Connection) -> int:
    """How many APIs were ever registered and not deleted (demo data goes only where there are none)."""
    return conn.execute("SELECT COUNT(*) FROM apis").fetchone()[0]

"""The registered APIs: register one, list them, look them up by name or key.

No polars here: the collector's HTTP workers look keys up through this module."""

from __future__ import annotations

import secrets
import sqlite3
import time


def add_api(conn: sqlite3.Connection, name: str, api_key: str | None = None) -> str:
    """Register an API; returns its key (a new random one unless given)."""
    api_key = api_key or secrets.token_urlsafe(24)
    try:
        conn.execute(
            "INSERT INTO apis (name, api_key, created_at) VALUES (?, ?, ?)", (name, api_key, int(time.time()))
        )
    except sqlite3.IntegrityError as error:
        which = "name" if "apis.name" in str(error) else "API key"
        raise ValueError(f"an API with this {which} is already registered") from None
    return api_key


def api_list(conn: sqlite3.Connection) -> list[dict]:
    """Every API: id, name, api_key, created_at; by name."""
    cursor = conn.execute("SELECT id, name, api_key, created_at FROM apis ORDER BY name")
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row)) for row in cursor]


def api_id_by_name(conn: sqlite3.Connection, name: str) -> int | None:
    """The id of the API with this name (or this key), None when there is none."""
    row = conn.execute("SELECT id FROM apis WHERE name = ? OR api_key = ?", (name, name)).fetchone()
    return row[0] if row else None


def api_ids_by_key(conn: sqlite3.Connection) -> dict[str, int]:
    """Every registered API key with its API's id: what ingest checks payloads against."""
    return dict(conn.execute("SELECT api_key, id FROM apis"))

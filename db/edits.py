"""The dashboard's edits: favorites and the home widget choice (each analyst's own when sign-in
is on), descriptions and display names (shared, with who last edited the description and when).

Each edit and a bump of the edit counter (db/freshness.py) commit together, so that every cached
read sees the edit on the next run. Writes customers, favorites and settings.
"""

from __future__ import annotations

import sqlite3
import time

from core.home_widgets import dump_widget_choices, widgets_key
from db.connection import transaction
from db.freshness import EDITS_KEY, bump_counter


def save_description(conn: sqlite3.Connection, customer_id: str, description: str, editor: str = "") -> None:
    """The customer's (by the ID shown) notes, shared by every analyst; editor: who wrote them
    (the signed-in analyst's address; "" without sign-in)."""
    _edit(conn, "UPDATE customers SET description = ?, description_by = ?, description_at = ? WHERE external_id = ?",
          (description, editor or None, int(time.time()), customer_id))


def save_favorite(conn: sqlite3.Connection, analyst: str, customer_id: str, favorite: bool) -> None:
    """Star the customer (by the ID shown) for this analyst, or not."""
    if favorite:
        _edit(conn, "INSERT OR IGNORE INTO favorites (analyst, customer_id)"
                    " SELECT ?, id FROM customers WHERE external_id = ?", (analyst, customer_id))
    else:
        _edit(conn, "DELETE FROM favorites WHERE analyst = ?"
                    " AND customer_id = (SELECT id FROM customers WHERE external_id = ?)", (analyst, customer_id))


def save_display_name(conn: sqlite3.Connection, customer_id: str, name: str | None) -> None:
    """The name an analyst gives the customer; empty: back to the name from traffic, else the ID."""
    _edit(conn, "UPDATE customers SET display_name = ? WHERE external_id = ?",
          ((name or "").strip() or None, customer_id))


def save_widget_choices(conn: sqlite3.Connection, analyst: str, choices: dict[str, bool]) -> None:
    """Which home widgets this analyst switched on ("": everyone, without sign-in)."""
    _edit(conn, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
          (widgets_key(analyst), dump_widget_choices(choices)))


def _edit(conn: sqlite3.Connection, sql: str, params: tuple) -> None:
    """One edit and the edit counter's bump, in one transaction."""
    with transaction(conn):
        conn.execute(sql, params)
        bump_counter(conn, EDITS_KEY)

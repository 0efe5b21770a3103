"""The dashboard's edits: favorites, descriptions, display names and the home widget choice.

Each edit and a bump of the edit counter (db/freshness.py) commit together, so that every cached
read sees the edit on the next run. Writes customers and settings.
"""

from __future__ import annotations

import sqlite3

from core.home_widgets import WIDGETS_KEY, dump_widget_choices
from db.freshness import EDITS_KEY


def save_description(conn: sqlite3.Connection, customer_id: str, description: str) -> None:
    """The customer's (by the ID shown) notes."""
    _edit(conn, "UPDATE customers SET description = ? WHERE external_id = ?", (description, customer_id))


def save_favorite(conn: sqlite3.Connection, customer_id: str, favorite: bool) -> None:
    """Star the customer, or not."""
    _edit(conn, "UPDATE customers SET favorite = ? WHERE external_id = ?", (int(favorite), customer_id))


def save_display_name(conn: sqlite3.Connection, customer_id: str, name: str | None) -> None:
    """The name an analyst gives the customer; empty: back to the name from traffic, else the ID."""
    _edit(conn, "UPDATE customers SET display_name = ? WHERE external_id = ?",
          ((name or "").strip() or None, customer_id))


def save_widget_choices(conn: sqlite3.Connection, choices: dict[str, bool]) -> None:
    """Which home widgets are switched on (for everyone using this database)."""
    _edit(conn, "INSERT INTO settings (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (WIDGETS_KEY, dump_widget_choices(choices)))


def _edit(conn: sqlite3.Connection, sql: str, params: tuple) -> None:
    """One edit and the edit counter's bump, in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(sql, params)
        conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, '1')"
            " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            (EDITS_KEY,),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise

"""The schemas of both engines, side by side: SQLite's (sqlite.py, PRAGMA user_version records how
far it is migrated) and PostgreSQL's (postgres.py, the table footfall_schema), each as numbered
migrations applied in order. They define the same tables and columns (tests/db/test_schema.py).
"""

from __future__ import annotations

import sqlite3

from db.backends.dialect import on_postgres
from db.schema import postgres, sqlite


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations the connection's database lacks, on its engine; returns the schema
    version reached."""
    return postgres.migrate(conn) if on_postgres(conn) else sqlite.migrate(conn)


def footfall_database(conn) -> bool:
    """PostgreSQL: whether the database has Footfall's tables (a migrated one), read without
    changing anything."""
    return conn.execute("SELECT to_regclass('footfall_schema') IS NOT NULL").fetchone()[0]

"""Whether anything changed: the keys that every page's cached reads are stored under (ui/data.py
reads them once per run); the dashboard's read model of freshness.

Reads requests (its newest id), settings (the counters of db/writes/counters.py) and api_hourly.
"""

from __future__ import annotations

from core.scope import Scope
from db.backends.base import Connection
from db.queries.figures import api_totals
from db.writes.counters import EDITS_KEY, INGEST_KEY


def data_version(conn: Connection) -> tuple[int, str]:
    """Cheap and changing whenever a figure may: the newest request id (every ingest adds one) on
    SQLite, the batches committed (INGEST_KEY) on PostgreSQL (Backend.newest_request_id and
    batch_written), and a counter the dashboard's own edits bump (favorites, descriptions, names,
    widgets)."""
    newest = conn.backend.newest_request_id(conn)
    edits, batches = conn.execute(
        "SELECT (SELECT value FROM settings WHERE key = ?), (SELECT value FROM settings WHERE key = ?)",
        (EDITS_KEY, INGEST_KEY),
    ).fetchone()
    return int(newest), f"{edits or 0}.{batches or 0}"


def period_fingerprint(conn: Connection, scope: Scope) -> tuple[int, int]:
    """Changes whenever any figure of the period may: every request stored for the period adds to
    these sums (new customers and active ones come only with requests). Past periods rarely
    change, so their figures can be kept while the collector stores today's traffic."""
    totals = api_totals(conn, scope)
    return totals.requests, totals.identified


def request_count(conn: Connection) -> int:
    """How many requests are stored (0: an empty database)."""
    return conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]

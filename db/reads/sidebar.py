"""The sidebar's read model, on every page: the APIs to choose from (and whether each has had a
request yet) and the analyst's favorite customers.

Reads apis, api_hourly, favorites and customers.
"""

from __future__ import annotations

import polars as pl

from core.access import SHARED_ANALYST
from db.backends.base import Connection
from db.queries.figures import DISPLAY_NAME
from db.queries.frames import frame


def api_choices(conn: Connection) -> pl.DataFrame:
    """Every API: id, name, key_prefix (the start of its key), removed_at (None while its key works)
    and first_hour (the hour of its first request; None while it waits for one); by name."""
    return frame(conn, "SELECT id, name, key_prefix, removed_at,"
                       " (SELECT MIN(hour) FROM api_hourly h WHERE h.api_id = a.id) AS first_hour"
                       " FROM apis a ORDER BY name",
                 schema={"id": pl.Int64, "removed_at": pl.Int64, "first_hour": pl.Int64})


def favorites(conn: Connection, analyst: str = SHARED_ANALYST) -> pl.DataFrame:
    """Every customer the analyst starred: customer_id, display_name; by display name."""
    return frame(
        conn,
        f"SELECT c.external_id AS customer_id, {DISPLAY_NAME} AS display_name"
        " FROM favorites f JOIN customers c ON c.id = f.customer_id"
        f" WHERE f.analyst = ? ORDER BY lower({DISPLAY_NAME}), c.external_id",
        [analyst],
    )

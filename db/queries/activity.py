"""Who was active in a period: the union of an API's active-customer sets (active_daily,
active_hourly: roaring bitmaps of customer database ids, kept at ingest by db/writes/activity.py)
over the period's whole days and its edge hours: a few hundred blobs of a few KB, however many
customers span the period.
"""

from __future__ import annotations

from pyroaring import BitMap

from core.periods import DAY, HOUR
from core.scope import Scope
from db.backends.base import Connection
from db.queries.scope import rollup_part, whole_days_and_edge_hours_sql


def active_set(conn: Connection, scope: Scope) -> BitMap:
    """The customers (database ids) with at least one request in the scope's bounded,
    hour-aligned period."""
    if not scope.period.is_bounded:
        raise ValueError("the active customers are kept for periods with both ends")
    sql, params = whole_days_and_edge_hours_sql(
        scope.period,
        rollup_part(scope, "SELECT customers FROM active_daily", "day", DAY),
        rollup_part(scope, "SELECT customers FROM active_hourly", "hour", HOUR),
    )
    return BitMap.union(BitMap(), *(BitMap.deserialize(blob) for (blob,) in conn.execute(sql, params)))

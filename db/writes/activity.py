"""Who was active when: for each API, the set of customers (database ids) with a request in each
day (active_daily) and each hour (active_hourly), stored as roaring bitmaps (db/schema/sqlite.py),
the writing side: db/queries/activity.py reads them.

A period's active customers are the union of its whole days and its edge hours: a few hundred
blobs of a few KB, however many customers span the period. Without them, every customer seen both
before and after a period needs its own look into customer_daily (60k seeks at 100k customers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import groupby

from pyroaring import BitMap

from db.backends.base import Connection
from db.writes.upserts import add_to_sets

# (table, its time column, the rollup its sets are the keys of, that rollup's columns in key order)
_DAILY = ("active_daily", "day", "customer_daily", "api_id, day, customer_id")
_HOURLY = ("active_hourly", "hour", "customer_hourly", "api_id, hour, customer_id")

_TIME = {_DAILY[0]: "day", _HOURLY[0]: "hour"}

Members = Mapping[tuple[int, int], Iterable[int]]  # (api_id, day or hour start) -> customer ids


def add_activity(conn: Connection, days: Members, hours: Members) -> None:
    """Add customers to the days' and hours' sets, inside the caller's transaction."""
    for (table, column, _, _), members in ((_DAILY, days), (_HOURLY, hours)):
        add_to_sets(conn, table, ("api_id", column), members)


def rebuild_activity(conn: Connection) -> None:
    """Fill both tables afresh from customer_daily and customer_hourly (bulk loads: the benchmark's),
    inside the caller's transaction."""
    for table, column, rollup, key in (_DAILY, _HOURLY):
        conn.execute(f"DELETE FROM {table}")
        # customer_hourly's (api_id, hour) index covers this order; customer_daily's key is it.
        rows = conn.execute(f"SELECT {key} FROM {rollup} ORDER BY {key}")
        for (api_id, start), group in groupby(rows, key=lambda row: (row[0], row[1])):
            _store(conn, table, api_id, start, BitMap(row[2] for row in group))


def _store(conn: Connection, table: str, api_id: int, start: int, customers: BitMap) -> None:
    customers.run_optimize()
    conn.execute(
        f"INSERT INTO {table} VALUES (?, ?, ?) ON CONFLICT (api_id, {_TIME[table]}) DO UPDATE SET customers = excluded.customers",
        (api_id, start, customers.serialize()),
    )

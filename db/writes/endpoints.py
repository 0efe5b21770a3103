"""Endpoint adoption's rollups, the write side (db/schema/sqlite.py, migration 6; db/reads/endpoints.py
is the read side), kept in the same transaction as the raw rows (db/writes/records.py):
- endpoints: an API's endpoints, a method and a name;
- customer_endpoints: per customer and endpoint, all time: requests, errors, first and last call;
- endpoint_daily, endpoint_hourly: per endpoint, customer and day (hour): requests and errors;
- endpoint_totals: per endpoint and hour: requests and errors;
- endpoint_callers_daily, endpoint_callers_hourly: per endpoint and day (hour), who called it (a
  roaring bitmap of customer ids, as db/writes/activity.py keeps for APIs).
Only identified requests count: adoption is about customers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import groupby

from pyroaring import BitMap

from core.periods import DAY, HOUR
from core.record import Record
from db.backends.base import Connection
from db.writes.upserts import add_to_sets, upsert, upsert_sums

EndpointKey = tuple[int, str, str]  # (api_id, method, endpoint name)
# The caller sets and the per-customer rollup each is the key set of.
CALLERS = (("endpoint_callers_daily", "day", "endpoint_daily"), ("endpoint_callers_hourly", "hour", "endpoint_hourly"))
CALLER_TIME = {table: column for table, column, _ in CALLERS}


class EndpointIds:
    """Endpoint ids by (api_id, method, name), created on first sight and remembered."""

    def __init__(self) -> None:
        self._ids: dict[EndpointKey, int] = {}

    def forget(self) -> None:
        """Drop what is remembered (a transaction rolled back, an API was deleted)."""
        self._ids.clear()

    def ids(self, conn: Connection, keys: Iterable[EndpointKey]) -> dict[EndpointKey, int]:
        """The id of each key, inside the caller's transaction."""
        missing = sorted(set(keys) - self._ids.keys())
        if missing:
            conn.executemany("INSERT OR IGNORE INTO endpoints (api_id, method, name) VALUES (?, ?, ?)", missing)
            for key in missing:
                self._ids[key] = conn.execute(
                    "SELECT id FROM endpoints WHERE api_id = ? AND method = ? AND name = ?", key).fetchone()[0]
        return self._ids


def add_endpoint_rollups(conn: Connection, endpoint_ids: EndpointIds, api_ids: Sequence[int],
                         records: Sequence[Record], customer_ids: dict[str, int]) -> None:
    """Add the identified records to every endpoint rollup."""
    rows = [(api_id, r, customer_ids[r.customer_id]) for api_id, r in zip(api_ids, records)
            if r.customer_id is not None]
    if not rows:
        return
    ids = endpoint_ids.ids(conn, ((api_id, r.method, r.endpoint) for api_id, r, _ in rows))
    daily: dict[tuple, list] = {}
    hourly: dict[tuple, list] = {}
    totals: dict[tuple, list] = {}
    overall: dict[tuple, list] = {}
    for api_id, r, cid in rows:
        eid = ids[(api_id, r.method, r.endpoint)]
        error = 1 if r.status >= 400 else 0
        ts = r.ts
        hour = ts - ts % HOUR
        # Unrolled: this loop runs once per record, in the writer's one transaction.
        for bucket, key in ((daily, (eid, ts - ts % DAY, cid)), (hourly, (eid, hour, cid)), (totals, (eid, hour))):
            counts = bucket.get(key)
            if counts is None:
                bucket[key] = [1, error]
            else:
                counts[0] += 1
                counts[1] += error
        seen = overall.get((cid, eid))
        if seen is None:
            overall[(cid, eid)] = [ts, ts, 1, error]
        else:
            if ts < seen[0]:
                seen[0] = ts
            if ts > seen[1]:
                seen[1] = ts
            seen[2] += 1
            seen[3] += error
    counts = ("requests", "errors")
    upsert_sums(conn, "endpoint_daily", ("endpoint_id", "day", "customer_id"), counts, daily)
    upsert_sums(conn, "endpoint_hourly", ("endpoint_id", "hour", "customer_id"), counts, hourly)
    upsert(conn, "customer_endpoints", ("customer_id", "endpoint_id"), ("first_call", "last_call", *counts), overall,
           "first_call = MIN(customer_endpoints.first_call, excluded.first_call),"
           " last_call = MAX(customer_endpoints.last_call, excluded.last_call),"
           " requests = customer_endpoints.requests + excluded.requests,"
           " errors = customer_endpoints.errors + excluded.errors")
    callers_daily: dict[tuple, set] = defaultdict(set)
    callers_hourly: dict[tuple, set] = defaultdict(set)
    for eid, day, cid in daily:
        callers_daily[(eid, day)].add(cid)
    for eid, hour, cid in hourly:
        callers_hourly[(eid, hour)].add(cid)
    for (table, column, _), members in zip(CALLERS, (callers_daily, callers_hourly)):
        add_to_sets(conn, table, ("endpoint_id", column), members)
    upsert_sums(conn, "endpoint_totals", ("endpoint_id", "hour"), counts, totals)


def _store_callers(conn: Connection, table: str, eid: int, start: int, customers: BitMap) -> None:
    customers.run_optimize()
    conn.execute(f"INSERT INTO {table} VALUES (?, ?, ?) ON CONFLICT (endpoint_id, {CALLER_TIME[table]})"
                 " DO UPDATE SET customers = excluded.customers", (eid, start, customers.serialize()))


def erase_from_endpoints(conn: Connection, cid: int) -> None:
    """Take one customer out of the endpoint totals and caller sets, and delete the endpoints no
    other customer called with every rollup row of them, inside the caller's transaction
    (erase_customer; the customer's own per-customer rows go with every table referencing
    customers). An endpoint's name comes from the paths its callers sent, so one only this
    customer called could name it (/v1/exports/acme-q3): a database that never saw the customer has
    no such row. Unidentified requests make no endpoint rows; theirs keep their endpoint name in
    their own row."""
    conn.executemany(
        "UPDATE endpoint_totals SET requests = requests - ?, errors = errors - ? WHERE endpoint_id = ? AND hour = ?",
        conn.execute("SELECT requests, errors, endpoint_id, hour FROM endpoint_hourly WHERE customer_id = ?",
                     (cid,)).fetchall())
    conn.execute("DELETE FROM endpoint_totals WHERE requests <= 0 AND endpoint_id IN"
                 " (SELECT endpoint_id FROM customer_endpoints WHERE customer_id = ?)", (cid,))
    for table, column, rollup in CALLERS:
        keys = conn.execute(f"SELECT DISTINCT endpoint_id, {column} FROM {rollup} WHERE customer_id = ?", (cid,))
        for eid, start in keys.fetchall():
            row = conn.execute(f"SELECT customers FROM {table} WHERE endpoint_id = ? AND {column} = ?",
                               (eid, start)).fetchone()
            customers = BitMap.deserialize(row[0]) if row else BitMap()
            customers.discard(cid)
            if customers:
                _store_callers(conn, table, eid, start, customers)
            else:
                conn.execute(f"DELETE FROM {table} WHERE endpoint_id = ? AND {column} = ?", (eid, start))
    _delete_endpoints(conn, [eid for (eid,) in conn.execute(
        "SELECT endpoint_id FROM customer_endpoints mine WHERE customer_id = ? AND NOT EXISTS"
        " (SELECT 1 FROM customer_endpoints other WHERE other.endpoint_id = mine.endpoint_id"
        " AND other.customer_id <> mine.customer_id)", (cid,))])


def delete_endpoints_of(conn: Connection, api_id: int) -> None:
    """Remove an API's endpoints and every endpoint rollup row of them, inside the caller's
    transaction (delete_api)."""
    _delete_endpoints(conn, [eid for (eid,) in conn.execute("SELECT id FROM endpoints WHERE api_id = ?", (api_id,))])


def _delete_endpoints(conn: Connection, endpoint_ids: list[int]) -> None:
    """Remove these endpoints and every endpoint rollup row of them."""
    if not endpoint_ids:
        return
    ids = json.dumps(endpoint_ids)
    for table in ("customer_endpoints", "endpoint_daily", "endpoint_hourly", "endpoint_totals", "endpoint_monthly",
                  *(table for table, _, _ in CALLERS)):
        conn.execute(f"DELETE FROM {table} WHERE endpoint_id IN (SELECT value FROM json_each(?))", (ids,))
    conn.execute("DELETE FROM endpoints WHERE id IN (SELECT value FROM json_each(?))", (ids,))


def rebuild_endpoint_rollups(conn: Connection) -> None:
    """Fill the endpoint rollups from the raw requests, inside the caller's transaction (the
    benchmark's bulk load). Requests pruned before then are not in them."""
    for table in ("customer_endpoints", "endpoint_daily", "endpoint_hourly", "endpoint_totals",
                  *(table for table, _, _ in CALLERS)):
        conn.execute(f"DELETE FROM {table}")
    conn.execute("INSERT OR IGNORE INTO endpoints (api_id, method, name)"
                 " SELECT DISTINCT api_id, method, endpoint FROM requests WHERE customer_id IS NOT NULL ORDER BY 1, 2, 3")
    calls = ("SELECT e.id AS endpoint_id, r.customer_id, r.ts, CASE WHEN r.status >= 400 THEN 1 ELSE 0 END AS error FROM requests r"
             " JOIN endpoints e ON e.api_id = r.api_id AND e.method = r.method AND e.name = r.endpoint"
             " WHERE r.customer_id IS NOT NULL")
    conn.execute("INSERT INTO endpoint_daily (endpoint_id, day, customer_id, requests, errors)"
                 f" SELECT endpoint_id, ts - ts % {DAY:d}, customer_id, COUNT(*), SUM(error) FROM ({calls}) AS calls"
                 " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    conn.execute("INSERT INTO endpoint_hourly (endpoint_id, hour, customer_id, requests, errors)"
                 f" SELECT endpoint_id, ts - ts % {HOUR:d}, customer_id, COUNT(*), SUM(error) FROM ({calls}) AS calls"
                 " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    conn.execute("INSERT INTO endpoint_totals (endpoint_id, hour, requests, errors)"
                 " SELECT endpoint_id, hour, SUM(requests), SUM(errors) FROM endpoint_hourly GROUP BY 1, 2 ORDER BY 1, 2")
    conn.execute("INSERT INTO customer_endpoints (customer_id, endpoint_id, first_call, last_call, requests, errors)"
                 f" SELECT customer_id, endpoint_id, MIN(ts), MAX(ts), COUNT(*), SUM(error) FROM ({calls}) AS calls"
                 " GROUP BY 1, 2 ORDER BY 1, 2")
    for table, column, rollup in CALLERS:
        rows = conn.execute(f"SELECT endpoint_id, {column}, customer_id FROM {rollup} ORDER BY 1, 2")
        for (eid, start), group in groupby(rows, key=lambda row: (row[0], row[1])):
            _store_callers(conn, table, eid, start, BitMap(row[2] for row in group))

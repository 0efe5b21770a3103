"""The endpoints page and the profile's endpoints: endpoint adoption's read model. Which endpoints
a customer calls (the profile, the customer's own page) and which customers call an endpoint (the
endpoints page, the CLI's `endpoints`).

Reads endpoints; customer_endpoints (all time: first and last call; who called before a period);
endpoint_daily and endpoint_hourly (a customer's requests and errors of an endpoint in a period:
whole days and the hours at either edge, as every figure of db/queries/figures.py); endpoint_totals and
the caller sets endpoint_callers_daily/_hourly (an endpoint's figures in a period, without reading
each customer's rows); customers (names). Only identified requests are in them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl
from pyroaring import BitMap

from core.figures import error_rate
from core.periods import HOUR
from core.scope import Scope
from db.backends.base import Connection
from db.queries.figures import DISPLAY_NAME
from db.queries.frames import frame
from db.queries.scope import NO_LIMIT, PartSql, api_where, scope_where, whole_days_and_edge_hours_sql
from db.queries.snapshots import period_key, snapshot

ENDPOINT = "e.method || ' ' || e.name"  # how an endpoint is shown: "GET /v1/orders/{id}"
TOP_CALLERS = 200  # rows of the endpoints page's tables; the CLI lists every caller
TOP_CALLERS_SIGNAL = "endpoint_callers"  # db/queries/snapshots.py
SNAPSHOT_MAX_AGE = 2 * 3600  # seconds: an older snapshot of the busiest callers is computed afresh
_COUNTS = {"requests": pl.Int64, "errors": pl.Int64, "first_call": pl.Int64, "last_call": pl.Int64}


def _period_sql(scope: Scope, select: str, where: str, params: list) -> tuple[str, list]:
    """UNION ALL of `select` (columns of endpoint_daily/endpoint_hourly) over the scope's period,
    whole days and edge hours, each part narrowed by `where` with `params`."""

    def part(table: str, column: str) -> PartSql:
        def sql(start: int, end: int) -> tuple[str, list]:
            return (f"SELECT {select} FROM {table} WHERE {where} AND {column} >= ? AND {column} < ?",
                    [*params, start, end])
        return sql

    return whole_days_and_edge_hours_sql(scope.period, part("endpoint_daily", "day"), part("endpoint_hourly", "hour"))


def customer_endpoints(conn: Connection, cid: int, scope: Scope) -> pl.DataFrame:
    """Every endpoint of the scope's API (or APIs) the customer (database id) ever called:
    endpoint_id, api, endpoint ("GET /v1/orders/{id}"), requests and errors in the period, first
    and last call of all time. Busiest in the period first, then the most recently called."""
    api, api_params = api_where(scope, "e.api_id")
    period, period_params = _period_sql(scope, "endpoint_id, requests, errors", "customer_id = ?", [cid])
    return frame(
        conn,
        f"""WITH period AS (SELECT endpoint_id, SUM(requests) AS requests, SUM(errors) AS errors
                            FROM ({period}) AS parts GROUP BY endpoint_id)
            SELECT ce.endpoint_id, a.name AS api, {ENDPOINT} AS endpoint,
                   COALESCE(p.requests, 0) AS requests, COALESCE(p.errors, 0) AS errors, ce.first_call, ce.last_call
            FROM customer_endpoints ce JOIN endpoints e ON e.id = ce.endpoint_id JOIN apis a ON a.id = e.api_id
            LEFT JOIN period p ON p.endpoint_id = ce.endpoint_id
            WHERE ce.customer_id = ? AND {api}
            ORDER BY requests DESC, ce.last_call DESC, endpoint""",
        [*period_params, cid, *api_params],
        schema={"endpoint_id": pl.Int64, **_COUNTS},
    )


def _callers(conn: Connection, endpoint_ids: list[int], scope: Scope) -> dict[int, BitMap]:
    """Who called each endpoint in the scope's period: the union of its days' and edge hours'
    caller sets; every caller of all time when the period is open at the start."""
    if scope.period.since is None:
        return _callers_of_all_time(conn, endpoint_ids, scope)
    ids = json.dumps(endpoint_ids)

    def part(table: str, column: str) -> PartSql:
        def sql(start: int, end: int) -> tuple[str, list]:
            return (f"SELECT endpoint_id, customers FROM {table} WHERE endpoint_id IN (SELECT value FROM json_each(?))"
                    f" AND {column} >= ? AND {column} < ?", [ids, start, end])
        return sql

    union, params = whole_days_and_edge_hours_sql(
        scope.period, part("endpoint_callers_daily", "day"), part("endpoint_callers_hourly", "hour"))
    callers: dict[int, BitMap] = {eid: BitMap() for eid in endpoint_ids}
    for eid, blob in conn.execute(union, params):
        callers[eid] |= BitMap.deserialize(blob)
    return callers


def _callers_of_all_time(conn: Connection, endpoint_ids: list[int], scope: Scope) -> dict[int, BitMap]:
    """Callers from customer_endpoints (first and last call) when the period has no start."""
    until = scope.period.closed()[1]
    callers: dict[int, BitMap] = {eid: BitMap() for eid in endpoint_ids}
    rows = conn.execute("SELECT endpoint_id, customer_id FROM customer_endpoints"
                        " WHERE endpoint_id IN (SELECT value FROM json_each(?)) AND first_call < ?",
                        [json.dumps(endpoint_ids), until])
    for eid, cid in rows:
        callers[eid].add(cid)
    return callers


def _api_endpoints(conn: Connection, scope: Scope) -> list[tuple[int, str, str]]:
    api, params = api_where(scope, "e.api_id")
    return conn.execute(f"SELECT e.id, a.name, {ENDPOINT} FROM endpoints e JOIN apis a ON a.id = e.api_id"
                        f" WHERE {api} ORDER BY a.name, e.name, e.method", params).fetchall()


def endpoint_list(conn: Connection, scope: Scope) -> pl.DataFrame:
    """Every endpoint of the scope's API (or APIs) with identified traffic: endpoint_id, api,
    endpoint, customers who called it in the period, their requests and errors in it. Busiest first."""
    endpoints = _api_endpoints(conn, scope)
    ids = [eid for eid, _, _ in endpoints]
    where, params = scope_where(Scope(None, scope.period), "hour", step=HOUR)
    totals = {eid: (requests, errors) for eid, requests, errors in conn.execute(
        f"SELECT endpoint_id, SUM(requests), SUM(errors) FROM endpoint_totals"
        f" WHERE endpoint_id IN (SELECT value FROM json_each(?)) AND {where} GROUP BY endpoint_id",
        [json.dumps(ids), *params])}
    callers = _callers(conn, ids, scope)
    rows = [(eid, api, name, len(callers[eid]), *totals.get(eid, (0, 0))) for eid, api, name in endpoints]
    return pl.DataFrame(rows, orient="row", schema={
        "endpoint_id": pl.Int64, "api": pl.String, "endpoint": pl.String, "customers": pl.Int64,
        "requests": pl.Int64, "errors": pl.Int64,
    }).sort(["requests", "customers", "endpoint"], descending=[True, True, False])


@dataclass(frozen=True)
class EndpointSummary:
    """One endpoint in a period: who calls it, who started, who moved off."""

    customers: int  # who called it in the period
    requests: int  # theirs, in the period
    errors: int
    new_customers: int  # whose first call of it fell in the period
    moved_off: int  # who called it before the period and not in it

    @property
    def error_rate(self) -> float | None:
        """Errors per 100 requests; None without requests."""
        return error_rate(self.errors, self.requests)


def endpoint_summary(conn: Connection, endpoint_id: int, scope: Scope) -> EndpointSummary:
    """The endpoint's figures in the scope's period."""
    since, until = scope.period.closed()
    callers = _callers(conn, [endpoint_id], scope)[endpoint_id]
    requests, errors = conn.execute(
        "SELECT COALESCE(SUM(requests), 0), COALESCE(SUM(errors), 0) FROM endpoint_totals"
        " WHERE endpoint_id = ? AND hour >= ? AND hour < ?", (endpoint_id, since, until)).fetchone()
    new, before = conn.execute(
        "SELECT COALESCE(SUM(CASE WHEN first_call >= ? THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN first_call < ? THEN 1 ELSE 0 END), 0) FROM customer_endpoints"
        " WHERE endpoint_id = ? AND first_call < ?", (since, since, endpoint_id, until)).fetchone()
    # The period's callers are the new ones and those who called before it; whoever else called
    # before it moved off: counted, not listed (a popular endpoint has tens of thousands of callers).
    return EndpointSummary(len(callers), requests, errors, new, before - (len(callers) - new))


def endpoint_counts(conn: Connection, endpoint_id: int, scope: Scope, limit: int | None = None) -> pl.DataFrame:
    """(cid, requests, errors) of each customer who called the endpoint in the period, busiest
    first (ties: the customer who came first); `limit` rows at most."""
    if scope.period.is_all_time:  # all time is what customer_endpoints keeps
        sql, params = ("SELECT customer_id AS cid, requests, errors FROM customer_endpoints WHERE endpoint_id = ?",
                       [endpoint_id])
    else:
        period, params = _period_sql(scope, "customer_id, requests, errors", "endpoint_id = ?", [endpoint_id])
        sql = f"SELECT customer_id AS cid, SUM(requests) AS requests, SUM(errors) AS errors FROM ({period}) AS parts GROUP BY 1"
    return frame(conn, f"{sql} ORDER BY requests DESC, cid LIMIT ?", [*params, NO_LIMIT if limit is None else limit],
                 schema={"cid": pl.Int64, "requests": pl.Int64, "errors": pl.Int64})


def _named_callers(conn: Connection, endpoint_id: int, counts: pl.DataFrame) -> pl.DataFrame:
    """endpoint_counts' rows with each customer's ID, name, and first and last call, in their order."""
    named = frame(
        conn,
        f"""SELECT c.id AS cid, c.external_id AS customer_id, {DISPLAY_NAME} AS display_name, ce.first_call, ce.last_call
            FROM json_each(?) AS callers CROSS JOIN customers c
            JOIN customer_endpoints ce ON ce.customer_id = c.id AND ce.endpoint_id = ?
            WHERE c.id = callers.value""",
        [json.dumps(counts["cid"].to_list()), endpoint_id],
        schema={"cid": pl.Int64, "customer_id": pl.String, "display_name": pl.String, "first_call": pl.Int64,
                "last_call": pl.Int64},
    )
    return counts.join(named, on="cid", how="inner", maintain_order="left").select(
        "cid", "customer_id", "display_name", "requests", "errors", "first_call", "last_call")


def endpoint_customers(conn: Connection, endpoint_id: int, scope: Scope, limit: int | None = None) -> pl.DataFrame:
    """Who called the endpoint in the period: cid, customer_id (shown), display_name, requests,
    errors, first_call and last_call (all time). Busiest first; `limit` rows at most."""
    return _named_callers(conn, endpoint_id, endpoint_counts(conn, endpoint_id, scope, limit))


@dataclass(frozen=True)
class TopCallers:
    """The busiest callers of an endpoint in a period, as the endpoints page shows them."""

    rows: pl.DataFrame  # as endpoint_customers, TOP_CALLERS at most
    as_of: int | None  # when the collector computed them (db/queries/snapshots.py); None: just now


def top_callers_key(endpoint_id: int, scope: Scope) -> str:
    """The snapshot key of an endpoint's busiest callers in the scope's period."""
    return f"{endpoint_id}|{period_key(scope)}"


def endpoint_top_callers(conn: Connection, endpoint_id: int, scope: Scope, now: int) -> TopCallers:
    """The endpoint's TOP_CALLERS busiest callers: what the collector computed for this period
    within SNAPSHOT_MAX_AGE (the preset periods), else computed now. Adding up a popular endpoint's
    rows for a month takes a pass over tens of thousands of customers' days."""
    stored = snapshot(conn, TOP_CALLERS_SIGNAL, None, top_callers_key(endpoint_id, scope))
    if stored is not None and now - stored.computed_at <= SNAPSHOT_MAX_AGE:
        return TopCallers(_named_callers(conn, endpoint_id, stored.frame), stored.computed_at)
    return TopCallers(endpoint_customers(conn, endpoint_id, scope, TOP_CALLERS), None)


def endpoint_ids(conn: Connection) -> list[int]:
    """Every endpoint's id."""
    return [eid for (eid,) in conn.execute("SELECT id FROM endpoints ORDER BY id")]


def endpoint_moved_off(conn: Connection, endpoint_id: int, scope: Scope, limit: int | None = None) -> pl.DataFrame:
    """Who moved off the endpoint: called it before the period and not in it (cid, customer_id,
    display_name, requests and errors of all time, first_call, last_call), the most recent last
    call first; `limit` rows at most.

    Whoever last called it before the period moved off; read newest first from the last-call
    index, that is all of them for a period up to now. Of a past period, also those who called it
    before and after but not in it: the callers since its start, less the period's callers."""
    since, until = scope.period.closed()
    moved = [cid for (cid,) in conn.execute(
        "SELECT customer_id FROM customer_endpoints WHERE endpoint_id = ? AND last_call < ?"
        " ORDER BY last_call DESC LIMIT ?", (endpoint_id, since, NO_LIMIT if limit is None else limit))]
    came_back = conn.execute("SELECT 1 FROM customer_endpoints WHERE endpoint_id = ? AND last_call >= ? LIMIT 1",
                             (endpoint_id, until)).fetchone()
    if came_back:
        callers = _callers(conn, [endpoint_id], scope)[endpoint_id]
        moved += [cid for (cid,) in conn.execute(
            "SELECT customer_id FROM customer_endpoints WHERE endpoint_id = ? AND last_call >= ? AND first_call < ?",
            (endpoint_id, since, since)) if cid not in callers]
    return frame(
        conn,
        f"""SELECT c.id AS cid, c.external_id AS customer_id, {DISPLAY_NAME} AS display_name, ce.requests, ce.errors,
                   ce.first_call, ce.last_call
            FROM json_each(?) AS moved CROSS JOIN customer_endpoints ce
            JOIN customers c ON c.id = ce.customer_id
            WHERE ce.customer_id = moved.value AND ce.endpoint_id = ?
            ORDER BY ce.last_call DESC, customer_id LIMIT ?""",
        [json.dumps(moved), endpoint_id, NO_LIMIT if limit is None else limit],
        schema={"cid": pl.Int64, "customer_id": pl.String, "display_name": pl.String, **_COUNTS},
    )


def endpoint_by_name(conn: Connection, text: str, api_id: int | None = None) -> list[tuple[str, int]]:
    """The endpoints shown as `text` ("GET /v1/orders/{id}"; the method in any case), of the API
    or of any: (API name, endpoint id) each."""
    method, _, name = text.strip().partition(" ")
    api = "" if api_id is None else " AND e.api_id = ?"
    return conn.execute(f"SELECT a.name, e.id FROM endpoints e JOIN apis a ON a.id = e.api_id"
                        f" WHERE e.method = ? AND e.name = ?{api} ORDER BY a.name",
                        [method.upper(), name.strip(), *([] if api_id is None else [api_id])]).fetchall()

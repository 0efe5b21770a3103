"""Every figure the dashboard, the CLI and the benchmark show, each built in exactly one place.

| figure                                         | built by                       | reads                          |
|------------------------------------------------|--------------------------------|--------------------------------|
| a customer's requests (errors, load time) in a | customer_totals_sql            | customer_daily, customer_hourly |
| period                                         |                                | (all time: the running totals) |
| the API's requests in a period (every one,     | api_totals                     | api_hourly                     |
| unidentified included) and the identified ones |                                |                                |
| share: a customer's requests / the API's       | core.figures.share, with_share | (the two above)                |
| first seen, last seen, all-time requests       | seen_sql                       | customers, api_customers       |
| active customers of a period                   | active_customers, active_count | active_daily, active_hourly    |
| p50 / p95 load time                            | latency_percentiles            | customer_latency_daily         |
| error rate: errors / requests                  | core.figures.error_rate        | (customer_totals_sql)          |
| the name shown for a customer                  | DISPLAY_NAME                   | customers                      |

The read models (home, customers, profile, history) compose these; none counts its own way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pyroaring import BitMap

from core.latency import percentile_ms
from core.periods import DAY, HOUR
from core.scope import Scope
from db.backends.base import Connection
from db.queries.activity import active_set
from db.queries.scope import api_where, like_pattern, rollup_part, scope_where, whole_days_and_edge_hours_sql

# The name shown for a customer (customers aliased c): an analyst's name, else the one from traffic.
DISPLAY_NAME = "COALESCE(c.display_name, c.name_from_traffic, c.external_id)"

# What each measure of customer_totals_sql is in customer_daily and in customer_hourly.
MEASURES: dict[str, tuple[str, str]] = {
    "requests": ("requests", "requests"),
    "errors": ("errors", "s4xx + s5xx"),  # 4xx and 5xx
    "load_ms_sum": ("load_ms_sum", "load_ms_sum"),
}


def _ids(customers: list[int]) -> str:
    return json.dumps(customers)


# --- Requests per customer ---------------------------------------------------------------------


def customer_totals_sql(
    scope: Scope, measures: tuple[str, ...] = ("requests",), customers: list[int] | None = None
) -> tuple[str, list]:
    """SQL for (customer_id, *measures) summed over the scope: one row per customer with rows in
    it. `customers` (database ids) narrows it to those, read customer by customer through their
    keys; without it, every customer of the period, read day by day.

    For all time, requests alone are the running totals of seen_sql (the same sums, kept as they
    go). Otherwise: whole days from customer_daily and the hours at either edge from
    customer_hourly; for named customers and other measures than requests, their hourly rows."""
    if unknown := set(measures) - set(MEASURES):
        raise ValueError(f"no such measure: {', '.join(sorted(unknown))}")
    if scope.period.is_all_time and measures == ("requests",):
        seen, params = seen_sql(scope)
        sql = f"SELECT customer_id, requests FROM ({seen}) AS seen"
        if customers is not None:
            sql += " WHERE customer_id IN (SELECT value FROM json_each(?))"
            params.append(_ids(customers))
        return sql, params
    sums = ", ".join(f"SUM({m}) AS {m}" for m in measures)
    daily = ", ".join(f"{MEASURES[m][0]} AS {m}" for m in measures)
    hourly = ", ".join(f"{MEASURES[m][1]} AS {m}" for m in measures)
    if customers is None:
        union, params = whole_days_and_edge_hours_sql(
            scope.period,
            rollup_part(scope, f"SELECT customer_id, {daily} FROM customer_daily", "day", DAY),
            rollup_part(scope, f"SELECT customer_id, {hourly} FROM customer_hourly", "hour", HOUR),
        )
        return f"SELECT customer_id, {sums} FROM ({union}) AS parts GROUP BY customer_id", params
    if measures == ("requests",):
        return _requests_by_day_sql(scope, customers, sums, daily, hourly)
    # Errors and load time are not in customer_daily's customer index: each customer's hourly rows,
    # one primary-key range per API, cost fewer page reads than a day row's lookup each.
    where, params = scope_where(scope, "hour", step=HOUR, every_api=True)
    return (
        f"SELECT customer_id, {sums} FROM (SELECT customer_id, {hourly} FROM customer_hourly"
        f" WHERE {where} AND customer_id IN (SELECT value FROM json_each(?))) AS hourly GROUP BY customer_id",
        [*params, _ids(customers)],
    )


def _requests_by_day_sql(scope: Scope, customers: list[int], sums: str, daily: str, hourly: str) -> tuple[str, list]:
    """customer_totals_sql of requests for these customers: each one's whole days as one range of
    customer_daily's customer index (which holds the requests), its edge hours only for the APIs
    it used around the period."""
    ids = _ids(customers)
    one_api = [] if scope.api_id is None else [scope.api_id]

    def days(start: int, end: int) -> tuple[str, list]:
        return (f"SELECT customer_id, {daily} FROM customer_daily WHERE customer_id IN (SELECT value FROM json_each(?))"
                f" AND day >= ? AND day < ?{' AND +api_id = ?' if one_api else ''}", [ids, start, end, *one_api])

    def hours(start: int, end: int) -> tuple[str, list]:
        return (f"SELECT h.customer_id, {hourly} FROM pairs JOIN customer_hourly h ON h.api_id = pairs.api_id"
                " AND h.customer_id = pairs.customer_id AND h.hour >= ? AND h.hour < ?", [start, end])

    union, params = whole_days_and_edge_hours_sql(scope.period, days, hours)
    sql = f"SELECT customer_id, {sums} FROM ({union}) AS parts GROUP BY customer_id"
    if "FROM pairs" not in union:
        return sql, params
    api, api_params = api_where(scope)
    # The unary + keeps the (api_id, customer_id) key in use rather than the first_seen index.
    pairs = (f"WITH pairs AS MATERIALIZED (SELECT api_id, customer_id FROM api_customers WHERE {api}"
             " AND customer_id IN (SELECT value FROM json_each(?)) AND +last_seen >= ? AND +first_seen < ?) ")
    return pairs + sql, [*api_params, ids, *scope.period.closed(), *params]


def period_requests(conn: Connection, scope: Scope, customers: list[int]) -> dict[int, int]:
    """Requests in the scope of each of these customers (database ids); those without any are
    left out."""
    if not customers:
        return {}
    sql, params = customer_totals_sql(scope, customers=customers)
    return {cid: n for cid, n in conn.execute(sql, params) if n}


# --- The API's requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiTotals:
    """The API's requests in a period."""

    requests: int  # every request of the scope, unidentified included: the denominator of shares
    identified: int  # those that belong to a customer


def api_totals(conn: Connection, scope: Scope) -> ApiTotals:
    """The API's (or every API's) requests in the period, from api_hourly."""
    where, params = scope_where(scope, "hour", step=HOUR, every_api=True)
    requests, identified = conn.execute(
        f"SELECT COALESCE(SUM(requests), 0), COALESCE(SUM(identified), 0) FROM api_hourly WHERE {where}", params
    ).fetchone()
    return ApiTotals(int(requests), int(identified))


# --- Who the customers are ---------------------------------------------------------------------


def seen_sql(scope: Scope) -> tuple[str, list]:
    """SQL for (customer_id, first_seen, last_seen, requests: all time) of every customer of the
    scope's API, or of any API."""
    if scope.api_id is None:
        return "SELECT id AS customer_id, first_seen, last_seen, requests FROM customers", []
    return (
        "SELECT customer_id, first_seen, last_seen, requests FROM api_customers WHERE api_id = ?",
        [scope.api_id],
    )


def customer_rows_sql(scope: Scope, search: str = "", names: bool = False,
                      favorites_of: str | None = None) -> tuple[str, list]:
    """SQL for the customers who may have requests in the scope (seen before its end and since its
    start) and match the search: cid, first_seen, last_active, bound (all-time requests: no
    period's count can exceed it); with names (or a search) also customer_id (shown) and
    display_name; with favorites_of, whether that analyst starred the customer (favorite). The
    search matches the ID or the name anywhere, ignoring case."""
    seen, params = seen_sql(scope)
    columns = "seen.customer_id AS cid, seen.first_seen, seen.last_seen AS last_active, seen.requests AS bound"
    source = f"({seen}) AS seen"
    search = search.strip()
    if names or search or favorites_of is not None:
        columns += f", c.external_id AS customer_id, {DISPLAY_NAME} AS display_name"
        source += " JOIN customers c ON c.id = seen.customer_id"
    if favorites_of is not None:
        columns += ", f.customer_id IS NOT NULL AS favorite"
        source += " LEFT JOIN favorites f ON f.analyst = ? AND f.customer_id = c.id"
        params.append(favorites_of)
    clauses = []
    # The unary + keeps SQLite from the first_seen index: a plain scan is faster for this many rows.
    if scope.period.until is not None:
        clauses.append("+seen.first_seen < ?")
        params.append(scope.period.until)
    if scope.period.since is not None:
        clauses.append("+seen.last_seen >= ?")
        params.append(scope.period.since)
    if search:
        clauses.append(f"(c.external_id LIKE ? ESCAPE '\\' OR {DISPLAY_NAME} LIKE ? ESCAPE '\\')")
        params += [like_pattern(search)] * 2
    return f"SELECT {columns} FROM {source} WHERE {' AND '.join(clauses) or 'TRUE'}", params


# --- Active customers --------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveCustomers:
    """Who made a request in a period, among the rows of customer_rows_sql for it."""

    ids: BitMap | None  # None: an open-ended period, where every customer seen in it was active

    def __contains__(self, cid: int) -> bool:
        return self.ids is None or cid in self.ids


def active_customers(conn: Connection, scope: Scope) -> ActiveCustomers:
    """The period's active customers: for a bounded period the union of its days' and edge hours'
    sets (db/queries/activity.py); an open-ended one needs none, since customer_rows_sql keeps only the
    customers seen in it."""
    return ActiveCustomers(active_set(conn, scope) if scope.period.is_bounded else None)


def active_count(conn: Connection, scope: Scope, search: str = "",
                 active: ActiveCustomers | None = None) -> int:
    """How many customers of the scope (matching the search) made a request in the period."""
    active = active or active_customers(conn, scope)
    if active.ids is not None and not search.strip():
        return len(active.ids)
    rows, params = customer_rows_sql(scope, search)
    if active.ids is None:
        return conn.execute(f"SELECT COUNT(*) FROM ({rows}) AS r", params).fetchone()[0]
    return sum(1 for (cid,) in conn.execute(f"SELECT cid FROM ({rows}) AS r", params) if cid in active.ids)


# --- Load time ---------------------------------------------------------------------------------


def latency_percentiles(conn: Connection, cid: int, scope: Scope) -> tuple[float | None, float | None]:
    """p50 and p95 load time from the daily histograms of the days the period touches (a period
    that starts or ends mid-day takes those whole days in)."""
    api, params = api_where(scope)
    rows = conn.execute(
        f"SELECT bucket, SUM(requests) FROM customer_latency_daily WHERE {api} AND customer_id = ?"
        " AND day >= ? AND day < ? GROUP BY bucket",
        [*params, cid, *scope.period.touched_days()],
    ).fetchall()
    buckets, counts = [r[0] for r in rows], [r[1] for r in rows]
    return percentile_ms(buckets, counts, 50), percentile_ms(buckets, counts, 95)

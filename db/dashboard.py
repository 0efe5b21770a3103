"""The named reads (and the few writes) behind the dashboard pages.

Every figure comes from the rollups, filtered by the shared WHERE of db.reads (scope_where, and
customer_request_counts_sql where a whole period must be aggregated); only the profile's request
history reads raw requests, through the index on (customer_id, ts). Per-period customer figures
avoid aggregating every customer of the period (see "Customers" below), so pages stay fast at
100k customers. Parameters are always bound; column names and sort orders come from fixed tables
here, never from the caller's text.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace

import polars as pl

from core.figures import dump_widget_choices, widget_choices
from core.latency import percentile_ms
from core.periods import DAY, HOUR, Period, split_into_days
from db.activity import active_set
from db.reads import (
    CUSTOMER_SCHEMA,
    Scope,
    api_request_count,
    customer_request_counts_sql,
    frame,
    request_details,
    scope_where,
)
from db.writes import set_customer_description, set_customer_display_name, set_customer_favorite, set_setting

WIDGETS_KEY = "dashboard.widgets"
VERSION_KEY = "dashboard.version"
ALL_TIME = Period(None, None)


# --- Freshness ------------------------------------------------------------------------------------


def data_version(conn: sqlite3.Connection) -> tuple[int, str]:
    """Cheap and changing whenever a figure may: the newest request id (every ingest adds one)
    and a counter the dashboard's own edits bump (favorites, descriptions, names, widgets)."""
    row = conn.execute(
        "SELECT (SELECT COALESCE(MAX(id), 0) FROM requests), (SELECT value FROM settings WHERE key = ?)",
        (VERSION_KEY,),
    ).fetchone()
    return int(row[0]), row[1] or "0"


def _edit(conn: sqlite3.Connection, write, *args) -> None:
    """One dashboard edit and the version bump, in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        write(conn, *args)
        conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, '1')"
            " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            (VERSION_KEY,),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def save_description(conn: sqlite3.Connection, customer_id: str, description: str) -> None:
    _edit(conn, set_customer_description, customer_id, description)


def save_favorite(conn: sqlite3.Connection, customer_id: str, favorite: bool) -> None:
    _edit(conn, set_customer_favorite, customer_id, favorite)


def save_display_name(conn: sqlite3.Connection, customer_id: str, name: str | None) -> None:
    _edit(conn, set_customer_display_name, customer_id, (name or "").strip() or None)


def save_widget_choices(conn: sqlite3.Connection, choices: dict[str, bool]) -> None:
    _edit(conn, set_setting, WIDGETS_KEY, dump_widget_choices(choices))


def load_widget_choices(conn: sqlite3.Connection) -> dict[str, bool]:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (WIDGETS_KEY,)).fetchone()
    return widget_choices(row[0] if row else None)


# --- Sidebar --------------------------------------------------------------------------------------


def api_choices(conn: sqlite3.Connection) -> pl.DataFrame:
    return frame(conn, "SELECT id, name FROM apis ORDER BY name", schema={"id": pl.Int64})


def favorites(conn: sqlite3.Connection) -> pl.DataFrame:
    """Every favorite customer, by display name."""
    return frame(
        conn,
        "SELECT external_id AS customer_id, COALESCE(display_name, name_from_traffic, external_id) AS display_name"
        " FROM customers WHERE favorite = 1 ORDER BY display_name COLLATE NOCASE, external_id",
    )


# --- Home -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodCounts:
    requests: int  # every request of the scope, unidentified included
    identified: int  # requests that belong to a customer
    active: int  # customers with at least one request
    new: int  # customers first seen in the period


@dataclass(frozen=True)
class HomeFigures:
    current: PeriodCounts
    previous: PeriodCounts | None  # the period of the same length before; None for all time
    top: pl.DataFrame  # the ten busiest customers: customer_id, display_name, requests, share
    newest: pl.DataFrame  # the ten newest customers: customer_id, display_name, first_seen, last_active
    favorites: pl.DataFrame  # favorite customers: customer_id, display_name, requests, share, last_active


TOP_SCHEMA = {"customer_id": pl.Utf8, "display_name": pl.Utf8, "requests": pl.Int64, "share": pl.Float64,
              "last_active": pl.Int64}


def period_counts(conn: sqlite3.Connection, scope: Scope) -> PeriodCounts:
    where, params = scope_where(scope, "hour", step=HOUR, every_api=True)
    total, identified = conn.execute(
        f"SELECT COALESCE(SUM(requests), 0), COALESCE(SUM(identified), 0) FROM api_hourly WHERE {where}", params
    ).fetchone()
    return PeriodCounts(total, identified, active_customers(conn, scope), new_customers(conn, scope))


def active_customers(conn: sqlite3.Connection, scope: Scope, search: str = "") -> int:
    """Customers with at least one request in the scope (matching the search, if any)."""
    return _active_customers(conn, scope, search)[0]


def new_customers(conn: sqlite3.Connection, scope: Scope) -> int:
    """Customers whose first request (to the scope's API, or to any API) lies in the period."""
    sql, params = _seen_sql(scope)
    where, where_params = scope_where(Scope(None, scope.period), "first_seen")
    return conn.execute(f"SELECT COUNT(*) FROM ({sql}) WHERE {where}", [*params, *where_params]).fetchone()[0]


def top_customers(conn: sqlite3.Connection, scope: Scope, limit: int = 10) -> pl.DataFrame:
    """The busiest customers of the scope; with every API, requests to all APIs add up."""
    busiest = _busiest(conn, scope, "", limit)  # without customer_page's count of every active customer
    if busiest is None:
        rows, _ = customer_page(conn, scope, sort="requests", descending=True, page=1, page_size=limit)
        return rows.select(*TOP_SCHEMA)
    return _customer_rows(conn, scope, dict(busiest)).select(*TOP_SCHEMA)


def newest_customers(conn: sqlite3.Connection, scope: Scope, limit: int = 10) -> pl.DataFrame:
    """The customers seen first most recently (up to the end of the period)."""
    sql, params = _seen_sql(scope)
    until_clause, until_params = ("AND seen.first_seen < ?", [scope.period.until]) if scope.period.until else ("", [])
    return frame(
        conn,
        f"""SELECT c.external_id AS customer_id,
                   COALESCE(c.display_name, c.name_from_traffic, c.external_id) AS display_name,
                   seen.first_seen, seen.last_seen AS last_active
            FROM ({sql}) AS seen JOIN customers c ON c.id = seen.customer_id
            WHERE 1 {until_clause}
            ORDER BY seen.first_seen DESC, c.external_id LIMIT ?""",
        [*params, *until_params, limit],
        schema={"first_seen": pl.Int64, "last_active": pl.Int64},
    )


def favorite_figures(conn: sqlite3.Connection, scope: Scope) -> pl.DataFrame:
    """Every favorite customer with its requests and share in the scope (zero when idle)."""
    where, params = _customer_hours(scope, "h.")
    seen_sql, seen_params = _seen_sql(scope)
    total = api_request_count(conn, scope)
    return frame(
        conn,
        f"""SELECT c.external_id AS customer_id,
                   COALESCE(c.display_name, c.name_from_traffic, c.external_id) AS display_name,
                   COALESCE((SELECT SUM(h.requests) FROM customer_hourly h WHERE {where} AND h.customer_id = c.id), 0)
                       AS requests,
                   seen.last_seen AS last_active
            FROM customers c LEFT JOIN ({seen_sql}) AS seen ON seen.customer_id = c.id
            WHERE c.favorite = 1
            ORDER BY requests DESC, display_name COLLATE NOCASE, c.external_id""",
        [*params, *seen_params],
        schema={"requests": pl.Int64, "last_active": pl.Int64},
    ).with_columns((100.0 * pl.col("requests") / max(total, 1)).alias("share"))


def home_figures(conn: sqlite3.Connection, scope: Scope) -> HomeFigures:
    """Everything the home page's widgets show, for the scope and the period before it."""
    return replace(home_now(conn, scope), previous=previous_counts(conn, scope))


def home_now(conn: sqlite3.Connection, scope: Scope) -> HomeFigures:
    """The home figures without the previous period's (previous is None)."""
    return HomeFigures(
        current=period_counts(conn, scope),
        previous=None,
        top=top_customers(conn, scope),
        newest=newest_customers(conn, scope),
        favorites=favorite_figures(conn, scope),
    )


def previous_counts(conn: sqlite3.Connection, scope: Scope) -> PeriodCounts | None:
    """The counts of the period of the same length just before the scope's; None for all time."""
    previous = scope.period.previous()
    return None if previous is None else period_counts(conn, Scope(scope.api_id, previous))


def period_fingerprint(conn: sqlite3.Connection, scope: Scope) -> tuple[int, int]:
    """Changes whenever any figure of the period may: every request stored for the period adds to
    these sums (new customers and active ones come only with requests). Past periods rarely
    change, so their figures can be kept while the collector stores today's traffic."""
    where, params = scope_where(scope, "hour", step=HOUR, every_api=True)
    row = conn.execute(
        f"SELECT COALESCE(SUM(requests), 0), COALESCE(SUM(identified), 0) FROM api_hourly WHERE {where}", params
    ).fetchone()
    return int(row[0]), int(row[1])


# --- Customers ------------------------------------------------------------------------------------
#
# A period's customer list must not aggregate every customer's rollups (at 100k customers that is
# seconds). Instead:
# - who was active: each API's set of active customers per day and per hour (db/activity.py),
#   the union of the period's whole days and edge hours; counted as it is, or tested row by row
#   (is_active) where a search or an order picks the rows;
# - the busiest: all-time requests bound period requests from above, so candidates are taken in
#   order of all-time requests (an index) and counted until no one left can beat the k-th (Fagin's
#   threshold algorithm); the daily rows bound each candidate's count from both sides, and only
#   those that may reach the k-th are counted exactly, edge hours and all;
# - other orders: the page of active customers in that order, counted afterwards.

# The sort keys a caller may name, and the column of _customer_rows_sql each stands for.
CUSTOMER_SORTS: dict[str, str] = {
    "display_name": "display_name COLLATE NOCASE",
    "customer_id": "customer_id",
    "requests": "requests",
    "share": "requests",
    "last_active": "last_active",
    "first_seen": "first_seen",
    "favorite": "favorite",
}
MAX_CANDIDATES = 20_000  # beyond this many candidates, aggregating the whole period is cheaper


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _seen_sql(scope: Scope) -> tuple[str, list]:
    """(customer_id, first_seen, last_seen, requests: all time) of every customer of the scope's API,
    or of any API."""
    if scope.api_id is None:
        return "SELECT id AS customer_id, first_seen, last_seen, requests FROM customers", []
    return (
        "SELECT customer_id, first_seen, last_seen, requests FROM api_customers WHERE api_id = ?",
        [scope.api_id],
    )


def _customer_rows_sql(scope: Scope, search: str = "", names: bool = False) -> tuple[str, list]:
    """Customers who may have requests in the scope (seen before its end and since its start) and
    match the search: cid, first_seen, last_active, bound (all-time requests: no period count can
    exceed it); with names (or a search) also customer_id (shown), display_name and favorite."""
    seen_sql, params = _seen_sql(scope)
    clauses = []
    # The unary + keeps SQLite from the first_seen index: a plain scan is faster for this many rows.
    if scope.period.until is not None:
        clauses.append("+seen.first_seen < ?")
        params.append(scope.period.until)
    if scope.period.since is not None:
        clauses.append("+seen.last_seen >= ?")
        params.append(scope.period.since)
    search = search.strip()
    if search:
        clauses.append("(c.external_id LIKE ? ESCAPE '\\'"
                       " OR COALESCE(c.display_name, c.name_from_traffic, c.external_id) LIKE ? ESCAPE '\\')")
        params += [_like(search), _like(search)]
    columns = "seen.customer_id AS cid, seen.first_seen, seen.last_seen AS last_active, seen.requests AS bound"
    source = f"({seen_sql}) AS seen"
    if names or search:
        columns += (", c.external_id AS customer_id, COALESCE(c.display_name, c.name_from_traffic, c.external_id)"
                    " AS display_name, c.favorite = 1 AS favorite")
        source += " JOIN customers c ON c.id = seen.customer_id"
    return f"SELECT {columns} FROM {source} WHERE {' AND '.join(clauses) or '1'}", params


def _active_customers(conn: sqlite3.Connection, scope: Scope, search: str) -> tuple[int, str]:
    """How many customers of the scope, matching the search, have a request in the period; and the
    SQL that tells them apart among the rows of _customer_rows_sql (aliased r). For a bounded
    period that is membership of the period's active set (db/activity.py), which `conn` is given
    as the function is_active for this read; for an open-ended one, any request at all (the
    customer was seen up to the open end)."""
    if scope.period.since is None or scope.period.until is None:
        active_sql = "r.bound > 0"
    else:
        active = active_set(conn, scope)
        conn.create_function("is_active", 1, active.__contains__)
        active_sql = "is_active(r.cid)"
        if not search.strip():
            return len(active), active_sql
    rows_sql, params = _customer_rows_sql(scope, search)
    count = conn.execute(f"SELECT COUNT(*) FROM ({rows_sql}) AS r WHERE {active_sql}", params).fetchone()[0]
    return count, active_sql


def _customer_hours(scope: Scope, prefix: str = "") -> tuple[str, list]:
    """WHERE for customer_hourly rows in the scope (the shared scope WHERE), with every API listed
    when there is no API so that the primary key (api_id, customer_id, hour) still leads. Callers
    add their customer_id condition."""
    return scope_where(scope, f"{prefix}hour", step=HOUR, api_column=f"{prefix}api_id", every_api=True)


def _api_in(scope: Scope, column: str = "api_id") -> tuple[str, list]:
    """The API condition that lets an index on (api_id, ...) lead even for every API."""
    if scope.api_id is None:
        return f"{column} IN (SELECT id FROM apis)", []
    return f"{column} = ?", [scope.api_id]


def _period_requests(conn: sqlite3.Connection, scope: Scope, cids: list[int]) -> dict[int, int]:
    """Requests in the scope of each of these customers (by database id), split as
    db.reads.customer_request_counts_sql splits a period: whole days from customer_daily, one short
    range of its customer index per customer, and the hours at either edge from customer_hourly,
    only for the APIs each customer used around the period."""
    if not cids:
        return {}
    period = scope.period
    since = period.since if period.since is not None else 0
    until = period.until if period.until is not None else 2**40
    edges, days = split_into_days(since, until)
    parts, params = [], []
    if days:
        api, api_params = ("", []) if scope.api_id is None else (" AND +d.api_id = ?", [scope.api_id])
        parts.append("SELECT d.customer_id, d.requests FROM customer_daily d"
                     f" WHERE d.customer_id IN (SELECT value FROM json_each(?)) AND d.day >= ? AND d.day < ?{api}")
        params += [json.dumps(cids), *days, *api_params]
    pairs = ""
    if edges:
        api, api_params = _api_in(scope)
        # The unary + keeps the (api_id, customer_id) key in use rather than the first_seen index.
        pairs = f"""WITH pairs AS MATERIALIZED (
            SELECT api_id, customer_id FROM api_customers
            WHERE {api} AND customer_id IN (SELECT value FROM json_each(?)) AND +last_seen >= ? AND +first_seen < ?)"""
        params = [*api_params, json.dumps(cids), since, until, *params]
    for start, end in edges:
        hours, hour_params = scope_where(Scope(None, Period(start, end)), "h.hour", step=HOUR)
        parts.append(
            "SELECT h.customer_id, h.requests FROM pairs JOIN customer_hourly h ON h.api_id = pairs.api_id"
            f" AND h.customer_id = pairs.customer_id AND {hours}"
        )
        params += hour_params
    sql = f"{pairs} SELECT customer_id, SUM(requests) FROM ({' UNION ALL '.join(parts)}) GROUP BY customer_id"
    return dict(conn.execute(sql, params).fetchall())


def _period_bounds(conn: sqlite3.Connection, scope: Scope, cids: list[int]) -> dict[int, tuple[int, int]]:
    """(at least, at most) requests in the scope's period of each of these customers, from
    customer_daily alone, one range of its customer index per customer: the period's whole days,
    and every day it touches."""
    since = scope.period.since if scope.period.since is not None else 0
    until = scope.period.until if scope.period.until is not None else 2**40
    _, days = split_into_days(since, until)
    api, api_params = ("", []) if scope.api_id is None else (" AND +api_id = ?", [scope.api_id])
    rows = conn.execute(
        "SELECT customer_id, SUM(CASE WHEN day >= ? AND day < ? THEN requests ELSE 0 END), SUM(requests)"
        f" FROM customer_daily WHERE customer_id IN (SELECT value FROM json_each(?)) AND day >= ? AND day < ?{api}"
        " GROUP BY customer_id",
        [*(days or (0, 0)), json.dumps(cids), since - since % DAY, -(-until // DAY) * DAY, *api_params],
    )
    return {cid: (low, high) for cid, low, high in rows}


def _busiest(conn: sqlite3.Connection, scope: Scope, search: str, k: int) -> list[tuple[int, int]] | None:
    """The k busiest customers of the scope as (cid, requests), busiest first, ties by customer ID;
    None when too many candidates would have to be counted."""
    rows_sql, params = _customer_rows_sql(scope, search)
    batch = 4 * k + 16
    while True:
        candidates = conn.execute(
            # Ties in the index's order (customers_requests, api_customers_requests): no sort.
            f"SELECT cid, bound FROM ({rows_sql}) ORDER BY bound DESC, cid DESC LIMIT ?",
            [*params, batch + 1],
        ).fetchall()
        counted = [cid for cid, _ in candidates[:batch]]
        if scope.period.since is None and scope.period.until is None:
            counts = dict(candidates[:batch])
        else:
            # Count exactly (edge hours and all) only those whose upper bound reaches the k-th lower
            # bound: at least k others certainly have more requests than the rest.
            bounds = _period_bounds(conn, scope, counted)
            lows = sorted((low for low, _ in bounds.values()), reverse=True)
            floor = lows[k - 1] if len(lows) >= k else 0
            counts = _period_requests(conn, scope, [cid for cid, (_, high) in bounds.items() if 0 < high >= floor])
        shown = _external_ids(conn, [cid for cid in counted if counts.get(cid, 0) > 0])
        ranked = sorted(((cid, n, shown[cid]) for cid, n in counts.items() if n > 0), key=lambda r: (-r[1], r[2]))
        kth = ranked[k - 1][1] if len(ranked) >= k else 0
        if len(candidates) <= batch or candidates[batch][1] < kth:  # no one left can reach the k-th
            return [(cid, n) for cid, n, _ in ranked[:k]]
        if batch >= MAX_CANDIDATES:
            return None
        batch *= 4


def _external_ids(conn: sqlite3.Connection, cids: list[int]) -> dict[int, str]:
    """The customer IDs shown (the tie-breaker of every ranking), by database id."""
    rows = conn.execute("SELECT id, external_id FROM customers WHERE id IN (SELECT value FROM json_each(?))",
                        [json.dumps(cids)])
    return dict(rows.fetchall())


def customer_page(
    conn: sqlite3.Connection,
    scope: Scope,
    search: str = "",
    sort: str = "requests",
    descending: bool = True,
    page: int = 1,
    page_size: int = 50,
) -> tuple[pl.DataFrame, int]:
    """One page of the customers with requests in the scope, and how many there are in all.

    search matches the customer ID or display name anywhere, ignoring case; share is a percentage
    of ALL the API's requests in the period (unidentified ones included); last_active is the
    customer's latest request to the API (or to any API). Ties go by customer ID."""
    if sort not in CUSTOMER_SORTS:
        raise ValueError(f"cannot sort customers by {sort!r}")
    page = max(1, int(page))
    offset = (page - 1) * page_size
    total, active = _active_customers(conn, scope, search)
    if offset >= total:
        return pl.DataFrame(schema=CUSTOMER_SCHEMA), total
    if sort in ("requests", "share"):
        busiest = _busiest(conn, scope, search, offset + page_size) if descending else None
        if busiest is None:
            return _customer_page_by_aggregation(conn, scope, search, descending, page, page_size, total)
        counts: dict[int, int | None] = dict(busiest[offset:])  # in the ranking's order
    else:
        rows_sql, params = _customer_rows_sql(scope, search, names=True)
        direction = "DESC" if descending else "ASC"
        cids = [row[0] for row in conn.execute(
            f"SELECT cid FROM ({rows_sql}) AS r WHERE {active}"
            f" ORDER BY {CUSTOMER_SORTS[sort]} {direction}, customer_id LIMIT ? OFFSET ?",
            [*params, page_size, offset],
        )]
        counted = _period_requests(conn, scope, cids) if scope.period != ALL_TIME else {}
        counts = {cid: counted.get(cid) for cid in cids}  # None: all time, where the bound is the count
    return _customer_rows(conn, scope, counts), total


def _customer_rows(conn: sqlite3.Connection, scope: Scope, counts: dict[int, int | None]) -> pl.DataFrame:
    """The customers' rows in the given order, with their requests (None: all-time requests)."""
    cids = list(counts)
    seen_sql, params = _seen_sql(scope)
    details = frame(
        conn,
        f"""SELECT seen.customer_id AS cid, c.external_id AS customer_id,
                   COALESCE(c.display_name, c.name_from_traffic, c.external_id) AS display_name,
                   seen.first_seen, seen.last_seen AS last_active, c.favorite = 1 AS favorite, seen.requests AS bound
            FROM customers c JOIN ({seen_sql}) AS seen ON seen.customer_id = c.id
            WHERE c.id IN (SELECT value FROM json_each(?))""",
        [*params, json.dumps(cids)],
        {"cid": pl.Int64, "first_seen": pl.Int64, "last_active": pl.Int64, "favorite": pl.Boolean, "bound": pl.Int64},
    )
    order = pl.DataFrame(
        {"cid": cids, "position": range(len(cids)), "counted": [counts[c] for c in cids]},
        schema={"cid": pl.Int64, "position": pl.Int64, "counted": pl.Int64},
    )
    total_requests = api_request_count(conn, scope)
    return (
        details.join(order, on="cid")
        .sort("position")
        .with_columns(pl.coalesce("counted", "bound").alias("requests"))
        .with_columns((100.0 * pl.col("requests") / max(total_requests, 1)).alias("share"))
        .select(*CUSTOMER_SCHEMA)
    )


def _customer_page_by_aggregation(
    conn: sqlite3.Connection, scope: Scope, search: str, descending: bool, page: int, page_size: int, total: int
) -> tuple[pl.DataFrame, int]:
    """The page by requests, from every customer's count for the period (deep pages, ascending)."""
    counts_sql, counts_params = customer_request_counts_sql(scope)
    rows_sql, rows_params = _customer_rows_sql(scope, search, names=True)
    total_requests = api_request_count(conn, scope)
    direction = "DESC" if descending else "ASC"
    sql = f"""
        WITH counts AS (SELECT customer_id AS cid, SUM(requests) AS requests FROM ({counts_sql}) GROUP BY customer_id)
        SELECT r.customer_id, r.display_name, counts.requests, 100.0 * counts.requests / ? AS share, r.first_seen,
               r.last_active, r.favorite
        FROM counts JOIN ({rows_sql}) AS r USING (cid)
        WHERE counts.requests > 0
        ORDER BY counts.requests {direction}, r.customer_id
        LIMIT ? OFFSET ?
    """
    params = [*counts_params, max(total_requests, 1), *rows_params, page_size, (page - 1) * page_size]
    return frame(conn, sql, params, CUSTOMER_SCHEMA), total


# --- Customer profile -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    id: int  # the database id, for the reads that follow
    customer_id: str  # the external ID shown
    display_name: str
    custom_name: str | None  # set by an analyst
    name_from_traffic: str | None
    description: str
    favorite: bool
    first_seen: int | None  # with the scope's API (or any API); None when it never called it
    last_seen: int | None
    requests: int  # in the scope
    share: float | None  # percent of ALL the API's requests in the scope
    errors: int  # 4xx and 5xx in the scope
    load_ms_sum: float
    p50_ms: float | None
    p95_ms: float | None

    @property
    def error_rate(self) -> float | None:
        return None if not self.requests else 100.0 * self.errors / self.requests

    @property
    def average_ms(self) -> float | None:
        return None if not self.requests else self.load_ms_sum / self.requests


def customer_profile(conn: sqlite3.Connection, customer_id: str, scope: Scope) -> Profile | None:
    """The profile header of one customer (by the ID shown), or None for an unknown ID."""
    row = conn.execute(
        "SELECT id, external_id, COALESCE(display_name, name_from_traffic, external_id), display_name,"
        " name_from_traffic, description, favorite, first_seen, last_seen FROM customers WHERE external_id = ?",
        (customer_id,),
    ).fetchone()
    if row is None:
        return None
    cid, external_id, shown, custom, from_traffic, description, favorite, first_seen, last_seen = row
    if scope.api_id is not None:
        seen = conn.execute(
            "SELECT first_seen, last_seen FROM api_customers WHERE api_id = ? AND customer_id = ?", (scope.api_id, cid)
        ).fetchone()
        first_seen, last_seen = seen if seen else (None, None)
    where, params = _customer_hours(scope)
    requests, errors, load_sum = conn.execute(
        f"SELECT COALESCE(SUM(requests), 0), COALESCE(SUM(s4xx + s5xx), 0), COALESCE(SUM(load_ms_sum), 0)"
        f" FROM customer_hourly WHERE {where} AND customer_id = ?",
        [*params, cid],
    ).fetchone()
    total = api_request_count(conn, scope)
    p50, p95 = latency_percentiles(conn, cid, scope)
    return Profile(
        id=cid, customer_id=external_id, display_name=shown, custom_name=custom, name_from_traffic=from_traffic,
        description=description, favorite=bool(favorite), first_seen=first_seen, last_seen=last_seen,
        requests=requests, share=None if not total else 100.0 * requests / total, errors=errors,
        load_ms_sum=load_sum, p50_ms=p50, p95_ms=p95,
    )


def latency_percentiles(conn: sqlite3.Connection, cid: int, scope: Scope) -> tuple[float | None, float | None]:
    """p50 and p95 load time from the daily histograms of the days the period touches (a period
    that starts or ends mid-day takes those whole days in)."""
    clauses, params = ["customer_id = ?"], [cid]
    if scope.api_id is None:
        clauses.insert(0, "api_id IN (SELECT id FROM apis)")
    else:
        clauses.insert(0, "api_id = ?")
        params.insert(0, scope.api_id)
    if scope.period.since is not None:
        clauses.append("day >= ?")
        params.append(scope.period.since - scope.period.since % DAY)
    if scope.period.until is not None:
        clauses.append("day < ?")
        params.append(scope.period.until)
    rows = conn.execute(
        f"SELECT bucket, SUM(requests) FROM customer_latency_daily WHERE {' AND '.join(clauses)} GROUP BY bucket",
        params,
    ).fetchall()
    buckets, counts = [r[0] for r in rows], [r[1] for r in rows]
    return percentile_ms(buckets, counts, 50), percentile_ms(buckets, counts, 95)


def request_graph(conn: sqlite3.Connection, cid: int, scope: Scope, bucket_seconds: int) -> pl.DataFrame:
    """Requests per time bucket by status class: bucket (start, epoch seconds), s2xx..s5xx."""
    where, params = _customer_hours(scope)
    return frame(
        conn,
        f"""SELECT hour - hour % ? AS bucket, SUM(s2xx) AS s2xx, SUM(s3xx) AS s3xx, SUM(s4xx) AS s4xx, SUM(s5xx) AS s5xx
            FROM customer_hourly WHERE {where} AND customer_id = ? GROUP BY 1 ORDER BY 1""",
        [bucket_seconds, *params, cid],
        schema={c: pl.Int64 for c in ("bucket", "s2xx", "s3xx", "s4xx", "s5xx")},
    )


# --- Request history ------------------------------------------------------------------------------

NO_VALUE = "(none)"  # filter value standing for a missing AI agent or location
ANY_AI_AGENT = "(any AI agent)"
STATUS_CLASS_RANGES = {"2xx": (100, 300), "3xx": (300, 400), "4xx": (400, 500), "5xx": (500, 1000)}
THREAT_ORDER = "CASE threat_level WHEN 'low' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END"

HISTORY_SORTS: dict[str, str] = {
    "time": "ts",
    "method": "method",
    "status": "status",
    "endpoint": "endpoint",
    "load_time_ms": "load_time_ms",
    "threat_level": THREAT_ORDER,
    "device": "device",
    "ai_agent": "ai_agent",
    "country": "country",
}

HISTORY_SCHEMA = {"id": pl.Int64, "time": pl.Int64, "status": pl.Int64, "load_time_ms": pl.Float64}


@dataclass(frozen=True)
class HistoryFilter:
    """What the request history is narrowed to; empty means no filter on that column."""

    methods: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()  # "4xx" for a class, "404" for one code
    endpoints: tuple[str, ...] = ()
    threat_levels: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    ai_agents: tuple[str, ...] = ()  # names, NO_VALUE, ANY_AI_AGENT
    countries: tuple[str, ...] = ()  # country codes, NO_VALUE
    min_load_ms: float | None = None
    max_load_ms: float | None = None
    since: int | None = None  # narrows the period further
    until: int | None = None
    search: str = ""  # anywhere in the path or the endpoint name, ignoring case

    @property
    def active(self) -> bool:
        return self != HistoryFilter()


def _in(column: str, values: tuple[str, ...]) -> tuple[str, list]:
    return f"{column} IN ({','.join('?' * len(values))})", list(values)


def _history_where(cid: int, scope: Scope, f: HistoryFilter) -> tuple[str, list]:
    where, params = scope_where(scope, "ts", api_column="+api_id")  # + : the customer index, not the API one
    clauses, params = ["customer_id = ?", where], [cid, *params]

    def add(clause: str, values: list) -> None:
        clauses.append(clause)
        params.extend(values)

    for column, values in (("method", f.methods), ("endpoint", f.endpoints), ("threat_level", f.threat_levels),
                           ("device", f.devices)):
        if values:
            add(*_in(column, values))
    if f.statuses:
        parts, values = [], []
        for status in f.statuses:
            if status in STATUS_CLASS_RANGES:
                parts.append("(status >= ? AND status < ?)")
                values += list(STATUS_CLASS_RANGES[status])
            else:
                parts.append("status = ?")
                values.append(int(status))
        add("(" + " OR ".join(parts) + ")", values)
    for column, values, anything in (("ai_agent", f.ai_agents, ANY_AI_AGENT), ("country", f.countries, None)):
        if not values:
            continue
        parts, named = [], [v for v in values if v not in (NO_VALUE, anything)]
        if named:
            part, part_params = _in(column, tuple(named))
            parts.append(part)
        else:
            part_params = []
        if NO_VALUE in values:
            parts.append(f"{column} IS NULL")
        if anything is not None and anything in values:
            parts.append(f"{column} IS NOT NULL")
        add("(" + " OR ".join(parts) + ")", part_params)
    if f.min_load_ms is not None:
        add("load_time_ms >= ?", [f.min_load_ms])
    if f.max_load_ms is not None:
        add("load_time_ms <= ?", [f.max_load_ms])
    if f.since is not None:
        add("ts >= ?", [f.since])
    if f.until is not None:
        add("ts < ?", [f.until])
    if f.search.strip():
        pattern = _like(f.search.strip())
        add("(path LIKE ? ESCAPE '\\' OR endpoint LIKE ? ESCAPE '\\')", [pattern, pattern])
    return " AND ".join(clauses), params


def history(
    conn: sqlite3.Connection,
    cid: int,
    scope: Scope,
    filters: HistoryFilter = HistoryFilter(),
    sort: str = "time",
    descending: bool = True,
    limit: int = 100,
    offset: int = 0,
) -> pl.DataFrame:
    """The customer's requests in the scope that pass the filters, sorted (newest first by
    default), one page of them. Reads raw requests through requests_customer_ts."""
    if sort not in HISTORY_SORTS:
        raise ValueError(f"cannot sort requests by {sort!r}")
    where, params = _history_where(cid, scope, filters)
    direction = "DESC" if descending else "ASC"
    return frame(
        conn,
        f"""SELECT id, ts AS time, method, status, endpoint, path, load_time_ms, threat_level, device, ai_agent,
                   country, city
            FROM requests WHERE {where}
            ORDER BY {HISTORY_SORTS[sort]} {direction}, ts {direction}, id {direction}
            LIMIT ? OFFSET ?""",
        [*params, limit, offset],
        HISTORY_SCHEMA,
    )


def history_count(conn: sqlite3.Connection, cid: int, scope: Scope, filters: HistoryFilter = HistoryFilter()) -> int:
    """How many requests history() pages through. Unfiltered, the rollups answer."""
    if not filters.active:
        where, params = _customer_hours(scope)
        return conn.execute(
            f"SELECT COALESCE(SUM(requests), 0) FROM customer_hourly WHERE {where} AND customer_id = ?", [*params, cid]
        ).fetchone()[0]
    where, params = _history_where(cid, scope, filters)
    return conn.execute(f"SELECT COUNT(*) FROM requests WHERE {where}", params).fetchone()[0]


OPTION_SAMPLE = 1_000


def history_options(conn: sqlite3.Connection, cid: int, scope: Scope) -> dict[str, list]:
    """The values the history's filters offer: those in the customer's latest requests of the
    scope (at most OPTION_SAMPLE of them), most frequent first."""
    where, params = scope_where(scope, "ts", api_column="+api_id")  # + : the customer index, not the API one
    sample = frame(
        conn,
        f"""SELECT method, status, endpoint, device, ai_agent, country FROM requests
            WHERE customer_id = ? AND {where} ORDER BY ts DESC LIMIT ?""",
        [cid, *params, OPTION_SAMPLE],
        {"status": pl.Int64},
    )

    def ranked(column: str) -> list:
        if sample.is_empty():
            return []
        counts = sample.group_by(column).len().sort(["len", column], descending=[True, False], nulls_last=True)
        return [v for v in counts[column].to_list() if v is not None]

    return {
        "methods": ranked("method"),
        "statuses": sorted(ranked("status")),
        "endpoints": ranked("endpoint"),
        "devices": ranked("device"),
        "ai_agents": ranked("ai_agent"),
        "countries": ranked("country"),
    }


def request_detail(conn: sqlite3.Connection, cid: int, request_id: int) -> dict | None:
    """One request of this customer with its masked headers, bodies and errors."""
    detail = request_details(conn, request_id)
    if detail is None or detail["customer_id"] != cid:
        return None
    return detail

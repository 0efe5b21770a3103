"""The customers page's read model: one page of the customers with requests in the scope, in any
order; the same rows in full for the CLI, and the busiest for the home page.

A period's customer list must not aggregate every customer's rollups (at 100k customers that is
seconds). Instead:
- who was active: the period's active-customer set (db/queries/figures.active_customers), counted as it
  is, or tested row by row where a search or an order picks the rows;
- the busiest: all-time requests bound period requests from above, so candidates are taken in
  order of all-time requests (an index) and counted until no one left can beat the k-th (Fagin's
  threshold algorithm); the daily rows bound each candidate's count from both sides, and only
  those that may reach the k-th are counted exactly;
- other orders: the page of active customers in that order, counted afterwards.
Every count is db/queries/figures.customer_totals_sql's. Reads customers, api_customers, customer_daily,
customer_hourly and the active-customer sets.
"""

from __future__ import annotations

import json

import polars as pl

from core.access import SHARED_ANALYST
from core.figures import with_share
from core.periods import Period, split_into_days
from core.scope import Scope
from db.backends.base import Connection
from db.queries.figures import (
    ActiveCustomers,
    active_count,
    active_customers,
    api_totals,
    customer_rows_sql,
    customer_totals_sql,
    period_requests,
)
from db.queries.frames import frame
from db.queries.scope import NO_LIMIT

CUSTOMER_SCHEMA = {
    "customer_id": pl.Utf8,
    "display_name": pl.Utf8,
    "requests": pl.Int64,
    "share": pl.Float64,
    "first_seen": pl.Int64,
    "last_active": pl.Int64,
    "favorite": pl.Boolean,
}
# The sort keys a caller may name, and the column of customer_rows_sql each stands for.
CUSTOMER_SORTS: dict[str, str] = {
    "display_name": "lower(display_name)",  # as COLLATE NOCASE: ASCII folded, on both servers
    "customer_id": "customer_id",
    "requests": "requests",
    "share": "requests",
    "last_active": "last_active",
    "first_seen": "first_seen",
    "favorite": "favorite",
}
MAX_CANDIDATES = 20_000  # beyond this many candidates, aggregating the whole period is cheaper


def customer_page(
    conn: Connection,
    scope: Scope,
    search: str = "",
    sort: str = "requests",
    descending: bool = True,
    page: int = 1,
    page_size: int = 50,
    analyst: str = SHARED_ANALYST,
) -> tuple[pl.DataFrame, int]:
    """One page of the customers with requests in the scope, and how many there are in all.

    search matches the customer ID or display name anywhere, ignoring case; share is a percentage
    of ALL the API's requests in the period (unidentified ones included); last_active is the
    customer's latest request to the API (or to any API); favorite is the analyst's star. Ties go
    by customer ID."""
    if sort not in CUSTOMER_SORTS:
        raise ValueError(f"cannot sort customers by {sort!r}")
    offset = (max(1, int(page)) - 1) * page_size
    active = active_customers(conn, scope)
    total = active_count(conn, scope, search, active)
    if offset >= total:
        return pl.DataFrame(schema=CUSTOMER_SCHEMA), total
    if sort in ("requests", "share"):
        busiest = None
        if descending and offset + page_size <= MAX_CANDIDATES:
            busiest = _busiest(conn, scope, search, offset + page_size)
        if busiest is None:
            return _by_aggregation(conn, scope, search, descending, offset, page_size, analyst), total
        counts = dict(busiest[offset:])  # in the ranking's order
    else:
        cids = _page_in_order(conn, scope, search, sort, descending, offset, page_size, active, analyst)
        counted = period_requests(conn, scope, cids)
        counts = {cid: counted.get(cid, 0) for cid in cids}
    return _customer_rows(conn, scope, counts, analyst), total


def customer_list(conn: Connection, scope: Scope, analyst: str = SHARED_ANALYST) -> pl.DataFrame:
    """Every customer with requests in the scope, busiest first: the customers page's rows, all
    of them (the CLI's customers command)."""
    return _by_aggregation(conn, scope, "", True, 0, None, analyst)


def busiest_customers(conn: Connection, scope: Scope, limit: int,
                      analyst: str = SHARED_ANALYST) -> pl.DataFrame:
    """The `limit` busiest customers of the scope, as customer_page's rows."""
    busiest = _busiest(conn, scope, "", limit)  # without customer_page's count of every active customer
    if busiest is None:
        return _by_aggregation(conn, scope, "", True, 0, limit, analyst)
    return _customer_rows(conn, scope, dict(busiest), analyst)


def _page_in_order(conn: Connection, scope: Scope, search: str, sort: str, descending: bool,
                   offset: int, limit: int, active: ActiveCustomers, analyst: str) -> list[int]:
    """The page's customers (database ids) in a sort order other than requests: the rows of
    customer_rows_sql in that order, those active in the period kept. SQLite sorts only as many
    rows as may fill the page (a top-N sort), more only when too few of them were active."""
    # The analyst's stars only to sort by them: each one costs a look into favorites.
    rows_sql, params = customer_rows_sql(scope, search, names=True,
                                         favorites_of=analyst if sort == "favorite" else None)
    direction = "DESC" if descending else "ASC"
    sql = f"SELECT cid FROM ({rows_sql}) AS r ORDER BY {CUSTOMER_SORTS[sort]} {direction}, customer_id LIMIT ?"
    wanted = offset + limit
    batch = 2 * wanted + 16
    while True:
        cids = [cid for (cid,) in conn.execute(sql, [*params, batch])]
        kept = [cid for cid in cids if cid in active]
        if len(kept) >= wanted or len(cids) < batch:  # the page is full, or every row was read
            return kept[offset:wanted]
        batch *= 4


def _customer_rows(conn: Connection, scope: Scope, counts: dict[int, int], analyst: str) -> pl.DataFrame:
    """The customers' rows in the given order, with their requests in the period."""
    cids = list(counts)
    rows_sql, params = customer_rows_sql(Scope(scope.api_id, Period(None, None)), favorites_of=analyst)
    details = frame(
        conn,
        f"SELECT cid, customer_id, display_name, first_seen, last_active, favorite FROM ({rows_sql}) AS r"
        " WHERE cid IN (SELECT value FROM json_each(?))",
        [*params, json.dumps(cids)],
        {"cid": pl.Int64, "first_seen": pl.Int64, "last_active": pl.Int64, "favorite": pl.Boolean},
    )
    order = pl.DataFrame(
        {"cid": cids, "position": range(len(cids)), "requests": [counts[c] for c in cids]},
        schema={"cid": pl.Int64, "position": pl.Int64, "requests": pl.Int64},
    )
    rows = details.join(order, on="cid").sort("position")
    return with_share(rows, api_totals(conn, scope).requests).select(*CUSTOMER_SCHEMA)


def _by_aggregation(conn: Connection, scope: Scope, search: str, descending: bool, offset: int,
                    limit: int | None, analyst: str) -> pl.DataFrame:
    """Customers by requests from every customer's count for the period (deep pages, ascending,
    the CLI's whole list)."""
    counts_sql, counts_params = customer_totals_sql(scope)
    rows_sql, rows_params = customer_rows_sql(scope, search, favorites_of=analyst)
    direction = "DESC" if descending else "ASC"
    rows = frame(
        conn,
        f"""SELECT r.customer_id, r.display_name, counts.requests, r.first_seen, r.last_active, r.favorite
            FROM ({counts_sql}) AS counts JOIN ({rows_sql}) AS r ON r.cid = counts.customer_id
            WHERE counts.requests > 0
            ORDER BY counts.requests {direction}, r.customer_id
            LIMIT ? OFFSET ?""",
        [*counts_params, *rows_params, NO_LIMIT if limit is None else limit, offset],
        CUSTOMER_SCHEMA,
    )
    return with_share(rows, api_totals(conn, scope).requests).select(*CUSTOMER_SCHEMA)


def _period_bounds(conn: Connection, scope: Scope, cids: list[int]) -> dict[int, tuple[int, int]]:
    """(at least, at most) requests in the scope's period of each of these customers, from
    customer_daily alone, one range of its customer index per customer: the period's whole days,
    and every day it touches."""
    _, days = split_into_days(*scope.period.closed())
    api, api_params = ("", []) if scope.api_id is None else (" AND +api_id = ?", [scope.api_id])
    rows = conn.execute(
        "SELECT customer_id, SUM(CASE WHEN day >= ? AND day < ? THEN requests ELSE 0 END), SUM(requests)"
        f" FROM customer_daily WHERE customer_id IN (SELECT value FROM json_each(?)) AND day >= ? AND day < ?{api}"
        " GROUP BY customer_id",
        [*(days or (0, 0)), json.dumps(cids), *scope.period.touched_days(), *api_params],
    )
    return {cid: (low, high) for cid, low, high in rows}


def _busiest(conn: Connection, scope: Scope, search: str, k: int) -> list[tuple[int, int]] | None:
    """The k busiest customers of the scope as (cid, requests), busiest first, ties by customer ID;
    None when too many candidates would have to be counted."""
    rows_sql, params = customer_rows_sql(scope, search)
    batch = 4 * k + 16
    while True:
        candidates = conn.execute(
            # Ties in the index's order (customers_requests, api_customers_requests): no sort.
            f"SELECT cid, bound FROM ({rows_sql}) AS r ORDER BY bound DESC, cid DESC LIMIT ?",
            [*params, batch + 1],
        ).fetchall()
        counted = [cid for cid, _ in candidates[:batch]]
        if scope.period.is_all_time:
            counts = period_requests(conn, scope, counted)  # all time: the bounds are the counts
        else:
            # Count exactly only those whose upper bound reaches the k-th lower bound: at least k
            # others certainly have more requests than the rest.
            bounds = _period_bounds(conn, scope, counted)
            lows = sorted((low for low, _ in bounds.values()), reverse=True)
            floor = lows[k - 1] if len(lows) >= k else 0
            counts = period_requests(conn, scope, [cid for cid, (_, high) in bounds.items() if 0 < high >= floor])
        shown = _external_ids(conn, list(counts))
        ranked = sorted(((cid, n, shown[cid]) for cid, n in counts.items()), key=lambda r: (-r[1], r[2]))
        kth = ranked[k - 1][1] if len(ranked) >= k else 0
        if len(candidates) <= batch or candidates[batch][1] < kth:  # no one left can reach the k-th
            return [(cid, n) for cid, n, _ in ranked[:k]]
        if batch >= MAX_CANDIDATES:
            return None
        batch *= 4


def _external_ids(conn: Connection, cids: list[int]) -> dict[int, str]:
    """The customer IDs shown (the tie-breaker of every ranking), by database id."""
    rows = conn.execute("SELECT id, external_id FROM customers WHERE id IN (SELECT value FROM json_each(?))",
                        [json.dumps(cids)])
    return dict(rows.fetchall())

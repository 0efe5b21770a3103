"""Usage for billing: the Usage page's read model, also `footfall usage`'s, the profile's quota and
the customer's own page's usage (core/usage.py says what counts): a month's requests, billable requests,
errors and quota per customer, or per customer and endpoint, exact from the monthly rollups
(db/writes/usage.py).

Reads customer_monthly (its (api_id, month, customer_id) key), endpoint_monthly, endpoints, apis,
customers, quotas and quota_firings.
"""

from __future__ import annotations

import polars as pl

from core.alerts import delivery_text
from core.usage import month_text, threshold_percent
from db.backends.base import Connection
from db.queries.figures import DISPLAY_NAME
from db.queries.frames import frame
from db.queries.scope import like_pattern

USAGE_SCHEMA = {"requests": pl.Int64, "billable_requests": pl.Int64, "errors": pl.Int64, "quota": pl.Int64}
BILLABLE = "m.requests - a.exclude_5xx * m.s5xx - a.exclude_429 * m.s429"
# A customer's quota on an API: their own, else the API's default (q: their own row, d: the default's).
QUOTA = "COALESCE(q.monthly, d.monthly)"
QUOTA_JOINS = (" LEFT JOIN quotas q ON q.api_id = m.api_id AND q.customer_id = m.customer_id"
               " LEFT JOIN quotas d ON d.api_id = m.api_id AND d.customer_id IS NULL")
USAGE_SORTS = ("billable_requests", "requests", "errors", "quota_used", "display_name", "customer_id")


def monthly_usage(conn: Connection, api_id: int | None, month: int) -> pl.DataFrame:
    """Every customer with requests to the API in the month starting at `month`, busiest first:
    customer_id, display_name, requests, billable_requests, errors, quota (None: none set) and
    quota_used (billable requests over quota). With every API (api_id None), a row per customer
    and API, an `api` column first: quotas and billing are per API."""
    where, params = ("m.api_id = ?", [api_id]) if api_id is not None else ("m.api_id IN (SELECT id FROM apis)", [])
    usage = frame(
        conn,
        f"SELECT a.name AS api, c.external_id AS customer_id, {DISPLAY_NAME} AS display_name, m.requests,"
        f" {BILLABLE} AS billable_requests, m.errors, COALESCE(q.monthly, d.monthly) AS quota"
        f" FROM customer_monthly m JOIN apis a ON a.id = m.api_id JOIN customers c ON c.id = m.customer_id{QUOTA_JOINS}"
        f" WHERE {where} AND m.month = ?",
        [*params, month], schema=USAGE_SCHEMA)
    usage = usage.with_columns(quota_used=pl.col("billable_requests") / pl.col("quota")).sort(
        ["billable_requests", "api", "customer_id"], descending=[True, False, False])
    return usage if api_id is None else usage.drop("api")


def usage_page(conn: Connection, api_id: int | None, month: int, search: str = "", sort: str = "billable_requests",
               descending: bool = True, page: int = 1, page_size: int = 50) -> tuple[pl.DataFrame, int]:
    """One page of monthly_usage's rows (its columns, api with every API), those whose customer ID
    or name contains `search` (any case, as on Customers), sorted by `sort` (one of USAGE_SORTS;
    rows without a quota last by quota or quota_used), ties by the customer; and how many rows
    match. Sorted by a figure and with no search, the page is picked from customer_monthly alone
    and only its rows are named: the Usage page's first view reads the month's key range once."""
    if sort not in USAGE_SORTS:
        raise ValueError(f"cannot sort usage by {sort!r}")
    where, params = _month_where(api_id, month)
    search = search.strip()
    named = bool(search) or sort in ("display_name", "customer_id")
    if search:
        where += f" AND (c.external_id LIKE ? ESCAPE '\\' OR {DISPLAY_NAME} LIKE ? ESCAPE '\\')"
        params += [like_pattern(search)] * 2
    joins = " JOIN customers c ON c.id = m.customer_id" if named else ""
    total = conn.execute(f"SELECT COUNT(*) FROM customer_monthly m{joins} WHERE {where}", params).fetchone()[0]
    direction = "DESC" if descending else "ASC"
    keys = {"billable_requests": BILLABLE, "requests": "m.requests", "errors": "m.errors",
            "quota_used": f"({BILLABLE}) * 1.0 / COALESCE(q.monthly, d.monthly)", "quota": QUOTA,
            "display_name": DISPLAY_NAME, "customer_id": "c.external_id"}
    picked = (f"SELECT m.api_id, m.customer_id, {keys[sort]} AS sort_key FROM customer_monthly m"
              f" JOIN apis a ON a.id = m.api_id{joins}{QUOTA_JOINS} WHERE {where}"
              f" ORDER BY sort_key {direction} NULLS LAST, m.customer_id, m.api_id LIMIT ? OFFSET ?")
    rows = frame(
        conn,
        f"SELECT a.name AS api, c.external_id AS customer_id, {DISPLAY_NAME} AS display_name, m.requests,"
        f" {BILLABLE} AS billable_requests, m.errors, {QUOTA} AS quota FROM ({picked}) AS p"
        " JOIN customer_monthly m ON m.api_id = p.api_id AND m.month = ? AND m.customer_id = p.customer_id"
        f" JOIN apis a ON a.id = m.api_id JOIN customers c ON c.id = m.customer_id{QUOTA_JOINS}"
        f" ORDER BY p.sort_key {direction} NULLS LAST, m.customer_id, m.api_id",
        [*params, page_size, (page - 1) * page_size, month], schema=USAGE_SCHEMA)
    rows = rows.with_columns(quota_used=pl.col("billable_requests") / pl.col("quota"))
    return (rows if api_id is None else rows.drop("api")), total


def _month_where(api_id: int | None, month: int) -> tuple[str, list]:
    """customer_monthly's rows (m) of the month, of the API or every API, by its key."""
    if api_id is not None:
        return "m.api_id = ? AND m.month = ?", [api_id, month]
    return "m.api_id IN (SELECT id FROM apis) AND m.month = ?", [month]


def endpoint_usage(conn: Connection, api_id: int | None, month: int) -> pl.DataFrame:
    """A row per customer and endpoint with requests in the month: (api with every API,)
    customer_id, display_name, method, endpoint, requests, billable_requests, errors; by customer,
    then busiest endpoint first."""
    where, params = ("e.api_id = ?", [api_id]) if api_id is not None else ("e.api_id IN (SELECT id FROM apis)", [])
    usage = frame(
        conn,
        f"SELECT a.name AS api, c.external_id AS customer_id, {DISPLAY_NAME} AS display_name, e.method,"
        f" e.name AS endpoint, m.requests, {BILLABLE} AS billable_requests, m.errors"
        " FROM endpoint_monthly m JOIN endpoints e ON e.id = m.endpoint_id JOIN apis a ON a.id = e.api_id"
        f" JOIN customers c ON c.id = m.customer_id WHERE {where} AND m.month = ?",
        [*params, month], schema=USAGE_SCHEMA)
    usage = usage.sort(["api", "customer_id", "billable_requests", "method", "endpoint"],
                       descending=[False, False, True, False, False])
    return usage if api_id is None else usage.drop("api")


def customer_month(conn: Connection, cid: int, api_id: int | None, month: int) -> pl.DataFrame:
    """One customer's month (by database id), per API they called or have a quota on (only the
    API given, when one is): api_id, api, requests, billable_requests, errors, quota, quota_used."""
    where, params = ("a.id = ?", [api_id]) if api_id is not None else ("TRUE", [])
    usage = frame(
        conn,
        f"SELECT a.id AS api_id, a.name AS api, COALESCE(m.requests, 0) AS requests,"
        f" COALESCE({BILLABLE}, 0) AS billable_requests, COALESCE(m.errors, 0) AS errors,"
        " COALESCE(q.monthly, d.monthly) AS quota FROM apis a"
        " LEFT JOIN customer_monthly m ON m.api_id = a.id AND m.month = ? AND m.customer_id = ?"
        " LEFT JOIN quotas q ON q.api_id = a.id AND q.customer_id = ?"
        " LEFT JOIN quotas d ON d.api_id = a.id AND d.customer_id IS NULL"
        f" WHERE {where} AND (m.requests IS NOT NULL OR q.monthly IS NOT NULL) ORDER BY a.name",
        [month, cid, cid, *params], schema={**USAGE_SCHEMA, "api_id": pl.Int64})
    return usage.with_columns(quota_used=pl.col("billable_requests") / pl.col("quota"))


def customer_quotas(conn: Connection, cid: int) -> pl.DataFrame:
    """The profile's quotas: every API with the customer's quota on it, their own or the API's
    default: api_id, api, own (their own quota, or None), default (the API's, or None)."""
    return frame(
        conn,
        "SELECT a.id AS api_id, a.name AS api, q.monthly AS own, d.monthly AS \"default\" FROM apis a"
        " LEFT JOIN quotas q ON q.api_id = a.id AND q.customer_id = ?"
        " LEFT JOIN quotas d ON d.api_id = a.id AND d.customer_id IS NULL"
        " WHERE a.removed_at IS NULL ORDER BY a.name",
        [cid], schema={"api_id": pl.Int64, "own": pl.Int64, "default": pl.Int64})


def quota_firings(conn: Connection, limit: int = 200, webhook_set: bool = True) -> pl.DataFrame:
    """The latest quota firings, newest first: firing_id, api, customer_id, display_name, month,
    threshold, used, quota, fired_at, delivered_at, attempts, last_error; and in words: reached
    ("80%"), month_text ("2026-12") and delivery (webhook_set: whether FOOTFALL_ALERT_WEBHOOK is)."""
    firings = frame(
        conn,
        f"SELECT f.id AS firing_id, a.name AS api, c.external_id AS customer_id, {DISPLAY_NAME} AS display_name,"
        " f.month, f.threshold, f.used, f.quota, f.fired_at, f.delivered_at, f.attempts, f.last_error"
        " FROM quota_firings f JOIN apis a ON a.id = f.api_id JOIN customers c ON c.id = f.customer_id"
        " ORDER BY f.fired_at DESC, f.id DESC LIMIT ?",
        [limit],
        schema={"firing_id": pl.Int64, "month": pl.Int64, "threshold": pl.Float64, "used": pl.Int64,
                "quota": pl.Int64, "fired_at": pl.Int64, "delivered_at": pl.Int64, "attempts": pl.Int64},
    )
    rows = list(firings.iter_rows(named=True))
    return firings.with_columns(
        reached=pl.Series([threshold_percent(r["threshold"]) for r in rows], dtype=pl.String),
        month_text=pl.Series([month_text(r["month"]) for r in rows], dtype=pl.String),
        delivery=pl.Series([delivery_text(r["delivered_at"], r["attempts"], r["last_error"], webhook_set)
                            for r in rows], dtype=pl.String),
    )



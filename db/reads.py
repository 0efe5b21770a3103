"""Named reads returning polars DataFrames. Figures come from rollups, not raw requests."""

from __future__ import annotations

import sqlite3

import polars as pl

from core.periods import HOUR, Period
from db.scope import Scope, scope_where, whole_days_and_edge_hours_sql


def frame(conn: sqlite3.Connection, sql: str, params: list | tuple = (), schema: dict | None = None) -> pl.DataFrame:
    cursor = conn.execute(sql, params)
    columns = [c[0] for c in cursor.description]
    rows = cursor.fetchall()
    if schema is None:
        return pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)
    return pl.DataFrame(rows, schema={c: schema.get(c, pl.Utf8) for c in columns}, orient="row")


def api_list(conn: sqlite3.Connection) -> pl.DataFrame:
    return frame(
        conn,
        "SELECT id, name, api_key, created_at FROM apis ORDER BY name",
        schema={"id": pl.Int64, "created_at": pl.Int64},
    )


def api_id_by_name(conn: sqlite3.Connection, name: str) -> int | None:
    row = conn.execute("SELECT id FROM apis WHERE name = ? OR api_key = ?", (name, name)).fetchone()
    return row[0] if row else None


def api_request_count(conn: sqlite3.Connection, scope: Scope) -> int:
    """Every request of the scope, unidentified ones included: the denominator of shares."""
    where, params = scope_where(scope, "hour", step=HOUR, every_api=True)
    return conn.execute(f"SELECT COALESCE(SUM(requests), 0) FROM api_hourly WHERE {where}", params).fetchone()[0]


def customer_request_counts_sql(scope: Scope) -> tuple[str, list]:
    """SQL for (customer_id, requests) in the scope: whole days from customer_daily, the
    hours at either edge from customer_hourly, or the running totals for all time."""
    period = scope.period
    if period.since is None and period.until is None:
        if scope.api_id is None:
            return "SELECT id AS customer_id, requests FROM customers", []
        return "SELECT customer_id, requests FROM api_customers WHERE api_id = ?", [scope.api_id]
    since = period.since if period.since is not None else 0
    until = period.until if period.until is not None else 2**40
    return whole_days_and_edge_hours_sql(
        Scope(scope.api_id, Period(since, until)), "customer_id, requests", "customer_daily", "customer_hourly"
    )


CUSTOMER_SCHEMA = {
    "customer_id": pl.Utf8,
    "display_name": pl.Utf8,
    "requests": pl.Int64,
    "share": pl.Float64,
    "first_seen": pl.Int64,
    "last_active": pl.Int64,
    "favorite": pl.Boolean,
}


def customer_list(conn: sqlite3.Connection, scope: Scope) -> pl.DataFrame:
    """One row per customer of the scope's API with requests in the period, busiest first.
    share is a percentage of ALL the API's requests in the period, unidentified included."""
    counts_sql, params = customer_request_counts_sql(scope)
    total = api_request_count(conn, scope)
    if scope.api_id is None:
        seen_sql, seen_params = "SELECT id AS customer_id, first_seen, last_seen FROM customers", []
    else:
        seen_sql = "SELECT customer_id, first_seen, last_seen FROM api_customers WHERE api_id = ?"
        seen_params = [scope.api_id]
    sql = f"""
        WITH counts AS (SELECT customer_id, SUM(requests) AS requests FROM ({counts_sql}) GROUP BY customer_id),
             seen AS ({seen_sql})
        SELECT c.external_id AS customer_id,
               COALESCE(c.display_name, c.name_from_traffic, c.external_id) AS display_name,
               counts.requests,
               100.0 * counts.requests / ? AS share,
               seen.first_seen, seen.last_seen AS last_active, c.favorite = 1 AS favorite
        FROM counts JOIN seen USING (customer_id) JOIN customers c ON c.id = counts.customer_id
        WHERE counts.requests > 0
        ORDER BY counts.requests DESC, c.external_id
    """
    return frame(conn, sql, [*params, *seen_params, max(total, 1)], CUSTOMER_SCHEMA)


REQUEST_SCHEMA = {
    "id": pl.Int64,
    "time": pl.Int64,
    "status": pl.Int64,
    "load_time_ms": pl.Float64,
    "size": pl.Int64,
}


def customer_requests(
    conn: sqlite3.Connection, customer_id: str, scope: Scope, limit: int | None = None
) -> pl.DataFrame:
    """The customer's requests in the scope, newest first."""
    # Unary + keeps SQLite on the (customer_id, ts) index even when an API is chosen.
    where, params = scope_where(scope, "r.ts", api_column="+r.api_id")
    sql = f"""
        SELECT r.id, r.ts AS time, r.method, r.status, r.path, r.query, r.endpoint, r.load_time_ms, r.size,
               r.threat_level, r.threat_reasons, r.device, r.os, r.browser, r.ai_agent, r.country, r.city,
               r.ip, r.user_agent, c.external_id AS customer_id, a.name AS api
        FROM requests r JOIN customers c ON c.id = r.customer_id JOIN apis a ON a.id = r.api_id
        WHERE r.customer_id = (SELECT id FROM customers WHERE external_id = ?) AND {where}
        ORDER BY r.ts DESC, r.id DESC
        {"LIMIT ?" if limit is not None else ""}
    """
    params = [customer_id, *params, *([limit] if limit is not None else [])]
    return frame(conn, sql, params, REQUEST_SCHEMA)


def request_details(conn: sqlite3.Connection, request_id: int) -> dict | None:
    cursor = conn.execute(
        "SELECT r.*, d.request_headers, d.request_body, d.response_headers, d.response_body, d.errors"
        " FROM requests r JOIN request_details d ON d.request_id = r.id WHERE r.id = ?",
        (request_id,),
    )
    row = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], row)) if row else None


def request_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]

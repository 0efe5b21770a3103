"""The customer's own page's read model (pages/own_page.py, opened by a customer link), and the
profile's list of a customer's links.

Every read of the shared page takes the validated link (core.links.SharedLink: the customer's
database id and the link's API, None for every API) and a period, and nothing else, so that the
page cannot ask for another customer, another API, or bodies the link was not made with. It shows
no description, no favorite and no share of the API (that would give away the API's total).

Reads customers (the name shown), customer_hourly and customer_daily (requests and errors, the
graph), customer_latency_daily (p50/p95), customer_endpoints with endpoint_daily and
endpoint_hourly (the customer's endpoints, db/reads/endpoints.py), apis (names), requests with
request_details (the latest requests and their masked bodies, only for a link made with bodies)
and customer_links (db/writes/links.py); customer_monthly and quotas (this month's usage and quota,
db/reads/usage.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from core.figures import error_rate
from core.links import SharedLink, StoredLink
from core.periods import Period
from core.scope import Scope
from db.backends.base import Connection
from db.queries.figures import DISPLAY_NAME, customer_totals_sql, latency_percentiles
from db.queries.frames import frame
from db.queries.scope import scope_where
from db.reads import endpoints as endpoint_reads, profile, usage
from db.reads.history import request_bodies
from db.writes import links

LATEST_LIMIT = 100  # at most this many requests with their bodies


@dataclass(frozen=True)
class SharedSummary:
    """The header of a customer's own page: who, where, and the period's figures."""

    display_name: str
    api_name: str | None  # None: every API
    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None

    @property
    def error_rate(self) -> float | None:
        return error_rate(self.errors, self.requests)


def _scope(link: SharedLink, period: Period) -> Scope:
    if not isinstance(link, SharedLink):  # a page must pass the link it validated, nothing made up
        raise TypeError("the shared page reads only through a validated SharedLink")
    return Scope(link.api_id, period)


def link_for_token_hash(conn: Connection, token_hash: str) -> StoredLink | None:
    """The stored link behind a token's hash (db.writes.links.link_by_token_hash), for core.links.link_state to judge."""
    return links.link_by_token_hash(conn, token_hash)


def links_of_customer(conn: Connection, cid: int) -> pl.DataFrame:
    """The profile's list of the customer's links (db.writes.links.links_of)."""
    return links.links_of(conn, cid)


def shared_summary(conn: Connection, link: SharedLink, period: Period) -> SharedSummary:
    """The link's customer: name, the link's API, requests, errors and p50/p95 in the period."""
    scope = _scope(link, period)
    name = conn.execute(f"SELECT {DISPLAY_NAME} FROM customers c WHERE c.id = ?", (link.cid,)).fetchone()
    api = None
    if link.api_id is not None:
        api = conn.execute("SELECT name FROM apis WHERE id = ?", (link.api_id,)).fetchone()
    sql, params = customer_totals_sql(scope, ("requests", "errors"), [link.cid])
    _, requests, errors = conn.execute(sql, params).fetchone() or (link.cid, 0, 0)
    p50, p95 = latency_percentiles(conn, link.cid, scope)
    return SharedSummary(display_name=name[0] if name else "", api_name=api[0] if api else None,
                         requests=requests or 0, errors=errors or 0, p50_ms=p50, p95_ms=p95)


def shared_graph(conn: Connection, link: SharedLink, period: Period, bucket_seconds: int) -> pl.DataFrame:
    """The customer's requests per time bucket by status class (db.reads.profile.request_graph)."""
    return profile.request_graph(conn, link.cid, _scope(link, period), bucket_seconds)


def shared_endpoints(conn: Connection, link: SharedLink, period: Period) -> pl.DataFrame:
    """The customer's endpoints of the link's API (or APIs): api, endpoint, requests and errors in
    the period, first and last call (db.reads.endpoints.customer_endpoints, without its internal ids)."""
    return endpoint_reads.customer_endpoints(conn, link.cid, _scope(link, period)).drop("endpoint_id")


def shared_latest_requests(conn: Connection, link: SharedLink, period: Period,
                           limit: int = LATEST_LIMIT) -> pl.DataFrame:
    """The customer's latest requests in the period with their masked bodies (time, api, method,
    path, status, load_time_ms, request_body, response_body), newest first; no rows at all for a
    link made without bodies."""
    scope = _scope(link, period)
    if not link.show_bodies:
        limit = 0
    # The unary + keeps SQLite on the (customer_id, ts) index even when an API is chosen.
    where, params = scope_where(scope, "r.ts", api_column="+r.api_id")
    latest = frame(
        conn,
        f"""SELECT r.id, r.ts AS time, a.name AS api, r.method, r.path, r.status, r.load_time_ms
            FROM requests r JOIN apis a ON a.id = r.api_id
            WHERE r.customer_id = ? AND {where}
            ORDER BY r.ts DESC, r.id DESC LIMIT ?""",
        [link.cid, *params, min(max(limit, 0), LATEST_LIMIT)],
        {"id": pl.Int64, "time": pl.Int64, "status": pl.Int64, "load_time_ms": pl.Float64},
    )
    # Their bodies apart: by their ids and times, the details' search stays within their days.
    bodies = request_bodies(conn, latest["id"].to_list(), latest["time"].to_list())
    return latest.join(bodies, on="id", how="left", maintain_order="left").drop("id")


def shared_usage(conn: Connection, link: SharedLink, month: int) -> pl.DataFrame:
    """The customer's usage in the month starting at `month`, per API of the link, with their quota
    (db/reads/usage.customer_month: api, requests, billable_requests, errors, quota, quota_used)."""
    return usage.customer_month(conn, link.cid, link.api_id, month).drop("api_id")

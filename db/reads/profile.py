"""The customer profile's read model: the header figures and the request graph.

Reads customers and api_customers (who, first and last seen), favorites (the analyst's star), analysts
(who edited the description), customer_hourly (requests, errors, load time, the graph), api_hourly
(the share's denominator) and customer_latency_daily (p50/p95),
every figure through db/queries/figures.py. The request history below the graph is db/reads/history.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from core.access import SHARED_ANALYST
from core.figures import error_rate, ratio, share
from core.periods import HOUR
from core.scope import Scope
from db.backends.base import Connection
from db.queries.figures import DISPLAY_NAME, api_totals, customer_totals_sql, latency_percentiles, seen_sql
from db.queries.frames import frame
from db.queries.scope import scope_where


@dataclass(frozen=True)
class Profile:
    """The profile header of one customer in a scope."""

    id: int  # the database id, for the reads that follow
    customer_id: str  # the external ID shown
    display_name: str
    custom_name: str | None  # set by an analyst
    name_from_traffic: str | None
    description: str
    description_by: str | None  # the address of who last edited the description (None: nobody signed in did)
    description_at: int | None  # when
    favorite: bool  # starred by the analyst looking
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
        return error_rate(self.errors, self.requests)

    @property
    def average_ms(self) -> float | None:
        return ratio(self.load_ms_sum, self.requests)


def customer_profile(conn: Connection, customer_id: str, scope: Scope,
                     analyst: str = SHARED_ANALYST) -> Profile | None:
    """The profile header of one customer (by the ID shown) as this analyst sees it, or None for
    an unknown ID."""
    row = conn.execute(
        f"SELECT c.id, c.external_id, {DISPLAY_NAME}, c.display_name, c.name_from_traffic, c.description,"
        " COALESCE(a.email, c.description_by), c.description_at, f.customer_id IS NOT NULL"
        " FROM customers c LEFT JOIN favorites f ON f.analyst = ? AND f.customer_id = c.id"
        " LEFT JOIN analysts a ON a.key = c.description_by WHERE c.external_id = ?",
        (analyst, customer_id),
    ).fetchone()
    if row is None:
        return None
    cid, external_id, shown, custom, from_traffic, description, description_by, description_at, favorite = row
    seen, params = seen_sql(scope)
    first_seen, last_seen = conn.execute(
        f"SELECT first_seen, last_seen FROM ({seen}) AS seen WHERE customer_id = ?", [*params, cid]
    ).fetchone() or (None, None)
    totals_sql, totals_params = customer_totals_sql(scope, ("requests", "errors", "load_ms_sum"), [cid])
    _, requests, errors, load_sum = conn.execute(totals_sql, totals_params).fetchone() or (cid, 0, 0, 0.0)
    p50, p95 = latency_percentiles(conn, cid, scope)
    return Profile(
        id=cid, customer_id=external_id, display_name=shown, custom_name=custom, name_from_traffic=from_traffic,
        description=description, description_by=description_by, description_at=description_at,
        favorite=bool(favorite), first_seen=first_seen, last_seen=last_seen,
        requests=requests, share=share(requests, api_totals(conn, scope).requests), errors=errors,
        load_ms_sum=load_sum, p50_ms=p50, p95_ms=p95,
    )


def request_graph(conn: Connection, cid: int, scope: Scope, bucket_seconds: int) -> pl.DataFrame:
    """Requests per time bucket by status class: bucket (start, epoch seconds), s2xx..s5xx."""
    where, params = scope_where(scope, "hour", step=HOUR, every_api=True)
    return frame(
        conn,
        f"""SELECT hour - hour % ? AS bucket, SUM(s2xx) AS s2xx, SUM(s3xx) AS s3xx, SUM(s4xx) AS s4xx, SUM(s5xx) AS s5xx
            FROM customer_hourly WHERE {where} AND customer_id = ? GROUP BY 1 ORDER BY 1""",
        [bucket_seconds, *params, cid],
        schema={c: pl.Int64 for c in ("bucket", "s2xx", "s3xx", "s4xx", "s5xx")},
    )

"""The profile's peer standing: its read model (core/standing.py has the rule). The profile's p95
and error rate, each ranked among the API's customers in the same period.

Reads customer_daily and customer_hourly (requests and errors, through db/queries/figures.py),
customer_latency_daily (p95s), and signal_snapshots: ranking means knowing every peer's figures,
which takes a pass over every customer's rows of the period, so the collector computes them for
the preset periods on a schedule (services/signal_refresh.py) and the profile reads them; for any other
period, or with no recent snapshot, they are computed here.
"""

from __future__ import annotations

import polars as pl

from core.scope import Scope
from core.standing import Standing, peer_figures, peer_p95, standing
from db.backends.base import Connection
from db.queries.figures import customer_totals_sql, latency_percentiles
from db.queries.frames import frame
from db.queries.scope import api_where
from db.queries.snapshots import period_key, snapshot, snapshot_keys

SIGNAL = "peers"
SNAPSHOT_MAX_AGE = 2 * 3600  # seconds: older peer figures are computed afresh
_PEER_SCHEMA = {"cid": pl.Int64, "requests": pl.Int64, "error_rate": pl.Float64, "p95_ms": pl.Float64}


def peers(conn: Connection, scope: Scope) -> pl.DataFrame:
    """Every peer of the scope (core.standing: at least MIN_PEER_REQUESTS requests in the period):
    cid, requests, error_rate, p95_ms. A pass over every customer's rows of the period."""
    sql, params = customer_totals_sql(scope, ("requests", "errors"))
    totals = frame(conn, f"SELECT customer_id AS cid, requests, errors FROM ({sql}) AS totals", params,
                   schema={"cid": pl.Int64, "requests": pl.Int64, "errors": pl.Int64})
    api, api_params = api_where(scope)
    histograms = frame(
        conn,
        f"SELECT customer_id AS cid, bucket, SUM(requests) AS requests FROM customer_latency_daily"
        f" WHERE {api} AND day >= ? AND day < ? GROUP BY customer_id, bucket",
        [*api_params, *scope.period.touched_days()],
        schema={"cid": pl.Int64, "bucket": pl.Int64, "requests": pl.Int64},
    )
    return peer_figures(totals, peer_p95(histograms)).cast(_PEER_SCHEMA)


def _stored_peers(conn: Connection, scope: Scope, now: int) -> tuple[pl.DataFrame, int] | None:
    """The snapshot of the scope's peers, when one recent enough is kept for this period or, for
    a period ending within the last two hours, for one of the same length."""
    keys = {key: at for key, at in snapshot_keys(conn, SIGNAL, scope.api_id).items() if now - at <= SNAPSHOT_MAX_AGE}
    wanted = period_key(scope)
    if wanted not in keys:
        length, until = scope.period.length, scope.period.until
        near = [key for key in keys if length is not None and until is not None and _same_length_near(key, length, until)]
        if not near:
            return None
        wanted = max(near, key=keys.get)
    found = snapshot(conn, SIGNAL, scope.api_id, wanted)
    return None if found is None else (found.frame, found.computed_at)


def _same_length_near(key: str, length: int, until: int) -> bool:
    since_text, _, until_text = key.partition(":")
    if not since_text or not until_text:
        return False
    return int(until_text) - int(since_text) == length and abs(int(until_text) - until) <= SNAPSHOT_MAX_AGE


def peer_standing(conn: Connection, cid: int, scope: Scope, now: int) -> Standing:
    """The customer's (database id) p95 and error rate in the scope, ranked among its peers."""
    sql, params = customer_totals_sql(scope, ("requests", "errors"), [cid])
    _, requests, errors = conn.execute(sql, params).fetchone() or (cid, 0, 0)
    _, p95 = latency_percentiles(conn, cid, scope)
    stored = _stored_peers(conn, scope, now)
    figures, as_of = stored if stored is not None else (peers(conn, scope), None)
    return standing(figures, p95 if requests else None, errors / requests if requests else None, as_of)

"""The reference the rollup figures are checked against: each page's figures computed naively, by
GROUP BY over the raw requests, and the check that both agree (compare).

Deliberately independent of db/queries/figures.py and the read models built on it: only the shared WHERE
(db.queries.scope.scope_where), the DataFrame helper (db.queries.frames.frame) and the shapes of the results (the
dataclass and column types the pages get) come from db/. The SQL function latency_bucket must be
registered on the connection (bench.reads.timed does on SQLite; on PostgreSQL
bench.reads.create_latency_bucket makes it in the database). The SQL runs on both servers as it is.
"""

from __future__ import annotations

import math

import polars as pl

from core.figures import graph_bucket
from core.latency import percentile_ms
from core.periods import DAY, Period
from core.scope import Scope
from db.queries.frames import frame
from db.queries.scope import scope_where
from db.reads.customers import CUSTOMER_SCHEMA
from db.reads.history import HISTORY_SCHEMA
from db.reads.home import TOP_COLUMNS, PeriodCounts

# The name shown for a customer c, written out here rather than taken from db.queries.figures.
_DISPLAY = "COALESCE(c.display_name, c.name_from_traffic, c.external_id)"


def flag(condition: str) -> str:
    """1 where the condition holds, else 0: what SUM counts (PostgreSQL does not sum booleans)."""
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _api_only(scope: Scope, column: str = "api_id") -> tuple[str, list]:
    return scope_where(Scope(scope.api_id, Period(None, None)), "ts", api_column=column)


def naive_period_counts(conn, scope: Scope) -> PeriodCounts:
    """The scope's requests (all, identified), active customers and new customers."""
    where, params = scope_where(scope, "ts")
    total, identified, active = conn.execute(
        f"SELECT COUNT(*), COUNT(customer_id), COUNT(DISTINCT customer_id) FROM requests WHERE {where}", params
    ).fetchone()
    api, api_params = _api_only(scope)
    period, period_params = scope_where(Scope(None, scope.period), "first_seen")
    new = conn.execute(
        f"SELECT COUNT(*) FROM (SELECT MIN(ts) AS first_seen FROM requests WHERE customer_id IS NOT NULL AND {api}"
        f" GROUP BY customer_id) AS seen WHERE {period}", [*api_params, *period_params]
    ).fetchone()[0]
    return PeriodCounts(total, identified, active, new)


def _last_request_sql(scope: Scope) -> tuple[str, list]:
    """The customer c's latest request to the scope's API (or any API), all time."""
    api, params = _api_only(scope, "+r2.api_id")
    return f"(SELECT r2.ts FROM requests r2 WHERE r2.customer_id = c.id AND {api} ORDER BY r2.ts DESC LIMIT 1)", params


def _first_request_sql(scope: Scope) -> tuple[str, list]:
    api, params = _api_only(scope, "+r2.api_id")
    return f"(SELECT r2.ts FROM requests r2 WHERE r2.customer_id = c.id AND {api} ORDER BY r2.ts LIMIT 1)", params


def naive_busiest(conn, scope: Scope, total: int, limit: int, offset: int = 0) -> pl.DataFrame:
    """The busiest customers of the scope (ties by customer ID), with share, first_seen, last_active."""
    where, params = scope_where(scope, "ts")
    first, first_params = _first_request_sql(scope)
    last, last_params = _last_request_sql(scope)
    return frame(
        conn,
        f"""WITH counts AS (SELECT customer_id AS cid, COUNT(*) AS requests FROM requests
                            WHERE customer_id IS NOT NULL AND {where} GROUP BY customer_id)
            SELECT c.external_id AS customer_id, {_DISPLAY} AS display_name, counts.requests,
                   100.0 * counts.requests / ? AS share, {first} AS first_seen, {last} AS last_active,
                   c.id IN (SELECT customer_id FROM favorites WHERE analyst = '') AS favorite
            FROM counts JOIN customers c ON c.id = counts.cid
            ORDER BY counts.requests DESC, c.external_id LIMIT ? OFFSET ?""",
        [*params, max(total, 1), *first_params, *last_params, limit, offset],
        CUSTOMER_SCHEMA,
    )


def naive_newest(conn, scope: Scope, limit: int = 10) -> pl.DataFrame:
    """The customers first seen most recently (up to the end of the period)."""
    api, params = _api_only(scope)
    until, until_params = ("seen.first_seen < ?", [scope.period.until]) if scope.period.until else ("TRUE", [])
    return frame(
        conn,
        f"""SELECT c.external_id AS customer_id, {_DISPLAY} AS display_name, seen.first_seen, seen.last_active
            FROM (SELECT customer_id, MIN(ts) AS first_seen, MAX(ts) AS last_active FROM requests
                  WHERE customer_id IS NOT NULL AND {api} GROUP BY customer_id) AS seen
            JOIN customers c ON c.id = seen.customer_id
            WHERE {until} ORDER BY seen.first_seen DESC, c.external_id LIMIT ?""",
        [*params, *until_params, limit],
        {"first_seen": pl.Int64, "last_active": pl.Int64},
    )


def naive_favorites(conn, scope: Scope, total: int) -> pl.DataFrame:
    """Every favorite customer with its requests and share of `total` in the scope."""
    where, params = scope_where(scope, "r.ts", api_column="+r.api_id")
    last, last_params = _last_request_sql(scope)
    return frame(
        conn,
        f"""SELECT c.external_id AS customer_id, {_DISPLAY} AS display_name,
                   (SELECT COUNT(*) FROM requests r WHERE r.customer_id = c.id AND {where}) AS requests,
                   {last} AS last_active
            FROM customers c WHERE c.id IN (SELECT customer_id FROM favorites WHERE analyst = '')
            ORDER BY requests DESC, lower({_DISPLAY}), c.external_id""",
        [*params, *last_params],
        {"requests": pl.Int64, "last_active": pl.Int64},
    ).with_columns((100.0 * pl.col("requests") / max(total, 1)).alias("share"))


def naive_home(conn, scope: Scope) -> dict:
    """The home page's figures: current and previous counts, top ten, newest ten, favorites."""
    current = naive_period_counts(conn, scope)
    previous = scope.period.previous()
    top = naive_busiest(conn, scope, current.requests, 10)
    return {
        "current": current,
        "previous": None if previous is None else naive_period_counts(conn, Scope(scope.api_id, previous)),
        "top": top.select(*TOP_COLUMNS),
        "newest": naive_newest(conn, scope),
        "favorites": naive_favorites(conn, scope, current.requests),
    }


def naive_customers(conn, scope: Scope, page_size: int) -> tuple[pl.DataFrame, int]:
    """The customers page: its first page_size rows by requests, and how many customers were active."""
    where, params = scope_where(scope, "ts")
    total_requests, active = conn.execute(
        f"SELECT COUNT(*), COUNT(DISTINCT customer_id) FROM requests WHERE {where}", params
    ).fetchone()
    return naive_busiest(conn, scope, total_requests, page_size), active


def naive_profile(conn, scope: Scope, customer_id: str, history_rows: int) -> dict:
    """A customer's profile: header figures, the request graph, the newest history_rows requests."""
    cid = conn.execute("SELECT id FROM customers WHERE external_id = ?", (customer_id,)).fetchone()[0]
    where, params = scope_where(scope, "ts", api_column="+api_id")
    api, api_params = _api_only(scope, "+api_id")
    requests, errors, load_sum = conn.execute(
        f"SELECT COUNT(*), COALESCE(SUM({flag('status >= 400')}), 0), COALESCE(SUM(load_time_ms), 0) FROM requests"
        f" WHERE customer_id = ? AND {where}", [cid, *params]
    ).fetchone()
    first_seen, last_seen = conn.execute(
        f"SELECT MIN(ts), MAX(ts) FROM requests WHERE customer_id = ? AND {api}", [cid, *api_params]
    ).fetchone()
    all_where, all_params = scope_where(scope, "ts")
    total = conn.execute(f"SELECT COUNT(*) FROM requests WHERE {all_where}", all_params).fetchone()[0]
    # The days the period touches, as the histograms hold them.
    since, until = scope.period.since, scope.period.until
    histogram = conn.execute(
        f"SELECT latency_bucket(load_time_ms), COUNT(*) FROM requests WHERE customer_id = ? AND {api}"
        f" AND ts >= ? AND ts < ? GROUP BY 1",
        [cid, *api_params, since - since % DAY, -(-until // DAY) * DAY],
    ).fetchall()
    buckets, counts = [b for b, _ in histogram], [n for _, n in histogram]
    bucket = graph_bucket(since, until)
    graph = frame(
        conn,
        f"""SELECT (ts - ts % 3600) - (ts - ts % 3600) % ? AS bucket, SUM({flag('status < 300')}) AS s2xx,
                   SUM({flag('status >= 300 AND status < 400')}) AS s3xx,
                   SUM({flag('status >= 400 AND status < 500')}) AS s4xx, SUM({flag('status >= 500')}) AS s5xx
            FROM requests WHERE customer_id = ? AND {where} GROUP BY 1 ORDER BY 1""",
        [bucket, cid, *params],
        {c: pl.Int64 for c in ("bucket", "s2xx", "s3xx", "s4xx", "s5xx")},
    )
    history = frame(
        conn,
        f"""SELECT id, ts AS time, method, status, endpoint, path, load_time_ms, threat_level, device, ai_agent,
                   country, city
            FROM requests WHERE customer_id = ? AND {where} ORDER BY ts DESC, id DESC LIMIT ?""",
        [cid, *params, history_rows],
        HISTORY_SCHEMA,
    )
    return {
        "requests": requests, "errors": errors, "load_ms_sum": load_sum, "first_seen": first_seen,
        "last_seen": last_seen, "share": None if not total else 100.0 * requests / total,
        "p50_ms": percentile_ms(buckets, counts, 50), "p95_ms": percentile_ms(buckets, counts, 95),
        "graph": graph, "count": requests, "history": history,
    }


# --- Consistency: the rollup figures must equal the naive ones ------------------------------------


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _same_frame(a: pl.DataFrame, b: pl.DataFrame, columns: list[str]) -> bool:
    if a.height != b.height:
        return False
    for column in columns:
        left, right = a[column].to_list(), b[column].to_list()
        if a[column].dtype == pl.Float64 or b[column].dtype == pl.Float64:
            if not all(_close(x, y) for x, y in zip(left, right)):
                return False
        elif left != right:
            return False
    return True


def compare(label: str, rollup: dict, naive: dict) -> list[str]:
    """Differences between the rollup figures and the naive ones of one scope (empty: none).
    rollup holds what bench.reads' home_data, customers_data and profile_data returned, naive what
    naive_home, naive_customers and naive_profile did, each under its page's name."""
    problems = []

    def check(name: str, ok: bool, got, want) -> None:
        if not ok:
            problems.append(f"{label}: {name}: rollups {got!r} != naive {want!r}")

    home, nhome = rollup["home"], naive["home"]
    check("current counts", home["figures"].current == nhome["current"], home["figures"].current, nhome["current"])
    check("previous counts", home["previous"] == nhome["previous"], home["previous"], nhome["previous"])
    top_columns = ["customer_id", "display_name", "requests", "share", "last_active"]
    check("top customers", _same_frame(home["figures"].top, nhome["top"], top_columns),
          home["figures"].top.head(3).rows(), nhome["top"].head(3).rows())
    newest_columns = ["customer_id", "display_name", "first_seen", "last_active"]
    check("newest customers", _same_frame(home["figures"].newest, nhome["newest"], newest_columns),
          home["figures"].newest.head(3).rows(), nhome["newest"].head(3).rows())
    favorite_columns = ["customer_id", "display_name", "requests", "share", "last_active"]
    check("favorites", _same_frame(home["figures"].favorites, nhome["favorites"], favorite_columns),
          home["figures"].favorites.rows(), nhome["favorites"].rows())
    (rows, total), (nrows, ntotal) = rollup["customers"], naive["customers"]
    check("customers total", total == ntotal, total, ntotal)
    check("customers first page", _same_frame(rows, nrows, list(CUSTOMER_SCHEMA)),
          rows.head(3).rows(), nrows.head(3).rows())
    check("customers total = active", total == home["figures"].current.active, total, home["figures"].current.active)
    profile, nprofile = rollup["profile"], naive["profile"]
    header = profile["profile"]
    for name in ("requests", "errors", "first_seen", "last_seen"):
        check(f"profile {name}", getattr(header, name) == nprofile[name], getattr(header, name), nprofile[name])
    for name in ("share", "load_ms_sum", "p50_ms", "p95_ms"):
        check(f"profile {name}", _close(getattr(header, name), nprofile[name]), getattr(header, name), nprofile[name])
    check("profile graph", profile["graph"].equals(nprofile["graph"]), profile["graph"].height, nprofile["graph"].height)
    check("history count", profile["count"] == nprofile["count"], profile["count"], nprofile["count"])
    check("history rows", profile["history"]["id"].to_list() == nprofile["history"]["id"].to_list(),
          profile["history"]["id"].head(3).to_list(), nprofile["history"]["id"].head(3).to_list())
    if header.requests == 0 or rows.is_empty() or home["figures"].top.is_empty():
        problems.append(f"{label}: the figures are empty, nothing was compared")
    return problems

"""The signal pages' data (issue 11), timed cold like the other pages, beside the same figures
computed naively by GROUP BY over the raw requests, and compared.

- endpoints: what pages/endpoints.py reads on opening: the endpoint list, then the busiest
  endpoint's summary and its 200 busiest customers (from the scheduled snapshot; and live);
  endpoints_moved_off: the 200 who moved off it most recently, when that list is chosen;
- gone_quiet: the home widget and the customers page's filter (db.reads.quiet.gone_quiet), read from the
  scheduled snapshot; and computed live, as without a collector;
- profile_signals: what the profile adds: the customer's endpoints, peer standing (from the
  snapshot; and live) and the gone quiet line;
- customer_page: a customer's own page (pages/own_page.py) for a valid link, bodies included;
- alerts: the alerts page's rules and firings, after one check (timed) of a rule of each kind on
  every customer of each API;
- the scheduled refresh itself (services.signal_refresh.refresh_signals), timed once: it writes the
  snapshots the pages read, into the benchmark database.
"""

from __future__ import annotations

import statistics
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import polars as pl

from bench.naive import flag
from bench.reads import ColdCache, _round, _warm, timed
from core.alerts import KINDS
from core.figures import graph_bucket
from core.latency import percentile_ms
from core.links import SharedLink
from core.periods import Period
from core.quiet import QuietRule, quiet_verdicts
from core.scope import Scope
from core.standing import peer_figures, peer_p95, standing
from db.connection import connect, connect_readonly
from db.queries.frames import frame
from db.queries.scope import scope_where
from db.reads import alerts, endpoints as endpoint_reads, own_page, quiet, standing as standing_reads
from db.writes.apis import api_list
from db.writes.edits import add_alert_rule
from services.alert_rounds import run_alert_check
from services.signal_refresh import refresh_signals

PERIOD = "30d"


def endpoints_data(conn, scope: Scope, now: int) -> dict:
    """What pages/endpoints.py reads on opening: the list, then the first (busiest) endpoint's
    figures and busiest callers."""
    listed = endpoint_reads.endpoint_list(conn, scope)
    top = listed["endpoint_id"][0]
    return {"list": listed, "endpoint": top, "summary": endpoint_reads.endpoint_summary(conn, top, scope),
            "customers": endpoint_reads.endpoint_top_callers(conn, top, scope, now).rows}


def moved_off_data(conn, scope: Scope, endpoint_id: int) -> pl.DataFrame:
    """What the endpoints page reads when "Moved off" is chosen."""
    return endpoint_reads.endpoint_moved_off(conn, endpoint_id, scope, endpoint_reads.TOP_CALLERS)


def customer_page_data(conn, scope: Scope, cid: int) -> dict:
    """What pages/own_page.py reads for a valid link of this customer (made with bodies), for the scope's
    API and period."""
    link = SharedLink(link_id=0, cid=cid, api_id=scope.api_id, show_bodies=True, expires_at=2**40)
    bucket = graph_bucket(scope.period.since, scope.period.until)
    return {"summary": own_page.shared_summary(conn, link, scope.period),
            "graph": own_page.shared_graph(conn, link, scope.period, bucket),
            "endpoints": own_page.shared_endpoints(conn, link, scope.period),
            "latest": own_page.shared_latest_requests(conn, link, scope.period)}


def alerts_data(conn) -> tuple:
    """What pages/alerts.py reads: the rules and the latest firings."""
    return alerts.alert_rules(conn), alerts.alert_firings(conn)


def profile_signals_data(conn, scope: Scope, cid: int, now: int, rule: QuietRule) -> dict:
    """What the profile reads for its signals."""
    return {"endpoints": endpoint_reads.customer_endpoints(conn, cid, scope),
            "standing": standing_reads.peer_standing(conn, cid, scope, now),
            "quiet": quiet.customer_quiet(conn, cid, scope.api_id, now, rule)}


# --- Naive: GROUP BY over raw requests -----------------------------------------------------------


def _endpoint_sql() -> str:
    return "method || ' ' || endpoint"


def naive_endpoints(conn, scope: Scope, endpoint: str) -> dict:
    """The endpoint list, and the endpoint's summary, customers and who moved off, from raw rows."""
    where, params = scope_where(scope, "ts")
    listed = frame(conn, f"SELECT {_endpoint_sql()} AS endpoint, COUNT(DISTINCT customer_id) AS customers,"
                         f" COUNT(*) AS requests, SUM({flag('status >= 400')}) AS errors FROM requests"
                         f" WHERE customer_id IS NOT NULL AND {where} GROUP BY 1",
                   params, {"customers": pl.Int64, "requests": pl.Int64, "errors": pl.Int64})
    api, api_params = scope_where(Scope(scope.api_id, Period(None, None)), "ts")
    calls = frame(conn, f"SELECT customer_id AS cid, MIN(ts) AS first_call, MAX(ts) AS last_call,"
                        f" SUM(CASE WHEN ts >= ? AND ts < ? THEN 1 ELSE 0 END) AS in_period"
                        f" FROM requests WHERE customer_id IS NOT NULL AND {_endpoint_sql()} = ? AND {api}"
                        " GROUP BY customer_id",
                  [scope.period.since, scope.period.until, endpoint, *api_params],
                  {"cid": pl.Int64, "first_call": pl.Int64, "last_call": pl.Int64, "in_period": pl.Int64})
    since, until = scope.period.since, scope.period.until
    customers = frame(conn, f"SELECT customer_id AS cid, COUNT(*) AS requests FROM requests WHERE {where}"
                            f" AND customer_id IS NOT NULL AND {_endpoint_sql()} = ? GROUP BY 1",
                      [*params, endpoint], {"cid": pl.Int64, "requests": pl.Int64})
    names = frame(conn, "SELECT id AS cid, external_id AS customer_id FROM customers", [],
                  {"cid": pl.Int64, "customer_id": pl.String})
    top = (customers.sort(["requests", "cid"], descending=[True, False]).head(endpoint_reads.TOP_CALLERS)
           .join(names, on="cid", maintain_order="left"))
    moved = calls.filter((pl.col("first_call") < since) & (pl.col("in_period") == 0))
    return {"list": listed, "customers": top,
            "new": calls.filter((pl.col("first_call") >= since) & (pl.col("first_call") < until)).height,
            "moved_off": moved.height, "moved_last_calls": sorted(moved["last_call"].to_list(), reverse=True)}


def naive_weeks(conn, api_id: int | None, rule: QuietRule, now: int) -> pl.DataFrame:
    """Every customer's baseline weeks, recent days and last request, from raw rows."""
    start, recent_start, end = rule.windows(now)
    weeks = ", ".join(f"SUM(CASE WHEN ts >= {start + i * 7 * 86400:d} AND ts < {start + (i + 1) * 7 * 86400:d}"
                      f" THEN 1 ELSE 0 END) AS w{i}" for i in range(rule.baseline_weeks))
    api = "" if api_id is None else f" AND api_id = {int(api_id):d}"
    return frame(conn, f"SELECT customer_id AS cid, {weeks}, SUM(CASE WHEN ts >= ? AND ts < ? THEN 1 ELSE 0 END)"
                       f" AS recent, MAX(ts) AS last_active FROM requests WHERE customer_id IS NOT NULL{api}"
                       " GROUP BY customer_id", [recent_start, end],
                 {"cid": pl.Int64, **{f"w{i}": pl.Int64 for i in range(rule.baseline_weeks)},
                  "recent": pl.Int64, "last_active": pl.Int64})


def naive_quiet(conn, api_id: int | None, rule: QuietRule, now: int) -> pl.DataFrame:
    """Gone quiet by the same rule, on counts from raw rows."""
    return quiet_verdicts(naive_weeks(conn, api_id, rule, now), rule, now)


def naive_standing(conn, scope: Scope, cid: int):
    """The customer's standing among every peer, each figure from raw rows."""
    where, params = scope_where(scope, "ts")
    totals = frame(conn, f"SELECT customer_id AS cid, COUNT(*) AS requests, SUM({flag('status >= 400')}) AS errors"
                         f" FROM requests WHERE customer_id IS NOT NULL AND {where} GROUP BY 1", params,
                   {"cid": pl.Int64, "requests": pl.Int64, "errors": pl.Int64})
    first, last = scope.period.touched_days()
    api = "" if scope.api_id is None else f" AND api_id = {int(scope.api_id):d}"
    histograms = frame(conn, f"SELECT customer_id AS cid, latency_bucket(load_time_ms) AS bucket, COUNT(*) AS requests"
                             f" FROM requests WHERE customer_id IS NOT NULL AND ts >= ? AND ts < ?{api} GROUP BY 1, 2",
                       [first, last], {"cid": pl.Int64, "bucket": pl.Int64, "requests": pl.Int64})
    mine = histograms.filter(pl.col("cid") == cid)
    own = totals.filter(pl.col("cid") == cid).row(0, named=True)
    p95 = percentile_ms(mine["bucket"].to_list(), mine["requests"].to_list(), 95)
    return standing(peer_figures(totals, peer_p95(histograms)), p95, own["errors"] / own["requests"], None)


def naive_own_page(conn, scope: Scope, cid: int) -> tuple:
    """The customer's requests, errors, and requests per endpoint in the period, from raw rows."""
    where, params = scope_where(scope, "ts", api_column="+api_id")
    requests, errors = conn.execute(f"SELECT COUNT(*), COALESCE(SUM({flag('status >= 400')}), 0) FROM requests"
                                    f" WHERE customer_id = ? AND {where}", [cid, *params]).fetchone()
    api = "" if scope.api_id is None else f" AND api_id = {int(scope.api_id):d}"
    endpoints = frame(conn, f"SELECT {_endpoint_sql()} AS endpoint, SUM({flag('ts >= ? AND ts < ?')}) AS requests"
                            " FROM requests"
                            f" WHERE customer_id = ?{api} GROUP BY 1 ORDER BY 1",
                      [scope.period.since, scope.period.until, cid], {"requests": pl.Int64})
    return requests, errors, endpoints


# --- Timing and comparing ------------------------------------------------------------------------


def _time_alert_check(db: Path | str, end: int, rule: QuietRule) -> tuple[float, int]:
    """One rule of each kind, at its default threshold, on every customer of each API (added once to
    the benchmark database), checked once as of the data's end without a webhook: the check's cost."""
    with closing(connect(db)) as conn:
        if not alerts.alert_rules(conn).height:
            for api in api_list(conn):
                for kind in KINDS.values():
                    add_alert_rule(conn, api["id"], None, kind.name, kind.default, "bench")
        started = time.perf_counter()
        run_alert_check(conn, end, None, rule)
        seconds = round(time.perf_counter() - started, 2)
        return seconds, alerts.alert_firings(conn, 10**9).height


def _times(cold: ColdCache, db: Path | str, read, repeat: int) -> tuple[float, list[float], float, Any]:
    runs = [timed(cold, db, read) for _ in range(repeat)]
    return statistics.median(t for t, _ in runs), [round(t, 1) for t, _ in runs], _warm(db, read), runs[0][1]


def bench_signals(db: Path | str, end: int, cold: ColdCache, scopes: dict[str, Scope], largest: dict[str, str],
                  *, naive: bool, repeat: int) -> dict:
    """The refresh, then each signal page's reads per scope (median of `repeat` cold runs, one warm),
    with naive, the naive figures and the differences."""
    rule = QuietRule()
    started = time.perf_counter()
    report = refresh_signals(db, end, rule)
    out: dict[str, Any] = {"refresh_seconds": round(time.perf_counter() - started, 1), "refresh_scopes": report.scopes,
                           "signals_ms": {}, "signals_cold_runs_ms": {}, "signals_warm_ms": {}, "signals_live_ms": {},
                           "signals_naive_ms": {}}
    print(f"signals: refreshed gone quiet and peer standing for {report.scopes} scopes in {out['refresh_seconds']}s",
          flush=True)
    out["alert_check_seconds"], out["alert_firings"] = _time_alert_check(db, end, rule)
    print(f"alerts: one check of every kind of rule on every customer of each API took {out['alert_check_seconds']}s"
          f" ({out['alert_firings']} firings kept)", flush=True)
    problems: list[str] = []
    for name, scope in scopes.items():
        conn = connect_readonly(db)
        cid = conn.execute("SELECT id FROM customers WHERE external_id = ?", (largest[name],)).fetchone()[0]
        busiest = endpoint_reads.endpoint_list(conn, scope)["endpoint_id"][0]
        conn.close()
        pages = {
            "endpoints": lambda c, s=scope: endpoints_data(c, s, end),
            "gone_quiet": lambda c, s=scope: quiet.gone_quiet(c, s.api_id, end, rule),
            "profile_signals": lambda c, s=scope, i=cid: profile_signals_data(c, s, i, end, rule),
            "endpoints_moved_off": lambda c, s=scope, e=busiest: moved_off_data(c, s, e),
            "customer_page": lambda c, s=scope, i=cid: customer_page_data(c, s, i),
            "alerts": alerts_data,
        }
        ms, runs, warm, results = {}, {}, {}, {}
        for page, read in pages.items():
            ms[page], runs[page], warm[page], results[page] = _times(cold, db, read, repeat)
        live = {"endpoint_callers": lambda c, s=scope, e=busiest: endpoint_reads.endpoint_customers(c, e, s, endpoint_reads.TOP_CALLERS),
                "gone_quiet": lambda c, s=scope: quiet.quiet_customers(c, s.api_id, end, rule),
                "peers": lambda c, s=scope: standing_reads.peers(c, s)}
        out["signals_live_ms"][name] = _round({k: timed(cold, db, read)[0] for k, read in live.items()})
        out["signals_ms"][name], out["signals_cold_runs_ms"][name] = _round(ms), runs
        out["signals_warm_ms"][name] = _round(warm)
        print(f"signals, {name}: " + ", ".join(f"{p} {v:.1f} ms" for p, v in ms.items())
              + "  (warm: " + ", ".join(f"{p} {v:.1f}" for p, v in warm.items()) + "; computed live: "
              + ", ".join(f"{p} {v:,.0f}" for p, v in out["signals_live_ms"][name].items()) + ")", flush=True)
        if naive:
            problems += _naive(db, cold, name, scope, cid, end, rule, results, out)
    out["signals_within_target"] = all(v <= 100 for scope_ms in out["signals_ms"].values() for v in scope_ms.values())
    out["signals_consistency"] = ("skipped" if not naive else "failed" if problems else "passed")
    if problems:
        out["signals_consistency_problems"] = problems
        for problem in problems:
            print(f"SIGNALS CONSISTENCY FAILED: {problem}", file=sys.stderr, flush=True)
    elif naive:
        print("signals consistency: the rollup figures equal the naive GROUP BY figures for both scopes", flush=True)
    return out


def _naive(db: Path | str, cold: ColdCache, name: str, scope: Scope, cid: int, end: int, rule: QuietRule,
           results: dict, out: dict) -> list[str]:
    got = results["endpoints"]
    endpoint = got["list"]["endpoint"][0]
    nms: dict[str, float] = {}
    nms["endpoints"], want = timed(cold, db, lambda c: naive_endpoints(c, scope, endpoint), naive=True)
    nms["gone_quiet"], want_quiet = timed(cold, db, lambda c: naive_quiet(c, scope.api_id, rule, end), naive=True)
    nms["profile_signals"], want_standing = timed(cold, db, lambda c: naive_standing(c, scope, cid), naive=True)
    nms["customer_page"], want_own = timed(cold, db, lambda c: naive_own_page(c, scope, cid), naive=True)
    out["signals_naive_ms"][name] = _round(nms)
    print(f"signals naive, {name}: " + ", ".join(f"{p} {v:,.0f} ms" for p, v in nms.items()), flush=True)
    problems = []

    def check(what: str, ok: bool, a, b) -> None:
        if not ok:
            problems.append(f"{name}: {what}: rollups {str(a)[:200]} != naive {str(b)[:200]}")

    listed = got["list"].filter(pl.col("requests") > 0).select("endpoint", "customers", "requests", "errors")
    check("endpoint list", listed.sort("endpoint").equals(want["list"].sort("endpoint")), listed, want["list"])
    summary = got["summary"]
    check("endpoint customers", summary.customers == got["list"]["customers"][0]
          == want["list"].filter(pl.col("endpoint") == endpoint)["customers"][0], summary.customers, None)
    check("endpoint new", summary.new_customers == want["new"], summary.new_customers, want["new"])
    check("endpoint moved off", summary.moved_off == want["moved_off"], summary.moved_off, want["moved_off"])
    check("endpoint top customers", got["customers"].select("customer_id", "requests").equals(
        want["customers"].select("customer_id", "requests")), got["customers"].head(3), want["customers"].head(3))
    moved = results["endpoints_moved_off"]
    check("moved off, latest first", moved["last_call"].to_list() == want["moved_last_calls"][:endpoint_reads.TOP_CALLERS],
          moved["last_call"].head(3).to_list(), want["moved_last_calls"][:3])
    quiet_rows = results["gone_quiet"]
    check("gone quiet", quiet_rows.select("cid", "recent_requests", "reason").sort("cid").equals(
        want_quiet.select("cid", pl.col("recent").alias("recent_requests"), "reason").sort("cid")),
        quiet_rows.head(3), want_quiet.head(3))
    own = results["profile_signals"]["standing"]
    check("peer standing", (own.peers, own.slower_than, own.more_errors_than)
          == (want_standing.peers, want_standing.slower_than, want_standing.more_errors_than), own, want_standing)
    page = results["customer_page"]
    got_own = (page["summary"].requests, page["summary"].errors, page["endpoints"].select("endpoint", "requests").sort("endpoint"))
    check("customer page", got_own[:2] == want_own[:2] and got_own[2].equals(want_own[2]), got_own, want_own)
    if quiet_rows.is_empty() or own.peers == 0:
        problems.append(f"{name}: the signals are empty, nothing was compared")
    return problems

"""What each page reads, through the app's own read models, timed cold; and the same figures
computed naively (bench.naive), timed once and compared.

sidebar_data, home_data, customers_data and profile_data call exactly what the sidebar and the
pages call (through ui/data.py's cache, which is left out here), in the same order.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import polars as pl

from bench.naive import compare, naive_customers, naive_home, naive_profile
from core.figures import graph_bucket
from core.latency import latency_bucket
from core.periods import preset_period
from core.scope import Scope
from db.connection import connect, connect_readonly, is_postgres
from db.queries.figures import active_count
from db.reads import customers, freshness, history, home, profile, sidebar

READS_TARGET_MS = 100
PERIOD = "30d"
HISTORY_ROWS = 100  # as pages/customer.py
CUSTOMERS_PAGE_SIZE = 50  # as pages/customers.py
DROP_CACHES = Path("/proc/sys/vm/drop_caches")


# --- Cold caches ----------------------------------------------------------------------------------


class ColdCache:
    """Before each measurement: the OS page cache dropped when allowed (root), and always a new
    SQLite connection (an empty SQLite page cache). On PostgreSQL (postgres=True) a new server
    connection instead, and the server's shared buffers emptied by running `restart` (a shell
    command that restarts the server and returns once it accepts connections), when given, first."""

    def __init__(self, drop_os_cache: bool = True, *, postgres: bool = False, restart: str | None = None) -> None:
        self.restart = restart if postgres else None
        self.drops = drop_os_cache and self._try_drop()
        connection = "a new PostgreSQL connection" if postgres else "a new SQLite connection"
        if self.drops:
            self.description = (f"OS page cache dropped (sync; echo 1 > /proc/sys/vm/drop_caches) and {connection} "
                                "before each measurement")
        else:
            why = "no permission" if drop_os_cache else "--keep-os-cache"
            self.description = (f"{connection} before each measurement; OS page cache NOT dropped "
                                f"({why}), so file pages may be cached")
        if self.restart:
            self.description += f"; before that, the server restarted (`{self.restart}`), its shared buffers empty"
        elif postgres:
            self.description += "; the server's shared buffers NOT emptied (no --postgres-restart), so pages may be cached there"

    @staticmethod
    def _try_drop() -> bool:
        try:
            os.sync()
            DROP_CACHES.write_text("1\n")
            return True
        except OSError:
            return False

    def chill(self) -> None:
        """Restart the server (PostgreSQL, when a command was given), then drop the OS page cache
        again, when allowed."""
        if self.restart:
            restart_server(self.restart)
        if self.drops:
            self._try_drop()


def restart_server(command: str) -> None:
    """Run the restart command; its output goes to a file, not a pipe (a server it starts keeps its
    inherited stdout open), and is shown when it fails."""
    with tempfile.TemporaryFile() as output:
        done = subprocess.run(command, shell=True, stdin=subprocess.DEVNULL, stdout=output, stderr=output)
        if done.returncode != 0:
            output.seek(0)
            raise RuntimeError(f"the restart command failed ({done.returncode}): {command}\n"
                               + output.read().decode(errors="replace"))


# --- The reads behind each page, through the read models ------------------------------------------


def sidebar_data(conn) -> tuple:
    """What the sidebar reads on every page: the data version, the APIs, the favorites."""
    return freshness.data_version(conn), sidebar.api_choices(conn), sidebar.favorites(conn)


def home_data(conn, scope: Scope) -> dict:
    """What pages/home.py reads: widget choices, the figures, the previous period's counts."""
    previous = scope.previous()
    return {
        "choices": home.widget_choices_saved(conn),
        "figures": home.home_figures(conn, scope),
        "fingerprint": None if previous is None else freshness.period_fingerprint(conn, previous),
        "previous": home.previous_counts(conn, scope),
    }


def customers_data(conn, scope: Scope) -> tuple[pl.DataFrame, int]:
    """What pages/customers.py reads first: page 1 by requests, descending, and the total."""
    return customers.customer_page(conn, scope, "", "requests", True, 1, CUSTOMERS_PAGE_SIZE)


def profile_data(conn, scope: Scope, customer_id: str) -> dict:
    """What pages/customer.py reads without a click: header, graph, filter options, history."""
    header = profile.customer_profile(conn, customer_id, scope)
    bucket = graph_bucket(scope.period.since, scope.period.until)
    no_filter = history.HistoryFilter()
    return {
        "profile": header,
        "graph": profile.request_graph(conn, header.id, scope, bucket),
        "options": history.history_options(conn, header.id, scope),
        "count": history.history_count(conn, header.id, scope, no_filter),
        "history": history.history(conn, header.id, scope, no_filter, "time", True, HISTORY_ROWS, 0),
    }


# --- Timing ---------------------------------------------------------------------------------------


def timed(cold: ColdCache, db: Path | str, read: Callable, *, naive: bool = False) -> tuple[float, Any]:
    """One cold measurement in ms: caches dropped, a new read-only connection (as the dashboard's),
    then the read. naive: the SQL function latency_bucket registered on a SQLite connection (on
    PostgreSQL, create_latency_bucket made it in the database)."""
    cold.chill()
    conn = connect_readonly(db)
    if naive and not is_postgres(db):
        conn.create_function("latency_bucket", 1, latency_bucket, deterministic=True)
    try:
        started = time.perf_counter()
        result = read(conn)
        return (time.perf_counter() - started) * 1000, result
    finally:
        conn.close()


# core.latency.latency_bucket in SQL, for the naive queries on PostgreSQL. Every operand is a double
# (a bare 1.1 would be NUMERIC, whose ln differs in the last bits), so ln is the C library's log, as
# Python's math.log; and round() of a double rounds half to even (rint), as Python's round().
LATENCY_BUCKET_SQL = """CREATE OR REPLACE FUNCTION latency_bucket(load_time_ms DOUBLE PRECISION) RETURNS BIGINT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN CAST(round(ln(greatest(load_time_ms, CAST(0.01 AS DOUBLE PRECISION)))
                      / ln(CAST(1.1 AS DOUBLE PRECISION))) AS BIGINT)"""


def create_latency_bucket(url: str) -> int:
    """Make the SQL function latency_bucket in the PostgreSQL database (bench code, not the schema:
    only the naive queries use it), and check that it puts every distinct load time of the data in
    the bucket core.latency.latency_bucket does; returns how many were checked, raises if any differs."""
    with closing(connect(url)) as conn:
        conn.execute(LATENCY_BUCKET_SQL)
        rows = conn.execute("SELECT load_time_ms, latency_bucket(load_time_ms) FROM"
                            " (SELECT DISTINCT load_time_ms FROM requests) AS d").fetchall()
        edges = [0.0, 0.005, 0.01, 1.0, 1.1, 1.1**0.5, 1.1**-7.5, 1e9]  # below the floor, near a half
        rows += [(x, conn.execute("SELECT latency_bucket(?)", (x,)).fetchone()[0]) for x in edges]
    differing = [(x, bucket, latency_bucket(x)) for x, bucket in rows if bucket != latency_bucket(x)]
    if differing:
        raise RuntimeError(f"latency_bucket on PostgreSQL differs from core.latency for {len(differing)} load"
                           f" times, e.g. (ms, PostgreSQL, Python) {differing[:5]}")
    return len(rows)


def bench_reads(db: Path | str, end: int, cold: ColdCache, *, naive: bool, repeat: int) -> dict:
    """Every page's reads for the last PERIOD of the data, for the busiest API and for all APIs:
    the median of `repeat` cold runs, one warm run, each read of the slower pages apart; with
    naive, the naive figures too (one cold run) and whether they agree."""
    period = preset_period(PERIOD, end)
    with closing(connect(db)) as conn:
        busiest_api = conn.execute("SELECT api_id FROM api_hourly GROUP BY api_id ORDER BY SUM(requests) DESC"
                                   " LIMIT 1").fetchone()[0]
        api_name = conn.execute("SELECT name FROM apis WHERE id = ?", (busiest_api,)).fetchone()[0]
    scopes = {"one_api": Scope(busiest_api, period), "all_apis": Scope(None, period)}
    print(f"period: the last {PERIOD} of the data, {_iso(period.since)} to {_iso(period.until)} UTC; "
          f"one API = {api_name}", flush=True)
    out: dict[str, Any] = {
        "period": {"name": PERIOD, "since": period.since, "until": period.until},
        "one_api": api_name,
        "target_ms": READS_TARGET_MS,
        "repeat": repeat, "reads_ms": {}, "reads_cold_runs_ms": {}, "reads_warm_ms": {}, "reads_detail_ms": {},
        "naive_ms": {}, "ratio": {},
        "largest_customer": {},
    }
    # Warm-up, not timed: imports and first calls; and who the largest customer of each scope is.
    conn = connect(db)
    for name, scope in scopes.items():
        top = home.top_customers(conn, scope, 1)
        out["largest_customer"][name] = top["customer_id"][0]
        profile_data(conn, scope, top["customer_id"][0])
    conn.close()

    problems: list[str] = []
    for name, scope in scopes.items():
        customer = out["largest_customer"][name]
        ms, results = _time_pages(db, name, scope, customer, cold, repeat, out)
        if naive:
            problems += _time_naive(db, name, scope, customer, cold, ms, results, out)
    out["reads_within_target"] = all(
        v <= READS_TARGET_MS for scope_ms in out["reads_ms"].values() for v in scope_ms.values())
    if not naive:
        out["consistency"] = "skipped"
    elif problems:
        out["consistency"] = "failed"
        out["consistency_problems"] = problems
        for problem in problems:
            print(f"CONSISTENCY FAILED: {problem}", file=sys.stderr, flush=True)
    else:
        out["consistency"] = "passed"
        print("consistency: the rollup figures equal the naive GROUP BY figures for both scopes", flush=True)
    return out


def _time_pages(db: Path | str, name: str, scope: Scope, customer: str, cold: ColdCache, repeat: int,
                out: dict) -> tuple[dict[str, float], dict[str, Any]]:
    """Each page's reads for one scope, into out; the median cold ms and the first run's result."""
    pages = {
        "sidebar": sidebar_data,
        "home": lambda c: home_data(c, scope),
        "customers": lambda c: customers_data(c, scope),
        "profile": lambda c: profile_data(c, scope, customer),
    }
    ms, warm, results, spread = {}, {}, {}, {}
    for page, read in pages.items():
        runs = [timed(cold, db, read) for _ in range(repeat)]
        ms[page], results[page] = statistics.median(t for t, _ in runs), runs[0][1]
        spread[page] = [round(t, 1) for t, _ in runs]
        warm[page] = _warm(db, read)
    out["reads_ms"][name] = _round(ms)
    out["reads_cold_runs_ms"][name] = spread
    out["reads_warm_ms"][name] = _round(warm)
    out["reads_detail_ms"][name] = _round(detail_timings(db, scope, customer, cold))
    print(f"reads, {name}: " + ", ".join(f"{p} {v:.1f} ms" for p, v in ms.items())
          + "  (warm: " + ", ".join(f"{p} {v:.1f}" for p, v in warm.items()) + ")", flush=True)
    return ms, results


def _time_naive(db: Path | str, name: str, scope: Scope, customer: str, cold: ColdCache, ms: dict[str, float],
                results: dict[str, Any], out: dict) -> list[str]:
    """The naive figures of one scope, into out beside the rollup ms; their differences from results."""
    naive_pages = {
        "home": lambda c: naive_home(c, scope),
        "customers": lambda c: naive_customers(c, scope, CUSTOMERS_PAGE_SIZE),
        "profile": lambda c: naive_profile(c, scope, customer, HISTORY_ROWS),
    }
    nms, nresults = {}, {}
    for page, read in naive_pages.items():
        nms[page], nresults[page] = timed(cold, db, read, naive=True)
    out["naive_ms"][name] = _round(nms)
    out["ratio"][name] = {p: round(nms[p] / max(ms[p], 1e-3), 1) for p in nms}
    print(f"naive, {name}: " + ", ".join(f"{p} {v:,.0f} ms (x{out['ratio'][name][p]:,})"
                                         for p, v in nms.items()), flush=True)
    return compare(name, results, nresults)


def _warm(db: Path | str, read: Callable) -> float:
    """The same read right after, on a new read-only connection: the OS cache is warm now."""
    conn = connect_readonly(db)
    try:
        started = time.perf_counter()
        read(conn)
        return (time.perf_counter() - started) * 1000
    finally:
        conn.close()


def detail_timings(db: Path | str, scope: Scope, customer: str, cold: ColdCache) -> dict:
    """Each read of the slower pages on its own, cold: where the time goes."""
    reads = {
        "home.home_figures": lambda c: home.home_figures(c, scope),
        "home.previous_counts": lambda c: home.previous_counts(c, scope),
        "home.current_active": lambda c: active_count(c, scope),
        "home.top_customers": lambda c: home.top_customers(c, scope),
        "customers.page": lambda c: customers_data(c, scope),
        "customers.total": lambda c: active_count(c, scope, ""),
        "profile.header": lambda c: profile.customer_profile(c, customer, scope),
    }
    return {name: timed(cold, db, read)[0] for name, read in reads.items()}


def _round(values: dict) -> dict:
    return {k: round(v, 1) for k, v in values.items()}


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))

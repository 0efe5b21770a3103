"""Dashboard benchmark (issue 3): the data behind each page at 10M requests, and each page in Chromium.

    .venv/bin/python bench/dashboard.py [--requests 10000000] [--customers 100000] [--days 90]
                                        [--browser-requests 1000000] [--skip-browser] [--db-dir bench/out]

1. Builds (once; cached under --db-dir, keyed by size and seed) a database of --requests requests
   from --customers customers over --days days, with bulk SQL straight into the real schema, and
   fills every rollup from the raw rows as db/writes.py's RecordWriter would have.
2. Times, cold and without Streamlit's cache, the reads behind each page for the last 30 days of
   the data, for the busiest API and for all APIs: home (every widget, and the previous period's
   counts), customers (first page and total), the busiest customer's profile (header, graph,
   filter options, the first 100 history rows and their count); the sidebar apart. Cold: the OS
   page cache dropped (when running as root) and a new SQLite connection before each run; the
   median of --repeat runs counts.
3. Times the same figures computed naively, by GROUP BY over the raw requests (one cold run each),
   and fails loudly (exit status 1) when they differ from the rollup figures.
4. At --browser-requests, times each page in headless Chromium from navigation until its content
   is visible, against a real `streamlit run streamlit_app.py` on a free port: in a browser that
   has loaded the app once (a warm-up visit), and in a new browser profile each.

Readable lines first; the last line is JSON with every figure and the sizes they were measured at.
SQL here builds the benchmark database and states the naive baseline; the app's reads are db/'s.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.ai_agent import ai_agent_of  # noqa: E402
from core.demo import (  # noqa: E402
    _ASSISTANT_UAS,
    AI_AGENT_UAS,
    COUNTRIES,
    DEMO_APIS,
    DESKTOP_UAS,
    DEV_TOOL_UAS,
    MOBILE_UAS,
    SCANNER_UAS,
    SERVER_CLIENT_UAS,
    TABLET_UAS,
)
from core.device import device_of  # noqa: E402
from core.figures import graph_bucket  # noqa: E402
from core.latency import latency_bucket, percentile_ms  # noqa: E402
from core.periods import DAY, HOUR, Period, preset_period  # noqa: E402
from core.threat import NO_AUTHORIZATION, SQL_INJECTION  # noqa: E402
from db import dashboard  # noqa: E402
from db.activity import rebuild_activity  # noqa: E402
from db.connection import connect  # noqa: E402
from db.reads import Scope, scope_where  # noqa: E402
from db.writes import add_api  # noqa: E402
from footfall import free_port, stop_process as stop  # noqa: E402

# Bump when the generated data changes, so cached databases are rebuilt.
GENERATOR_VERSION = 1
READS_TARGET_MS = 100
BROWSER_TARGET_MS = 1500
PERIOD = "30d"
HISTORY_ROWS = 100
CUSTOMERS_PAGE_SIZE = 50  # as pages/customers.py
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def count_arg(text: str) -> int:
    return int(text.replace("_", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=count_arg, default=10_000_000)
    parser.add_argument("--customers", type=count_arg, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--browser-requests", type=count_arg, default=1_000_000)
    parser.add_argument("--browser-customers", type=count_arg, default=None,
                        help="default: --customers scaled with --browser-requests / --requests")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-naive", action="store_true", help="time the rollup reads only (no consistency check)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="cold runs of each page's rollup reads; the median counts (naive: one run)")
    parser.add_argument("--db-dir", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true", help="build the databases even when cached")
    parser.add_argument("--keep-os-cache", action="store_true",
                        help="cold = a new SQLite connection only; do not drop the OS page cache (smoke tests)")
    args = parser.parse_args()
    if args.customers < 1 or args.requests < 2 * args.customers or args.days < 2:
        parser.error("need at least 1 customer, 2 requests per customer and 2 days")

    cold = ColdCache(drop_os_cache=not args.keep_os_cache)
    print(f"cold: {cold.description}", flush=True)
    results: dict[str, Any] = {"machine_cores": os.cpu_count(), "cold": cold.description}

    spec = DataSpec(args.requests, args.customers, args.days, args.seed)
    db, info = cached_database(args.db_dir, spec, rebuild=args.rebuild)
    results["sizes"] = {**asdict(spec), "db_mb": round(database_bytes(db) / 1e6), "built_seconds": info["built_seconds"]}
    print(f"database: {db.name}, {results['sizes']['db_mb']:,} MB "
          f"(built in {info['built_seconds']:.0f}s{'' if info['fresh'] else ', cached'})", flush=True)

    reads = bench_reads(db, info["end"], cold, naive=not args.skip_naive, repeat=max(1, args.repeat))
    results.update(reads)

    if args.skip_browser:
        results["browser"] = {"skipped": True}
    else:
        customers = args.browser_customers or max(1, round(args.customers * args.browser_requests / args.requests))
        bspec = DataSpec(args.browser_requests, min(customers, args.browser_requests // 2), args.days, args.seed)
        # The app's periods end now: a browser database more than a day old is built again.
        bdb, binfo = cached_database(args.db_dir, bspec, rebuild=args.rebuild, max_age=DAY)
        results["browser"] = bench_browser(bdb, bspec)

    print(json.dumps(results), flush=True)
    if results.get("consistency") not in ("passed", "skipped"):
        sys.exit(1)


# --- Cold caches ----------------------------------------------------------------------------------


class ColdCache:
    """Before each measurement: the OS page cache dropped when allowed (root), and always a new
    SQLite connection (an empty SQLite page cache)."""

    def __init__(self, drop_os_cache: bool = True) -> None:
        self.drops = drop_os_cache and self._try_drop()
        if self.drops:
            self.description = ("OS page cache dropped (sync; echo 1 > /proc/sys/vm/drop_caches) and a new SQLite "
                                "connection before each measurement")
        else:
            why = "no permission" if drop_os_cache else "--keep-os-cache"
            self.description = (f"a new SQLite connection before each measurement; OS page cache NOT dropped "
                                f"({why}), so file pages may be cached")

    @staticmethod
    def _try_drop() -> bool:
        try:
            os.sync()
            DROP_CACHES.write_text("1\n")
            return True
        except OSError:
            return False

    def chill(self) -> None:
        if self.drops:
            self._try_drop()


# --- The benchmark database -----------------------------------------------------------------------


@dataclass(frozen=True)
class DataSpec:
    requests: int
    customers: int
    days: int
    seed: int

    @property
    def file_name(self) -> str:
        return f"dashboard-r{self.requests}-c{self.customers}-d{self.days}-s{self.seed}-g{GENERATOR_VERSION}.db"


def database_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if not p.name.endswith(".json"))


def cached_database(directory: Path, spec: DataSpec, *, rebuild: bool = False,
                    max_age: float | None = None) -> tuple[Path, dict]:
    """The database for spec, built unless a finished one is cached (its .json written last)."""
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / spec.file_name
    meta = db.with_name(db.name + ".json")
    if db.exists() and meta.exists() and not rebuild:
        info = json.loads(meta.read_text())
        if max_age is None or time.time() - info["end"] < max_age:
            connect(db).close()  # brings the schema up to date (a newer migration's indexes)
            return db, {**info, "fresh": False}
    print(f"building {db.name} ...", flush=True)
    started = time.perf_counter()
    end = int(time.time())
    scratch = db.with_name(db.name + ".building")
    for path in (db, meta, scratch, *directory.glob(scratch.name + "-*"), *directory.glob(db.name + "-*")):
        path.unlink(missing_ok=True)
    build_database(scratch, spec, end)
    scratch.rename(db)
    info = {"end": end, "built_seconds": round(time.perf_counter() - started, 1)}
    meta.write_text(json.dumps(info))
    return db, {**info, "fresh": True}


# The APIs, their share of the traffic, SDK and median load time; (method, endpoint) pairs with weights.
API_WEIGHTS = [0.4, 0.3, 0.2, 0.1]
API_SDKS = ["django", "express", "laravel", "node"]
API_MEDIAN_MS = [120.0, 35.0, 60.0, 200.0]
API_ENDPOINTS: list[list[tuple[str, str, float]]] = [
    [("GET", "/api/payments", 20), ("POST", "/api/payments", 12), ("GET", "/api/payments/{id}", 25),
     ("POST", "/api/payments/{id}/refunds", 3), ("GET", "/api/invoices", 8), ("GET", "/api/invoices/{id}", 12),
     ("PUT", "/api/customers/{id}/cards", 4), ("DELETE", "/api/customers/{id}/cards", 1), ("GET", "/api/payouts", 5)],
    [("GET", "/v1/products", 25), ("GET", "/v1/products/{id}", 35), ("GET", "/v1/categories", 8),
     ("GET", "/v1/search", 15), ("POST", "/v1/products/{id}/reviews", 3), ("PATCH", "/v1/inventory/{id}", 4),
     ("POST", "/v1/products", 2)],
    [("POST", "/oauth/token", 40), ("GET", "/api/users/{id}", 25), ("POST", "/api/sessions", 15),
     ("DELETE", "/api/sessions/{id}", 5), ("GET", "/api/users/{id}/roles", 10), ("POST", "/api/password/reset", 1)],
    [("POST", "/api/shipments", 20), ("GET", "/api/shipments/{id}", 30), ("GET", "/api/shipments/{id}/tracking", 30),
     ("GET", "/api/rates", 15), ("PUT", "/api/labels/{id}", 5)],
]
STATUSES = [(200, 80.0), (201, 7.0), (204, 3.0), (101, 0.05), (301, 0.4), (304, 1.2), (400, 1.8), (401, 1.2),
            (403, 0.6), (404, 2.2), (409, 0.3), (422, 1.0), (429, 0.5), (500, 0.7), (502, 0.25), (503, 0.35)]
CLIENT_ERRORS = [400, 404, 422]
CITIES = {"US": "New York", "GB": "London", "DE": "Berlin", "FR": "Paris", "IN": "Mumbai", "JP": "Tokyo",
          "BR": "São Paulo", "CA": "Toronto", "AU": "Sydney", "NL": "Amsterdam"}
IDENTIFIED_UAS = [(SERVER_CLIENT_UAS, 45), (DESKTOP_UAS, 25), (MOBILE_UAS, 14), (TABLET_UAS, 3), (DEV_TOOL_UAS, 8),
                  (_ASSISTANT_UAS, 2.5), (("",), 2.5)]
UNIDENTIFIED_UAS = [(AI_AGENT_UAS, 12), (SCANNER_UAS, 3), (DESKTOP_UAS, 35), (MOBILE_UAS, 25),
                    (SERVER_CLIENT_UAS, 20), (DEV_TOOL_UAS, 5)]
UNIDENTIFIED_SHARE = 0.10
BURST_SHARE = 0.02  # identified requests packed into a few hours of the biggest customers: visible peaks
ZIPF_EXPONENT = 1.05
FAVORITE_RANKS = (1, 2, 5, 12, 40, 150, 600, 2500, 9000)  # by all-time size; as many as there are customers
CHUNK = 200_000


def _weights(values) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()


def _user_agent_table(groups) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    """Each user agent once with its weight and what the real enrichment makes of it."""
    agents, weights = [], []
    for uas, weight in groups:
        for ua in uas:
            agents.append(ua)
            weights.append(weight / len(uas))
    profiles = []
    for ua in agents:
        device = device_of(ua or None)
        profiles.append((device.kind, device.os, device.browser, ai_agent_of(ua or None), ua or None))
    return np.arange(len(agents)), _weights(weights), profiles


def _pick(rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    return rng.choice(len(weights), size=n, p=weights)


def _rhythm_ts(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, offset_hours: np.ndarray) -> np.ndarray:
    """Times in [lo, hi): busier in office hours of the caller's zone and on weekdays."""
    t = lo + (rng.random(lo.size) * (hi - lo)).astype(np.int64)
    local_hour = rng.choice(24, size=lo.size, p=_weights([2, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 11, 11, 10, 9,
                                                          7, 6, 5, 4, 3, 3, 2]))
    moved = t - t % DAY + ((local_hour - offset_hours) % 24) * HOUR + rng.integers(0, HOUR, lo.size)
    t = np.where((moved >= lo) & (moved < hi), moved, t)
    weekend = ((t // DAY + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    earlier = t - 2 * DAY
    quieter = weekend & (rng.random(lo.size) < 0.5) & (earlier >= lo)
    return np.where(quieter, earlier, t)


def build_database(path: Path, spec: DataSpec, end: int) -> None:
    """Generate the raw requests (numpy, deterministic per seed) and load them with bulk SQL; then
    fill the rollups from them. Customer ids follow first appearance, request ids time, as ingest."""
    rng = np.random.default_rng(spec.seed)
    n_cust, n_req = spec.customers, spec.requests
    start = end - spec.days * DAY

    # Customers: Zipf-like sizes, a window of activity (some join late, some leave), 1-3 APIs.
    size_rank = rng.permutation(n_cust) + 1
    weight = size_rank.astype(float) ** -ZIPF_EXPONENT
    late = rng.random(n_cust) < 0.4
    join = np.where(late, start + (rng.random(n_cust) * (end - start) * 0.97).astype(np.int64), start)
    leaves = rng.random(n_cust) < 0.15
    leave = np.where(leaves, join + (rng.random(n_cust) * (end - join)).astype(np.int64), end)
    leave = np.maximum(leave, np.minimum(join + 6 * HOUR, end))
    api_w = _weights(API_WEIGHTS)
    primary = _pick(rng, n_cust, api_w)
    step = rng.integers(1, 4, n_cust)
    second = np.where(rng.random(n_cust) < 0.25, (primary + step) % 4, -1)
    third = np.where((second >= 0) & (rng.random(n_cust) < 0.2), (primary + step % 3 + 1) % 4, -1)
    country_names = list(COUNTRIES)
    home_country = _pick(rng, n_cust, _weights([COUNTRIES[c][1] for c in country_names]))
    tz_offset = np.array([round(COUNTRIES[c][0]) for c in country_names])[home_country]
    buggy = rng.random(n_cust) < 0.05  # integrations with many client errors

    # Who made each request: everyone once, then by size; ~10% unidentified; bursts for the biggest.
    n_unidentified = round(n_req * UNIDENTIFIED_SHARE)
    n_identified = n_req - n_unidentified
    cust = np.concatenate([np.arange(n_cust), _pick(rng, n_identified - n_cust, _weights(weight))])
    burst = np.zeros(n_identified, dtype=bool)
    burst[n_cust:] = rng.random(n_identified - n_cust) < BURST_SHARE
    biggest = np.argsort(size_rank)[: min(30, n_cust)]
    cust[burst] = rng.choice(biggest, size=int(burst.sum()))
    lo, hi = join[cust], leave[cust]
    ts = _rhythm_ts(rng, lo, hi, tz_offset[cust])
    burst_hour = lo + (rng.random(n_identified) * (hi - lo - HOUR)).astype(np.int64)
    burst_hour -= burst_hour % (4 * DAY)  # a few burst hours per customer
    burst_hour = np.clip(burst_hour + 14 * HOUR, lo, np.maximum(lo, hi - HOUR))
    ts = np.where(burst, burst_hour + rng.integers(0, HOUR, n_identified), ts)
    draw = rng.random(n_identified)
    api = np.where((second >= 0)[cust] & (draw > 0.75), second[cust], primary[cust])
    api = np.where((third >= 0)[cust] & (draw > 0.92), third[cust], api)

    u_api = _pick(rng, n_unidentified, api_w)
    u_ts = _rhythm_ts(rng, np.full(n_unidentified, start), np.full(n_unidentified, end),
                      rng.integers(-8, 10, n_unidentified))
    u_country = _pick(rng, n_unidentified, _weights([COUNTRIES[c][1] for c in country_names]))

    identified = np.concatenate([np.ones(n_identified, dtype=bool), np.zeros(n_unidentified, dtype=bool)])
    cust_all = np.concatenate([cust, np.full(n_unidentified, -1)])
    api_all = np.concatenate([api, u_api])
    ts_all = np.concatenate([ts, u_ts])
    country_all = np.concatenate([np.where(rng.random(n_identified) < 0.9, home_country[cust],
                                           _pick(rng, n_identified, _weights([COUNTRIES[c][1] for c in country_names]))),
                                  u_country])
    order = np.argsort(ts_all, kind="stable")  # ingest order: request ids follow time
    identified, cust_all, api_all, ts_all, country_all = (
        a[order] for a in (identified, cust_all, api_all, ts_all, country_all))

    # Customer ids in order of first request, as RecordWriter hands them out.
    first_position = np.full(n_cust, n_req)
    np.minimum.at(first_position, cust_all[identified], np.nonzero(identified)[0])
    cid_of = np.empty(n_cust, dtype=np.int64)
    cid_of[np.argsort(first_position, kind="stable")] = np.arange(1, n_cust + 1)
    external = _external_ids(rng, n_cust)
    names = _display_names(rng, n_cust)

    # The rest of each request.
    endpoint_tables = []
    for table in API_ENDPOINTS:
        endpoint_tables.append((np.array([m for m, _, _ in table], dtype=object),
                                np.array([e for _, e, _ in table], dtype=object), _weights([w for *_, w in table])))
    method_all = np.empty(n_req, dtype=object)
    endpoint_all = np.empty(n_req, dtype=object)
    for a, (methods, endpoints, w) in enumerate(endpoint_tables):
        rows = np.nonzero(api_all == a)[0]
        pick = _pick(rng, rows.size, w)
        method_all[rows], endpoint_all[rows] = methods[pick], endpoints[pick]
    status_codes = np.array([s for s, _ in STATUSES])
    status_all = status_codes[_pick(rng, n_req, _weights([w for _, w in STATUSES]))]
    client_error = identified & buggy[np.maximum(cust_all, 0)] & (rng.random(n_req) < 0.15)
    status_all = np.where(client_error, rng.choice(CLIENT_ERRORS, n_req), status_all)
    load = np.exp(rng.normal(0, 0.6, n_req)) * np.array(API_MEDIAN_MS)[api_all]
    load = np.where(rng.random(n_req) < 0.01, load * rng.uniform(5, 30, n_req), load)
    load = np.round(np.where(status_all >= 500, load * 3, load), 3)
    size = np.exp(rng.normal(7.5, 1.2, n_req)).astype(np.int64).astype(object)
    size[rng.random(n_req) < 0.03] = None
    attack = rng.random(n_req) < 0.012
    no_auth = ~attack & (status_all < 400) & (rng.random(n_req) < 0.015)
    threat = np.where(attack, 2, np.where(no_auth, 1, 0))
    threat_level = np.array(["low", "medium", "high"], dtype=object)[threat]
    threat_reasons = np.array(["[]", json.dumps([NO_AUTHORIZATION]), json.dumps([f"{SQL_INJECTION} in query"])],
                              dtype=object)[threat]
    query = np.array(["", "page=2&limit=50", "id=1' OR '1'='1"], dtype=object)[
        np.where(attack, 2, (rng.random(n_req) < 0.15).astype(int))]
    ua_ids, ua_w, ua_profiles = _user_agent_table(IDENTIFIED_UAS)
    uu_ids, uu_w, uu_profiles = _user_agent_table(UNIDENTIFIED_UAS)
    profile_index = np.where(identified, _pick(rng, n_req, ua_w), len(ua_profiles) + _pick(rng, n_req, uu_w))
    profile_columns = list(zip(*(ua_profiles + uu_profiles)))  # device, os, browser, ai_agent, user_agent
    prefixes = [np.array(COUNTRIES[c][2], dtype=object) for c in country_names]
    ip_prefix = np.empty(n_req, dtype=object)
    for c, options in enumerate(prefixes):
        rows = np.nonzero(country_all == c)[0]
        ip_prefix[rows] = options[rng.integers(0, len(options), rows.size)]
    octet = rng.integers(1, 255, n_req)
    path_id = rng.integers(1, 200_000, n_req)
    country_codes = np.array(country_names, dtype=object)
    city_of = np.array([CITIES.get(c) for c in country_names], dtype=object)
    sdk_of = np.array(API_SDKS, dtype=object)
    api_ids = np.arange(1, 5)
    customer_column = np.where(identified, cid_of[np.maximum(cust_all, 0)], 0).astype(object)
    customer_column[~identified] = None
    columns = {name: np.array(values, dtype=object) for name, values in
               zip(("device", "os", "browser", "ai_agent", "user_agent"), profile_columns)}

    conn = connect(path)
    try:
        for name, key in DEMO_APIS:
            add_api(conn, name, key)
        conn.execute("PRAGMA journal_mode = OFF")  # a failed build is thrown away whole
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -1048576")
        # Index the raw rows once they are all in, with the schema's own statements.
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'requests' AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute("BEGIN")
        for lo_row in range(0, n_req, CHUNK):
            s = slice(lo_row, min(lo_row + CHUNK, n_req))
            endpoints = endpoint_all[s].tolist()
            paths = [e.replace("{id}", str(n)) for e, n in zip(endpoints, path_id[s].tolist())]
            ips = [f"{p}.{o}" for p, o in zip(ip_prefix[s].tolist(), octet[s].tolist())]
            profile = profile_index[s]
            conn.executemany(
                "INSERT INTO requests (id, api_id, customer_id, ts, method, status, path, query, endpoint,"
                " load_time_ms, size, threat_level, threat_reasons, device, os, browser, ai_agent, country, city, ip,"
                " user_agent, sdk) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                zip(range(s.start + 1, s.stop + 1), api_ids[api_all[s]].tolist(), customer_column[s].tolist(),
                    ts_all[s].tolist(), method_all[s].tolist(), status_all[s].tolist(), paths, query[s].tolist(),
                    endpoints, load[s].tolist(), size[s].tolist(), threat_level[s].tolist(),
                    threat_reasons[s].tolist(), columns["device"][profile].tolist(), columns["os"][profile].tolist(),
                    columns["browser"][profile].tolist(), columns["ai_agent"][profile].tolist(),
                    country_codes[country_all[s]].tolist(), city_of[country_all[s]].tolist(), ips,
                    columns["user_agent"][profile].tolist(), sdk_of[api_all[s]].tolist()),
            )
        conn.execute("COMMIT")
        for _, sql in indexes:
            conn.execute(sql)
        fill_request_details(conn)
        conn.execute("CREATE TEMP TABLE customer_names (id INTEGER PRIMARY KEY, external_id TEXT, name TEXT)")
        conn.executemany("INSERT INTO customer_names VALUES (?, ?, ?)",
                         zip(cid_of.tolist(), external, names))
        fill_rollups(conn)
        for rank in FAVORITE_RANKS:
            if rank <= n_cust:
                dashboard.save_favorite(conn, external[int(np.argmax(size_rank == rank))], True)
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


def _external_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Customer IDs as services send them: mostly opaque ids, some e-mails, some numbers."""
    kind = rng.random(n)
    token = rng.integers(0, 16**12, n)
    return [f"usr_{t:012x}" if k < 0.7 else f"dev{i}@client{t % 9973}.example.com" if k < 0.85 else str(100000 + i)
            for i, (k, t) in enumerate(zip(kind.tolist(), token.tolist()))]


def _display_names(rng: np.random.Generator, n: int) -> list[str | None]:
    first = ["Blue", "North", "Silver", "Bright", "Iron", "Red", "Green", "Swift", "Clear", "Golden", "Quantum",
             "Pacific", "Atlas", "Summit", "Harbor", "Cedar", "Maple", "Falcon", "Nova", "Vertex"]
    second = ["Labs", "Logistics", "Health", "Retail", "Foods", "Systems", "Analytics", "Commerce", "Travel", "Media"]
    a, b, named = rng.integers(0, len(first), n), rng.integers(0, len(second), n), rng.random(n) < 0.85
    return [f"{first[x]} {second[y]} {i}" if keep else None
            for i, (x, y, keep) in enumerate(zip(a.tolist(), b.tolist(), named.tolist()))]


def fill_request_details(conn) -> None:
    """Small masked headers and bodies, so the request detail view has something to show."""
    conn.execute("""
        INSERT INTO request_details (request_id, request_headers, request_body, response_headers, response_body, errors)
        SELECT id, json_object('user-agent', user_agent, 'authorization', '*****', 'x-forwarded-for', ip),
               CASE WHEN method IN ('POST', 'PUT', 'PATCH') THEN '{"amount":1200,"currency":"EUR"}' ELSE '{}' END,
               '{"content-type":"application/json"}',
               CASE WHEN status >= 400 THEN '{"error":"request failed"}' ELSE '{"ok":true}' END,
               CASE WHEN status >= 500
                    THEN '[{"message":"Internal Server Error","file":"app.py","line":42,"source":"onError","type":"E_ERROR"}]'
                    ELSE '[]' END
        FROM requests ORDER BY id""")


def fill_rollups(conn) -> None:
    """Every rollup from the raw rows, as RecordWriter keeps them (db/writes.py): hour and day are
    ts - ts % 3600 / 86400; errors are status >= 400; a status class is min(max(status // 100, 2), 5)
    (so 1xx counts as 2xx, 6xx+ as 5xx); latency buckets are core.latency.latency_bucket itself;
    unidentified requests count only in api_hourly; the active-customer sets are db.activity's
    own rebuild from customer_daily and customer_hourly. Customers come from the temp table
    customer_names (id, external_id, name)."""
    conn.create_function("latency_bucket", 1, latency_bucket, deterministic=True)
    conn.execute("BEGIN")
    conn.execute("""
        INSERT INTO customers (id, external_id, name_from_traffic, first_seen, last_seen, requests)
        SELECT n.id, n.external_id, n.name, r.first_seen, r.last_seen, r.requests
        FROM (SELECT customer_id, MIN(ts) AS first_seen, MAX(ts) AS last_seen, COUNT(*) AS requests FROM requests
              WHERE customer_id IS NOT NULL GROUP BY customer_id) AS r
        JOIN temp.customer_names n ON n.id = r.customer_id ORDER BY n.id""")
    conn.execute("""
        INSERT INTO api_hourly (api_id, hour, requests, identified, errors, load_ms_sum)
        SELECT api_id, ts - ts % 3600, COUNT(*), COUNT(customer_id), SUM(status >= 400), SUM(load_time_ms)
        FROM requests GROUP BY 1, 2 ORDER BY 1, 2""")
    conn.execute("""
        INSERT INTO customer_hourly (api_id, customer_id, hour, requests, s2xx, s3xx, s4xx, s5xx, load_ms_sum)
        SELECT api_id, customer_id, ts - ts % 3600, COUNT(*), SUM(status < 300), SUM(status >= 300 AND status < 400),
               SUM(status >= 400 AND status < 500), SUM(status >= 500), SUM(load_time_ms)
        FROM requests WHERE customer_id IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""")
    conn.execute("""
        INSERT INTO customer_daily (api_id, day, customer_id, requests, errors, load_ms_sum)
        SELECT api_id, ts - ts % 86400, customer_id, COUNT(*), SUM(status >= 400), SUM(load_time_ms)
        FROM requests WHERE customer_id IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""")
    conn.execute("""
        INSERT INTO customer_latency_daily (api_id, customer_id, day, bucket, requests)
        SELECT api_id, customer_id, ts - ts % 86400, latency_bucket(load_time_ms), COUNT(*)
        FROM requests WHERE customer_id IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4""")
    conn.execute("""
        INSERT INTO api_customers (api_id, customer_id, first_seen, last_seen, requests)
        SELECT api_id, customer_id, MIN(ts), MAX(ts), COUNT(*)
        FROM requests WHERE customer_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2""")
    rebuild_activity(conn)
    conn.execute("COMMIT")


# --- The reads behind each page, through db.dashboard ---------------------------------------------


def sidebar_data(conn) -> tuple:
    return dashboard.data_version(conn), dashboard.api_choices(conn), dashboard.favorites(conn)


def home_data(conn, scope: Scope) -> dict:
    """What pages/home.py reads: widget choices, the figures, the previous period's counts."""
    previous = scope.period.previous()
    return {
        "choices": dashboard.load_widget_choices(conn),
        "figures": dashboard.home_now(conn, scope),
        "fingerprint": None if previous is None else dashboard.period_fingerprint(conn, Scope(scope.api_id, previous)),
        "previous": dashboard.previous_counts(conn, scope),
    }


def customers_data(conn, scope: Scope) -> tuple[pl.DataFrame, int]:
    """What pages/customers.py reads first: page 1 by requests, descending, and the total."""
    return dashboard.customer_page(conn, scope, "", "requests", True, 1, CUSTOMERS_PAGE_SIZE)


def profile_data(conn, scope: Scope, customer_id: str) -> dict:
    """What pages/customer.py reads without a click: header, graph, filter options, history."""
    profile = dashboard.customer_profile(conn, customer_id, scope)
    since, until = scope.period.since, scope.period.until
    bucket = graph_bucket(since, until)
    no_filter = dashboard.HistoryFilter()
    return {
        "profile": profile,
        "graph": dashboard.request_graph(conn, profile.id, scope, bucket),
        "options": dashboard.history_options(conn, profile.id, scope),
        "count": dashboard.history_count(conn, profile.id, scope, no_filter),
        "history": dashboard.history(conn, profile.id, scope, no_filter, "time", True, HISTORY_ROWS, 0),
    }


# --- The same figures, naively: GROUP BY over the raw requests ------------------------------------


def _api_only(scope: Scope, column: str = "api_id") -> tuple[str, list]:
    return scope_where(Scope(scope.api_id, Period(None, None)), "ts", api_column=column)


def naive_period_counts(conn, scope: Scope) -> dashboard.PeriodCounts:
    where, params = scope_where(scope, "ts")
    total, identified, active = conn.execute(
        f"SELECT COUNT(*), COUNT(customer_id), COUNT(DISTINCT customer_id) FROM requests WHERE {where}", params
    ).fetchone()
    api, api_params = _api_only(scope)
    period, period_params = scope_where(Scope(None, scope.period), "first_seen")
    new = conn.execute(
        f"SELECT COUNT(*) FROM (SELECT MIN(ts) AS first_seen FROM requests WHERE customer_id IS NOT NULL AND {api}"
        f" GROUP BY customer_id) WHERE {period}", [*api_params, *period_params]
    ).fetchone()[0]
    return dashboard.PeriodCounts(total, identified, active, new)


_DISPLAY = "COALESCE(c.display_name, c.name_from_traffic, c.external_id)"


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
    return dashboard.frame(
        conn,
        f"""WITH counts AS (SELECT customer_id AS cid, COUNT(*) AS requests FROM requests
                            WHERE customer_id IS NOT NULL AND {where} GROUP BY customer_id)
            SELECT c.external_id AS customer_id, {_DISPLAY} AS display_name, counts.requests,
                   100.0 * counts.requests / ? AS share, {first} AS first_seen, {last} AS last_active,
                   c.favorite = 1 AS favorite
            FROM counts JOIN customers c ON c.id = counts.cid
            ORDER BY counts.requests DESC, c.external_id LIMIT ? OFFSET ?""",
        [*params, max(total, 1), *first_params, *last_params, limit, offset],
        dashboard.CUSTOMER_SCHEMA,
    )


def naive_newest(conn, scope: Scope, limit: int = 10) -> pl.DataFrame:
    api, params = _api_only(scope)
    until, until_params = ("seen.first_seen < ?", [scope.period.until]) if scope.period.until else ("1", [])
    return dashboard.frame(
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
    where, params = scope_where(scope, "r.ts", api_column="+r.api_id")
    last, last_params = _last_request_sql(scope)
    return dashboard.frame(
        conn,
        f"""SELECT c.external_id AS customer_id, {_DISPLAY} AS display_name,
                   (SELECT COUNT(*) FROM requests r WHERE r.customer_id = c.id AND {where}) AS requests,
                   {last} AS last_active
            FROM customers c WHERE c.favorite = 1
            ORDER BY requests DESC, display_name COLLATE NOCASE, c.external_id""",
        [*params, *last_params],
        {"requests": pl.Int64, "last_active": pl.Int64},
    ).with_columns((100.0 * pl.col("requests") / max(total, 1)).alias("share"))


def naive_home(conn, scope: Scope) -> dict:
    current = naive_period_counts(conn, scope)
    previous = scope.period.previous()
    top = naive_busiest(conn, scope, current.requests, 10)
    return {
        "current": current,
        "previous": None if previous is None else naive_period_counts(conn, Scope(scope.api_id, previous)),
        "top": top.select(*dashboard.TOP_SCHEMA),
        "newest": naive_newest(conn, scope),
        "favorites": naive_favorites(conn, scope, current.requests),
    }


def naive_customers(conn, scope: Scope) -> tuple[pl.DataFrame, int]:
    where, params = scope_where(scope, "ts")
    total_requests, active = conn.execute(
        f"SELECT COUNT(*), COUNT(DISTINCT customer_id) FROM requests WHERE {where}", params
    ).fetchone()
    return naive_busiest(conn, scope, total_requests, CUSTOMERS_PAGE_SIZE), active


def naive_profile(conn, scope: Scope, customer_id: str) -> dict:
    cid = conn.execute("SELECT id FROM customers WHERE external_id = ?", (customer_id,)).fetchone()[0]
    where, params = scope_where(scope, "ts", api_column="+api_id")
    api, api_params = _api_only(scope, "+api_id")
    requests, errors, load_sum = conn.execute(
        f"SELECT COUNT(*), COALESCE(SUM(status >= 400), 0), COALESCE(SUM(load_time_ms), 0) FROM requests"
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
    graph = dashboard.frame(
        conn,
        f"""SELECT (ts - ts % 3600) - (ts - ts % 3600) % ? AS bucket, SUM(status < 300) AS s2xx,
                   SUM(status >= 300 AND status < 400) AS s3xx, SUM(status >= 400 AND status < 500) AS s4xx,
                   SUM(status >= 500) AS s5xx
            FROM requests WHERE customer_id = ? AND {where} GROUP BY 1 ORDER BY 1""",
        [bucket, cid, *params],
        {c: pl.Int64 for c in ("bucket", "s2xx", "s3xx", "s4xx", "s5xx")},
    )
    history = dashboard.frame(
        conn,
        f"""SELECT id, ts AS time, method, status, endpoint, path, load_time_ms, threat_level, device, ai_agent,
                   country, city
            FROM requests WHERE customer_id = ? AND {where} ORDER BY ts DESC, id DESC LIMIT ?""",
        [cid, *params, HISTORY_ROWS],
        dashboard.HISTORY_SCHEMA,
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
    """Differences between the rollup figures and the naive ones of one scope (empty: none)."""
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
    check("customers first page", _same_frame(rows, nrows, list(dashboard.CUSTOMER_SCHEMA)),
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


# --- Timing ---------------------------------------------------------------------------------------


def timed(cold: ColdCache, db: Path, read: Callable, *, naive: bool = False) -> tuple[float, Any]:
    """One cold measurement in ms: caches dropped, a new connection, then the read."""
    cold.chill()
    conn = connect(db)
    if naive:
        conn.create_function("latency_bucket", 1, latency_bucket, deterministic=True)
    try:
        started = time.perf_counter()
        result = read(conn)
        return (time.perf_counter() - started) * 1000, result
    finally:
        conn.close()


def bench_reads(db: Path, end: int, cold: ColdCache, *, naive: bool, repeat: int) -> dict:
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
        top = dashboard.top_customers(conn, scope, 1)
        out["largest_customer"][name] = top["customer_id"][0]
        profile_data(conn, scope, top["customer_id"][0])
    conn.close()

    problems: list[str] = []
    for name, scope in scopes.items():
        customer = out["largest_customer"][name]
        pages = {
            "sidebar": sidebar_data,
            "home": lambda c, s=scope: home_data(c, s),
            "customers": lambda c, s=scope: customers_data(c, s),
            "profile": lambda c, s=scope, x=customer: profile_data(c, s, x),
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
        if naive:
            naive_pages = {
                "home": lambda c, s=scope: naive_home(c, s),
                "customers": lambda c, s=scope: naive_customers(c, s),
                "profile": lambda c, s=scope, x=customer: naive_profile(c, s, x),
            }
            nms, nresults = {}, {}
            for page, read in naive_pages.items():
                nms[page], nresults[page] = timed(cold, db, read, naive=True)
            out["naive_ms"][name] = _round(nms)
            out["ratio"][name] = {p: round(nms[p] / max(ms[p], 1e-3), 1) for p in nms}
            print(f"naive, {name}: " + ", ".join(f"{p} {v:,.0f} ms (x{out['ratio'][name][p]:,})"
                                                 for p, v in nms.items()), flush=True)
            problems += compare(name, results, nresults)
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


def _warm(db: Path, read: Callable) -> float:
    """The same read right after, on a new connection: the OS cache is warm now."""
    conn = connect(db)
    try:
        started = time.perf_counter()
        read(conn)
        return (time.perf_counter() - started) * 1000
    finally:
        conn.close()


def detail_timings(db: Path, scope: Scope, customer: str, cold: ColdCache) -> dict:
    """Each read of the slower pages on its own, cold: where the time goes."""
    reads = {
        "home.home_now": lambda c: dashboard.home_now(c, scope),
        "home.previous_counts": lambda c: dashboard.previous_counts(c, scope),
        "home.current_active": lambda c: dashboard.active_customers(c, scope),
        "home.top_customers": lambda c: dashboard.top_customers(c, scope),
        "customers.page": lambda c: customers_data(c, scope),
        "customers.total": lambda c: dashboard.active_customers(c, scope, ""),
        "profile.header": lambda c: dashboard.customer_profile(c, customer, scope),
    }
    return {name: timed(cold, db, read)[0] for name, read in reads.items()}


def _round(values: dict) -> dict:
    return {k: round(v, 1) for k, v in values.items()}


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


# --- Chromium -------------------------------------------------------------------------------------

# When each page's content is visible (Streamlit's test ids); returns performance.now() then, i.e.
# milliseconds since navigation started.
CONTENT_VISIBLE = """kind => {
    const shown = el => el && el.getBoundingClientRect().height > 0;
    const all = sel => [...document.querySelectorAll(sel)];
    if (all('[data-testid="stException"]').length) return -1;
    const text = document.body.innerText;
    const tables = all('[data-testid="stDataFrame"]').filter(shown).length;
    const metrics = all('[data-testid="stMetric"]').filter(shown).length;
    let ok = false;
    if (kind === 'home') ok = metrics >= 5 && tables >= 3 && text.includes('Top Customers List');
    if (kind === 'customers') ok = tables >= 1 && /of [0-9,]+ customers/.test(text);
    if (kind === 'profile') ok = metrics >= 6 && tables >= 1 && /of [0-9,]+ requests/.test(text)
        && all('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg').some(shown);
    return ok ? performance.now() : false;
}"""


def start_dashboard(db: Path, log: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env={**os.environ, "FOOTFALL_DB": str(db.resolve())}, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}; see {log}")
        try:
            if httpx.get(url + "/_stcore/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop(process)
    raise TimeoutError(f"streamlit did not answer within 60s; see {log}")


def bench_browser(db: Path, spec: DataSpec) -> dict:
    """Each page as an analyst's browser opens it: the Streamlit app already loaded once (its
    scripts in the HTTP cache), a full navigation, the page's reads not in Streamlit's cache. Also
    each page in a new browser profile (nothing cached in the browser), for another period."""
    from urllib.parse import quote

    from playwright.sync_api import sync_playwright

    period = preset_period(PERIOD, time.time())
    with closing(connect(db)) as conn:
        busiest_api, api_name = conn.execute(
            "SELECT a.id, a.name FROM api_hourly h JOIN apis a ON a.id = h.api_id GROUP BY a.id"
            " ORDER BY SUM(h.requests) DESC LIMIT 1").fetchone()
        largest = {name: dashboard.top_customers(conn, Scope(api, period), 1)["customer_id"][0]
                   for name, api in (("all_apis", None), ("one_api", busiest_api))}
    api_query = {"all_apis": "", "one_api": f"api={quote(api_name)}&"}

    def addresses(url: str, scope_name: str, period_query: str = "") -> dict[str, str]:
        query = api_query[scope_name] + period_query
        return {
            "home": f"{url}/?{query}",
            "customers": f"{url}/customers?{query}",
            "profile": f"{url}/customer?{query}id={quote(largest[scope_name])}",
        }

    log = db.with_name(db.name + ".streamlit.log")
    process, url = start_dashboard(db, log)
    ms: dict[str, dict[str, float]] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                # Warm-up with another period (its reads are other cache entries): Streamlit's
                # one-time work, the lazily loaded chart scripts, the first session.
                context = browser.new_context(viewport={"width": 1440, "height": 1000})
                tab = context.new_page()
                warm_up = {page: round(visit(tab, address, page), 1)
                           for page, address in addresses(url, "all_apis", "period=7d&").items()}
                print("chromium, warm-up (first visits after the start, 7 days): "
                      + ", ".join(f"{p} {v:,.0f} ms" for p, v in warm_up.items()), flush=True)
                for scope_name in ("all_apis", "one_api"):
                    ms[scope_name] = {page: round(visit(tab, address, page), 1)
                                      for page, address in addresses(url, scope_name).items()}
                    print(f"chromium, {scope_name}: " + ", ".join(f"{p} {v:,.0f} ms" for p, v in ms[scope_name].items()),
                          flush=True)
                context.close()
                fresh = {}
                for page, address in addresses(url, "all_apis", "period=14d&").items():
                    context = browser.new_context(viewport={"width": 1440, "height": 1000})
                    fresh[page] = round(visit(context.new_page(), address, page), 1)
                    context.close()
                print("chromium, new browser profile each (all APIs, 14 days): "
                      + ", ".join(f"{p} {v:,.0f} ms" for p, v in fresh.items()), flush=True)
            finally:
                browser.close()
    finally:
        stop(process)
    return {
        "requests": spec.requests, "customers": spec.customers, "days": spec.days, "period": PERIOD,
        "one_api": api_name, "largest_customer": largest, "ms": ms, "warm_up_ms": warm_up,
        "new_browser_profile_ms": fresh, "target_ms": BROWSER_TARGET_MS,
        "within_target": all(v <= BROWSER_TARGET_MS for pages in ms.values() for v in pages.values()),
        "measured": "navigation start (page.goto, a full load and a new Streamlit session) to the page's content "
                    "visible, as performance.now() in the page; one browser context whose HTTP cache holds the "
                    "app's scripts from a warm-up visit; the page's reads not in Streamlit's cache; OS page cache "
                    "not dropped (dropping it would time Chromium re-reading its own files)",
    }


def visit(tab, address: str, kind: str) -> float:
    """Milliseconds from navigating `tab` to `address` until the page's content is visible."""
    tab.goto(address, wait_until="commit")
    shown = tab.wait_for_function(CONTENT_VISIBLE, arg=kind, polling="raf", timeout=120_000).json_value()
    if shown == -1:
        raise RuntimeError(f"{address}: the page shows an exception")
    return float(shown)


if __name__ == "__main__":
    main()

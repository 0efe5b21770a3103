"""Dashboard benchmark (issue 3): the data behind each page at 10M requests, and each page in Chromium.

    .venv/bin/python -m bench.dashboard [--requests 10000000] [--customers 100000] [--days 90]
                                        [--browser-requests 1000000] [--skip-browser] [--db-dir bench/out]
                                        [--postgres URL [--postgres-restart CMD]]

1. Builds (once; cached under --db-dir, keyed by size and seed) a database of --requests requests
   from --customers customers over --days days, with bulk SQL straight into the real schema, and
   fills every rollup from the raw rows as db/writes/records.py's RecordWriter would have.
2. Times, cold and without Streamlit's cache, the reads behind each page for the last 30 days of
   the data, for the busiest API and for all APIs: home (every widget, and the previous period's
   counts), customers (first page and total), the busiest customer's profile (header, graph,
   filter options, the first 100 history rows and their count); the sidebar apart. Cold: the OS
   page cache dropped (when running as root) and a new SQLite connection before each run; the
   median of --repeat runs counts.
3. Times the same figures computed naively, by GROUP BY over the raw requests (one cold run each),
   and fails loudly (exit status 1) when they differ from the rollup figures.
   The signal pages (bench/signals.py) the same way: the scheduled signals computed once (timed),
   then the endpoints page, gone quiet and the profile's signals, beside their naive figures. And
   the Usage page's month (bench/usage.py): the last whole month's usage per customer.
4. At --browser-requests, times each page in headless Chromium from navigation until its content
   is visible, against a real `streamlit run streamlit_app.py` on a free port: in a browser that
   has loaded the app once (a warm-up visit), and in a new browser profile each.

With --postgres URL (a server where the bench may create databases), step 1's SQLite database is
copied into the database footfall_bench_<its name> of that server with `footfall copy`'s own code
(db/operations/copy.py; timed, and skipped when the target already holds a copy of the same file with as many
requests), vacuumed and analyzed, and steps 2 and 3 read from there. Cold then means a new server
connection, the OS page cache dropped, and, with --postgres-restart CMD, the server restarted by CMD
first (its shared buffers empty). The browser part (step 4) stays on SQLite.

Readable lines first; the last line is JSON with every figure and the sizes they were measured at.
The SQL of bench/ builds the benchmark database (bench/synthetic.py) and states the naive baseline
(bench/naive.py); the app's reads are db/'s (bench/reads.py calls them as the pages do).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import closing
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench.browser import bench_browser
from bench.reads import ColdCache, bench_reads, create_latency_bucket
from bench.signals import bench_signals
from bench.synthetic import DataSpec, cached_database, database_bytes
from bench.usage import bench_usage
from core.periods import DAY, Period
from core.scope import Scope
from db.backends.postgres_url import without_password
from db.connection import connect, connect_readonly, is_postgres
from db.operations.copy import COPIED_FROM_KEY, copy_database, source_name

OUT = Path(__file__).resolve().parent / "out"
PG_DATABASE = "footfall_bench_{}"  # the SQLite file's name: each size has its own copy


def postgres_database(db: Path) -> str:
    """The server database that holds the copy of the SQLite file db."""
    return PG_DATABASE.format(db.stem.replace("-", "_"))


def count_arg(text: str) -> int:
    """A count as typed, underscores allowed (10_000_000)."""
    return int(text.replace("_", ""))


def postgres_copy(db: Path, server: str) -> tuple[str, dict]:
    """The benchmark database copied into postgres_database(db) on the server (created if missing), as
    `footfall copy` copies (db/operations/copy.py), unless that database already holds a copy of the same file
    with as many requests; then VACUUM (ANALYZE), as autovacuum would have left a live database.
    Returns the database's URL and what was done, with the copy's time and rate."""
    database = postgres_database(db)
    url = urlunsplit(urlsplit(server)._replace(path="/" + database))
    with psycopg.connect(server, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{database}"')
    with closing(connect(db)) as source, closing(connect(url)) as target:
        name = source_name(db)
        requests = source.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
        marker = target.execute("SELECT value FROM settings WHERE key = ?", (COPIED_FROM_KEY,)).fetchone()
        if marker and marker[0] == name and target.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == requests:
            out: dict[str, Any] = {"copied": False}
            print(f"postgresql: {without_password(url)} already holds a copy of {db.name} ({requests:,} requests)",
                  flush=True)
        else:
            print(f"postgresql: copying {db.name} into {without_password(url)} (db/operations/copy.py, as `footfall copy`) ...",
                  flush=True)
            report = copy_database(source, target, name)
            out = {"copied": True, "copy_seconds": round(report.seconds, 1), "copy_rows": report.rows,
                   "copy_tables": report.tables, "copy_rows_per_second": round(report.rows / report.seconds),
                   "copy_requests_per_second": round(report.requests / report.seconds)}
            print(f"postgresql: copied {report.rows:,} rows of {report.tables} tables ({report.requests:,} requests)"
                  f" in {report.seconds:.1f}s: {out['copy_rows_per_second']:,} rows/s,"
                  f" {out['copy_requests_per_second']:,} requests/s", flush=True)
        started = time.perf_counter()
        target.execute("VACUUM (ANALYZE)")
        out["vacuum_analyze_seconds"] = round(time.perf_counter() - started, 1)
        out["db_mb"] = round(target.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e6)
        out["server"] = target.execute("SHOW server_version").fetchone()[0]
        out["settings"] = dict(target.execute(
            "SELECT name, setting || COALESCE(unit, '') FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem',"
            " 'effective_cache_size', 'max_connections', 'fsync', 'synchronous_commit', 'max_wal_size',"
            " 'random_page_cost', 'jit') ORDER BY name").fetchall())
    print(f"postgresql: VACUUM (ANALYZE) took {out['vacuum_analyze_seconds']}s; database {out['db_mb']:,} MB;"
          f" PostgreSQL {out['server']}, " + ", ".join(f"{k}={v}" for k, v in out["settings"].items()), flush=True)
    return url, out


def main() -> None:
    """Parse the arguments, run every part asked for, print the figures; exit 1 when they disagree."""
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
    parser.add_argument("--db-dir", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true", help="build the databases even when cached")
    parser.add_argument("--keep-os-cache", action="store_true",
                        help="cold = a new SQLite connection only; do not drop the OS page cache (smoke tests)")
    parser.add_argument("--postgres", metavar="URL",
                        help="read from a copy on this PostgreSQL server (see above; the server must let the bench"
                             f" create the database {PG_DATABASE.format('<the SQLite file name>')})")
    parser.add_argument("--postgres-restart", metavar="CMD",
                        help="a shell command that restarts the server and waits until it is up (pg_ctl -w"
                             " restart), run before each cold measurement: the server's shared buffers empty too")
    args = parser.parse_args()
    if args.customers < 1 or args.requests < 2 * args.customers or args.days < 2:
        parser.error("need at least 1 customer, 2 requests per customer and 2 days")
    if args.postgres is not None and not is_postgres(args.postgres):
        parser.error("--postgres takes a postgresql:// URL")
    if args.postgres_restart and not args.postgres:
        parser.error("--postgres-restart goes with --postgres")

    cold = ColdCache(drop_os_cache=not args.keep_os_cache, postgres=bool(args.postgres), restart=args.postgres_restart)
    print(f"cold: {cold.description}", flush=True)
    results: dict[str, Any] = {"machine_cores": os.cpu_count(), "cold": cold.description}

    spec = DataSpec(args.requests, args.customers, args.days, args.seed)
    db, info = cached_database(args.db_dir, spec, rebuild=args.rebuild)
    results["sizes"] = {**asdict(spec), "db_mb": round(database_bytes(db) / 1e6), "built_seconds": info["built_seconds"]}
    print(f"database: {db.name}, {results['sizes']['db_mb']:,} MB "
          f"(built in {info['built_seconds']:.0f}s{'' if info['fresh'] else ', cached'})", flush=True)

    source: Path | str = db  # what the reads read: the SQLite file, or its copy on the server
    results["backend"] = "sqlite"
    if args.postgres:
        source, results["postgresql"] = postgres_copy(db, args.postgres)
        results["backend"] = "postgresql"
        if not args.skip_naive:
            checked = create_latency_bucket(source)
            print(f"postgresql: the SQL function latency_bucket (naive queries) agrees with core.latency on all"
                  f" {checked:,} distinct load times of the data", flush=True)

    reads = bench_reads(source, info["end"], cold, naive=not args.skip_naive, repeat=max(1, args.repeat))
    results.update(reads)
    period = Period(reads["period"]["since"], reads["period"]["until"])
    with closing(connect_readonly(source)) as conn:
        one_api = conn.execute("SELECT id FROM apis WHERE name = ?", (reads["one_api"],)).fetchone()[0]
    scopes = {"one_api": Scope(one_api, period), "all_apis": Scope(None, period)}
    results.update(bench_signals(source, info["end"], cold, scopes, reads["largest_customer"],
                                 naive=not args.skip_naive, repeat=max(1, args.repeat)))

    results.update(bench_usage(source, info["end"], cold, naive=not args.skip_naive, repeat=max(1, args.repeat)))

    if args.skip_browser:
        results["browser"] = {"skipped": True}
    else:
        customers = args.browser_customers or max(1, round(args.customers * args.browser_requests / args.requests))
        bspec = DataSpec(args.browser_requests, min(customers, args.browser_requests // 2), args.days, args.seed)
        # The app's periods end now: a browser database more than a day old is built again.
        bdb, _ = cached_database(args.db_dir, bspec, rebuild=args.rebuild, max_age=DAY)
        results["browser"] = bench_browser(bdb, bspec)

    print(json.dumps(results), flush=True)
    if any(results.get(check) not in ("passed", "skipped")
           for check in ("consistency", "signals_consistency", "usage_consistency")):
        sys.exit(1)


if __name__ == "__main__":
    main()

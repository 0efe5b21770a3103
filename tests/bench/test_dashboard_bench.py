"""python -m bench.dashboard at a tiny size: its JSON, its consistency check, and its bulk-built rollups
against what the real ingest path (RecordWriter) writes for the same requests."""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from pyroaring import BitMap

from bench.dashboard import postgres_database
from bench.synthetic import DataSpec, build_database
from core.demo import DEMO_APIS
from core.record import Record
from db.connection import connect
from db.queries.details import unpacked
from db.writes.apis import add_api
from db.writes.records import RecordWriter

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--requests", "20000", "--customers", "400", "--days", "40"]  # the 30-day period and the one before


def run_bench(db_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench.dashboard", *TINY, "--skip-browser", "--keep-os-cache", "--db-dir", str(db_dir),
         *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    db_dir = tmp_path_factory.mktemp("bench")
    return db_dir, run_bench(db_dir)


def test_the_last_line_is_json_with_every_figure_and_the_consistency_check_passed(tiny_run):
    _, run = tiny_run
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["consistency"] == "passed", figures.get("consistency_problems")
    assert figures["sizes"]["requests"] == 20000 and figures["sizes"]["customers"] == 400
    assert figures["sizes"]["days"] == 40
    for scope in ("one_api", "all_apis"):
        assert set(figures["reads_ms"][scope]) == {"sidebar", "home", "customers", "profile"}
        assert set(figures["naive_ms"][scope]) == set(figures["ratio"][scope]) == {"home", "customers", "profile"}
        assert all(isinstance(ms, float) and ms > 0 for ms in figures["reads_ms"][scope].values())
        assert figures["largest_customer"][scope]
    assert isinstance(figures["reads_within_target"], bool)
    assert "OS page cache NOT dropped" in figures["cold"]
    assert figures["browser"] == {"skipped": True}
    assert figures["signals_consistency"] == "passed", figures.get("signals_consistency_problems")
    for scope in ("one_api", "all_apis"):
        assert set(figures["signals_ms"][scope]) == {"endpoints", "endpoints_moved_off", "gone_quiet", "profile_signals",
                                                     "customer_page", "alerts"}
        assert set(figures["signals_naive_ms"][scope]) == {"endpoints", "gone_quiet", "profile_signals", "customer_page"}
        assert set(figures["signals_live_ms"][scope]) == {"endpoint_callers", "gone_quiet", "peers"}
    assert figures["refresh_scopes"] == 5 and figures["refresh_seconds"] >= 0
    assert figures["usage_consistency"] == "passed", figures.get("usage_consistency_problems")
    assert set(figures["usage_ms"]) == set(figures["usage_whole_month_ms"]) == set(figures["usage_naive_ms"]) \
        == {"one_api", "all_apis"}
    assert figures["usage_rows"] > 0 and isinstance(figures["usage_within_target"], bool)


def bench_on_a_broken_copy(tiny_run, tmp_path: Path, damage: str) -> subprocess.CompletedProcess:
    """The bench on a copy of the tiny database, with one UPDATE made to it first."""
    db_dir, run = tiny_run
    assert run.returncode == 0, run.stderr
    for path in db_dir.glob("dashboard-*.db*"):
        shutil.copy(path, tmp_path / path.name)
    [db] = tmp_path.glob("dashboard-*.db")
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(damage)
    conn.close()
    return run_bench(tmp_path)


def test_a_rollup_that_disagrees_with_the_raw_requests_fails_the_bench_loudly(tiny_run, tmp_path):
    # One day inside the period counts one request too many for every customer.
    broken = bench_on_a_broken_copy(tiny_run, tmp_path, "UPDATE customer_daily SET requests = requests + 1"
                                    " WHERE day = (SELECT MAX(day) FROM customer_daily) - 5 * 86400")
    assert broken.returncode == 1
    assert "CONSISTENCY FAILED" in broken.stderr
    assert json.loads(broken.stdout.strip().splitlines()[-1])["consistency"] == "failed"


def test_an_endpoint_rollup_that_disagrees_with_the_raw_requests_fails_the_bench_too(tiny_run, tmp_path):
    # An hour inside the period counts one error too many for every endpoint.
    broken = bench_on_a_broken_copy(tiny_run, tmp_path, "UPDATE endpoint_totals SET errors = errors + 1"
                                    " WHERE hour = (SELECT MAX(hour) FROM endpoint_totals) - 50 * 3600")
    figures = json.loads(broken.stdout.strip().splitlines()[-1])
    assert broken.returncode == 1
    assert figures["consistency"] == "passed" and figures["signals_consistency"] == "failed"
    assert any("endpoint list" in problem for problem in figures["signals_consistency_problems"])


def test_a_monthly_rollup_that_disagrees_with_the_raw_requests_fails_the_bench_too(tiny_run, tmp_path):
    # One customer's last whole month counts one request too many.
    broken = bench_on_a_broken_copy(tiny_run, tmp_path, "UPDATE customer_monthly SET requests = requests + 1"
                                    " WHERE (api_id, month, customer_id) = (SELECT api_id, MAX(month), MIN(customer_id)"
                                    " FROM customer_monthly WHERE month < (SELECT MAX(month) FROM customer_monthly))")
    figures = json.loads(broken.stdout.strip().splitlines()[-1])
    assert broken.returncode == 1
    assert figures["consistency"] == "passed" and figures["usage_consistency"] == "failed"


def test_on_postgresql_the_pages_read_a_copy_of_the_database_and_are_checked_against_naive_figures_there(
        tiny_run, pg_cluster):
    db_dir, run = tiny_run
    assert run.returncode == 0, run.stderr
    first = run_bench(db_dir, "--postgres", pg_cluster.url())
    assert first.returncode == 0, first.stderr
    figures = json.loads(first.stdout.strip().splitlines()[-1])
    assert figures["backend"] == "postgresql" and figures["postgresql"]["copied"] is True
    assert figures["postgresql"]["copy_rows_per_second"] > 0
    assert figures["consistency"] == "passed", figures.get("consistency_problems")
    assert figures["signals_consistency"] == "passed", figures.get("signals_consistency_problems")
    assert "shared buffers NOT emptied" in figures["cold"]
    assert "latency_bucket (naive queries) agrees with core.latency" in first.stdout
    # The copy on the server is what is read: a rollup damaged there (not in the file) fails the bench,
    # and the copy is not made again (the server already holds one of the same file).
    with psycopg.connect(pg_cluster.url(postgres_database(next(db_dir.glob("dashboard-*.db")))),
                         autocommit=True) as server:
        server.execute("UPDATE customer_daily SET requests = requests + 1"
                       " WHERE day = (SELECT MAX(day) FROM customer_daily) - 5 * 86400")
    again = run_bench(db_dir, "--postgres", pg_cluster.url(), "--repeat", "1")
    figures = json.loads(again.stdout.strip().splitlines()[-1])
    assert again.returncode == 1 and "CONSISTENCY FAILED" in again.stderr
    assert figures["postgresql"]["copied"] is False and figures["consistency"] == "failed"


ROLLUPS = {
    "api_hourly": "api_id, hour",
    "customer_hourly": "api_id, customer_id, hour",
    "customer_daily": "api_id, day, customer_id",
    "customer_latency_daily": "api_id, customer_id, day, bucket",
    "api_customers": "api_id, customer_id",
    "customers": "id",
    "active_daily": "api_id, day",
    "active_hourly": "api_id, hour",
    # Endpoint rollups, their endpoint ids replaced by what the ids stand for (ids follow arrival order).
    "endpoints": "api_id, method, name",
    "customer_endpoints": "customer_id, endpoint",
    "endpoint_daily": "endpoint, day, customer_id",
    "endpoint_hourly": "endpoint, hour, customer_id",
    "endpoint_totals": "endpoint, hour",
    "endpoint_callers_daily": "endpoint, day",
    "endpoint_callers_hourly": "endpoint, hour",
    # Usage for billing, per month (the data crosses a month's edge).
    "customer_monthly": "api_id, month, customer_id",
    "endpoint_monthly": "endpoint, month, customer_id",
}
ENDPOINT = "(SELECT api_id || ' ' || method || ' ' || name FROM endpoints e WHERE e.id = t.endpoint_id) AS endpoint"


def table_rows(conn: sqlite3.Connection, table: str) -> list[tuple]:
    if table == "customers":
        columns = "id, external_id, name_from_traffic, first_seen, last_seen, requests"
    elif table == "endpoints":
        columns = "api_id, method, name"
    elif table.startswith("endpoint_") or table == "customer_endpoints":
        kept = [c for (_, c, *_) in conn.execute(f"PRAGMA table_info({table})") if c != "endpoint_id"]
        columns = ", ".join([ENDPOINT, *kept])
    else:
        columns = "*"
    return conn.execute(f"SELECT {columns} FROM {table} AS t ORDER BY {ROLLUPS[table]}").fetchall()


def same_value(x, y) -> bool:
    """Equal, floats within rounding (sums added in another order differ in the last bits), and
    customer sets by their members."""
    if isinstance(x, float) or isinstance(y, float):
        return math.isclose(x, y, rel_tol=1e-9)
    if isinstance(x, bytes) and isinstance(y, bytes):
        return BitMap.deserialize(x) == BitMap.deserialize(y)
    return x == y


def same_row(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))


def test_the_bulk_built_rollups_are_what_record_writer_writes_for_the_same_requests(tmp_path):
    built = tmp_path / "built.db"
    # Ending 2026-10-03 04:00 UTC: its four days cross the edge of September and October.
    build_database(built, DataSpec(requests=4000, customers=120, days=4, seed=3), end=1_791_000_000)
    source = connect(built)
    replayed = connect(tmp_path / "replayed.db")
    keys = dict(DEMO_APIS)  # the builder registers the demo APIs with their keys
    for (name,) in source.execute("SELECT name FROM apis ORDER BY id").fetchall():
        add_api(replayed, name, keys[name])
    rows = source.execute("""
        SELECT a.name, c.external_id, c.name_from_traffic, r.ts, r.method, r.status, r.path, r.query, r.endpoint,
               r.load_time_ms, r.size, r.threat_level, r.threat_reasons, r.device, r.os, r.browser, r.ai_agent,
               r.country, r.city, r.ip, r.user_agent, r.sdk, d.dictionary_id, d.details
        FROM requests r JOIN apis a ON a.id = r.api_id LEFT JOIN customers c ON c.id = r.customer_id
        JOIN request_details d ON d.request_id = r.id ORDER BY r.id""").fetchall()
    details = unpacked(source, [row[-2:] for row in rows])
    rows = [(*row[:-2], *detail.values()) for row, detail in zip(rows, details)]
    writer = RecordWriter(replayed)
    for start in range(0, len(rows), 500):  # batches, as the collector groups them
        writer.write([Record(keys[row[0]], *row[1:]) for row in rows[start:start + 500]])
    assert source.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 4000
    assert (source.execute("SELECT * FROM requests ORDER BY id").fetchall()
            == replayed.execute("SELECT * FROM requests ORDER BY id").fetchall())
    for table in ROLLUPS:
        ours, theirs = table_rows(source, table), table_rows(replayed, table)
        assert ours, table
        assert len(ours) == len(theirs), table
        different = [(a, b) for a, b in zip(ours, theirs) if not same_row(a, b)]
        assert not different, (table, different[:3])

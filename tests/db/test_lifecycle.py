"""The data's lifecycle: pruning keeps every figure, erasing a customer leaves the others' figures
exactly as if it had never called and leaves no byte of it in the files, a backup taken while
the collector writes is consistent, and the database is created for its owner only. On both
backends (on PostgreSQL a backup is pg_dump's, read back with pg_restore)."""

from __future__ import annotations

import dataclasses
import math
import os
import random
import sqlite3
import stat
import subprocess
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import psycopg
import pytest
from pyroaring import BitMap

from conftest import start_collector, stop, until
from core.periods import DAY, Period
from core.record import record_from_payload
from core.scope import Scope
from db.backends.partitions import existing_days, partition_name
from db.connection import connect, is_postgres
from db.operations.backup import backup
from db.operations.erase import ERASURES_KEY, UnknownCustomer, delete_api, erase_customer, erasures
from db.operations.prune import PRUNED_BEFORE_KEY, prune
from db.queries.details import unpacked
from db.queries.figures import active_count
from db.reads.customers import customer_list
from db.reads.history import customer_requests
from db.reads.home import home_figures, period_counts
from db.reads.profile import customer_profile
from db.writes.apis import add_api
from db.writes.counters import EDITS_KEY, INGEST_KEY
from db.writes.edits import save_description, save_display_name, save_favorite
from db.writes.records import RecordWriter
from factories import API_KEY, format_b, payload
from postgres_cluster import SUPERUSER
from services.retention import prune_expired, retention_cutoff
from stored_bytes import relations_holding, stored_bytes

OTHER_KEY = "other-project-key"
VICTIM = "cus_victim_7f3"
VICTIM_NAME = "Vicky Victimson"  # from traffic
VICTIM_ALIAS = "Victoria Erasedname"  # given by an analyst
VICTIM_NOTES = "Erase-me notes about this account"
VICTIM_BODY = "TANGERINE-WALRUS-9431"
VICTIM_ENDPOINT = "/api/exports/tangerine-walrus-quarterly"  # a path only the victim calls names an endpoint
SHARED_WITH_UNIDENTIFIED = "/api/reports/weekly"  # called by the victim and by unidentified callers alone
VICTIM_IP = "198.51.100.77"  # the victim's alone: the raw requests' lookups keep an IP once for all its requests
VICTIM_AGENT = "TangerineWalrusClient/9.4 (victim's own build)"
OTHERS = [f"cus_{n}" for n in range(7)]
ANALYST = "ana@example.com"
TRACES = (VICTIM, VICTIM_NAME, VICTIM_ALIAS, VICTIM_NOTES, VICTIM_BODY, VICTIM_ENDPOINT, VICTIM_IP, VICTIM_AGENT)
# Stored as text; the body is only in the victim's packed details (core/detail_codec.py), which the
# tests look for as the frames stored.
TEXT_TRACES = tuple(trace for trace in TRACES if trace != VICTIM_BODY)


def open_backup(path: Path, new_db) -> sqlite3.Connection:
    """A connection to what a backup holds: the SQLite file itself, checked; or pg_dump's file
    restored by pg_restore into an empty PostgreSQL database."""
    url = new_db("restored.db", empty=True)
    if not is_postgres(url):
        copy = sqlite3.connect(path)
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return copy
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", url, str(path)], check=True,
                   capture_output=True)
    return connect(url)


def _ts(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


def traffic(calls: int = 900, seed: int = 3) -> list[list[dict]]:
    """Batches of payloads: the victim and seven others (Zipf-like), unidentified calls, two APIs,
    ten days at every hour, every status class, fractional load times; the victim also calls an
    endpoint of its own and one only unidentified callers share."""
    rnd = random.Random(seed)
    users = [VICTIM, *OTHERS, None]
    weights = [6, 10, 7, 5, 4, 3, 2, 1, 4]
    start = _ts("2026-11-01 00:00:00")
    payloads = []
    for n in range(calls):
        user = rnd.choices(users, weights)[0]
        moment = datetime.fromtimestamp(start + rnd.randrange(10 * DAY), tz=timezone.utc)
        common = dict(
            timestamp=moment.strftime("%Y-%m-%d %H:%M:%S"), api_key=rnd.choice([API_KEY, OTHER_KEY]),
            status=rnd.choice([200, 200, 201, 302, 404, 422, 500]), load_time=round(rnd.uniform(0.5, 900), 3),
            url=f"https://api.example.com/api/items/{n}",
        )
        if user == VICTIM:
            payloads.append(format_b(metadata={"user-id": VICTIM, "user-name": VICTIM_NAME}, user_id=None,
                                     body={"note": VICTIM_BODY}, ip=VICTIM_IP, user_agent=VICTIM_AGENT, **common))
        else:
            payloads.append(payload(user_id=user, **common))
    for n, (path, user) in enumerate([(VICTIM_ENDPOINT, VICTIM), (SHARED_WITH_UNIDENTIFIED, VICTIM),
                                      (SHARED_WITH_UNIDENTIFIED, None)] * 3):
        moment = datetime.fromtimestamp(start + 4 * DAY + n * 3_600, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        url = f"https://api.example.com{path}"
        payloads.append(format_b(metadata={"user-id": VICTIM, "user-name": VICTIM_NAME}, user_id=None, url=url,
                                 timestamp=moment) if user else payload(user_id=None, url=url, timestamp=moment))
    return [payloads[i:i + 70] for i in range(0, len(payloads), 70)]


def _without_victim(batches: list[list[dict]]) -> list[list[dict]]:
    return [[p for p in batch if p["data"].get("metadata", {}).get("user-id") != VICTIM] for batch in batches]


def fill(conn: sqlite3.Connection, batches: list[list[dict]]) -> None:
    """Register both APIs, write the batches as the collector would, and make the same edits."""
    add_api(conn, "Other API", OTHER_KEY)
    writer = RecordWriter(conn)
    for batch in batches:
        writer.write([record_from_payload(p, received_at=time.time()) for p in batch])
    save_favorite(conn, "", "cus_2", True)
    save_favorite(conn, ANALYST, "cus_3", True)
    save_display_name(conn, "cus_1", "Customer One")
    if conn.execute("SELECT 1 FROM customers WHERE external_id = ?", (VICTIM,)).fetchone():
        save_display_name(conn, VICTIM, VICTIM_ALIAS)
        save_description(conn, VICTIM, VICTIM_NOTES, editor=ANALYST)
        save_favorite(conn, "", VICTIM, True)
        save_favorite(conn, ANALYST, VICTIM, True)


PERIODS = [
    Period(None, None),
    Period(_ts("2026-11-03 00:00"), _ts("2026-11-06 00:00")),  # whole days
    Period(_ts("2026-11-02 05:00"), _ts("2026-11-04 17:00")),  # whole days and edge hours
    Period(_ts("2026-11-05 10:00"), _ts("2026-11-05 13:00")),  # inside one day
    Period(_ts("2026-11-04 00:00"), None),
    Period(None, _ts("2026-11-04 00:00")),
    Period(_ts("2026-10-01 00:00"), _ts("2026-10-02 00:00")),  # before any traffic
]


def figures(conn: sqlite3.Connection, customers: list[str]) -> dict:
    """Every figure of the read models for these customers, per scope: customer lists, the home
    page's counts and lists, active customers, each customer's profile (without its database id)."""
    out = {}
    for api_id in (None, 1, 2):
        for period in PERIODS:
            scope = Scope(api_id, period)
            home, starred = home_figures(conn, scope), home_figures(conn, scope, ANALYST)
            out[(api_id, period)] = {
                "customers": customer_list(conn, scope).to_dicts(),
                "counts": dataclasses.asdict(period_counts(conn, scope)),
                "active": active_count(conn, scope),
                "top": home.top.to_dicts(),
                "newest": home.newest.to_dicts(),
                "favorites": home.favorites.to_dicts(),
                "analyst's favorites": starred.favorites.to_dicts(),
                "profiles": {c: {k: v for k, v in dataclasses.asdict(customer_profile(conn, c, scope)).items()
                                 if k not in ("id", "description_at")} for c in customers},
            }
    return out


RAW = ("request_log", "request_details")
LOOKUPS = {"route_id": "routes", "agent_id": "agents", "place_id": "places"}  # request_log's, by their key


def contents(conn: sqlite3.Connection, skip: tuple[str, ...] = ()) -> dict:
    """Every row of every table, sorted, with customers named by their external ID instead of
    database ids (and every active-customer set as IDs), and without what differs between two
    databases fed the same calls: request ids, API creation times, when a description was edited,
    the edit counter, a prune's cutoff; endpoints are named by method and name; details are their
    texts unpacked, without the dictionaries they were packed with (when an API's dictionary is
    trained depends on how the calls were batched; on PostgreSQL they are in the request_log rows,
    and read through the view request_details)."""
    names = dict(conn.execute("SELECT id, external_id FROM customers"))
    endpoints = {eid: f"{method} {name}" for eid, method, name in conn.execute("SELECT id, method, name FROM endpoints")}
    lookups = {column: dict(conn.execute(f"SELECT id, key FROM {table}")) for column, table in LOOKUPS.items()}
    out = {}
    for table in dict.fromkeys([*tables(conn), "request_details"]):
        if table in skip or table in LOOKUPS.values() or table == "detail_dictionaries":  # shown where used
            continue
        if table == "request_details":
            out[table] = sorted((tuple(detail.values()) for detail in unpacked(
                conn, conn.execute("SELECT dictionary_id, details FROM request_details").fetchall())), key=repr)
            continue
        columns = [c[0] for c in conn.execute(f"SELECT * FROM {table} LIMIT 0").description]
        rows = []
        for row in conn.execute(f"SELECT * FROM {table}"):
            shown = []
            for column, value in zip(columns, row):
                if (table, column) in {("customers", "id"), ("request_log", "id"), ("request_details", "request_id"),
                                       ("request_log", "dictionary_id"), ("request_log", "details"),
                                       ("apis", "created_at"), ("customers", "description_at"), ("endpoints", "id")}:
                    continue
                if column == "customer_id" and value is not None:
                    value = names.get(value, f"unknown customer #{value}")
                elif column == "endpoint_id":
                    value = endpoints.get(value, f"unknown endpoint #{value}")
                elif table == "request_log" and column in LOOKUPS:
                    value = lookups[column].get(value, f"unknown {column} #{value}")
                elif (table.startswith("active_") or table.startswith("endpoint_callers_")) and column == "customers":
                    value = sorted(names.get(cid, f"unknown customer #{cid}") for cid in BitMap.deserialize(value))
                shown.append(value)
            if table != "settings" or row[0] not in (EDITS_KEY, ERASURES_KEY, INGEST_KEY, PRUNED_BEFORE_KEY):
                rows.append(tuple(shown))
        out[table] = sorted(rows, key=repr)
    return out


def tables(conn) -> list[str]:
    """Every table of the database (on PostgreSQL a partitioned table as one, its partitions left out)."""
    if conn.backend.name == "postgresql":
        return [name for (name,) in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p')"
            " AND NOT relispartition ORDER BY relname")]
    return [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]


def writes_seen(conn):
    """What changes when anything is written: SQLite's count of changes; on PostgreSQL the edit
    counter every prune transaction bumps, the day partitions and the requests."""
    if conn.backend.name != "postgresql":
        return conn.total_changes
    edits = conn.execute("SELECT value FROM settings WHERE key = ?", (EDITS_KEY,)).fetchone()
    return edits, existing_days(conn), conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]


def assert_same(actual, expected, where="") -> None:
    """Equal, floats within 1e-9."""
    differ = f"{where}: {str(actual)[:300]} != {str(expected)[:300]}"
    if isinstance(expected, float) and isinstance(actual, (int, float)):
        assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9), differ
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), differ
        for key in expected:
            assert_same(actual[key], expected[key], f"{where}/{key}")
    elif isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected), differ
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, f"{where}[{i}]")
    else:
        assert actual == expected, differ


def victim_details(conn) -> list[bytes]:
    """The victim's packed details that hold something of theirs (its body, address, user agent),
    as stored: the bytes an erasure must leave nowhere. (Others are the same bytes as another
    customer's details.)"""
    rows = conn.execute("SELECT d.dictionary_id, d.details FROM request_details d JOIN requests r ON r.id = d.request_id"
                        " JOIN customers c ON c.id = r.customer_id WHERE c.external_id = ?", (VICTIM,)).fetchall()
    theirs = [bytes(packed) for (_, packed), detail in zip(rows, unpacked(conn, rows))
              if any(trace in text for trace in TRACES for text in detail.values())]
    assert theirs
    return theirs


def file_bytes(db_path: Path) -> bytes:
    return b"".join(Path(f"{db_path}{suffix}").read_bytes() for suffix in ("", "-wal", "-shm")
                    if Path(f"{db_path}{suffix}").exists())


# --- Prune -------------------------------------------------------------------------------------


def test_prune_removes_old_raw_requests_in_batches_and_keeps_every_figure(conn, backend):
    fill(conn, traffic())
    cutoff = _ts("2026-11-04 12:00")
    old = conn.execute("SELECT COUNT(*) FROM requests WHERE ts < ?", (cutoff,)).fetchone()[0]
    # On PostgreSQL the three days before go as whole partitions, the morning of the 4th in batches.
    morning = conn.execute("SELECT COUNT(*) FROM requests WHERE ts >= ? AND ts < ?",
                           (_ts("2026-11-04 00:00"), cutoff)).fetchone()[0]
    total = conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
    before_figures, before_rollups = figures(conn, [VICTIM, *OTHERS]), contents(conn, RAW)
    history = customer_requests(conn, "cus_0", Scope(None, Period(None, None)), 10_000)

    report = prune(conn, cutoff, batch=40, pause=0)

    assert report.requests == old > 200
    if backend == "sqlite":
        assert report.transactions >= old / 40
    else:
        assert report.transactions == 3 + math.ceil(morning / 40)
        assert min(existing_days(conn)) == _ts("2026-11-04 00:00")
    assert conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == total - old
    assert conn.execute("SELECT MIN(ts) FROM requests").fetchone()[0] >= cutoff
    assert conn.execute("SELECT COUNT(*) FROM request_details").fetchone()[0] == total - old
    assert conn.execute("SELECT COUNT(*) FROM request_details WHERE request_id NOT IN (SELECT id FROM requests)"
                        ).fetchone()[0] == 0
    assert_same(contents(conn, RAW), before_rollups)
    assert_same(figures(conn, [VICTIM, *OTHERS]), before_figures)
    # Only the request history of that time is gone.
    kept = customer_requests(conn, "cus_0", Scope(None, Period(None, None)), 10_000)
    assert kept.to_dicts() == history.filter(history["time"] >= cutoff).to_dicts() and len(kept) < len(history)
    # ... and the cutoff is kept, so that the history can say so (db/reads/history.py).
    assert conn.execute("SELECT value FROM settings WHERE key = ?", (PRUNED_BEFORE_KEY,)).fetchone() == (str(cutoff),)


def test_prune_with_nothing_old_enough_writes_nothing(conn):
    fill(conn, traffic(200))
    changes = writes_seen(conn)
    report = prune(conn, _ts("2026-10-01 00:00"))
    assert (report.requests, report.transactions) == (0, 0) and writes_seen(conn) == changes
    assert prune_expired(conn, None, time.time()) is None
    now = _ts("2026-11-20 00:30")  # a retention of 30 days reaches back before any request
    assert prune_expired(conn, 30, now).requests == 0 and writes_seen(conn) == changes


def test_a_writer_keeps_committing_while_a_prune_runs(conn, db_path, backend):
    old = record_from_payload(payload(timestamp="2026-11-01 00:00:00", body={"pad": "y" * 2000}), received_at=0)
    cut = record_from_payload(payload(timestamp="2026-11-10 06:00:00"), received_at=0)  # the cutoff's own day
    new = record_from_payload(payload(timestamp="2026-11-20 00:00:00"), received_at=0)
    RecordWriter(conn).write([old] * 10_000 + [cut] * 2_000)
    waits: list[float] = []
    done = threading.Event()

    def write() -> None:
        collector = connect(db_path)  # as the collector's writer: another connection, busy timeout 30 s
        writer = RecordWriter(collector)
        while not done.is_set():
            began = time.perf_counter()
            writer.write([new])
            waits.append(time.perf_counter() - began)
        collector.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert until(lambda: waits)  # the writer commits before the prune starts...
        before = len(waits)
        report = prune(conn, _ts("2026-11-10 12:00"), batch=1000)
        during = len(waits) - before  # ...and in the pauses between the prune's transactions
    finally:
        done.set()
        thread.join(30)
    # SQLite deletes them 1,000 at a time; PostgreSQL drops the 1st's partition whole, then deletes
    # the older rows of the cutoff's day 1,000 at a time.
    assert report.requests == 12_000 and report.transactions == (12 if backend == "sqlite" else 1 + 2)
    assert during > 0 and max(waits) < 1.0
    assert conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == len(waits)


def test_retention_cutoff_is_the_hour_n_days_back_and_prune_expired_takes_a_path(conn, db_path):
    assert retention_cutoff(3, _ts("2026-11-08 12:34:56")) == _ts("2026-11-05 12:00")
    fill(conn, traffic(300))
    cutoff = retention_cutoff(3, _ts("2026-11-08 12:34:56"))
    old = conn.execute("SELECT COUNT(*) FROM requests WHERE ts < ?", (cutoff,)).fetchone()[0]
    assert prune_expired(db_path, 3, _ts("2026-11-08 12:34:56")).requests == old > 0
    assert conn.execute("SELECT MIN(ts) FROM requests").fetchone()[0] >= cutoff


# --- Erase -------------------------------------------------------------------------------------


def test_erasing_a_customer_leaves_every_other_figure_as_if_it_had_never_called(conn, new_db, backend):
    batches = traffic()
    fill(conn, batches)
    # The rollups are the source, not the raw rows: the oldest requests are pruned first, on both sides.
    cutoff = _ts("2026-11-03 00:00")
    prune(conn, cutoff)
    victim_calls = conn.execute("SELECT requests FROM customers WHERE external_id = ?", (VICTIM,)).fetchone()[0]
    victim_raw = conn.execute("SELECT COUNT(*) FROM requests r JOIN customers c ON c.id = r.customer_id"
                              " WHERE c.external_id = ?", (VICTIM,)).fetchone()[0]

    report = erase_customer(conn, VICTIM)

    never = connect(new_db("never.db"))
    add_api(never, "Test API", API_KEY)
    fill(never, _without_victim(batches))
    prune(never, cutoff)
    assert (report.requests, report.all_time_requests, report.apis) == (victim_raw, victim_calls, 2)
    assert victim_calls > victim_raw > 0 and erasures(conn) == 1
    assert report.wal_truncated is (backend == "sqlite")  # PostgreSQL's write-ahead log is the server's
    assert_same(contents(conn), contents(never))
    assert_same(figures(conn, OTHERS), figures(never, OTHERS))
    everywhere = Scope(None, Period(None, None))
    assert customer_profile(conn, VICTIM, everywhere) is None
    assert customer_requests(conn, VICTIM, everywhere, 100).is_empty()
    assert VICTIM not in {row["customer_id"] for row in customer_list(conn, everywhere).to_dicts()}
    never.close()


def _only_other_api(batches: list[list[dict]]) -> list[list[dict]]:
    return [[p for p in batch if p.get("project_id", p.get("api_key")) == OTHER_KEY] for batch in batches]


def test_deleting_an_api_s_data_leaves_every_other_api_as_if_it_had_never_existed(conn, new_db):
    batches = traffic()
    fill(conn, batches)
    test_api_requests = conn.execute("SELECT COUNT(*) FROM requests WHERE api_id = 1").fetchone()[0]
    only_test_api = {c for (c,) in conn.execute(
        "SELECT external_id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM api_customers a"
        " WHERE a.customer_id = c.id AND a.api_id = 2)")}

    report = delete_api(conn, 1)

    never = connect(new_db("never.db"))
    add_api(never, "Test API", API_KEY)  # so that the other API is id 2 there too
    fill(never, _only_other_api(batches))
    delete_api(never, 1)  # it received nothing
    assert report.requests == test_api_requests > 0 and report.customers == len(only_test_api)
    assert_same(contents(conn), contents(never))
    kept = sorted({c for (c,) in never.execute("SELECT external_id FROM customers")})
    assert kept and set(kept).isdisjoint(only_test_api)
    assert_same(figures(conn, kept), figures(never, kept))
    never.close()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("vacuum", [False, True], ids=["secure delete", "vacuum"])
def test_an_erased_customer_leaves_no_byte_in_the_database_or_its_wal(conn, db_path, vacuum):
    fill(conn, traffic())
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    frames = victim_details(conn)
    written = file_bytes(db_path)
    assert all(trace.encode() in written for trace in TEXT_TRACES)  # the search would find them
    assert frames and all(frame in written for frame in frames)

    assert erase_customer(conn, VICTIM, vacuum=vacuum).vacuumed is vacuum

    assert Path(f"{db_path}-wal").stat().st_size == 0  # checkpointed and truncated
    left = file_bytes(db_path)
    assert [trace for trace in TRACES if trace.encode() in left] == []
    assert [frame for frame in frames if frame in left] == []
    assert b"cus_3" in left and conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_on_postgresql_an_erased_customer_leaves_no_row_and_with_vacuum_no_byte_in_the_table_files(pg_cluster):
    """What PostgreSQL guarantees (db.operations.erase.erase_customer): no row of the customer in any
    table and no value of it in the planner's statistics, the tables vacuumed and analyzed; with
    vacuum (VACUUM FULL), no byte of it in any file of the database's tables, indexes and catalogs.
    The statistics had sampled the customer first: autovacuum may analyze any table before an
    erasure (which made this test fail now and then), and `footfall copy` analyzes the partitioned
    tables as wholes. Its write-ahead log is the server's: not looked at."""
    cluster = pg_cluster
    for vacuum in (False, True):
        url = cluster.create_database(template=cluster.template)
        conn = connect(url)
        try:
            add_api(conn, "Test API", API_KEY)
            fill(conn, traffic())
            conn.execute("ANALYZE")  # every table, and the partitioned ones as wholes
            frames = victim_details(conn)
            written = stored_bytes(url, wal=False)
            assert all(trace.encode() in written for trace in TEXT_TRACES) and all(f in written for f in frames)
            assert [trace for trace in TRACES if trace in planner_statistics(conn)]  # the statistics hold some now
            files = "SELECT relname, pg_relation_filenode(oid) FROM pg_class WHERE relname IN ('customers', 'favorites')"
            before = dict(conn.execute(files))
            analyses = ("SELECT relname, analyze_count FROM pg_stat_user_tables"
                        " WHERE relname IN ('customers', 'customer_hourly', 'favorites')")
            analyzed = dict(conn.execute(analyses))

            assert erase_customer(conn, VICTIM, vacuum=vacuum).vacuumed is vacuum

            rows = repr((contents(conn), [conn.execute(f"SELECT * FROM {t}").fetchall() for t in LOOKUPS.values()]))
            assert [trace for trace in TRACES if trace in rows] == [] and "cus_3" in rows
            assert [trace for trace in TRACES if trace in planner_statistics(conn)] == []
            ran = {table: count - analyzed[table] for table, count in conn.execute(analyses)}
            assert ran == dict.fromkeys(analyzed, 1)  # VACUUM (ANALYZE) ran
            after = dict(conn.execute(files))
            assert sorted(t for t in before if before[t] != after[t]) == (["customers", "favorites"] if vacuum else [])
            assert "customers" in relations_holding(url, ["cus_3"])  # the search finds what is kept
            if vacuum:
                assert relations_holding(url, [*TRACES, *frames]) == {}
        finally:
            conn.close()
            cluster.drop_database(url)


@pytest.mark.postgres_only
def test_an_erasure_that_empties_an_analyzed_table_says_that_its_statistics_keep_the_customer(conn, writer):
    def call(user: str, day: str):
        url = f"https://api.example.com{VICTIM_ENDPOINT}?ref={VICTIM_BODY}"  # the query is stored as it came
        return record_from_payload(payload(user_id=user, timestamp=f"{day} 10:00:00", url=url), received_at=time.time())

    writer.write([call(VICTIM, "2026-11-01") for _ in range(3)] + [call("cus_1", "2026-11-02")])
    conn.execute("ANALYZE")  # as autovacuum does once a day's partition has had its calls

    caveats = erase_customer(conn, VICTIM, vacuum=True).caveats

    alone = partition_name("request_log", _ts("2026-11-01 00:00"))  # the requests with their details
    emptied = [caveat for caveat in caveats if "left empty" in caveat]
    assert len(emptied) == 1 and emptied[0].startswith(f"the planner's statistics of {alone}, left empty")
    assert VICTIM_BODY in planner_statistics(conn)  # PostgreSQL analyzes no empty table


def test_a_role_that_may_not_vacuum_the_catalogs_erases_and_is_told_that_the_statistics_keep_the_customer(pg_cluster):
    """Only a superuser or the database's owner may vacuum pg_statistic; Footfall's role may own its
    tables alone."""
    role = f"footfall_tables_only_{os.getpid()}"
    url = pg_cluster.create_database()  # the superuser's
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
    with psycopg.connect(url, autocommit=True) as owner:
        owner.execute(f'GRANT CREATE ON SCHEMA public TO "{role}"')
    conn = connect(url.replace(f"{SUPERUSER}@", f"{role}@"))  # makes Footfall's tables, its own
    try:
        add_api(conn, "Test API", API_KEY)
        fill(conn, traffic(200))
        conn.execute("ANALYZE")

        report = erase_customer(conn, VICTIM, vacuum=True)

        assert conn.execute("SELECT COUNT(*) FROM customers WHERE external_id = ?", (VICTIM,)).fetchone() == (0,)
    finally:
        conn.close()
        pg_cluster.drop_database(url)
        with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
            admin.execute(f'DROP ROLE "{role}"')
    assert [caveat for caveat in report.caveats if "pg_statistic" in caveat] == [
        "the planner's statistics (pg_statistic) keep values of the customer in rows replaced by the erasure:"
        " only a superuser or the database's owner may run VACUUM FULL pg_statistic"]


def planner_statistics(conn) -> str:
    """Every value PostgreSQL's planner keeps of the database's tables (pg_stats: most common
    values and histograms, of each table and of each partitioned table as a whole), as text."""
    return repr(conn.execute("SELECT tablename, attname, inherited, most_common_vals::text, histogram_bounds::text"
                             " FROM pg_stats WHERE schemaname = current_schema()").fetchall())


def test_a_running_writer_stores_an_erased_customer_who_calls_again_as_a_new_customer(conn, writer, db_path):
    def call(user: str):
        return record_from_payload(payload(user_id=user), received_at=time.time())

    writer.write([call("cus_a"), call(VICTIM)])
    beside = connect(db_path)  # as `footfall erase` beside the running collector
    erase_customer(beside, VICTIM)
    beside.close()
    writer.write([call("cus_new")])  # takes the erased customer's id, the highest one, again
    writer.write([call(VICTIM)])
    counted = dict(conn.execute("SELECT c.external_id, SUM(h.requests) FROM customer_hourly h"
                                " JOIN customers c ON c.id = h.customer_id GROUP BY 1"))
    assert counted == {"cus_a": 1, "cus_new": 1, VICTIM: 1}


def test_erasing_a_customer_deletes_the_endpoints_no_other_customer_called(conn, writer):
    def call(user: str | None, path: str):
        return record_from_payload(payload(user_id=user, url=f"https://api.example.com{path}"), received_at=time.time())

    writer.write([call(VICTIM, VICTIM_ENDPOINT), call(VICTIM, "/api/items/1"), call("cus_1", "/api/items/2"),
                  call(VICTIM, SHARED_WITH_UNIDENTIFIED), call(None, SHARED_WITH_UNIDENTIFIED)])

    erase_customer(conn, VICTIM)

    assert conn.execute("SELECT method, name FROM endpoints").fetchall() == [("GET", "/api/items/{id}")]
    kept = conn.execute("SELECT id FROM endpoints").fetchone()[0]
    for table in ("customer_endpoints", "endpoint_daily", "endpoint_hourly", "endpoint_totals",
                  "endpoint_callers_daily", "endpoint_callers_hourly"):
        assert {eid for (eid,) in conn.execute(f"SELECT endpoint_id FROM {table}")} == {kept}, table
    unidentified = conn.execute("SELECT endpoint FROM requests WHERE customer_id IS NULL").fetchall()
    assert unidentified == [(SHARED_WITH_UNIDENTIFIED,)]  # their own rows keep the name


def test_erasing_an_unknown_customer_is_refused_and_changes_nothing(conn):
    fill(conn, traffic(200))
    before = contents(conn)
    with pytest.raises(UnknownCustomer):
        erase_customer(conn, "nobody")
    assert contents(conn) == before


# --- Backup ------------------------------------------------------------------------------------


def test_a_backup_taken_while_the_collector_writes_holds_exactly_the_requests_committed_when_it_began(
        conn, db_path, tmp_path, new_db, backend):
    # Some bulk first, so that the backup takes a while: the same big call, stored 1,500 times (its
    # padding random, so that packing the details does not shrink it to nothing).
    rng = random.Random(7)
    padding = [rng.randrange(10**8, 10**9) for _ in range(6_000)]  # numbers: not masked as tokens are
    bulk = record_from_payload(payload(user_id="bulk", timestamp="2026-11-01 08:00:00", url="https://api.example.com/bulk",
                                       body={"pad": padding}), received_at=time.time())
    RecordWriter(conn).write([bulk] * 1500)
    process, url = start_collector(db_path)
    acknowledged: list[int] = []
    sent = [0]
    done = threading.Event()

    def call(n: int) -> dict:
        return payload(user_id=f"cus_{n % 5}", url=f"https://api.example.com/api/items/{n}",
                       timestamp=f"2026-11-{1 + n % 9:02d} {n % 24:02d}:00:00", status=[200, 404, 500][n % 3])

    def send() -> None:
        with httpx.Client(timeout=30) as client:
            while not done.is_set():
                n = sent[0]
                sent[0] += 1  # counted before it is sent: an upper bound of what may be committed
                if client.post(url + "/", json=call(n)).status_code != 200:
                    return
                acknowledged.append(n)

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 60
        while len(acknowledged) < count:
            assert sender.is_alive() and time.monotonic() < deadline, "the collector stopped acknowledging"
            time.sleep(0.01)

    sender = threading.Thread(target=send, daemon=True)
    try:
        sender.start()
        wait_for(30)
        at_least = len(acknowledged)
        report = backup(conn, tmp_path / "copy.db")
        at_most = sent[0]
        wait_for(at_most + 20)  # traffic goes on after the backup
    finally:
        done.set()
        sender.join(30)
        stop(process)

    copy = open_backup(tmp_path / "copy.db", new_db)
    paths = [p for (p,) in copy.execute("SELECT path FROM requests WHERE path LIKE ?", ("/api/items/%",))]
    held = sorted(int(p.rsplit("/", 1)[1]) for p in paths)
    assert held == list(range(len(held))) and at_least <= len(held) <= at_most, (at_least, len(held), at_most)
    assert copy.execute("SELECT COUNT(*) FROM requests WHERE customer_id IS NOT NULL").fetchone()[0] == 1500 + len(held)
    # pg_dump compresses: the 1,500 paddings of x take little room there.
    assert report.bytes > (30_000_000 if backend == "sqlite" else 100_000)
    assert stat.S_IMODE((tmp_path / "copy.db").stat().st_mode) == 0o600
    # Its figures are those of a database that received the same calls.
    same = connect(new_db("same.db"))
    add_api(same, "Test API", API_KEY)
    RecordWriter(same).write([bulk] * 1500 + [record_from_payload(call(n), received_at=time.time()) for n in held])
    copied = connect(tmp_path / "copy.db") if backend == "sqlite" else copy
    # The signals the collector computed on its own (db/queries/snapshots.py) are made anew from the figures.
    assert_same(contents(copied, ("signal_snapshots",)), contents(same, ("signal_snapshots",)))
    for period in PERIODS:
        assert_same(customer_list(copied, Scope(None, period)).to_dicts(),
                    customer_list(same, Scope(None, period)).to_dicts())
    copied.close(), same.close(), copy.close()


def test_a_backup_never_overwrites_a_file_unless_asked(conn, tmp_path, new_db):
    fill(conn, traffic(100))
    target = tmp_path / "copy.db"
    target.write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        backup(conn, target)
    assert target.read_bytes() == b"precious" and [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []
    backup(conn, target, overwrite=True)
    copy = open_backup(target, new_db)
    assert copy.execute("SELECT COUNT(*) FROM requests").fetchone() == conn.execute(
        "SELECT COUNT(*) FROM requests").fetchone()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    copy.close()


# --- File permissions --------------------------------------------------------------------------


def test_a_new_database_its_wal_and_shm_and_a_new_folder_are_for_the_owner_only(tmp_path):
    path = tmp_path / "data" / "footfall.db"
    conn = connect(path)
    add_api(conn, "Test API", API_KEY)
    RecordWriter(conn).write([record_from_payload(payload(), received_at=time.time())])
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
    assert modes == {"footfall.db": 0o600, "footfall.db-wal": 0o600, "footfall.db-shm": 0o600}
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    conn.close()


def test_an_existing_database_and_folder_keep_their_modes(tmp_path):
    path = tmp_path / "shared.db"
    connect(path).close()
    path.chmod(0o640)
    tmp_path.chmod(0o755)
    connect(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and stat.S_IMODE(tmp_path.stat().st_mode) == 0o755

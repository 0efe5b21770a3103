"""The raw requests' compact layout (db/schema/request_log.py): every column reads back exactly as the
record it came from, a database of the earlier layout converts in place (in batches, resumably)
with every figure unchanged, and a request costs a bounded number of bytes."""

import sqlite3
import time
from contextlib import closing

import pytest

from core.periods import Period
from core.record import record_from_payload
from core.scope import Scope
from db.backends.sqlite import SqliteConnection
from db.connection import connect
from db.queries.details import unpacked
from db.reads.customers import customer_list
from db.reads.endpoints import customer_endpoints, endpoint_list
from db.reads.history import HistoryFilter, customer_requests, history, history_options, request_detail
from db.reads.profile import customer_profile
from db.reads.usage import endpoint_usage, monthly_usage
from db.schema.request_log import convert_batch
from db.schema.sqlite import MIGRATIONS, _request_log_begin, _run
from db.writes.apis import add_api
from factories import API_KEY, CHROME_WINDOWS, GPTBOT, format_b, payload
from loading import load

EVERYWHERE = Scope(None, Period(None, None))
STORED = ("method", "status", "path", "query", "endpoint", "load_time_ms", "size", "threat_level", "threat_reasons",
          "device", "os", "browser", "ai_agent", "country", "city", "ip", "user_agent")


def varied_payloads() -> list[dict]:
    """Calls that differ in every stored column: a path that is its endpoint and one that is not,
    a query, a threat, fractional and day-long load times, no user agent, an AI agent, no IP, an
    address with a location, format B's SDK, and a caller nobody identified."""
    stamp = "2026-11-20 12:00:{:02d}"
    return [
        payload(timestamp=stamp.format(0)),
        payload(timestamp=stamp.format(1), url="https://api.example.com/api/status", load_time=0.001, status=503),
        payload(timestamp=stamp.format(2), url="https://api.example.com/api/items?id=1' OR '1'='1", method="POST"),
        payload(timestamp=stamp.format(3), user_agent="", ip="", load_time=86_400_000),
        payload(timestamp=stamp.format(4), user_agent=GPTBOT, ip="2.125.160.216", load_time=12.345, status=404),
        format_b(timestamp=stamp.format(5), user_agent="curl/8.5.0", ip="203.0.113.9", load_time=7.25),
        payload(timestamp=stamp.format(6), user_id=None, url="https://api.example.com/v1/orders/7?page=2"),
    ]


def expected(p: dict) -> dict:
    """What the record made of a payload holds, column by column."""
    r = record_from_payload(p, received_at=time.time())
    return {"time": r.ts, **{column: getattr(r, column) for column in STORED}, "sdk": r.sdk}


def test_every_stored_request_column_reads_back_as_the_record_held_it(conn, db_path):
    calls = varied_payloads()
    load(conn, calls, db_path=db_path)
    want = sorted((expected(p) for p in calls), key=lambda row: row["time"])
    identified = [row for row in want if row["time"] != want[-1]["time"]]

    listed = customer_requests(conn, "cus_1", EVERYWHERE).sort("time").to_dicts()
    assert [{c: row[c] for c in ("time", *STORED)} for row in listed] == [
        {c: row[c] for c in ("time", *STORED)} for row in identified]
    cid = conn.execute("SELECT id FROM customers WHERE external_id = 'cus_1'").fetchone()[0]
    details = [request_detail(conn, cid, row["id"]) for row in listed]
    assert [{c: d[c] for c in (*STORED, "sdk")} for d in details] == [
        {c: row[c] for c in (*STORED, "sdk")} for row in identified]
    page = history(conn, cid, EVERYWHERE).sort("time").to_dicts()
    assert [(row["method"], row["path"], row["endpoint"], row["load_time_ms"], row["threat_level"], row["device"],
             row["ai_agent"], row["country"], row["city"]) for row in page] == [
        (row["method"], row["path"], row["endpoint"], row["load_time_ms"], row["threat_level"], row["device"],
         row["ai_agent"], row["country"], row["city"]) for row in identified]
    [unidentified] = conn.execute(f"SELECT ts, {', '.join(STORED)}, sdk FROM requests WHERE customer_id IS NULL")
    assert dict(zip(("time", *STORED, "sdk"), unidentified)) == want[-1]


def test_the_history_filters_on_decoded_columns(conn, db_path):
    load(conn, varied_payloads(), db_path=db_path)
    cid = conn.execute("SELECT id FROM customers WHERE external_id = 'cus_1'").fetchone()[0]
    options = history_options(conn, cid, EVERYWHERE)
    assert sorted(options["endpoints"]) == ["/api/items", "/api/items/{id}", "/api/status"]
    found = history(conn, cid, EVERYWHERE, HistoryFilter(threat_levels=("high",), devices=("desktop",),
                                                        search="/api/items"))
    assert found["method"].to_list() == ["POST"]
    assert history(conn, cid, EVERYWHERE, HistoryFilter(ai_agents=("GPTBot",)))["status"].to_list() == [404]


# --- Converting a database of the earlier layout --------------------------------------------------

BEFORE = 10  # SQLite's schema version before request_log
NOVEMBER = 1793491200  # 2026-11-01 00:00 UTC


def earlier_layout_copy(source: str, path: str) -> None:
    """A database at schema version 10 holding what `source` (today's layout) holds, its raw
    requests in the old table `requests`, row for row as the view shows them, and their details as
    the five texts: what Footfall wrote before migrations 11 and 12."""
    with closing(sqlite3.connect(path, isolation_level=None)) as old:
        for number, script in enumerate(MIGRATIONS[:BEFORE], start=1):
            old.execute("BEGIN")
            script(old) if callable(script) else _run(old, script)
            old.execute(f"PRAGMA user_version = {number:d}")
            old.execute("COMMIT")
        old.execute("ATTACH DATABASE ? AS today", (source,))
        old.execute("BEGIN")
        tables = [name for (name,) in old.execute(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            if table == "request_details":
                continue
            columns = ", ".join(name for (name,) in old.execute(f"SELECT name FROM pragma_table_info('{table}')"))
            old.execute(f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM today.{table}")
        with closing(connect(source)) as today:  # the details as texts, as they were stored before migration 12
            rows = today.execute("SELECT request_id, dictionary_id, details FROM request_details").fetchall()
            texts = unpacked(today, [row[1:] for row in rows])
        old.executemany("INSERT INTO main.request_details (request_id, request_headers, request_body, response_headers,"
                        " response_body, errors) VALUES (?, ?, ?, ?, ?, ?)",
                        [(row[0], *detail.values()) for row, detail in zip(rows, texts)])
        old.execute("COMMIT")


def every_figure(conn) -> dict:
    """The customer list, each customer's profile and requests, the endpoints and the usage."""
    customers = customer_list(conn, EVERYWHERE)
    ids = customers["customer_id"].to_list()
    cids = dict(conn.execute("SELECT external_id, id FROM customers"))
    return {
        "customers": customers.to_dicts(),
        "profiles": [customer_profile(conn, c, EVERYWHERE) for c in ids],
        "requests": [customer_requests(conn, c, EVERYWHERE).to_dicts() for c in ids],
        "endpoints": endpoint_list(conn, EVERYWHERE).to_dicts(),
        "customer endpoints": [customer_endpoints(conn, cids[c], EVERYWHERE).to_dicts() for c in ids],
        "usage": monthly_usage(conn, None, NOVEMBER).to_dicts(),
        "endpoint usage": endpoint_usage(conn, None, NOVEMBER).to_dicts(),
        "raw": conn.execute("SELECT * FROM requests ORDER BY id").fetchall(),
        "details": details_by_request(conn),
    }


def details_by_request(conn) -> list[tuple]:
    """Every request's id with its details' texts, unpacked."""
    rows = conn.execute("SELECT request_id, dictionary_id, details FROM request_details ORDER BY request_id").fetchall()
    return [(row[0], *detail.values()) for row, detail in zip(rows, unpacked(conn, [row[1:] for row in rows]))]


def traffic() -> list[dict]:
    calls = varied_payloads()
    for n in range(120):
        calls.append(payload(user_id=f"cus_{n % 9}", timestamp=f"2026-11-{10 + n % 12:02d} {n % 24:02d}:17:00",
                             url=f"https://api.example.com/api/items/{n}?page={n % 3}", status=[200, 404, 500][n % 3],
                             load_time=round(3 + n * 1.337, 3), ip=f"81.2.69.{n % 5}",
                             user_agent=CHROME_WINDOWS if n % 4 else GPTBOT))
    return calls


def earlier_database(tmp_path) -> tuple[str, dict]:
    """A database of the earlier layout holding traffic(), and every figure today's layout gives it."""
    today = str(tmp_path / "today.db")
    with closing(connect(today)) as conn:
        add_api(conn, "Test API", API_KEY)
        load(conn, traffic(), db_path=today)
        want = every_figure(conn)
    earlier = str(tmp_path / "earlier.db")
    earlier_layout_copy(today, earlier)
    return earlier, want


@pytest.mark.sqlite_only
def test_a_database_of_the_earlier_layout_converts_in_place_with_every_figure_the_same(tmp_path):
    earlier, want = earlier_database(tmp_path)

    with closing(connect(earlier)) as conn:
        assert conn.execute("SELECT type FROM sqlite_master WHERE name = 'requests'").fetchone() == ("view",)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert every_figure(conn) == want


@pytest.mark.sqlite_only
def test_a_conversion_cut_short_after_some_batches_goes_on_where_it_stopped(tmp_path):
    earlier, want = earlier_database(tmp_path)
    with closing(sqlite3.connect(earlier, isolation_level=None, factory=SqliteConnection)) as cut:
        for step in (_request_log_begin, lambda c: convert_batch(c, 40), lambda c: convert_batch(c, 40)):
            cut.execute("BEGIN IMMEDIATE")
            step(cut)
            cut.execute("COMMIT")  # killed after this commit
        assert cut.execute("SELECT COUNT(*) FROM request_log").fetchone()[0] == 80
        assert cut.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == len(want["raw"]) - 80

    with closing(connect(earlier)) as conn:
        assert every_figure(conn) == want


# --- Bytes ---------------------------------------------------------------------------------------

MAX_BYTES_PER_REQUEST = 90  # request_log and its two indexes; the old layout took about 240


@pytest.mark.sqlite_only
def test_a_request_costs_a_bounded_number_of_bytes_in_request_log_and_its_indexes(conn, db_path):
    calls = [payload(user_id=f"cus_{n % 300}", timestamp=f"2026-11-{1 + n % 28:02d} {n % 24:02d}:{n % 60:02d}:00",
                     url=f"https://api.example.com/api/payments/{n}", load_time=round(20 + n % 977 * 0.113, 3),
                     ip=f"81.2.{n % 7}.{n % 200}", user_agent=[CHROME_WINDOWS, GPTBOT][n % 2]) for n in range(6000)]
    load(conn, calls, db_path=db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    names = [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE name = 'request_log' OR (type = 'index' AND tbl_name = 'request_log')")]
    used = conn.execute(f"SELECT SUM(pgsize - unused) FROM dbstat WHERE name IN ({','.join('?' * len(names))})",
                        names).fetchone()[0]
    assert used / len(calls) <= MAX_BYTES_PER_REQUEST, (used / len(calls), names)

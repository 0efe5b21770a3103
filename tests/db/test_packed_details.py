"""Request details packed with a dictionary per API (core/detail_codec.py, db/writes/details.py):
every detail reads back exactly as the masked payload it came from, before and after its API has
a dictionary; a writer trains it on the details it packed, not on what the database still holds; a
dictionary holds nothing fewer than three customers sent; an API's removal takes
its dictionaries; details take a bounded number of bytes; PostgreSQL's stored texts convert in place."""

import os
import time
from contextlib import closing

import pytest

from core.detail_codec import MIN_CALLERS
from core.record import record_from_payload
from db.connection import connect
from db.operations.erase import delete_api
from db.operations.prune import prune
from db.queries.details import unpacked
from db.reads.history import request_detail
from db.schema import packed_details
from db.writes.details import FIRST_TRAINING, TRAINING_BYTES
from db.writes.records import RecordWriter
from factories import GPTBOT, payload
from loading import load

DECEMBER = 1796083200  # 2026-12-01 00:00 UTC
PARTS = ("request_headers", "request_body", "response_headers", "response_body", "errors")


def everyday(n: int, customers: int = 40, month: str = "2026-11") -> dict:
    """An ordinary call of one of `customers` customers, on one of the month's first 28 days."""
    return payload(user_id=f"cus_{n % customers}", timestamp=f"{month}-{1 + n % 28:02d} {n % 24:02d}:{n % 60:02d}:00",
                   url=f"https://api.example.com/api/orders/{n}", method=["GET", "POST"][n % 2],
                   body={"amount": n % 97, "currency": "EUR"} if n % 2 else None, ip=f"81.2.69.{n % 50}",
                   request_headers={"x-request-id": f"req-{n:06d}", "accept": "application/json"})


def unusual(tag: str) -> list[dict]:
    """Calls whose details are not what a dictionary would expect: a form body, text, unicode and
    emoji, a NUL, a big body (stored as its preview), nested errors, an unidentified caller."""
    stamp = "2026-11-29 10:00:00"
    calls = [
        payload(user_id="cus_odd", timestamp=stamp, method="POST", body=f"name=Zoë&note={tag}&x=1&y=%20",
                request_headers={"content-type": "application/x-www-form-urlencoded"}),
        payload(user_id="cus_odd", timestamp=stamp, method="PUT", body={"tag": tag, "text": "naïve 日本語 🚀\u2028",
                                                                        "nested": {"list": [1, 2.5, None, True]}}),
        payload(user_id="cus_odd", timestamp=stamp, body={"nul": "a\x00b", "tag": tag}),
        payload(user_id="cus_odd", timestamp=stamp, method="POST", body={"tag": tag, "big": "word " * 20_000}),
        payload(user_id="cus_odd", timestamp=stamp, status=500,
                errors=[{"source": "onError", "type": "E_ERROR", "message": f"boom {tag}", "file": "a.py", "line": 7}]),
        payload(user_id=None, timestamp=stamp, user_agent=GPTBOT, body={"tag": tag},
                response_headers={"x-trace": f"trace-{tag}"}),
    ]
    calls[1]["data"]["response"]["body"] = {"items": [{"id": i, "tag": tag} for i in range(20)]}
    return calls


def expected(call: dict) -> tuple:
    r = record_from_payload(call, received_at=time.time())
    return tuple(getattr(r, part) for part in PARTS)


def stored(conn, tag: str) -> list[tuple]:
    """The details read back of the requests whose details hold the tag, oldest first."""
    rows = conn.execute("SELECT dictionary_id, details FROM request_details ORDER BY request_id").fetchall()
    return [tuple(detail.values()) for detail in unpacked(conn, rows) if tag in "".join(detail.values())]


def dictionaries(conn) -> list[tuple[int, bytes]]:
    return [(api_id, bytes(content)) for api_id, content in
            conn.execute("SELECT api_id, content FROM detail_dictionaries ORDER BY id")]


def test_every_detail_reads_back_exactly_as_the_masked_payload_before_and_after_its_api_has_a_dictionary(conn,
                                                                                                        db_path):
    before, after = unusual("BEFORE-DICTIONARY"), unusual("AFTER-DICTIONARY")
    load(conn, before + [everyday(n) for n in range(FIRST_TRAINING + 200)], db_path=db_path)
    assert len(dictionaries(conn)) == 1
    load(conn, after, db_path=db_path)

    packed_with = dict(conn.execute("SELECT dictionary_id IS NULL, COUNT(*) FROM request_details GROUP BY 1"))
    assert packed_with[True] >= len(before) and packed_with[False] >= len(after)
    assert stored(conn, "BEFORE-DICTIONARY") == [expected(call) for call in before]
    assert stored(conn, "AFTER-DICTIONARY") == [expected(call) for call in after]
    assert '"a\\u0000b"' in stored(conn, "BEFORE-DICTIONARY")[2][1]  # JSON keeps a NUL as its escape
    # The analyst's view of one request shows the same texts.
    request_id, cid = conn.execute("SELECT MAX(id), MAX(customer_id) FROM requests WHERE customer_id ="
                                   " (SELECT id FROM customers WHERE external_id = 'cus_odd')").fetchone()
    shown = request_detail(conn, cid, request_id)
    assert tuple(shown[part] for part in PARTS) == expected(after[4])


def test_a_dictionary_holds_no_key_or_value_fewer_than_three_customers_sent(conn, db_path):
    calls = [everyday(n) for n in range(FIRST_TRAINING + 500)]
    for n, call in enumerate(calls):
        customer = n % 40
        headers = call["data"]["request"]["headers"]
        headers["x-tenant"] = f"tenant-{customer}-ALONE"  # each customer's own
        if customer < MIN_CALLERS:
            headers["x-plan"] = "PLAN-OF-THREE"  # sent by three customers
        if customer < MIN_CALLERS - 1:
            headers["x-region"] = "REGION-OF-TWO"  # sent by two
            headers[f"x-own-{customer}-KEY"] = "1"  # a key only one sent
    load(conn, calls, db_path=db_path)

    [(_, content)] = dictionaries(conn)
    assert b"PLAN-OF-THREE" in content and b"x-request-id" in content  # what three or more sent is in it
    assert [t for t in (b"-ALONE", b"REGION-OF-TWO", b"-KEY") if t in content] == []


def test_removing_an_api_removes_the_dictionaries_its_details_were_packed_with(conn, db_path):
    load(conn, [everyday(n) for n in range(FIRST_TRAINING + 10)], db_path=db_path)
    assert len(dictionaries(conn)) == 1

    delete_api(conn, conn.execute("SELECT id FROM apis").fetchone()[0])

    assert dictionaries(conn) == []


def test_a_writer_trains_its_dictionary_on_the_details_it_packed_even_once_they_are_pruned(conn, writer):
    # What the writer packed counts, not what the database still holds: no read of the raw requests.
    november = [everyday(n) for n in range(FIRST_TRAINING - 100)]  # 2026-11-01 to 2026-11-28
    writer.write([record_from_payload(call, received_at=time.time()) for call in november])
    prune(conn, DECEMBER, pause=0)
    assert conn.execute("SELECT COUNT(*) FROM request_details").fetchone()[0] == 0

    december = [everyday(n, month="2026-12") for n in range(FIRST_TRAINING, FIRST_TRAINING + 200)]
    writer.write([record_from_payload(call, received_at=time.time()) for call in december[:100]])
    assert conn.execute("SELECT trained_on FROM detail_dictionaries").fetchall() == [(FIRST_TRAINING,)]
    writer.write([record_from_payload(call, received_at=time.time()) for call in december[100:]])  # packed with it
    packed_with = conn.execute("SELECT dictionary_id FROM request_details ORDER BY request_id DESC LIMIT 1").fetchone()
    assert packed_with == conn.execute("SELECT id FROM detail_dictionaries").fetchone()
    assert stored(conn, "req-001199") == [expected(december[-1])]


@pytest.mark.sqlite_only  # what a writer keeps in memory: the same on both engines
def test_a_writer_keeps_at_most_training_bytes_of_an_apis_details_to_train_on(conn, writer):
    calls = [everyday(n) for n in range(FIRST_TRAINING)]
    for call in calls:  # 40 KB of hex each, about 20 KB packed: the thousand would take 20 MB
        call["data"]["request"]["body"] = {"amount": 1, "trace": os.urandom(20_000).hex()}
    writer.write([record_from_payload(call, received_at=time.time()) for call in calls])

    [(trained_on,)] = conn.execute("SELECT trained_on FROM detail_dictionaries").fetchall()
    newest = [len(packed) for (packed,) in conn.execute("SELECT details FROM request_details ORDER BY request_id DESC")]
    assert sum(newest[:trained_on]) <= TRAINING_BYTES < sum(newest[:trained_on + 1])


MAX_DETAIL_BYTES = 80  # request_details per request, ordinary calls (~320 B of text) once their API has a dictionary


@pytest.mark.sqlite_only
def test_a_detail_costs_a_bounded_number_of_bytes(conn, db_path):
    load(conn, [everyday(n) for n in range(FIRST_TRAINING)], db_path=db_path)
    conn.execute("DELETE FROM request_details")  # packed before there was a dictionary
    load(conn, [everyday(n) for n in range(FIRST_TRAINING, 4 * FIRST_TRAINING)], db_path=db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    used, count = conn.execute("SELECT SUM(pgsize - unused), (SELECT COUNT(*) FROM request_details) FROM dbstat"
                               " WHERE name = 'request_details'").fetchone()
    texts = sum(len("".join(expected(everyday(n)))) for n in range(FIRST_TRAINING, 4 * FIRST_TRAINING))
    assert count == 3 * FIRST_TRAINING and used / count <= MAX_DETAIL_BYTES, (used / count, texts / count)


# --- PostgreSQL's conversion of stored texts -------------------------------------------------------

@pytest.fixture
def pg_url(pg_cluster):
    """An empty database on the session's PostgreSQL cluster (not the migrated template)."""
    url = pg_cluster.create_database()
    yield url
    pg_cluster.drop_database(url)


OLD_REQUEST_COLUMNS = ("id", "api_id", "customer_id", "ts", "method", "status", "path", "query", "endpoint",
                       "load_time_ms", "size", "threat_level", "threat_reasons", "device", "os", "browser", "ai_agent",
                       "country", "city", "ip", "user_agent", "sdk")


def test_postgres_details_stored_as_texts_are_packed_in_place_and_a_cut_conversion_goes_on(pg_url):
    from db.backends.postgres import PgConnection
    from db.schema.postgres import MIGRATIONS, migrate
    from db.writes.apis import add_api
    from factories import API_KEY

    calls = [everyday(n) for n in range(FIRST_TRAINING + 300)] + unusual("OLD-TEXTS")
    records = [record_from_payload(call, received_at=time.time()) for call in calls]
    old = PgConnection(pg_url)  # as Footfall left it at version 7: requests and details as texts
    migrate(old, until=7)
    add_api(old, "Test API", API_KEY)
    for table in ("requests", "request_details"):
        old.execute(f"CREATE TABLE {table}_nov PARTITION OF {table} FOR VALUES FROM (1793491200) TO (1796083200)")
    externals = sorted({r.customer_id for r in records if r.customer_id})
    for n, external in enumerate(externals, start=1):
        old.execute("INSERT INTO customers (id, external_id, first_seen, last_seen, requests) VALUES (?, ?, 0, 0, 0)",
                    (n, external))
    ids = {external: n for n, external in enumerate(externals, start=1)}
    with old.raw.cursor().copy(f"COPY requests ({', '.join(OLD_REQUEST_COLUMNS)}) FROM STDIN") as copy:
        for i, r in enumerate(records, start=1):
            copy.write_row((i, 1, ids.get(r.customer_id), r.ts, r.method, r.status, r.path, r.query, r.endpoint,
                            r.load_time_ms, r.size, r.threat_level, r.threat_reasons, r.device, r.os, r.browser,
                            r.ai_agent, r.country, r.city, r.ip, r.user_agent, r.sdk))
    with old.raw.cursor().copy(f"COPY request_details (request_id, ts, {', '.join(PARTS)}) FROM STDIN") as copy:
        for i, r in enumerate(records, start=1):
            copy.write_row((i, r.ts, *(getattr(r, part) for part in PARTS)))
    old.close()
    # Converted up to the details, then cut after two batches of the details' conversion.
    with closing(connect_until(pg_url, 8)) as cut:
        for step in (packed_details._postgres_begin, lambda c: packed_details._postgres_batch(c, 500),
                     lambda c: packed_details._postgres_batch(c, 500)):
            cut.execute("BEGIN")
            step(cut)
            cut.execute("COMMIT")  # killed after this commit
        assert cut.execute("SELECT COUNT(*) FROM request_details WHERE details IS NULL").fetchone()[0] == len(records) - 1000

    with closing(connect(pg_url)) as conn:
        assert conn.execute("SELECT MAX(version) FROM footfall_schema").fetchone()[0] == len(MIGRATIONS)
        assert len(dictionaries(conn)) == 1
        rows = conn.execute("SELECT dictionary_id, details FROM request_details ORDER BY request_id").fetchall()
        assert [tuple(d.values()) for d in unpacked(conn, rows)] == [tuple(getattr(r, p) for p in PARTS) for r in records]


def connect_until(url: str, version: int):
    """A connection to a PostgreSQL database migrated up to `version` and no further."""
    from db.backends.postgres import PgConnection
    from db.schema.postgres import MIGRATIONS, migrate

    conn = PgConnection(url)
    migrate(conn, until=version)
    assert conn.execute("SELECT MAX(version) FROM footfall_schema").fetchone()[0] == version < len(MIGRATIONS)
    return conn

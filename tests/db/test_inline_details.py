"""PostgreSQL's migration 10 (db/schema/inline_details.py): a database of version 9, its details in a
table of their own, converts into request_log rows holding them, partition by partition, resumably,
with every request and every detail reading back as before; afterwards request_details is a view
and request_log has its three indexes (none by API), the id's a BRIN."""

import time
from contextlib import closing

import pytest

from core.detail_codec import UNIDENTIFIED, Packer
from core.periods import DAY
from core.record import record_from_payload
from db.backends.partitions import LOWEST, Span, existing_spans
from db.connection import connect
from db.reads.history import request_detail
from db.schema import DETAIL_COLUMNS, REQUEST_COLUMNS, inline_details
from db.schema.request_log import add_lookups
from db.writes.apis import add_api
from db.writes.details import add_dictionary, newest_dictionary
from db.writes.records import agent, request_rows
from factories import API_KEY, GPTBOT, payload

pytestmark = pytest.mark.postgres_only
NOVEMBER = 1793491200  # 2026-11-01 00:00 UTC


@pytest.fixture
def pg_url(pg_cluster):
    """An empty database on the session's PostgreSQL cluster (not the migrated template)."""
    url = pg_cluster.create_database()
    yield url
    pg_cluster.drop_database(url)


def calls() -> list[dict]:
    """Four days of calls of 30 customers and unidentified ones, with and without bodies, a path
    that is its endpoint and one that is not, a threat; and one call of 2001 (a shared partition)."""
    made = [payload(user_id=None if n % 11 == 0 else f"cus_{n % 30}",
                    timestamp=f"2026-11-{1 + n % 4:02d} {n % 24:02d}:{n % 60:02d}:{n % 7:02d}",
                    url=["https://api.example.com/api/orders/{n}", "https://api.example.com/api/status",
                         "https://api.example.com/api/items?id=1' OR '1'='1"][n % 3].format(n=n),
                    method=["GET", "POST"][n % 2], body={"amount": n % 97} if n % 2 else None,
                    user_agent=GPTBOT if n % 5 == 0 else None, status=[200, 404, 500][n % 3],
                    request_headers={"x-request-id": f"req-{n:05d}"}) for n in range(1200)]
    return [*made, payload(user_id="cus_1", timestamp="2001-01-01 10:00:00")]


def version_9_database(url: str) -> None:
    """The database as Footfall left it at version 9: request_log and its twin request_details in
    day partitions (one day ahead still empty, 2001 in a partition shared from the start of time),
    the details of even requests packed with the API's dictionary, of odd ones without."""
    from db.backends.postgres import PgConnection
    from db.schema.postgres import migrate

    records = [record_from_payload(call, received_at=time.time()) for call in calls()]
    days = sorted({r.ts - r.ts % DAY for r in records if r.ts >= NOVEMBER})
    spans = [Span(LOWEST, NOVEMBER - 300 * DAY), *(Span(day, day + DAY) for day in [*days, days[-1] + DAY])]
    with closing(PgConnection(url)) as old:
        migrate(old, until=9)
        add_api(old, "Test API", API_KEY)
        for span in spans:
            for table in ("request_log", "request_details"):
                old.execute(f"CREATE TABLE {span.name(table)} PARTITION OF {table} FOR VALUES {span.bounds()}")
        externals = sorted({r.customer_id for r in records if r.customer_id})
        customer_ids = {external: n for n, external in enumerate(externals, start=1)}
        for external, n in customer_ids.items():
            old.execute("INSERT INTO customers (id, external_id, first_seen, last_seen, requests) VALUES (?, ?, 0, 0, 0)",
                        (n, external))
        lookups = (add_lookups(old, "routes", ((r.method, r.endpoint) for r in records)),
                   add_lookups(old, "agents", (agent(r) for r in records)),
                   add_lookups(old, "places", ((r.ip, r.country, r.city) for r in records)))
        ids = range(1, len(records) + 1)
        texts = [(r.request_headers, r.request_body, r.response_headers, r.response_body, r.errors) for r in records]
        dictionary_id = add_dictionary(old, 1, [(UNIDENTIFIED if r.customer_id is None else r.customer_id, t)
                                                for r, t in zip(records, texts)])
        packer = Packer(newest_dictionary(old, 1)[1])
        old.execute("BEGIN")
        old.backend.load_rows(old, "request_log", REQUEST_COLUMNS,
                              request_rows(ids, [1] * len(records), records, customer_ids, lookups))
        old.backend.load_rows(old, "request_details", DETAIL_COLUMNS, [
            (i, r.ts, dictionary_id, packer.pack(t)) if i % 2 == 0 else (i, r.ts, None, Packer(None).pack(t))
            for i, r, t in zip(ids, records, texts)])
        old.execute("COMMIT")


def everything_read(conn) -> dict:
    """Every request as the view shows it, every detail as stored and as the analyst sees it, and
    the partitions' bounds."""
    requests = conn.execute("SELECT * FROM requests ORDER BY id").fetchall()
    return {
        "requests": requests,
        "details": [(i, ts, d, bytes(packed)) for i, ts, d, packed in conn.execute(
            "SELECT request_id, ts, dictionary_id, details FROM request_details ORDER BY request_id")],
        "shown": [request_detail(conn, row[2], row[0]) for row in requests if row[2] is not None],
        "spans": existing_spans(conn),
    }


def connect_at_version_9(url: str):
    from db.backends.postgres import PgConnection

    conn = PgConnection(url)
    assert conn.execute("SELECT MAX(version) FROM footfall_schema").fetchone()[0] == 9
    return conn


def test_a_version_9_database_converts_with_every_request_and_detail_reading_back_as_before(pg_url):
    version_9_database(pg_url)
    with closing(connect_at_version_9(pg_url)) as old:
        before = everything_read(old)
    assert {d is None for _, _, d, _ in before["details"]} == {True, False}  # with a dictionary and without
    assert len(before["requests"]) == len(calls()) and len(before["spans"]) == 6

    with closing(connect(pg_url)) as conn:
        assert everything_read(conn) == before
        assert conn.execute("SELECT relkind FROM pg_class WHERE relname = 'request_details'").fetchall() == [("v",)]
        assert conn.execute("SELECT relname FROM pg_class WHERE relname LIKE 'request_details_%'"
                            " OR relname LIKE 'request_log_v9%'").fetchall() == []
        indexes = dict(conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'request_log'"))
        assert sorted(indexes) == ["requests_customer_ts", "requests_id", "requests_ts"]
        assert "USING brin (id)" in indexes["requests_id"] and "USING brin (ts)" in indexes["requests_ts"]


def test_a_conversion_cut_after_one_partition_goes_on_to_the_same_result(pg_url, tmp_path):
    version_9_database(pg_url)
    with closing(connect_at_version_9(pg_url)) as old:
        before = everything_read(old)
        for step in (inline_details.POSTGRES.begin, inline_details.POSTGRES.batch):
            old.execute("BEGIN")
            step(old)
            old.execute("COMMIT")  # killed after this commit
        moved = old.execute("SELECT COUNT(*) FROM request_log").fetchone()[0]
        left = old.execute("SELECT COUNT(*) FROM request_log_v9").fetchone()[0]
        assert 0 < moved < len(before["requests"]) and moved + left == len(before["requests"])  # one copy of each

    with closing(connect(pg_url)) as conn:
        assert everything_read(conn) == before

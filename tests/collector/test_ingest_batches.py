"""The batch ingest path behind `import` and `demo`: worker processes parse and enrich, this
process writes, and the result is exactly what one process would have stored."""

import orjson
import pytest

from db.writes.records import RecordWriter
from services.ingest import Reason, enrichment_pool, ingest_batches
from factories import IPHONE, payload

STORED = "SELECT r.*, d.* FROM requests r JOIN request_details d ON d.request_id = r.id ORDER BY r.id"


def lines(count: int) -> list[tuple[str, bytes]]:
    return [
        (f"file:{i + 1}", orjson.dumps(payload(user_id=f"cus_{i % 7}", url=f"https://api.example.com/api/items/{i}",
                                               user_agent=IPHONE if i % 3 else "curl/8.5", status=(200, 404, 500)[i % 3])))
        for i in range(count)
    ]


def batches(items, size):
    return [items[i : i + size] for i in range(0, len(items), size)]


def ingest(conn, items, workers: int, size: int = 25):
    with enrichment_pool(workers) as pool:
        assert (pool is None) == (workers == 1)
        return ingest_batches(RecordWriter(conn), batches(items, size), received_at=1_763_640_000, pool=pool)


def test_worker_processes_store_exactly_what_one_process_stores(conn, new_db):
    from db.connection import connect
    from db.writes.apis import add_api

    serial = connect(new_db("serial.db"))
    add_api(serial, "Test API", "test-project-key")
    items = lines(300)
    assert ingest(conn, items, workers=2).accepted == 300
    assert ingest(serial, items, workers=1).accepted == 300
    assert conn.execute(STORED).fetchall() == serial.execute(STORED).fetchall()


def test_worker_processes_keep_the_input_order(conn):
    ingest(conn, lines(200), workers=2, size=10)
    paths = [row[0] for row in conn.execute("SELECT path FROM requests ORDER BY id")]
    assert paths == [f"/api/items/{i}" for i in range(200)]


def test_bad_lines_are_reported_and_never_stop_the_good_ones(conn):
    items = lines(60)
    items[5] = ("file:6", b"{not json")
    items[40] = ("file:41", orjson.dumps(payload(api_key="nobody-has-this-key")))
    items[59] = ("file:60", orjson.dumps({"project_id": "test-project-key"}))
    report = ingest(conn, items, workers=2, size=8)
    assert report.accepted == 57
    assert [(r.where, r.reason) for r in report.rejected] == [
        ("file:6", Reason.NOT_JSON), ("file:41", Reason.UNKNOWN_API_KEY), ("file:60", Reason.WRONG_SHAPE)]
    assert "not valid JSON" in report.rejected[0].message
    assert report.rejected[1].message == "no API is registered with this API key"
    assert "data is missing" in report.rejected[2].message
    assert conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 57


@pytest.mark.parametrize("workers", [1, 2])
def test_the_records_after_the_last_full_commit_are_written_too(conn, workers):
    with enrichment_pool(workers) as pool:
        report = ingest_batches(RecordWriter(conn), batches(lines(95), 10), received_at=0, pool=pool, commit_every=40)
    assert report.accepted == 95
    assert conn.execute("SELECT SUM(requests) FROM api_hourly").fetchone()[0] == 95

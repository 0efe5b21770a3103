"""The real collector over HTTP: good input is committed, bad input is refused and leaves no trace."""

import gzip
import sqlite3

import httpx
import orjson
import pytest

from collector.app import ApiKeys, refusal_status
from db.connection import is_postgres
from services.ingest import Reason, Rejection
from factories import API_KEY, format_b, gzipped, payload
from stored_bytes import stored_bytes


def stored(conn) -> int:
    return conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]


def post(url, content, **headers):
    return httpx.post(url, content=content, headers={"content-type": "application/json", **headers}, timeout=10)


def test_one_payload_is_committed_before_the_reply(collector, conn):
    reply = post(collector + "/", orjson.dumps(payload(user_id="cus_1")))
    assert reply.status_code == 200 and reply.json() == {"accepted": 1}
    assert stored(conn) == 1


def test_v1_log_takes_an_array_of_both_formats(collector, conn):
    reply = post(collector + "/v1/log", orjson.dumps([payload(), format_b(metadata={"user-id": "b1"})]))
    assert reply.json() == {"accepted": 2}
    assert stored(conn) == 2


def test_gzip_bodies_are_accepted(collector, conn):
    reply = post(collector + "/", gzipped([payload(), payload()]), **{"content-encoding": "gzip"})
    assert reply.json() == {"accepted": 2}


def test_healthz_answers(collector):
    assert httpx.get(collector + "/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(("body", "headers", "status", "message"), [
    (b"{not json", {}, 400, "not valid JSON"),
    (b"", {}, 400, "empty"),
    (b"\x1f\x8b\x08garbage", {"content-encoding": "gzip"}, 400, "not valid gzip"),
    (gzip.compress(b'{"a": 1}')[:-6], {"content-encoding": "gzip"}, 400, "truncated"),
    (b"x" * 200_001, {}, 413, "limit"),
    (gzip.compress(b" " * 2_100_000), {"content-encoding": "gzip"}, 413, "expands past the limit"),
    (orjson.dumps(payload()), {"content-encoding": "br"}, 415, "Content-Encoding br"),
    (orjson.dumps(payload()), {"content-type": "text/html"}, 415, "Content-Type text/html"),
    (b"[]", {}, 422, "empty"),
    (b"42", {}, 422, "JSON object"),
    (orjson.dumps({"project_id": "test-project-key"}), {}, 422, "data is missing"),
    (orjson.dumps(payload(api_key="unknown-key")), {}, 401, "no API is registered"),
])
def test_bad_input_gets_a_clear_json_error_and_stores_nothing(collector, conn, body, headers, status, message):
    reply = post(collector + "/", body, **headers)
    assert reply.status_code == status
    assert message in reply.json()["error"]
    assert stored(conn) == 0


def test_one_bad_payload_in_an_array_refuses_the_whole_array(collector, conn):
    reply = post(collector + "/", orjson.dumps([payload(), {"project_id": "test-project-key", "data": 1}]))
    assert reply.status_code == 422 and "payload 1" in reply.json()["error"]
    assert stored(conn) == 0


def test_a_refusal_keeps_what_was_accepted_before(collector, conn):
    post(collector + "/", orjson.dumps(payload()))
    post(collector + "/", b"{broken")
    assert stored(conn) == 1


def test_secret_headers_never_reach_the_database_file(collector, conn, db_path):
    p = payload(request_headers={"authorization": "Bearer SECRET-a", "cookie": "sid=SECRET-b", "x-api-key": "SECRET-c"},
                response_headers={"set-cookie": "sid=SECRET-d"})
    assert post(collector + "/", orjson.dumps(p)).status_code == 200
    if not is_postgres(db_path):
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = stored_bytes(db_path)  # on PostgreSQL its write-ahead log too
    assert b"SECRET-" not in raw and b"*****" in raw and stored(conn) == 1


def test_an_api_registered_while_running_is_accepted_within_seconds(collector, conn):
    from db.writes.apis import add_api
    import time

    add_api(conn, "Later API", "later-key")
    time.sleep(1.1)  # the collector re-reads API keys at most once a second
    assert post(collector + "/", orjson.dumps(payload(api_key="later-key"))).status_code == 200


def test_an_array_of_unknown_keys_is_401_and_one_mixed_with_a_bad_payload_422(collector, conn):
    unknown = payload(api_key="unknown-key")
    assert post(collector + "/", orjson.dumps([unknown, unknown])).status_code == 401
    assert post(collector + "/", orjson.dumps([unknown, {"project_id": "test-project-key"}])).status_code == 422
    assert stored(conn) == 0


@pytest.mark.parametrize(("reasons", "status"), [
    ([Reason.UNKNOWN_API_KEY], 401),
    ([Reason.UNKNOWN_API_KEY, Reason.UNKNOWN_API_KEY], 401),
    ([Reason.UNKNOWN_API_KEY, Reason.WRONG_SHAPE], 422),
    ([Reason.NOT_JSON], 422),
])
def test_the_refusal_status_follows_the_typed_reasons_whatever_the_message_says(reasons, status):
    rejected = [Rejection(f"payload {i}", reason, "no API is registered with this API key") for i, reason in
                enumerate(reasons)]
    assert refusal_status(rejected) == status


def test_the_collector_looks_keys_up_through_a_connection_that_cannot_write(conn, db_path):
    keys = ApiKeys(db_path)
    try:
        assert API_KEY in keys and "unknown-key" not in keys
        # SQLite: "attempt to write a readonly database"; PostgreSQL: "... in a read-only transaction".
        with pytest.raises(sqlite3.Error, match="readonly|read-only"):
            keys._conn.execute("DELETE FROM apis")
    finally:
        keys.close()

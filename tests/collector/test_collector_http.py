"""The real collector over HTTP: good input is committed, bad input is refused and leaves no trace.
One collector for the module per backend: each test counts what its own requests stored."""

import gzip
from types import SimpleNamespace

import httpx
import orjson
import pytest

from collector.app import ApiKeys, refusal_status
from conftest import start_collector, stop, until
from db.connection import connect, is_postgres
from db.errors import OperationalError
from db.writes.apis import add_api
from services.ingest import Reason, Rejection
from factories import API_KEY, format_b, gzipped, payload
from stored_bytes import stored_bytes


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """The real collector on a database of the module's, with a body limit of 200,000 bytes."""
    if request.param == "sqlite":
        db = tmp_path_factory.mktemp("collector") / "footfall.db"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        db = cluster.create_database(template=cluster.template)
    conn = connect(db)
    add_api(conn, "Test API", API_KEY)
    process, url = start_collector(db, FOOTFALL_MAX_BODY_BYTES="200000")
    yield SimpleNamespace(url=url, conn=conn, db=db)
    stop(process)
    conn.close()
    if request.param == "postgresql":
        cluster.drop_database(db)


def stored(conn) -> int:
    return conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]


def post(url, content, **headers):
    return httpx.post(url, content=content, headers={"content-type": "application/json", **headers}, timeout=10)


def test_one_payload_is_committed_before_the_reply(server):
    before = stored(server.conn)
    reply = post(server.url + "/", orjson.dumps(payload(user_id="cus_1")))
    assert reply.status_code == 200 and reply.json() == {"accepted": 1}
    assert stored(server.conn) == before + 1


def test_v1_log_takes_an_array_of_both_formats(server):
    before = stored(server.conn)
    reply = post(server.url + "/v1/log", orjson.dumps([payload(), format_b(metadata={"user-id": "b1"})]))
    assert reply.json() == {"accepted": 2}
    assert stored(server.conn) == before + 2


def test_gzip_bodies_are_accepted(server):
    reply = post(server.url + "/", gzipped([payload(), payload()]), **{"content-encoding": "gzip"})
    assert reply.json() == {"accepted": 2}


def test_healthz_answers(server):
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(("body", "headers", "status", "message"), [
    (b"{not json", {}, 400, "not valid JSON"),
    (b"", {}, 400, "empty"),
    (b"\x1f\x8b\x08garbage", {"content-encoding": "gzip"}, 400, "not valid gzip"),
    (gzip.compress(b'{"a": 1}', mtime=0)[:-6], {"content-encoding": "gzip"}, 400, "truncated"),
    (b"x" * 200_001, {}, 413, "limit"),
    (gzip.compress(b" " * 2_100_000, mtime=0), {"content-encoding": "gzip"}, 413, "expands past the limit"),
    (orjson.dumps(payload()), {"content-encoding": "br"}, 415, "Content-Encoding br"),
    (orjson.dumps(payload()), {"content-type": "text/html"}, 415, "Content-Type text/html"),
    (b"[]", {}, 422, "empty"),
    (b"42", {}, 422, "JSON object"),
    (orjson.dumps({"project_id": "test-project-key"}), {}, 422, "data is missing"),
    (orjson.dumps(payload(api_key="unknown-key")), {}, 401, "no API is registered"),
])
def test_bad_input_gets_a_clear_json_error_and_stores_nothing(server, body, headers, status, message):
    before = stored(server.conn)
    reply = post(server.url + "/", body, **headers)
    assert reply.status_code == status
    assert message in reply.json()["error"]
    assert stored(server.conn) == before


def test_one_bad_payload_in_an_array_refuses_the_whole_array(server):
    before = stored(server.conn)
    reply = post(server.url + "/", orjson.dumps([payload(), {"project_id": "test-project-key", "data": 1}]))
    assert reply.status_code == 422 and "payload 1" in reply.json()["error"]
    assert stored(server.conn) == before


def test_a_refusal_keeps_what_was_accepted_before(server):
    before = stored(server.conn)
    post(server.url + "/", orjson.dumps(payload()))
    post(server.url + "/", b"{broken")
    assert stored(server.conn) == before + 1


def test_secret_headers_never_reach_the_database_file(server):
    before = stored(server.conn)
    p = payload(request_headers={"authorization": "Bearer SECRET-a", "cookie": "sid=SECRET-b", "x-api-key": "SECRET-c"},
                response_headers={"set-cookie": "sid=SECRET-d"})
    assert post(server.url + "/", orjson.dumps(p)).status_code == 200
    if not is_postgres(server.db):
        server.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = stored_bytes(server.db)  # on PostgreSQL its write-ahead log too; the packed details' texts
    assert b"SECRET-" not in raw and b"*****" in raw and stored(server.conn) == before + 1


def test_an_api_registered_while_running_is_accepted_within_seconds(server):
    add_api(server.conn, "Later API", "later-key")
    # The collector re-reads API keys on a miss, at most once a second.
    assert until(lambda: post(server.url + "/", orjson.dumps(payload(api_key="later-key"))).status_code == 200, 5)


def test_an_array_of_unknown_keys_is_401_and_one_mixed_with_a_bad_payload_422(server):
    before = stored(server.conn)
    unknown = payload(api_key="unknown-key")
    assert post(server.url + "/", orjson.dumps([unknown, unknown])).status_code == 401
    assert post(server.url + "/", orjson.dumps([unknown, {"project_id": "test-project-key"}])).status_code == 422
    assert stored(server.conn) == before


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
        with pytest.raises(OperationalError, match="readonly|read-only"):
            keys._conn.execute("DELETE FROM apis")
    finally:
        keys.close()

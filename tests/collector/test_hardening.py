"""Ingest that cannot be pushed over, against the real collector over HTTP and the real `import`:
the API key is checked before anything else of a payload is read, every payload Footfall cannot
store is a 4xx naming the field (a refused body leaves nothing behind) and a counted line of an
import, and a body over the limit gets a 413 the client can read. (What a worker takes at once, and
slow or hostile clients: test_hostile_network.py.)"""

import codecs
import time
from types import SimpleNamespace

import httpx
import orjson
import pytest

from conftest import footfall, start_collector, stop
from db.connection import connect
from db.writes.apis import add_api
from factories import API_KEY, jsonl, payload
from raw_http import connect_to, read_reply, request_head

MiB = 1024 * 1024
JSON = {"content-type": "application/json"}
RAW = "__raw__"  # a field set to this is replaced by raw JSON text (nesting orjson will not write)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """One collector for the module per backend, with the default body limit (5 MiB)."""
    if request.param == "sqlite":
        db = tmp_path_factory.mktemp("hardening") / "footfall.db"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        db = cluster.create_database(template=cluster.template)
    conn = connect(db)
    add_api(conn, "Test API", API_KEY)
    process, url = start_collector(db, FOOTFALL_MAX_BODY_BYTES=str(5 * MiB))
    yield SimpleNamespace(url=url, conn=conn)
    stop(process)
    conn.close()
    if request.param == "postgresql":
        cluster.drop_database(db)


def stored(conn) -> int:
    return conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]


def body(payloads: list, raw: bytes = b"") -> bytes:
    """The payloads as one JSON body, with the RAW placeholder replaced by `raw`."""
    return orjson.dumps(payloads).replace(orjson.dumps(RAW), raw)


def with_field(field: str, value, **kwargs) -> dict:
    p = payload(**kwargs)
    *parents, last = field.split(".")
    node = p
    for key in parents:
        node = node[key]
    node[last] = value
    return p


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


# --- The key first -------------------------------------------------------------------------------------


def test_payloads_for_no_registered_api_get_401_before_anything_else_of_them_is_read(server):
    # Parsed, this would be a 422 (no request object, no status, errors nested past what can be
    # stored); the key alone decides.
    unreadable = {"project_id": "nobody-has-this-key", "data": {"request": "?", "response": {"code": 10**9},
                                                                "errors": RAW}}
    before = stored(server.conn)
    reply = httpx.post(server.url + "/", content=body([unreadable, unreadable], deep(300)), headers=JSON)
    assert reply.status_code == 401 and "no API is registered" in reply.json()["error"]
    assert stored(server.conn) == before


def test_format_b_is_checked_by_its_api_key_first_too(server):
    unreadable = {"sdk_token": "t", "api_key": "nobody-has-this-key", "project_id": API_KEY, "data": 7}
    assert httpx.post(server.url + "/", content=orjson.dumps(unreadable), headers=JSON).status_code == 401


# --- Every payload it cannot store: a 4xx naming the field -------------------------------------------

UNSTORABLE = [  # field, value, raw JSON for RAW, what the refusal names
    ("data.request.query", {"q": RAW}, deep(300), "data.request.query cannot be read"),
    ("data.request.url", RAW, deep(1000), "data.request.url must be a string"),
    ("data.request.url", "http://[::1/api", b"", "data.request.url is not a URL"),
    ("data.request.ip", ["81.2.69.142"], b"", "data.request.ip must be a string"),
    ("data.response.size", "inf", b"", "data.response.size must be a number of bytes"),
    ("data.response.size", "1e400", b"", "data.response.size must be a number of bytes"),
    ("data.response.size", 2**64 - 1, b"", "data.response.size must be a number of bytes"),
    ("data.response.code", 2**64 - 1, b"", "data.response.code 18446744073709551615 is not an HTTP status"),
    ("data.response.code", 1e300, b"", "data.response.code a number over 2**64 is not an HTTP status"),
    ("data.response.load_time", "NaN", b"", "data.response.load_time must be a finite number"),
    ("data.response.load_time", "inf", b"", "data.response.load_time must be a finite number"),
    ("data.response.load_time", 1e300, b"", "data.response.load_time is 1e+300 ms, over one day"),
    ("data.metadata", {"user-id": "u" * 300}, b"", "data.metadata.user-id is 300 characters"),
    ("data.request.headers", {"treblle-user-id": "h" * 300}, b"", "data.request.headers.treblle-user-id is 300 characters"),
]


@pytest.mark.parametrize(("field", "value", "raw", "named"), UNSTORABLE)
def test_a_payload_that_cannot_be_stored_is_a_4xx_naming_the_field_and_nothing_of_its_body_is_stored(
        server, field, value, raw, named):
    before = stored(server.conn)
    reply = httpx.post(server.url + "/", content=body([payload(), with_field(field, value)], raw), headers=JSON)
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"].startswith("payload 1: " + named), reply.text
    assert stored(server.conn) == before


def test_a_zone_name_that_is_a_directory_is_read_as_utc_not_a_500(server):
    p = payload(timezone="America", timestamp="2026-11-20 12:00:00", url="https://api.example.com/zone-dir")
    assert httpx.post(server.url + "/", content=orjson.dumps(p), headers=JSON).status_code == 200
    ts = server.conn.execute("SELECT ts FROM requests WHERE path = '/zone-dir'").fetchone()[0]
    assert ts == 1_795_176_000  # 2026-11-20 12:00:00 UTC


@pytest.mark.parametrize("stamp", ["1999-12-31 23:59:59", "2999-01-01 00:00:00", "9999-12-31 23:59:59"])
def test_a_timestamp_outside_the_window_is_stored_as_the_arrival_time(server, stamp):
    path = "/stamp-" + stamp[:4]
    p = payload(timestamp=stamp, timezone="Pacific/Kiritimati", url="https://api.example.com" + path)
    assert httpx.post(server.url + "/", content=orjson.dumps(p), headers=JSON).status_code == 200
    ts = server.conn.execute("SELECT ts FROM requests WHERE path = ?", (path,)).fetchone()[0]
    assert abs(ts - time.time()) < 120


def test_every_stored_string_is_within_its_cap_end_to_end(server):
    p = payload(url="https://api.example.com/caps/" + "p" * 5_000 + "?q=" + "q" * 9_000, user_agent="u" * 3_000,
                ip="9" * 200, sdk="s" * 200, method="M" * 40, user_id="cus_caps",
                metadata={"user-id": "cus_caps", "user-name": "n" * 900})
    assert httpx.post(server.url + "/", content=orjson.dumps(p), headers=JSON).status_code == 200
    row = server.conn.execute(
        "SELECT length(r.path), length(r.query), length(r.user_agent), length(r.ip), length(r.sdk), length(r.method),"
        " length(c.name_from_traffic) FROM requests r JOIN customers c ON c.id = r.customer_id"
        " WHERE c.external_id = 'cus_caps'").fetchone()
    assert row == (2048, 4096, 1024, 64, 64, 16, 256)


# Values of every wrong type, at every field: each body is stored whole or refused with a 4xx.
ODD_VALUES = [None, True, 0, -1, 2**63, 2**64 - 1, -(2**63), 1.5e308, -0.0, "", " ", "\x00", "\u2028",
              "NaN", "-inf", "1e999", "9" * 5_000, "http://[", "Etc", "2026-11-20T12:00:00+23:59",
              [], [None], {}, {"": {"": []}}, "y" * 20_000]
ODD_FIELDS = ["project_id", "sdk", "data.server", "data.server.timezone", "data.request.timestamp", "data.request.ip",
              "data.request.url", "data.request.user_agent", "data.request.method", "data.request.headers",
              "data.request.body", "data.request.query", "data.request.route_path", "data.response.headers",
              "data.response.code", "data.response.size", "data.response.load_time", "data.response.body",
              "data.errors", "data.metadata", "data.request.headers.treblle-metadata",
              "data.request.headers.x-forwarded-for", "data.response.headers.treblle-user-id"]


def test_no_value_at_any_field_gets_a_5xx_and_a_refusal_stores_nothing(server):
    with httpx.Client(timeout=30) as client:  # one keep-alive connection for the 575 requests
        for field in ODD_FIELDS:
            for value in ODD_VALUES:
                before = stored(server.conn)
                reply = client.post(server.url + "/", content=orjson.dumps(with_field(field, value)), headers=JSON)
                assert reply.status_code in (200, 401, 422), (field, value, reply.status_code, reply.text)
                assert stored(server.conn) == before + (reply.status_code == 200), (field, value)


# --- import: bad lines counted with their reasons, every good one stored ------------------------------


def test_import_counts_every_bad_line_with_its_reason_and_stores_every_good_one(db_path, tmp_path):
    db = db_path
    footfall("apis", "add", "Shop", "--api-key", API_KEY, db=db)
    lines = [
        codecs.BOM_UTF8 + orjson.dumps(payload(user_id="bom")),  # a file that opens with a byte order mark
        b"[1, 2]", b"42", b'"just text"', b"null", b"\xff\xfe{\x00}",  # JSON but no object; not UTF-8
        '{"project_id": "Grüße"}'.encode("utf-16"),
        body(with_field("data.request.url", RAW), deep(1000)),
        orjson.dumps(with_field("data.response.size", "inf")),
        orjson.dumps(with_field("data.response.code", 2**64 - 1)),
        orjson.dumps(with_field("data.response.load_time", "NaN")),
        orjson.dumps(with_field("data.request.url", "http://[::1")),
        orjson.dumps(payload(user_id="c" * 300)),
        body({"project_id": "nobody-has-this-key", "data": RAW}, deep(300)),
        orjson.dumps(payload(user_id="good", timezone="America")),
        orjson.dumps(payload(user_id="good", timestamp="1999-01-01 00:00:00")),
    ]
    file = tmp_path / "calls.jsonl"
    file.write_bytes(b"\n".join(lines) + b"\n")
    result = footfall("import", str(file), db=db)
    assert "imported 3 payloads, rejected 13" in result.stdout, result.stdout + result.stderr
    for reason in ("must be a JSON object, got an array", "must be a JSON object, got a number",
                   "must be a JSON object, got a string", "must be a JSON object, got null", "not valid JSON",
                   "data.request.url must be a string", "data.response.size must be",
                   "data.response.code 18446744073709551615", "data.response.load_time must be a finite number",
                   "data.request.url is not a URL", "data.request.headers.treblle-user-id is 300 characters",
                   "no API is registered"):
        assert reason in result.stdout, reason
    conn = connect(db)
    assert dict(conn.execute("SELECT external_id, requests FROM customers").fetchall()) == {"bom": 1, "good": 2}


def test_import_of_a_file_that_is_not_utf8_reports_every_line_and_does_not_abort(db_path, tmp_path):
    db = db_path
    footfall("apis", "add", "Shop", "--api-key", API_KEY, db=db)
    file = tmp_path / "calls.jsonl"
    file.write_bytes(jsonl([payload(), payload()]).decode().encode("utf-16"))
    result = footfall("import", str(file), db=db, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "imported 0 payloads, rejected" in result.stdout and "not valid JSON" in result.stdout


# --- 413 the client can read ----------------------------------------------------------------------------


def chunks(size: int):
    """A body of `size` bytes sent chunked (no Content-Length)."""
    for start in range(0, size, 64 * 1024):
        yield b" " * min(64 * 1024, size - start)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_6_mib_body_gets_a_413_the_client_reads_on_a_connection_that_stays_open(server, chunked):
    before = stored(server.conn)
    with httpx.Client(timeout=60) as client:
        reply = client.post(server.url + "/", content=chunks(6 * MiB) if chunked else b" " * (6 * MiB), headers=JSON)
        assert reply.status_code == 413 and "limit" in reply.json()["error"]
        assert reply.headers.get("connection") != "close"
        assert client.post(server.url + "/", content=orjson.dumps(payload()), headers=JSON).status_code == 200
    assert stored(server.conn) == before + 1


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_far_past_the_limit_gets_its_413_and_then_the_connection_closes(server, chunked):
    size = 5 * MiB + 16 * MiB + MiB  # past the limit and what is read and dropped after it
    reply = httpx.post(server.url + "/", content=chunks(size) if chunked else b" " * size, headers=JSON, timeout=60)
    assert reply.status_code == 413 and "limit" in reply.json()["error"]
    assert reply.headers["connection"] == "close"


def test_a_client_waiting_to_send_a_body_over_the_limit_gets_its_413_before_sending_it(server):
    with connect_to(server.url) as sock:
        sock.sendall(request_head(6 * MiB).replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n"))
        status, headers, reply = read_reply(sock)  # no `100 Continue` first: the final answer
        assert status == 413 and headers["connection"] == "close"
        assert "limit" in orjson.loads(reply)["error"]
        assert sock.recv(1) == b""  # closed: the body it did not send is not awaited

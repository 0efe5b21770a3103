"""OpenTelemetry traces into the real collector over HTTP (POST /v1/traces, OTLP/HTTP), on both
backends: OTLP JSON bodies written by hand as the spec writes them and protobuf bodies built with
opentelemetry-proto's generated classes, plain and gzip. Each SERVER span is one call, each span
attribute lands where the Treblle path puts the payload field it maps to (core/otlp.py's table),
the replies follow the spec in the request's encoding, and no secret a span carries reaches the
database or the collector's log. (The real OpenTelemetry SDK in a real app: test_otlp_sdk.py.)"""

import gzip
import os
import signal
import threading
from types import SimpleNamespace

import httpx
import orjson
import pytest
from google.protobuf import json_format
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from collector.app import GZIP_RATIO_LIMIT, MAX_REQUESTS_AT_ONCE
from conftest import child_processes, start_collector, stop, until
from db.connection import connect
from db.queries.details import unpacked
from db.writes.apis import add_api
from factories import (
    API_KEY, CLIENT_SPAN, GPTBOT, INTERNAL_SPAN, IPHONE, OLD, STABLE, otlp_json, otlp_protobuf, resource, span,
)
from raw_http import connect_to, read_reply
from stored_bytes import stored_bytes

MiB = 1024 * 1024
BODY_LIMIT = MiB
MAX_SPANS = 50
OTHER_KEY = "otel-other-api-key"
RESOURCE_KEY = "otel-SECRET9-resource-key"
ENCODINGS = {"json": (otlp_json, "application/json"), "protobuf": (otlp_protobuf, "application/x-protobuf")}


class Said:
    """A collector's stderr, read as it comes (so that a test can search its log)."""

    def __init__(self, process):
        self.text = ""
        threading.Thread(target=self._read, args=(process.stderr,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.text += line.decode(errors="replace")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """One collector for the module per backend, with two APIs, a 1 MiB body limit and at most
    MAX_SPANS spans a body."""
    if request.param == "sqlite":
        db = tmp_path_factory.mktemp("otlp") / "footfall.db"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        db = cluster.create_database(template=cluster.template)
    conn = connect(db)
    add_api(conn, "Test API", API_KEY)
    add_api(conn, "Other API", OTHER_KEY)
    add_api(conn, "Secret API", RESOURCE_KEY)
    process, url = start_collector(db, FOOTFALL_MAX_BODY_BYTES=str(BODY_LIMIT), FOOTFALL_MAX_PAYLOADS=str(MAX_SPANS))
    yield SimpleNamespace(url=url, conn=conn, db=db, log=Said(process))
    stop(process)
    conn.close()
    if request.param == "postgresql":
        cluster.drop_database(db)


@pytest.fixture(params=list(ENCODINGS))
def encoding(request) -> str:
    return request.param


def send(server, *resources, encoding: str, key: str | None = API_KEY, gzipped: bool = False,
         body: bytes | None = None, headers: dict | None = None) -> httpx.Response:
    """POST the resources' spans to /v1/traces as an OTLP exporter does: the API key in the
    x-footfall-api-key header (OTEL_EXPORTER_OTLP_HEADERS)."""
    encode, content_type = ENCODINGS[encoding]
    body = encode(*resources) if body is None else body
    sent = {"content-type": content_type}
    if key is not None:
        sent["x-footfall-api-key"] = key
    if gzipped:
        body, sent["content-encoding"] = gzip.compress(body), "gzip"
    return httpx.post(server.url + "/v1/traces", content=body, headers={**sent, **(headers or {})}, timeout=60)


def export_reply(reply: httpx.Response, encoding: str) -> ExportTraceServiceResponse:
    """The 200 reply, read in the encoding the request was sent in."""
    assert reply.status_code == 200, reply.content
    assert reply.headers["content-type"].startswith(ENCODINGS[encoding][1])
    if encoding == "json":
        return json_format.Parse(reply.content, ExportTraceServiceResponse())
    return ExportTraceServiceResponse.FromString(reply.content)


def refusal(reply: httpx.Response, encoding: str = "json") -> str:
    """A 4xx or 5xx reply's google.rpc.Status message, read in the request's encoding."""
    assert reply.headers["content-type"].startswith(ENCODINGS[encoding][1])
    if encoding == "json":
        return json_format.Parse(reply.content, Status()).message
    return Status.FromString(reply.content).message


def stored(conn) -> int:
    return conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]


CALL = ("SELECT r.method, r.status, r.path, r.query, r.endpoint, r.ts, r.load_time_ms, r.size, r.ip, r.country,"
        " r.user_agent, r.device, r.ai_agent, r.threat_reasons, r.sdk, c.external_id, c.name_from_traffic,"
        " a.name, d.dictionary_id, d.details"
        " FROM requests r JOIN apis a ON a.id = r.api_id LEFT JOIN customers c ON c.id = r.customer_id"
        " JOIN request_details d ON d.request_id = r.id ORDER BY r.id DESC LIMIT 1")
COLUMNS = ("method", "status", "path", "query", "endpoint", "ts", "load_time_ms", "size", "ip", "country", "user_agent",
           "device", "ai_agent", "threat_reasons", "sdk", "customer", "customer_name", "api")


def newest_call(conn) -> dict:
    """The call stored last (this module's collector takes one request at a time from these tests),
    with its headers unpacked."""
    found = conn.execute(CALL).fetchone()
    row = dict(zip(COLUMNS, found)) | unpacked(conn, [found[-2:]])[0]
    for name in ("threat_reasons", "request_headers", "response_headers"):
        row[name] = orjson.loads(row[name])
    return row


# --- Each attribute, stable and old names, where the Treblle path puts its field ---------------------

MAPPINGS = [  # id, the attribute names the span starts from, attributes over them (None removes), span, expected
    ("stable method", STABLE, {"http.request.method": "POST"}, {}, {"method": "POST"}),
    ("old method", OLD, {"http.method": "PUT"}, {}, {"method": "PUT"}),
    ("a method the instrumentation calls _OTHER", STABLE,
     {"http.request.method": "_OTHER", "http.request.method_original": "PURGE"}, {}, {"method": "PURGE"}),
    ("url.path", STABLE, {"url.path": "/api/orders/7"}, {}, {"path": "/api/orders/7", "query": ""}),
    ("url.query, masked", STABLE, {"url.query": "page=4&token=tok_abc"}, {}, {"query": "page=4&token=*****"}),
    ("old http.target", OLD, {"http.target": "/api/orders/8?page=2"}, {}, {"path": "/api/orders/8", "query": "page=2"}),
    ("old http.url when there is no target", OLD,
     {"http.target": None, "http.url": "https://api.example.com/api/orders/9?page=3"}, {},
     {"path": "/api/orders/9", "query": "page=3"}),
    ("a ? inside the path stays in the path", STABLE, {"url.path": "/api/a?b", "url.query": "c=1"}, {},
     {"path": "/api/a%3Fb", "query": "c=1"}),
    ("http.route names the endpoint", STABLE, {"url.path": "/api/orders/10", "http.route": "/api/orders/<int:order_id>"},
     {}, {"endpoint": "/api/orders/{order_id}"}),
    ("without http.route the endpoint is inferred", STABLE, {"url.path": "/api/orders/11", "http.route": None}, {},
     {"endpoint": "/api/orders/{id}"}),
    ("stable status", STABLE, {"http.response.status_code": 404}, {}, {"status": 404}),
    ("old status", OLD, {"http.status_code": 503}, {}, {"status": 503}),
    ("client.address", STABLE, {"client.address": "2.125.160.216"}, {}, {"ip": "2.125.160.216", "country": "GB"}),
    ("old net.peer.ip", OLD, {"net.peer.ip": "2.125.160.216"}, {}, {"ip": "2.125.160.216", "country": "GB"}),
    ("old http.client_ip before net.peer.ip", OLD, {"http.client_ip": "81.2.69.160", "net.peer.ip": "10.0.0.1"}, {},
     {"ip": "81.2.69.160"}),
    ("user_agent.original", STABLE, {"user_agent.original": IPHONE}, {}, {"user_agent": IPHONE, "device": "mobile"}),
    ("old http.user_agent", OLD, {"http.user_agent": GPTBOT}, {}, {"user_agent": GPTBOT, "ai_agent": "GPTBot"}),
    ("server.address and url.scheme", STABLE,  # (a 401 is never judged for missing authorization)
     {"url.scheme": "http", "server.address": "shop.example.com", "server.port": 80, "http.response.status_code": 401},
     {}, {"threat_reasons": ["Plain HTTP to public host shop.example.com"]}),
    ("old http.host and http.scheme", OLD,
     {"http.scheme": "http", "http.host": "old.example.com:8080", "http.status_code": 401}, {},
     {"threat_reasons": ["Plain HTTP to public host old.example.com"]}),
    ("stable body size", STABLE, {"http.response.body.size": 2048}, {}, {"size": 2048}),
    ("old content length", OLD, {"http.response_content_length": 4096}, {}, {"size": 4096}),
    ("no size", STABLE, {}, {}, {"size": None}),
    ("the span's start is the time", STABLE, {}, {"start_ns": 1_795_179_600_123_456_789}, {"ts": 1_795_179_600}),
    ("the span's duration is the load time", STABLE, {}, {"duration_ms": 250.5}, {"load_time_ms": 250.5}),
    ("the instrumentation is the sdk", STABLE, {}, {}, {"sdk": "opentelemetry.instrumentation.flask"}),
    ("enduser.id", STABLE, {"enduser.id": "cus_end"}, {}, {"customer": "cus_end"}),
    ("user.id", STABLE, {"user.id": "cus_user"}, {}, {"customer": "cus_user"}),
    ("enduser.id before user.id", STABLE, {"enduser.id": "cus_first", "user.id": "cus_second"}, {},
     {"customer": "cus_first"}),
    ("user.full_name before user.name", STABLE, {"enduser.id": "cus_named", "user.full_name": "Ada Lovelace",
                                                 "user.name": "ada"}, {}, {"customer_name": "Ada Lovelace"}),
    ("user.name", STABLE, {"enduser.id": "cus_short_name", "user.name": "ada"}, {}, {"customer_name": "ada"}),
    ("no user id: unidentified", STABLE, {}, {}, {"customer": None}),
    ("a captured treblle-user-id header, _ for -", STABLE, {"http.request.header.treblle_user_id": ["cus_header"]}, {},
     {"customer": "cus_header"}),
    ("a captured treblle-user-id header, - kept", OLD, {"http.request.header.treblle-user-id": ["cus_dash"]}, {},
     {"customer": "cus_dash"}),
    ("a captured treblle-metadata header", STABLE,
     {"http.request.header.treblle_metadata": ['{"user-id": "cus_meta", "user-name": "Meta Ltd"}']}, {},
     {"customer": "cus_meta", "customer_name": "Meta Ltd"}),
    ("enduser.id before a captured header", STABLE,
     {"enduser.id": "cus_app", "http.request.header.treblle_user_id": ["cus_caller"]}, {}, {"customer": "cus_app"}),
    ("captured headers are the call's headers", STABLE,
     {"http.request.header.x_request_id": ["req-1"], "http.request.header.accept": ["a", "b"],
      "http.response.header.content_type": ["application/json"]}, {},
     {"request_headers": {"x-request-id": "req-1", "accept": ["a", "b"]},
      "response_headers": {"content-type": "application/json"}}),
]


@pytest.mark.parametrize(("names", "attributes", "span_args", "expected"), [m[1:] for m in MAPPINGS],
                         ids=[m[0] for m in MAPPINGS])
def test_each_span_attribute_is_stored_where_its_payload_field_goes(server, encoding, names, attributes, span_args,
                                                                    expected):
    reply = send(server, resource(span(attributes, names=names, **span_args)), encoding=encoding)
    assert export_reply(reply, encoding) == ExportTraceServiceResponse()  # no partial_success: all taken
    call = newest_call(server.conn)
    assert {column: call[column] for column in expected} == expected


def test_a_span_of_the_spec_s_own_example_shape_is_read_with_unknown_fields_ignored(server):
    """OTLP JSON as the spec's example writes it: hex ids, the kind as an integer, int64 as strings,
    with fields this version does not know."""
    before = stored(server.conn)
    body = {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}],
                     "entityRefs": [{"type": "service"}]},
        "scopeSpans": [{"scope": {"name": "my.library", "version": "1.0.0"}, "spans": [{
            "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
            "parentSpanId": "EEE19B7EC3C1B173", "name": "GET /spec", "startTimeUnixNano": "1795176000000000000",
            "endTimeUnixNano": "1795176001000000000", "kind": 2, "flags": 257, "someFutureField": {"x": 1},
            "attributes": [{"key": "http.request.method", "value": {"stringValue": "GET"}},
                           {"key": "url.path", "value": {"stringValue": "/spec"}},
                           {"key": "http.response.status_code", "value": {"intValue": "201"}}]}]}]}]}
    assert export_reply(send(server, body=orjson.dumps(body), encoding="json"), "json") == ExportTraceServiceResponse()
    assert stored(server.conn) == before + 1
    call = newest_call(server.conn)
    assert (call["path"], call["status"], call["ts"], call["load_time_ms"]) == ("/spec", 201, 1_795_176_000, 1000.0)


def test_only_server_spans_are_calls_the_others_are_skipped_not_refused(server, encoding):
    spans = [span({"url.path": f"/kinds/{i}"}) for i in range(3)]
    others = [span(kind=CLIENT_SPAN), span(kind=INTERNAL_SPAN), span({"http.request.method": None, "rpc.system": "grpc"})]
    before = stored(server.conn)
    reply = send(server, resource(*spans, *others), encoding=encoding)
    assert export_reply(reply, encoding) == ExportTraceServiceResponse()
    assert stored(server.conn) == before + len(spans)


def test_every_span_of_every_resource_and_scope_is_stored(server, encoding):
    resources = [resource(*(span({"url.path": f"/many/{r}/{i}"}) for i in range(r + 2)), scope=f"scope-{r}")
                 for r in range(3)]
    before = stored(server.conn)
    assert export_reply(send(server, *resources, encoding=encoding, gzipped=True), encoding) == ExportTraceServiceResponse()
    assert stored(server.conn) == before + sum(len(r["spans"]) for r in resources)


def test_a_gzip_body_is_read(server, encoding):
    before = stored(server.conn)
    reply = send(server, resource(span({"url.path": "/gzip"})), encoding=encoding, gzipped=True)
    assert export_reply(reply, encoding) == ExportTraceServiceResponse()
    assert stored(server.conn) == before + 1 and newest_call(server.conn)["path"] == "/gzip"


# --- The API: the header, or the resource's footfall.api_key ------------------------------------------


def test_a_resource_s_footfall_api_key_names_its_api_over_the_header(server, encoding):
    reply = send(server, resource(span({"url.path": "/other-api"}), api_key=OTHER_KEY), encoding=encoding)
    assert export_reply(reply, encoding) == ExportTraceServiceResponse()
    assert newest_call(server.conn)["api"] == "Other API"


def test_the_resource_attribute_alone_names_the_api(server, encoding):
    reply = send(server, resource(span({"url.path": "/resource-key"}), api_key=API_KEY), encoding=encoding, key=None)
    assert export_reply(reply, encoding) == ExportTraceServiceResponse()
    assert newest_call(server.conn)["api"] == "Test API"


def test_an_unknown_key_in_the_header_gets_401_before_the_body_is_decoded(server, encoding):
    before = stored(server.conn)
    reply = send(server, encoding=encoding, key="nobody-has-this-key", body=b"\xff not a body at all")
    assert reply.status_code == 401 and "no API is registered" in refusal(reply, encoding)
    assert stored(server.conn) == before


def test_a_request_that_names_no_api_gets_401(server, encoding):
    before = stored(server.conn)
    reply = send(server, resource(span()), encoding=encoding, key=None)
    assert reply.status_code == 401 and "names no registered API" in refusal(reply, encoding)
    reply = send(server, resource(span(), api_key="nobody-has-this-key"), encoding=encoding, key=None)
    assert reply.status_code == 401
    assert stored(server.conn) == before


def test_spans_of_a_resource_whose_key_names_no_api_are_refused_and_the_others_stored(server, encoding):
    known = [span({"url.path": f"/known/{i}"}) for i in range(3)]
    unknown = [span({"url.path": f"/unknown/{i}"}) for i in range(2)]
    before = stored(server.conn)
    reply = send(server, resource(*known), resource(*unknown, span(kind=CLIENT_SPAN), api_key="nobody-has-this-key"),
                 encoding=encoding)
    partial = export_reply(reply, encoding).partial_success
    assert partial.rejected_spans == len(unknown)
    assert f"{len(unknown)} of {len(known) + len(unknown)} server spans refused" in partial.error_message
    assert "no API is registered with its resource's footfall.api_key" in partial.error_message
    assert stored(server.conn) == before + len(known)


# --- Spans refused, the others stored: partial success -------------------------------------------------


def test_a_span_without_a_status_code_is_refused_and_counted_and_the_rest_stored(server, encoding):
    good = [span({"url.path": f"/partial/{i}"}) for i in range(4)]
    bad = [span({"http.response.status_code": None}), span({"http.response.status_code": "teapot"}),
           span({"http.response.status_code": "²"})]
    before = stored(server.conn)
    reply = send(server, resource(good[0], bad[0], *good[1:], *bad[1:]), encoding=encoding)
    partial = export_reply(reply, encoding).partial_success
    assert partial.rejected_spans == len(bad)
    assert partial.error_message.startswith(f"{len(bad)} of {len(good) + len(bad)} server spans refused, and not stored:"
                                            " span 1: it has no http.response.status_code")
    assert f"(and {len(bad) - 1} more)" in partial.error_message
    assert stored(server.conn) == before + len(good)


@pytest.mark.parametrize(("attributes", "named"), [
    ({"enduser.id": "u" * 300}, "enduser.id / user.id is 300 characters"),
    ({"http.request.header.treblle_user_id": ["h" * 300]}, "http.request.header.treblle-user-id is 300 characters"),
    ({"http.response.status_code": 700}, "http.response.status_code 700 is not an HTTP status"),
], ids=["customer id", "captured header", "status"])
def test_a_span_the_treblle_path_refuses_is_refused_in_the_span_s_own_words(server, encoding, attributes, named):
    before = stored(server.conn)
    reply = send(server, resource(span({"url.path": "/words"}), span(attributes)), encoding=encoding)
    partial = export_reply(reply, encoding).partial_success
    assert partial.rejected_spans == 1 and f"span 1: {named}" in partial.error_message, partial.error_message
    assert stored(server.conn) == before + 1


def test_a_span_longer_than_a_day_is_refused_in_the_span_s_own_words(server, encoding):
    reply = send(server, resource(span(duration_ms=86_400_001)), encoding=encoding)
    partial = export_reply(reply, encoding).partial_success
    assert partial.rejected_spans == 1 and "span 0: the span's duration is 8.64e+07 ms, over one day" in partial.error_message


# --- Whole requests refused: nothing stored ------------------------------------------------------------

UNDECODABLE = [  # id, encoding, body, what the refusal says
    ("protobuf cut short", "protobuf", b"\x0a\xff\xff\xff\xff\x0f", "not an ExportTraceServiceRequest in protobuf"),
    ("JSON cut short", "json", b'{"resourceSpans": [', "not valid JSON"),
    ("a JSON array", "json", b'[{"resourceSpans": []}]', "must be a JSON object"),
    ("an object for a list", "json", b'{"resourceSpans": {"scopeSpans": []}}',
     "not an ExportTraceServiceRequest in OTLP JSON"),
    ("a time that is no number", "json",
     b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}',
     "not an ExportTraceServiceRequest in OTLP JSON"),
]


@pytest.mark.parametrize(("encoding", "body", "says"), [u[1:] for u in UNDECODABLE], ids=[u[0] for u in UNDECODABLE])
def test_a_body_that_does_not_decode_gets_400_in_its_encoding_and_nothing_is_stored(server, encoding, body, says):
    before = stored(server.conn)
    reply = send(server, encoding=encoding, body=body)
    assert reply.status_code == 400 and says in refusal(reply, encoding)
    assert stored(server.conn) == before


def test_broken_gzip_gets_400(server, encoding):
    reply = send(server, encoding=encoding, body=gzip.compress(otlp_protobuf(resource(span())))[:-9],
                 headers={"content-encoding": "gzip"})
    assert reply.status_code == 400 and "gzip" in refusal(reply, encoding)


@pytest.mark.parametrize(("headers", "says"), [
    ({"content-type": "text/xml"}, "Content-Type text/xml is not accepted"),
    ({"content-encoding": "br"}, "Content-Encoding br is not accepted"),
], ids=["content type", "content encoding"])
def test_an_encoding_footfall_does_not_read_gets_415(server, headers, says):
    before = stored(server.conn)
    reply = send(server, resource(span()), encoding="json", headers=headers)
    assert reply.status_code == 415 and says in refusal(reply, "json")
    assert stored(server.conn) == before


def test_a_body_over_the_limit_gets_413(server, encoding):
    big = span({"http.request.header.x_padding": ["p" * (BODY_LIMIT + 1)]})
    reply = send(server, resource(big), encoding=encoding)
    assert reply.status_code == 413 and "limit" in refusal(reply, encoding)


def test_a_gzip_protobuf_body_may_expand_to_the_body_limit_and_no_further(server):
    """Decoded, protobuf takes many times its size (an empty span is two bytes): unlike JSON, it may
    not expand past the limit."""
    padding = os.urandom(BODY_LIMIT // 4).hex()  # half the limit, that gzip makes no more than ~2x smaller
    within = resource(span({"url.path": "/expands-within", "http.request.header.x_padding": [padding]}))
    before = stored(server.conn)
    assert export_reply(send(server, within, encoding="protobuf", gzipped=True), "protobuf") == ExportTraceServiceResponse()
    past = resource(span({"http.request.header.x_padding": [padding + padding]}))
    reply = send(server, past, encoding="protobuf", gzipped=True)
    expanded = len(otlp_protobuf(past))
    assert len(gzip.compress(otlp_protobuf(past))) * GZIP_RATIO_LIMIT > expanded  # a JSON body might, at this ratio
    assert reply.status_code == 413 and "a protobuf body may expand to" in refusal(reply, "protobuf")
    assert stored(server.conn) == before + 1


def test_a_body_of_more_spans_than_the_limit_gets_413(server, encoding):
    before = stored(server.conn)
    reply = send(server, resource(*(span(kind=CLIENT_SPAN) for _ in range(MAX_SPANS)), span()), encoding=encoding)
    assert reply.status_code == 413 and f"{MAX_SPANS + 1} spans; the limit is {MAX_SPANS}" in refusal(reply, encoding)
    assert stored(server.conn) == before


# --- No secret a span carries is kept, nor logged -------------------------------------------------------

BEARER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvdGVsIn0.otelSECRET9jwtSignature"
COOKIE = "sess_otelSECRET9cookie"
SUBSCRIPTION = "otelSECRET9subscriptionKey"
QUERY_TOKEN = "otelSECRET9queryToken"
SET_COOKIE = "otelSECRET9setCookie"


def test_no_secret_of_a_span_reaches_the_database_or_the_log(server, encoding):
    spans = [span({"url.path": "/secrets", "url.query": f"access_token={QUERY_TOKEN}&MARKER-otel-query=1",
                   "http.request.header.authorization": [f"Bearer {BEARER}"],
                   "http.request.header.cookie": [f"session={COOKIE}"],
                   "http.request.header.ocp_apim_subscription_key": [SUBSCRIPTION],
                   "http.request.header.x_note": ["MARKER-otel-header"],
                   "http.response.header.set_cookie": [f"session={SET_COOKIE}; HttpOnly"]})]
    reply = send(server, resource(*spans, api_key=RESOURCE_KEY), encoding=encoding)
    assert export_reply(reply, encoding) == ExportTraceServiceResponse()
    call = newest_call(server.conn)
    assert call["request_headers"]["authorization"] == "*****" and call["api"] == "Secret API"
    kept = stored_bytes(server.db)
    for marker in ("MARKER-otel-query", "MARKER-otel-header"):
        assert marker.encode() in kept
    for secret in (BEARER, COOKIE, SUBSCRIPTION, QUERY_TOKEN, SET_COOKIE, RESOURCE_KEY, API_KEY):
        assert secret.encode() not in kept, secret
        assert secret not in server.log.text, secret


# --- Overloaded: 503 with Retry-After, in the request's encoding ----------------------------------------


def test_a_worker_already_taking_all_it_takes_answers_503_with_retry_after_in_the_request_s_encoding(tmp_path):
    db = tmp_path / "footfall.db"
    conn = connect(db)
    add_api(conn, "Test API", API_KEY)
    process, url = start_collector(db)  # one worker
    writer = next(pid for pid in child_processes(process.pid)
                  if open(f"/proc/{pid}/comm").read().strip() == "footfall-writer")
    waiting = []
    body = otlp_protobuf(resource(span({"url.path": "/waiting"})))
    head = (f"POST /v1/traces HTTP/1.1\r\nHost: collector\r\nContent-Type: application/x-protobuf\r\n"
            f"x-footfall-api-key: {API_KEY}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    os.kill(writer, signal.SIGSTOP)  # requests past their key check wait on it
    try:
        for _ in range(MAX_REQUESTS_AT_ONCE):
            waiting.append(connect_to(url))
            waiting[-1].sendall(head + body)
        assert until(lambda: httpx.get(url + "/healthz", timeout=10).json()["status"] == "busy", 30)
        reply = send(SimpleNamespace(url=url), resource(span()), encoding="protobuf")
        assert reply.status_code == 503 and int(reply.headers["retry-after"]) >= 1
        assert "retry later" in refusal(reply, "protobuf")
        os.kill(writer, signal.SIGCONT)
        replies = [read_reply(sock) for sock in waiting]
        assert [status for status, _, _ in replies] == [200] * MAX_REQUESTS_AT_ONCE
        assert ExportTraceServiceResponse.FromString(replies[0][2]) == ExportTraceServiceResponse()
    finally:
        os.kill(writer, signal.SIGCONT)
        for sock in waiting:
            sock.close()
        stop(process)
    assert stored(conn) == MAX_REQUESTS_AT_ONCE
    conn.close()

"""The real OpenTelemetry SDK into the real collector, on both backends: a real Flask app
(otel_flask_app.py) instrumented by opentelemetry-instrumentation-flask serves scripted calls and
exports its spans with opentelemetry-exporter-otlp-proto-http, configured as a service would be,
through the environment alone. Once with the instrumentation's default (old) attribute names and
the API key in OTEL_EXPORTER_OTLP_HEADERS; once with OTEL_SEMCONV_STABILITY_OPT_IN=http, gzip, and
the key as a resource attribute (OTEL_RESOURCE_ATTRIBUTES). The app sets enduser.id from its own
sign-in; the Authorization header it is sent is captured into its spans, and must reach neither
the database nor the collector's log."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import orjson
import pytest

from conftest import start_collector, stop
from db.connection import connect
from db.queries.details import unpacked
from db.writes.apis import add_api
from factories import GPTBOT, IPHONE
from stored_bytes import stored_bytes

APP = Path(__file__).resolve().parent / "otel_flask_app.py"
# The app's Python: another virtualenv's, to try other releases of the SDK and instrumentation.
APP_PYTHON = os.environ.get("FOOTFALL_TEST_OTEL_PYTHON", sys.executable)
KEYS = {"old": "otel-sdk-SECRET9-old-key", "stable": "otel-sdk-SECRET9-stable-key"}
TOKENS = {"ada": "tok-ada-0001", "bob": "tok-bob-0002"}  # the app's users (otel_flask_app.USERS)
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvdGVsLXNkayJ9.sdkSECRET9jwtSignature"  # a token the app does not know
CAPTURED = "authorization,treblle-user-id,x-request-id"
CALLS = [  # method, path, headers, and what Footfall must make of the call
    ("GET", "/api/items/1", {"Authorization": f"Bearer {TOKENS['ada']}", "User-Agent": IPHONE},
     {"customer": "cus_ada", "endpoint": "/api/items/{item_id}", "status": 200}),
    ("GET", "/api/items/2?expand=price", {"Authorization": f"Bearer {TOKENS['ada']}", "X-Request-Id": "req-2"},
     {"customer": "cus_ada", "endpoint": "/api/items/{item_id}", "query": "expand=price"}),
    ("POST", "/api/orders", {"Authorization": f"Bearer {TOKENS['bob']}"},
     {"customer": "cus_bob", "endpoint": "/api/orders", "status": 201}),
    ("GET", "/api/slow", {"Authorization": f"Bearer {TOKENS['bob']}"}, {"customer": "cus_bob"}),
    ("GET", "/api/public", {"treblle-user-id": "cus_by_header", "User-Agent": GPTBOT}, {"customer": "cus_by_header"}),
    ("GET", "/api/public?token=qSECRET9queryToken", {"Authorization": f"Bearer {JWT}"}, {"customer": None}),
    ("GET", "/api/missing/7", {}, {"customer": None, "status": 404, "endpoint": "/api/missing/{id}"}),
]
SECRETS = [*TOKENS.values(), JWT, "qSECRET9queryToken", *KEYS.values()]


def clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """One collector per backend, an API per naming."""
    if request.param == "sqlite":
        db = tmp_path_factory.mktemp("otel-sdk") / "footfall.db"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        db = cluster.create_database(template=cluster.template)
    conn = connect(db)
    for naming, key in KEYS.items():
        add_api(conn, f"{naming} names", key)
    process, url = start_collector(db)
    log = []
    threading.Thread(target=lambda: log.extend(line.decode(errors="replace") for line in process.stderr),
                     daemon=True).start()
    yield SimpleNamespace(url=url, conn=conn, db=db, log=log)
    stop(process)
    conn.close()
    if request.param == "postgresql":
        cluster.drop_database(db)


NAMINGS = {
    "old": lambda url: {"OTEL_EXPORTER_OTLP_HEADERS": f"x-footfall-api-key={KEYS['old']}"},
    "stable": lambda url: {"OTEL_SEMCONV_STABILITY_OPT_IN": "http", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
                           "OTEL_RESOURCE_ATTRIBUTES": f"footfall.api_key={KEYS['stable']},deployment.environment=test"},
}


@pytest.fixture(scope="module", params=list(NAMINGS))
def recorded(request, server):
    """The app run once with this naming; its calls as stored, in the order they were made."""
    naming = request.param
    env = {**clean_environment(), "OTEL_EXPORTER_OTLP_ENDPOINT": server.url, "OTEL_SERVICE_NAME": "shop",
           "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST": CAPTURED, **NAMINGS[naming](server.url)}
    calls = [{"method": m, "path": p, "headers": h} for m, p, h, _ in CALLS]
    began = time.time()
    run = subprocess.run([APP_PYTHON, str(APP), orjson.dumps(calls).decode()], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    rows = server.conn.execute(
        "SELECT r.method, r.path, r.query, r.status, r.endpoint, r.ts, r.load_time_ms, r.ip, r.device, r.ai_agent,"
        " r.sdk, c.external_id, c.name_from_traffic, d.dictionary_id, d.details FROM requests r"
        " JOIN apis a ON a.id = r.api_id LEFT JOIN customers c ON c.id = r.customer_id"
        " JOIN request_details d ON d.request_id = r.id WHERE a.name = ? ORDER BY r.ts, r.id",
        (f"{naming} names",)).fetchall()
    names = ("method", "path", "query", "status", "endpoint", "ts", "load_time_ms", "ip", "device", "ai_agent", "sdk",
             "customer", "customer_name")
    details = unpacked(server.conn, [row[-2:] for row in rows])
    stored = [dict(zip(names, row)) | {"request_headers": d["request_headers"]} for row, d in zip(rows, details)]
    by_call = {(s["method"], s["path"] + ("?" + s["query"] if s["query"] else "")): s for s in stored}
    return SimpleNamespace(stored=stored, by_call=by_call, began=began, ended=time.time(), server=server)


def call(recorded, method: str, path: str) -> dict:
    masked = path.replace("qSECRET9queryToken", "*****")
    return recorded.by_call[(method, masked)]


def test_every_call_the_app_served_is_stored_once(recorded):
    assert len(recorded.stored) == len(CALLS)
    assert len(recorded.by_call) == len(CALLS)


@pytest.mark.parametrize(("method", "path", "expected"), [(m, p, e) for m, p, _, e in CALLS],
                         ids=[f"{m} {p}" for m, p, _, _ in CALLS])
def test_each_call_keeps_its_method_path_status_endpoint_and_customer(recorded, method, path, expected):
    stored = call(recorded, method, path)
    assert {k: stored[k] for k in expected} == expected


def test_the_name_the_app_set_names_its_customer(recorded):
    assert call(recorded, "GET", "/api/items/1")["customer_name"] == "Ada Lovelace"
    assert call(recorded, "POST", "/api/orders")["customer_name"] == "Bob Builder"


def test_times_are_the_spans_start_and_duration(recorded):
    assert all(int(recorded.began) <= s["ts"] <= recorded.ended for s in recorded.stored)
    assert call(recorded, "GET", "/api/slow")["load_time_ms"] >= 50
    assert all(0 < s["load_time_ms"] < 10_000 for s in recorded.stored)


def test_the_client_and_its_user_agent_are_kept(recorded):
    assert {s["ip"] for s in recorded.stored} == {"127.0.0.1"}
    assert call(recorded, "GET", "/api/items/1")["device"] == "mobile"
    assert call(recorded, "GET", "/api/public")["ai_agent"] == "GPTBot"
    assert {s["sdk"] for s in recorded.stored} == {"opentelemetry.instrumentation.flask"}


def test_captured_headers_are_kept_with_authorization_masked(recorded):
    headers = orjson.loads(call(recorded, "GET", "/api/items/2?expand=price")["request_headers"])
    assert headers == {"authorization": "*****", "x-request-id": "req-2"}


def test_no_token_or_key_reaches_the_database_or_the_collector_s_log(recorded):
    kept = stored_bytes(recorded.server.db)
    assert b"cus_by_header" in kept and b"req-2" in kept  # what is no secret is there
    log = "".join(recorded.server.log)
    for secret in SECRETS:
        assert secret.encode() not in kept, secret
        assert secret not in log, secret

"""Identity rules over the real OpenTelemetry SDK, on both backends: the Flask app of
test_otlp_sdk.py (otel_flask_app.py, opentelemetry-instrumentation-flask, exporting with
opentelemetry-exporter-otlp-proto-http) is told to capture the headers its callers identify
themselves by; its API's rules find each span's customer in a captured header (which the
instrumentation writes with `_` for `-`), a bearer JWT's claim or the query, after the enduser.id
the app sets itself; no key or token reaches the database or the collector's log."""

import subprocess
from collections import Counter
from types import SimpleNamespace

import orjson
import pytest

from conftest import footfall, start_collector, stop
from db.connection import connect
from db.writes.apis import add_api
from db.writes.identity import identity_secret
from factories import bearer_jwt, keyed
from stored_bytes import stored_bytes
from test_otlp_sdk import APP, APP_PYTHON, TOKENS, clean_environment

API_KEY = "otel-identity-SECRET9-api-key"
CLIENT_KEYS = {"mapped": "ckSDK-mapped-4e1f09", "unmapped": "ckSDK-unmapped-7a22c3", "query": "ckSDK-query-90b6d1"}
ORG_TOKEN = bearer_jwt({"sub": "user-9", "org_id": "org-from-token", "email": "ops@example.com"})
CALLS = [  # headers, path, and whose call it is
    ({"X-Client": CLIENT_KEYS["mapped"]}, "/api/items/1", "acme"),
    ({"X-Client": CLIENT_KEYS["mapped"]}, "/api/items/2", "acme"),
    ({"X-Client": CLIENT_KEYS["unmapped"]}, "/api/items/3", "fingerprint of unmapped"),
    ({"Authorization": ORG_TOKEN}, "/api/public", "org-from-token"),
    ({}, f"/api/public?client_key={CLIENT_KEYS['query']}", "fingerprint of query"),
    ({"Authorization": f"Bearer {TOKENS['ada']}", "X-Client": CLIENT_KEYS["mapped"]}, "/api/items/4", "cus_ada"),
    ({}, "/api/public", None),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def recorded(request, tmp_path_factory):
    """The app's calls, exported as spans to a collector whose API has rules; stored customers."""
    folder = tmp_path_factory.mktemp("otel-identity")
    if request.param == "sqlite":
        db = folder / "footfall.db"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        db = cluster.create_database(template=cluster.template)
    conn = connect(db)
    add_api(conn, "Traced API", API_KEY)
    footfall("apis", "identify", "Traced API", "--by", "key:x-client", "--by", "jwt:org_id", "--by",
             "key:query:client_key", db=db)
    (folder / "keys.csv").write_text(f"{CLIENT_KEYS['mapped']},acme,Acme Corp\n")
    footfall("customers", "map", "Traced API", str(folder / "keys.csv"), db=db)
    log = folder / "collector.log"
    process, url = start_collector(db, log=log)
    try:
        env = {**clean_environment(), "OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_SERVICE_NAME": "shop",
               "OTEL_EXPORTER_OTLP_HEADERS": f"x-footfall-api-key={API_KEY}",
               "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST": "authorization,x-client"}
        calls = [{"method": "GET", "path": path, "headers": headers} for headers, path, _ in CALLS]
        run = subprocess.run([APP_PYTHON, str(APP), orjson.dumps(calls).decode()], env=env, capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, run.stderr
    finally:
        stop(process)
    customers = Counter(dict(conn.execute(
        "SELECT c.external_id, COUNT(*) FROM requests r LEFT JOIN customers c ON c.id = r.customer_id"
        " GROUP BY c.external_id").fetchall()))
    yield SimpleNamespace(db=db, conn=conn, log=log, customers=customers)
    conn.close()
    if request.param == "postgresql":
        cluster.drop_database(db)


def test_each_span_counts_under_the_customer_its_api_s_rules_find_after_the_app_s_own(recorded):
    secret = identity_secret(recorded.db)
    fingerprints = {"fingerprint of unmapped": keyed(secret, CLIENT_KEYS["unmapped"]),
                    "fingerprint of query": keyed(secret, CLIENT_KEYS["query"])}
    assert recorded.customers == Counter(fingerprints.get(whose, whose) for _, _, whose in CALLS)


def test_no_key_or_token_the_app_was_sent_reaches_the_database_or_the_collector_s_log(recorded):
    kept, log = stored_bytes(recorded.db), recorded.log.read_bytes()
    assert b"org-from-token" in kept and b"Acme Corp" in kept  # what is no secret is there
    for secret in [*CLIENT_KEYS.values(), ORG_TOKEN.removeprefix("Bearer "), API_KEY]:
        assert secret.encode() not in kept, secret
        assert secret.encode() not in log, secret

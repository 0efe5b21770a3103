"""Identity rules through the real collector over HTTP, on both backends: each rule (a header, a
bearer JWT's claim, an API key in a header or the query, mapped or fingerprinted, a query
parameter) counts the calls that name no customer under the customer it finds, in order, the
call's own user id first; OpenTelemetry spans go through the same rules; a change of rules reaches
the running collector within seconds; and no token or key sent is in the database's bytes or the
collector's log."""

import time
from collections import Counter
from itertools import count
from types import SimpleNamespace

import httpx
import orjson
import pytest

from conftest import footfall, start_collector, stop, until
from db.connection import connect, is_postgres
from db.writes.apis import add_api
from db.writes.identity import identity_secret
from factories import bearer_jwt, keyed, otlp_json, otlp_protobuf, payload, resource, span
from stored_bytes import stored_bytes

NAMES = count(1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """One collector for the module per backend, its log kept in a file."""
    folder = tmp_path_factory.mktemp("identity")
    if request.param == "sqlite":
        db = folder / "footfall.db"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        db = cluster.create_database(template=cluster.template)
    conn = connect(db)
    log = folder / "collector.log"
    process, url = start_collector(db, log=log)
    yield SimpleNamespace(url=url, conn=conn, db=db, log=log)
    stop(process)
    conn.close()
    if request.param == "postgresql":
        cluster.drop_database(db)


def new_api(server, *rules: str, key_map: str | None = None) -> SimpleNamespace:
    """A new API of the module's database, with these identity rules and API keys mapped to
    customers by the CSV text `key_map`, set as an operator does, before the collector hears of it."""
    number = next(NAMES)
    name, key = f"API {number}", f"identity-test-key-{number}"
    add_api(server.conn, name, key)
    if rules:
        footfall("apis", "identify", name, *(part for rule in rules for part in ("--by", rule)), db=server.db)
    if key_map:
        server.log.with_name(f"keys-{number}.csv").write_text(key_map)
        footfall("customers", "map", name, str(server.log.with_name(f"keys-{number}.csv")), db=server.db)
    api_id = server.conn.execute("SELECT id FROM apis WHERE name = ?", (name,)).fetchone()[0]
    # The collector takes a new key within a second or so: until then its payloads get a 401. This
    # one, of the wrong shape, gets a 422 once the key is known, and is never stored.
    assert until(lambda: httpx.post(server.url + "/", json={"project_id": key, "data": []}).status_code == 422)
    return SimpleNamespace(name=name, key=key, id=api_id)


def call(api, *, user_id: str | None = None, url: str = "https://api.example.com/api/items/42", **headers) -> dict:
    """A call to the API naming no customer unless `user_id`, with these request headers
    (underscores in the keyword as dashes)."""
    return payload(api_key=api.key, user_id=user_id, url=url,
                   request_headers={name.replace("_", "-"): value for name, value in headers.items()})


def send(server, payloads: list[dict]) -> None:
    reply = httpx.post(server.url + "/v1/log", content=orjson.dumps(payloads),
                       headers={"content-type": "application/json"}, timeout=30)
    assert reply.status_code == 200 and reply.json() == {"accepted": len(payloads)}, reply.text


def counted(server, api) -> Counter:
    """The API's stored calls by customer ID (None: unattributed)."""
    return Counter(dict(server.conn.execute(
        "SELECT c.external_id, COUNT(*) FROM requests r LEFT JOIN customers c ON c.id = r.customer_id"
        " WHERE r.api_id = ? GROUP BY c.external_id", (api.id,)).fetchall()))


def names(server, *customer_ids: str) -> dict:
    marks = ",".join("?" * len(customer_ids))
    return dict(server.conn.execute(f"SELECT external_id, name_from_traffic FROM customers WHERE external_id IN ({marks})",
                                    customer_ids).fetchall())


def kept_nowhere(server, secrets: list[str], ordinary: list[str]) -> None:
    """None of the secrets is in the database's bytes (SQLite's files; PostgreSQL's table files and
    write-ahead log) nor in the collector's log; the ordinary values sent beside them are stored."""
    if not is_postgres(server.db):
        server.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw, log = stored_bytes(server.db), server.log.read_bytes()
    assert [value for value in ordinary if value.encode() not in raw] == []
    assert [s for s in secrets if s.encode() in raw] == []
    assert [s for s in secrets if s.encode() in log] == []


# --- Each rule ----------------------------------------------------------------------------------


def test_a_header_rule_counts_each_call_under_its_header_s_customer_and_an_own_user_id_wins(server):
    api = new_api(server, "header:x-customer-id")
    sent = [("acme", None)] * 3 + [("beta", None)] * 2 + [(None, None)] * 4 + [("acme", "explicit")] * 2
    send(server, [call(api, user_id=user, **({"x_customer_id": header} if header else {})) for header, user in sent])
    assert counted(server, api) == Counter(user or header for header, user in sent)


def test_a_jwt_rule_counts_each_call_under_its_token_s_claim_read_unverified_and_names_the_customer(server):
    api = new_api(server, "jwt:org_id", "query:tenant")
    tokens = {org: bearer_jwt({"sub": f"user-of-{org}", "org_id": org, "name": f"{org.title()} Org"})
              for org in ("org-acme", "org-beta")}
    no_claim = bearer_jwt({"sub": "user-x", "email": "x@example.com"})
    sent = [("org-acme", tokens["org-acme"])] * 3 + [("org-beta", tokens["org-beta"])] * 2 \
        + [("t-9", "Bearer not.a-jwt"), ("t-9", no_claim), (None, "Bearer eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln")]
    send(server, [call(api, authorization=token, url="https://api.example.com/api/items?tenant=t-9" if expected == "t-9"
                       else "https://api.example.com/api/items") for expected, token in sent])

    assert counted(server, api) == Counter(expected for expected, _ in sent)
    assert names(server, "org-acme", "org-beta") == {"org-acme": "Org-Acme Org", "org-beta": "Org-Beta Org"}
    kept_nowhere(server, [token.removeprefix("Bearer ") for token in (*tokens.values(), no_claim)],
                 ordinary=["org-acme", "Org-Beta Org"])


def test_a_key_rule_counts_mapped_keys_under_their_customers_and_other_keys_under_fingerprints(server):
    mapped, unmapped = "ckMAPPED-live-7f3a9c", "ckUNMAPPED-live-2b81d4"
    api = new_api(server, "key:x-client", "key:query:client", key_map=f"key,customer_id,name\n{mapped},acme,Acme Corp\n")
    in_query = "https://api.example.com/api/items?client={}&page=2"
    sent = [call(api, x_client=mapped)] * 3 + [call(api, url=in_query.format(mapped))] * 2 \
        + [call(api, x_client=unmapped)] * 2 + [call(api, url=in_query.format(unmapped))] + [call(api)]
    send(server, sent)

    fingerprint = keyed(identity_secret(server.db), unmapped)
    assert counted(server, api) == Counter({"acme": 5, fingerprint: 3, None: 1})  # as sent, above
    assert names(server, "acme") == {"acme": "Acme Corp"}
    kept_nowhere(server, [mapped, unmapped], ordinary=["acme", fingerprint, "page=2"])


def test_a_query_rule_counts_each_call_under_its_parameter_s_value(server):
    api = new_api(server, "query:tenant")
    tenants = ["t-1", "t-1", "t 2", None, "t-1"]
    send(server, [call(api, url="https://api.example.com/api/items" + (f"?tenant={t.replace(' ', '%20')}" if t else ""))
                  for t in tenants])
    assert counted(server, api) == Counter(tenants)


def test_rules_are_tried_in_order_and_a_call_none_finds_a_customer_in_is_unattributed(server):
    api = new_api(server, "header:x-customer-id", "jwt:sub", "query:tenant")
    token = bearer_jwt({"sub": "from-token"})
    url = "https://api.example.com/api/items?tenant=from-query"
    sent = [("from-header", call(api, url=url, x_customer_id="from-header", authorization=token)),
            ("from-token", call(api, url=url, authorization=token)),
            ("from-query", call(api, url=url, authorization="Basic dXNlcjpwYXNz")),
            (None, call(api))]
    send(server, [p for _, p in sent])
    assert counted(server, api) == Counter(expected for expected, _ in sent)


# --- Spans --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["json", "protobuf"])
def test_spans_go_through_the_rules_by_their_captured_headers_and_query_and_enduser_id_wins(server, encoding):
    api = new_api(server, "key:x-client", "query:tenant")
    key = f"ckSPAN-{encoding}-9d2e71"
    spans = [
        ("by-key", span({"http.request.header.x_client": [key]})),  # written with `_`, as newer instrumentations do
        ("by-key", span({"http.request.header.x-client": [key], "url.query": "tenant=t-7"})),
        ("t-7", span({"url.query": "tenant=t-7"})),
        ("signed-in", span({"enduser.id": "signed-in", "http.request.header.x_client": [key]})),
        (None, span()),
    ]
    body = (otlp_json if encoding == "json" else otlp_protobuf)(resource(*(s for _, s in spans)))
    reply = httpx.post(server.url + "/v1/traces", content=body, timeout=30, headers={
        "content-type": "application/json" if encoding == "json" else "application/x-protobuf",
        "x-footfall-api-key": api.key})
    assert reply.status_code == 200, reply.text

    fingerprint = keyed(identity_secret(server.db), key)
    assert counted(server, api) == Counter(fingerprint if expected == "by-key" else expected for expected, _ in spans)
    kept_nowhere(server, [key], ordinary=[fingerprint, "signed-in"])


# --- Changes while it runs ---------------------------------------------------------------------------


def test_a_change_of_rules_reaches_the_running_collector_within_seconds(server):
    api = new_api(server, "header:x-team")
    send(server, [call(api, x_team="team-a", x_org="org-a")])
    assert counted(server, api) == Counter({"team-a": 1})

    footfall("apis", "identify", api.name, "--by", "header:x-org", db=server.db)
    changed, calls, started = False, 1, time.monotonic()
    while not changed and time.monotonic() - started < 10:
        send(server, [call(api, x_team="team-a", x_org="org-a")])
        calls += 1
        changed = counted(server, api)["org-a"] > 0
    assert changed and time.monotonic() - started < 5
    assert counted(server, api) == Counter({"team-a": calls - 1, "org-a": 1})


def test_a_key_mapped_while_the_collector_runs_counts_under_its_customer_within_seconds(server, tmp_path):
    api = new_api(server, "key:x-client")
    key = "ckLATER-mapped-51c0e2"
    send(server, [call(api, x_client=key)])
    fingerprint = keyed(identity_secret(server.db), key)
    assert counted(server, api) == Counter({fingerprint: 1})

    (tmp_path / "keys.csv").write_text(f"{key},acme-later,\n")
    footfall("customers", "map", api.name, str(tmp_path / "keys.csv"), db=server.db)
    calls, started = 1, time.monotonic()
    while counted(server, api)["acme-later"] == 0 and time.monotonic() - started < 10:
        send(server, [call(api, x_client=key)])
        calls += 1
    assert time.monotonic() - started < 5
    assert counted(server, api) == Counter({fingerprint: calls - 1, "acme-later": 1})

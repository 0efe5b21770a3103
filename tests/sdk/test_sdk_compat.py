"""Footfall takes the traffic of real Treblle SDKs, unchanged, and shows the right customers.

Each SDK runs inside a real app (tests/sdk/node, tests/sdk/django_app) in America/New_York,
with its *.treblle.com traffic sent to a real Footfall collector on 127.0.0.1:
  treblle-express  npm @treblle/express 1.0.2 in Express 4
  treblle-node     npm treblle 1.5.2 (useTreblle) in Express 4
  treblle-django   PyPI treblle 2.0.6 middleware in Django 5.2
The test client makes the calls below to the app; then Footfall's command line must tell who
the customers are and what each of their calls was. What each SDK actually sends is recorded
in tests/sdk/samples/.
"""

from __future__ import annotations

import gzip
import zlib
from datetime import timedelta

import pytest

from db.connection import connect, is_postgres
from sdk.harness import SDK_APPS, Call, parse_utc, run_traffic
from stored_bytes import stored_bytes

pytestmark = pytest.mark.sdk

# ---- who calls, and how --------------------------------------------------------------------

SECRETS = {
    "authorization": "Bearer SECRET-bearer-token-7f3a",
    "cookie": "session=SECRET-session-cookie-91c2",
    "x-api-key": "SECRET-api-key-5d8e",
}
PASSWORD = "SECRET-password-hunter2"
SET_COOKIE = "SECRET-set-cookie-from-app"  # the apps set this cookie on POST /api/orders

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
MAC_FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0"
GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"

GB_IP, US_IP = "81.2.69.142", "8.8.8.8"


def sends_user_id(customer: str) -> dict[str, str]:
    """The caller identifies itself: `treblle-user-id` on the request."""
    return {"treblle-user-id": customer}


def app_tags_response(customer: str) -> dict[str, str]:
    """The app identifies the caller: it puts `treblle-user-id` on the RESPONSE only."""
    return {"x-test-user": customer}


def browser(user_agent: str, forwarded_for: str, *, secrets: bool = True) -> dict[str, str]:
    return {"user-agent": user_agent, "x-forwarded-for": forwarded_for, **(SECRETS if secrets else {})}


TRAFFIC = [
    # acme: an iPhone app in Great Britain, behind a proxy that appends its own private address.
    Call("acme", "POST", "/api/orders",
         headers={**sends_user_id("acme"), **browser(IPHONE, f"{GB_IP}, 10.0.0.1")},
         json={"item_id": 2, "quantity": 3, "password": PASSWORD}),
    Call("acme", "GET", "/api/items/42", headers={**sends_user_id("acme"), **browser(IPHONE, f"{GB_IP}, 10.0.0.1")}),
    Call("acme", "GET", "/api/slow", params={"ms": "200"},
         headers={**sends_user_id("acme"), **browser(IPHONE, f"{GB_IP}, 10.0.0.1")}),
    # globex: a desktop browser in the US (a private address first in X-Forwarded-For); the
    # app, not the caller, names the customer. Its second call has no credentials at all.
    Call("globex", "GET", "/api/users/7/profile",
         headers={**app_tags_response("globex"), **browser(WINDOWS_CHROME, f"192.168.1.20, {US_IP}")}),
    Call("globex", "GET", "/api/items/1",
         headers={**app_tags_response("globex"), **browser(WINDOWS_CHROME, US_IP, secrets=False)}),
    # openai: an AI crawler; the app names the customer from a query parameter.
    Call("openai", "GET", "/api/items/2", params={"as_user": "openai"},
         headers={"user-agent": GPTBOT, "x-forwarded-for": US_IP}),
    # mallory: tries SQL injection in the query string.
    Call("mallory", "GET", "/api/search", params={"q": "' OR 1=1--"},
         headers={**sends_user_id("mallory"), **browser(MAC_FIREFOX, GB_IP)}),
    # nobody: a call that names no customer.
    Call(None, "GET", "/api/items/1", headers=browser(MAC_FIREFOX, GB_IP)),
]


@pytest.fixture(scope="module", params=list(SDK_APPS))
def recorded(request, tmp_path_factory):
    """The SDK's app and a Footfall collector, run through TRAFFIC, then stopped; into a SQLite file
    (what reaches the database is the same on either engine: tests/collector runs both)."""
    yield from run_traffic(request.param, TRAFFIC, tmp_path_factory.mktemp(request.param))


# ---- customers -------------------------------------------------------------------------------


def test_every_identified_caller_is_a_customer_with_its_request_count(recorded):
    counts = {row["customer_id"]: row["requests"] for row in recorded.customers}
    assert counts == {"acme": 3, "globex": 2, "openai": 1, "mallory": 1}


def test_share_counts_unidentified_calls_in_the_total(recorded):
    # 8 calls in all, one of them unidentified: shares are of all 8.
    shares = {row["customer_id"]: row["share"] for row in recorded.customers}
    assert shares == pytest.approx({"acme": 37.5, "globex": 25.0, "openai": 12.5, "mallory": 12.5}, abs=0.01)


def test_customers_first_seen_and_last_active_are_utc(recorded):
    earliest = recorded.sent_from - timedelta(minutes=1)
    latest = recorded.sent_until + timedelta(minutes=1)
    for row in recorded.customers:
        for column in ("first_seen", "last_active"):
            assert earliest <= parse_utc(row[column]) <= latest, (
                f"{row['customer_id']} {column} {row[column]} is not the UTC time of the calls "
                f"({recorded.sent_from:%H:%M:%S}..{recorded.sent_until:%H:%M:%S}Z); the app runs in New York"
            )


# ---- each call -----------------------------------------------------------------------------


def test_each_call_keeps_its_method_path_and_status(recorded):
    calls = {(r["method"], r["path"], r["status"]) for r in recorded.requests["acme"]}
    assert calls == {("POST", "/api/orders", 201), ("GET", "/api/items/42", 200), ("GET", "/api/slow", 200)}


def test_request_times_are_utc(recorded):
    earliest = recorded.sent_from - timedelta(minutes=1)
    latest = recorded.sent_until + timedelta(minutes=1)
    for customer, rows in recorded.requests.items():
        for row in rows:
            assert earliest <= parse_utc(row["time"]) <= latest, (
                f"{customer} {row['method']} {row['path']} at {row['time']}, but it was sent "
                f"{recorded.sent_from:%Y-%m-%d %H:%M:%S}..{recorded.sent_until:%H:%M:%S} UTC (app in New York)"
            )


def test_load_time_is_in_milliseconds(recorded):
    slow = recorded.request("acme", "/api/slow")
    assert 180 <= slow["load_time_ms"] < 2000, f"/api/slow takes ~200 ms, Footfall says {slow['load_time_ms']} ms"
    for rows in recorded.requests.values():
        for row in rows:
            assert 0 < row["load_time_ms"] < 5000, f"{row['path']}: {row['load_time_ms']} ms for a fast local call"


def test_endpoint_names_template_the_ids(recorded):
    for rows in recorded.requests.values():
        for row in rows:
            assert row["endpoint"] == recorded.sdk.endpoint_names[row["path"]], row


def test_device_comes_from_the_user_agent(recorded):
    assert {r["device"] for r in recorded.requests["acme"]} == {"mobile"}
    assert {r["device"] for r in recorded.requests["globex"]} == {"desktop"}
    assert {r["device"] for r in recorded.requests["mallory"]} == {"desktop"}


def test_ai_crawler_is_named(recorded):
    [crawl] = recorded.requests["openai"]
    assert crawl["ai_agent"] == "GPTBot"
    for customer in ("acme", "globex", "mallory"):
        assert {r["ai_agent"] for r in recorded.requests[customer]} == {None}


def test_country_comes_from_the_first_public_forwarded_for_address(recorded):
    assert {r["country"] for r in recorded.requests["acme"]} == {"GB"}  # 81.2.69.142, 10.0.0.1
    assert {r["country"] for r in recorded.requests["globex"]} == {"US"}  # 192.168.1.20, 8.8.8.8 / 8.8.8.8
    assert {r["country"] for r in recorded.requests["openai"]} == {"US"}
    assert {r["country"] for r in recorded.requests["mallory"]} == {"GB"}


def test_sql_injection_in_the_query_is_a_high_threat(recorded):
    search = recorded.request("mallory", "/api/search")
    assert search["threat_level"] == "high", search


def test_successful_call_without_authorization_is_a_medium_threat(recorded):
    anonymous = recorded.request("globex", "/api/items/1")
    assert anonymous["threat_level"] == "medium", anonymous


def test_authorized_calls_to_a_local_app_are_a_low_threat(recorded):
    # Plain HTTP, but to 127.0.0.1: not a threat.
    for row in recorded.requests["acme"]:
        assert row["threat_level"] == "low", row


# ---- secrets -------------------------------------------------------------------------------

ALL_SECRETS = [*SECRETS.values(), PASSWORD, SET_COOKIE]


def test_no_secret_reaches_the_database(recorded):
    """The SDKs send Authorization, Cookie, X-Api-Key and Set-Cookie in clear; Footfall masks them.

    Checked on the raw bytes of every database file (the collector is stopped; on PostgreSQL the
    database's files and the server's write-ahead log), and on every value in the tables,
    decompressed where it is compressed."""
    raw = stored_bytes(recorded.footfall.db)
    assert raw, f"no database bytes for {recorded.footfall.db}"
    for secret in ALL_SECRETS:
        for token in {secret, secret.split("SECRET-", 1)[1]}:
            assert token.encode() not in raw, f"{token!r} is stored in the database's files"
    values = text_values(recorded.footfall.db)
    assert any("acme" in _readable(v) for v in values)  # the values were read
    for value in values:
        text = _readable(value)
        for secret in ALL_SECRETS:
            assert secret.split("SECRET-", 1)[1] not in text, f"{secret!r} is stored: {text[:300]}"


def text_values(db) -> list[str | bytes]:
    """Every text and binary value of every table (a partitioned table's rows once, through it)."""
    conn = connect(db)
    try:
        if is_postgres(db):
            tables = [t for (t,) in conn.execute(
                "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
                " AND c.relkind IN ('r', 'p') AND NOT c.relispartition")]
        else:
            tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        values = []
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                values.extend(bytes(v) if isinstance(v, memoryview) else v for v in row
                              if isinstance(v, (str, bytes, memoryview)))
        return values
    finally:
        conn.close()


def _readable(value: str | bytes) -> str:
    if isinstance(value, str):
        return value
    for decompress in (gzip.decompress, zlib.decompress, _zstd_decompress):
        try:
            return decompress(value).decode("utf-8", "replace")
        except Exception:
            pass
    return value.decode("utf-8", "replace")


def _zstd_decompress(value: bytes) -> bytes:
    import zstandard  # only if Footfall ever stores zstd blobs

    return zstandard.ZstdDecompressor().decompress(value)

"""What Footfall keeps of a payload has limits: every stored string has a cap, every enrichment cache
is keyed by capped values, and every payload it cannot store is a PayloadError naming the field,
never anything else (a fuzzer checks that last one)."""

import gc
import math
import tracemalloc
from datetime import datetime, timezone

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.ai_agent import ai_agent_of
from core.customer import identify_customer
from core.device import device_of
from core.endpoint import endpoint_name
from core.location import client_ip, location_of
from core.payload import (
    EARLIEST_TIMESTAMP, FUTURE_TOLERANCE_SECONDS, MAX_CUSTOMER_ID, MAX_CUSTOMER_NAME, MAX_ENDPOINT, MAX_HEADER_NAME,
    MAX_HEADER_VALUE, MAX_IP, MAX_METHOD, MAX_PATH, MAX_QUERY, MAX_SDK, MAX_USER_AGENT, PayloadError, parse_payload,
)
from core.record import MAX_STORED_BYTES, Record, record_from_payload
from core.threat import public_host
from factories import CHROME_WINDOWS, payload

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc).timestamp()
LATEST = NOW + FUTURE_TOLERANCE_SECONDS


def record(p, **kwargs) -> Record:
    return record_from_payload(p, received_at=NOW, latest_timestamp=LATEST, **kwargs)


def changed(p: dict, path: str, value) -> dict:
    """The payload with the field at a dotted path (`data.response.size`) set to `value`."""
    *parents, last = path.split(".")
    node = p
    for key in parents:
        node = node[key]
    node[last] = value
    return p


# --- Caps on what is stored ----------------------------------------------------------------------


def test_every_stored_string_is_cut_to_its_cap():
    p = payload(url="https://api.example.com/" + "a" * 10_000 + "?" + "q=" + "b" * 10_000, method="PATCHPATCHPATCHPATCH",
                user_agent="Mozilla/5.0 " + "u" * 5_000, ip="1" * 500, sdk="s" * 500,
                metadata={"user-id": "cus_1", "user-name": "n" * 1_000})
    r = record(p)
    assert len(r.path) == MAX_PATH and r.path.startswith("/aaa")
    assert len(r.query) == MAX_QUERY and r.query.startswith("q=bbb")
    assert len(r.user_agent) == MAX_USER_AGENT and r.user_agent.startswith("Mozilla/5.0 uuu")
    assert len(r.ip) == MAX_IP
    assert r.method == "PATCHPATCHPATCHP" and len(r.method) == MAX_METHOD
    assert len(r.sdk) == MAX_SDK
    assert len(r.customer_name) == MAX_CUSTOMER_NAME
    assert len(r.endpoint) <= MAX_ENDPOINT


def test_an_endpoint_named_from_a_long_path_of_ids_stays_within_its_cap():
    r = record(payload(url="https://api.example.com" + "/1" * 3_000))
    assert r.endpoint.startswith("/{id}/{id}") and len(r.endpoint) == MAX_ENDPOINT


def test_a_threat_past_the_stored_part_of_the_path_is_still_seen():
    r = record(payload(url="https://api.example.com/" + "a" * 3_000 + "/..%2f..%2fetc/passwd"))
    assert len(r.path) == MAX_PATH and "Path traversal in path" in r.threat_reasons


def test_a_customer_id_over_its_cap_is_refused_naming_where_it_was_and_one_at_the_cap_is_kept():
    assert record(payload(user_id="c" * MAX_CUSTOMER_ID)).customer_id == "c" * MAX_CUSTOMER_ID
    with pytest.raises(PayloadError, match="data.request.headers.treblle-user-id is 257 characters"):
        record(payload(user_id="c" * (MAX_CUSTOMER_ID + 1)))
    with pytest.raises(PayloadError, match="data.metadata.user-id"):
        record(payload(user_id=None, metadata={"user-id": "m" * 1_000}))
    with pytest.raises(PayloadError, match="data.response.headers.treblle-metadata user-id"):
        identify_customer({}, {}, {"treblle-metadata": orjson.dumps({"user-id": "x" * 300}).decode()})


def test_a_long_id_that_is_not_the_one_used_does_not_matter():
    # metadata comes first: the header's long id is never the customer
    r = record(payload(user_id="h" * 1_000, metadata={"user-id": "cus_9"}))
    assert r.customer_id == "cus_9"


def test_one_huge_header_does_not_push_the_others_out_of_what_is_kept():
    r = record(payload(request_headers={"x-huge": "h" * 200_000, "x-" + "n" * 1_000: "v", "x-trace": "t-1"}))
    headers = orjson.loads(r.request_headers)
    assert "truncated" not in headers and headers["x-trace"] == "t-1"
    assert len(headers["x-huge"]) == MAX_HEADER_VALUE
    assert max(map(len, headers)) == MAX_HEADER_NAME
    assert len(r.request_headers) <= MAX_STORED_BYTES


def test_headers_too_many_to_keep_are_kept_as_a_preview():
    r = record(payload(request_headers={f"x-{i}": "v" * 10_000 for i in range(20)}))
    assert orjson.loads(r.request_headers)["truncated"] is True


# --- Caches keyed by capped values ------------------------------------------------------------------


@pytest.mark.parametrize("lookup", [device_of, ai_agent_of, public_host], ids=["device", "ai agent", "public host"])
def test_texts_that_differ_only_past_the_cap_are_one_cache_entry(lookup):
    lookup.cache_clear()
    lookup("GPTBot/1.2 example.com " + "a" * 2_000 + "-first")
    lookup("GPTBot/1.2 example.com " + "a" * 2_000 + "-second, and longer")
    assert (lookup.cache_info().currsize, lookup.cache_info().hits) == (1, 1)


def test_proxy_chains_that_differ_only_past_the_cap_are_one_cache_entry():
    client_ip.cache_clear()
    assert client_ip("81.2.69.142", "10.0.0.1, " + " " * 600 + "8.8.8.8") == "81.2.69.142"  # 8.8.8.8 is past the cap
    client_ip("81.2.69.142", "10.0.0.1, " + " " * 600 + "1.1.1.1")
    assert (client_ip.cache_info().currsize, client_ip.cache_info().hits) == (1, 1)


def test_long_paths_and_addresses_are_not_cached_at_all():
    endpoint_name.cache_clear()
    location_of.cache_clear()
    long_path = "/api/items/" + "a" * 300
    assert endpoint_name(long_path + "/1") == endpoint_name(long_path + "/2") == "/api/items/" + "a" * 300 + "/{id}"
    assert location_of("8.8.8.8" + " " * MAX_IP) == location_of(None)
    assert endpoint_name.cache_info().currsize == 0 and location_of.cache_info().currsize == 0


def test_unique_huge_user_agents_leave_no_more_memory_than_their_capped_keys():
    """The flood bench/flood.py measures on a real collector, in one process: 200 user agents of
    1 MB each, all different, through the whole record path."""
    base = payload()
    record(base)  # load what loads lazily before measuring
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(200):
            ua = f"Mozilla/5.0 (flood {i:06d}) " + "x" * 1_000_000
            p = payload(user_agent=ua)
            record(p)
            del p, ua
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # each user agent kept as a 1 KiB key (device, AI agent) and a little more: not 200 MB
    assert grown < 200 * 8 * 1024, grown


# --- Numbers, timestamps, nesting, types: refused naming the field -------------------------------------


@pytest.mark.parametrize(("field", "value", "message"), [
    ("data.response.size", "inf", "data.response.size must be a number of bytes"),
    ("data.response.size", "1e400", "data.response.size must be a number of bytes"),
    ("data.response.size", 2**64 - 1, "data.response.size must be a number of bytes"),
    ("data.response.size", 1e300, "data.response.size must be a number of bytes"),
    ("data.response.size", "NaN", "data.response.size must be a number of bytes"),
    ("data.response.load_time", "NaN", "data.response.load_time must be a finite number"),
    ("data.response.load_time", "inf", "data.response.load_time must be a finite number"),
    ("data.response.load_time", "-Infinity", "data.response.load_time must be a finite number"),
    ("data.response.load_time", 2**64 - 1, "data.response.load_time is .* ms, over one day"),
    ("data.response.load_time", 1e300, "data.response.load_time is .* ms, over one day"),
    ("data.response.code", 2**64 - 1, "data.response.code 18446744073709551615 is not an HTTP status"),
    ("data.response.code", 1e300, "data.response.code .* is not an HTTP status"),
    ("data.response.code", "1e400", "data.response.code must be an HTTP status number"),
    ("data.response.code", True, "data.response.code 1 is not an HTTP status"),
    ("data.response.code", -200, "data.response.code -200 is not an HTTP status"),
    ("data.request.url", "http://[::1/api", "data.request.url is not a URL"),
    ("data.request.url", "https://[not-an-address]/api", "data.request.url is not a URL"),
    ("data.request.url", {"href": "https://x"}, "data.request.url must be a string, got an object"),
    ("data.request.ip", ["1.2.3.4"], "data.request.ip must be a string, got an array"),
    ("data.request.user_agent", {"ua": "x"}, "data.request.user_agent must be a string"),
    ("data.request.method", ["GET"], "data.request.method must be a string"),
    ("data.request.route_path", {}, "data.request.route_path must be a string"),
    ("data.request", [], "data.request must be an object"),
    ("data.response", "ok", "data.response must be an object"),
])
def test_a_field_no_column_can_hold_is_refused_naming_it(field, value, message):
    with pytest.raises(PayloadError, match=message):
        record(changed(payload(), field, value))


def nested(depth: int):
    return orjson.loads(b"[" * depth + b"]" * depth)


@pytest.mark.parametrize(("field", "value"), [
    ("data.request.query", {"q": nested(300)}),
    ("data.request.url", nested(1_000)),  # str() of it would hit Python's recursion limit
])
def test_nesting_deeper_than_can_be_stored_is_refused_naming_the_field(field, value):
    with pytest.raises(PayloadError, match=field.replace(".", r"\.")):
        record(changed(payload(url="https://api.example.com/search"), field, value))


def test_a_customer_id_nested_deep_is_no_customer_id():
    assert record(payload(user_id=None, metadata={"user-id": [nested(1_000)]})).customer_id is None


def test_deep_bodies_and_headers_are_masked_whole_past_the_masking_depth_and_stored():
    r = record(payload(body={"a": nested(600)}, request_headers={"x-deep": nested(600)}))
    assert "*****" in r.request_body and "*****" in r.request_headers


def test_a_refusal_quotes_at_most_a_few_characters_of_what_was_sent():
    with pytest.raises(PayloadError) as refused:
        record(changed(payload(), "data.response.code", "9" * 1_000_000))
    assert len(str(refused.value)) < 200


@pytest.mark.parametrize(("stamp", "zone", "stored"), [
    ("2026-11-20 11:00:00", "UTC", "2026-11-20 11:00:00"),
    ("2000-01-01 00:00:00", "UTC", "2000-01-01 00:00:00"),  # the first second accepted
    ("1999-12-31 23:59:59", "UTC", None),  # before the window: the arrival time
    ("1970-01-01 00:00:00", "UTC", None),
    ("2026-11-21 11:59:59", "UTC", "2026-11-21 11:59:59"),  # within a day after arrival
    ("2026-11-21 12:00:01", "UTC", None),  # past it
    ("9999-12-31 23:59:59", "Pacific/Kiritimati", None),
    ("0001-01-01 00:00:00", "Etc/GMT+12", None),
    ("2026-11-20 11:00:00", "America", "2026-11-20 11:00:00"),  # a directory, no zone: UTC
    ("2026-11-20 11:00:00", "Mars/" + "x" * 1_000, "2026-11-20 11:00:00"),
    ("2026-11-20 11:00:00" + " " * 100, "UTC", None),  # past MAX_TIMESTAMP_TEXT: unreadable
])
def test_timestamps_outside_the_window_are_taken_as_the_arrival_time(stamp, zone, stored):
    r = record(payload(timestamp=stamp, timezone=zone))
    expected = NOW if stored is None else datetime.fromisoformat(stored).replace(tzinfo=timezone.utc).timestamp()
    assert r.ts == int(expected)
    assert r.ts >= EARLIEST_TIMESTAMP


def test_without_a_latest_time_only_the_start_of_the_window_applies():
    # callers that do not know when a payload arrived (tests, tools) pass no latest_timestamp
    call = parse_payload(payload(timestamp="2030-01-01 00:00:00"), received_at=0)
    assert call.timestamp == int(datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp())


@pytest.mark.parametrize(("field", "value"), [
    ("data.request.user_agent", "a\x00b"),
    ("data.request.user_agent", ""),
    ("data.request.ip", ""),
    ("data.request.method", ""),
    ("data.request.url", ""),
    ("data.request.headers", {"": "", "x\x00": "\x00"}),
    ("data.request.body", "\x00" * 10),
    ("data.response.size", -5),
    ("data.response.size", "twelve"),
    ("data.response.load_time", -1),
    ("data.response.load_time", "fast"),
    ("data.metadata", {"user-id": "\U0001f600 emoji", "user-name": ""}),
    ("sdk", 42),
])
def test_odd_but_harmless_values_are_stored(field, value):
    assert isinstance(record(changed(payload(), field, value)), Record)


# --- The fuzzer ------------------------------------------------------------------------------------

FIELDS = [
    "project_id", "sdk", "data", "data.server", "data.server.timezone", "data.request", "data.request.timestamp",
    "data.request.ip", "data.request.url", "data.request.user_agent", "data.request.method", "data.request.headers",
    "data.request.body", "data.request.query", "data.request.route_path", "data.response", "data.response.headers",
    "data.response.code", "data.response.size", "data.response.load_time", "data.response.body", "data.errors",
    "data.metadata", "data.request.headers.treblle-user-id", "data.request.headers.treblle-metadata",
    "data.request.headers.x-forwarded-for", "data.request.headers.user-agent", "data.response.headers.treblle-user-id",
]
ODD_TEXT = st.sampled_from([
    "", " ", "\x00", "NaN", "inf", "-inf", "1e400", "9" * 40, "http://[::1", "https://[x]/", "America", "Etc",
    "0001-01-01 00:00:00", "9999-12-31 23:59:59", "2026-11-20T12:00:00+23:59", "\ud7ff\ue000", "x" * 3_000,
    '{"user-id": "' + "u" * 300 + '"}', "1.2.3.4, 10.0.0.1", "a=1&password=2",
])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40), ODD_TEXT,
)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=20)
VALUES = st.one_of(JSON_VALUES, st.integers(min_value=1, max_value=1_000).map(nested))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(FIELDS), VALUES), min_size=1, max_size=4))
def test_any_payload_is_a_record_within_the_caps_or_a_payload_error(changes):
    p = payload()
    for field, value in changes:
        try:
            changed(p, field, value)
        except (KeyError, TypeError):  # a parent replaced by a value that is no object
            pass
    try:
        r = record(p)
    except PayloadError as error:
        assert str(error) and len(str(error)) < 300
        return
    assert 100 <= r.status <= 599 and (r.size is None or 0 <= r.size < 2**63)
    assert math.isfinite(r.load_time_ms) and 0 <= r.load_time_ms <= 86_400_000
    assert EARLIEST_TIMESTAMP <= r.ts <= LATEST
    for name, cap in (("path", MAX_PATH), ("query", MAX_QUERY), ("endpoint", MAX_ENDPOINT), ("user_agent", MAX_USER_AGENT),
                      ("ip", MAX_IP), ("customer_id", MAX_CUSTOMER_ID), ("customer_name", MAX_CUSTOMER_NAME),
                      ("method", MAX_METHOD), ("sdk", MAX_SDK)):
        value = getattr(r, name)
        assert value is None or (isinstance(value, str) and len(value) <= cap), name
    for name in ("request_headers", "request_body", "response_headers", "response_body", "errors"):
        orjson.loads(getattr(r, name))  # valid JSON, as the detail view reads it


def test_chrome_on_windows_is_still_a_desktop_after_all_this():
    # the caps change nothing for ordinary traffic
    r = record(payload(user_agent=CHROME_WINDOWS))
    assert (r.device, r.browser, r.user_agent) == ("desktop", "Chrome 126", CHROME_WINDOWS)

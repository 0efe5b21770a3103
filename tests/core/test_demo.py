"""Demo traffic: deterministic, accepted by the real ingest parsing, and as varied as real traffic."""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone

import orjson
import pytest
from geoip2fast import GeoIP2Fast

from core.customer import identify_customer
from core.demo import COUNTRIES, DEMO_APIS, customer_count, demo_payloads
from core.location import location_of
from core.payload import parse_payload
from core.record import record_from_payload

NOW = datetime(2026, 11, 20, 12, 0, 17, tzinfo=timezone.utc).timestamp()
KEYS = [key for _, key in DEMO_APIS]
COUNT = 10_000


@pytest.fixture(scope="module")
def payloads() -> list[dict]:
    return list(demo_payloads(KEYS, COUNT, seed=7, now=NOW))


@pytest.fixture(scope="module")
def records(payloads):
    return [record_from_payload(p, received_at=NOW) for p in payloads]


def share(items, predicate) -> float:
    return sum(1 for item in items if predicate(item)) / len(items)


# --- shape and determinism -------------------------------------------------------------------------


def test_demo_apis_are_several_named_apis_with_distinct_keys():
    assert len(DEMO_APIS) >= 3
    assert len({key for _, key in DEMO_APIS}) == len(DEMO_APIS)
    assert len({name for name, _ in DEMO_APIS}) == len(DEMO_APIS)


def test_yields_exactly_count_payloads(payloads):
    assert len(payloads) == COUNT
    assert list(demo_payloads(KEYS, 0, now=NOW)) == []
    assert len(list(demo_payloads(KEYS, 1, now=NOW))) == 1


def test_same_seed_gives_the_same_payloads_and_another_seed_does_not(payloads):
    again = list(demo_payloads(KEYS, COUNT, seed=7, now=NOW))
    assert orjson.dumps(again) == orjson.dumps(payloads)
    other = list(demo_payloads(KEYS, COUNT, seed=8, now=NOW))
    assert orjson.dumps(other) != orjson.dumps(payloads)


def test_no_api_keys_is_an_error():
    with pytest.raises(ValueError):
        list(demo_payloads([], 10, now=NOW))


def test_every_payload_becomes_a_record_of_one_of_the_given_apis(records):
    assert len(records) == COUNT
    assert Counter(r.api_key for r in records).keys() == set(KEYS)


def test_more_keys_than_profiles_reuse_the_profiles():
    keys = [f"key-{i}" for i in range(6)]
    records = [record_from_payload(p, received_at=NOW) for p in demo_payloads(keys, 3000, now=NOW)]
    assert {r.api_key for r in records} == set(keys)


def test_every_time_lies_in_the_window(records):
    stamps = [r.ts for r in records]
    assert min(stamps) >= NOW - 30 * 86400
    assert max(stamps) <= NOW
    # and they spread over the whole window, not a corner of it
    assert min(stamps) < NOW - 28 * 86400
    assert max(stamps) > NOW - 86400


def test_a_shorter_window_is_respected():
    records = [record_from_payload(p, received_at=NOW) for p in demo_payloads(KEYS, 3000, now=NOW, days=1)]
    assert all(NOW - 86400 <= r.ts <= NOW for r in records)


def test_header_names_are_lower_case(payloads):
    for p in payloads:
        assert all(name == name.lower() for name in p["data"]["request"]["headers"])
        assert all(name == name.lower() for name in p["data"]["response"]["headers"])


# --- wire formats and SDK flavours -------------------------------------------------------------------


def test_both_wire_formats_and_several_sdks(payloads):
    format_b = [p for p in payloads if "sdk_token" in p]
    format_a = [p for p in payloads if "sdk_token" not in p]
    assert len(format_a) > COUNT * 0.2 and len(format_b) > COUNT * 0.2
    assert all(p["api_key"] in KEYS for p in format_b)
    assert all(p["project_id"] in KEYS and p["api_key"] not in KEYS for p in format_a)
    assert {p["sdk"] for p in payloads} >= {"django", "express", "laravel", "node"}


def test_django_sends_route_path_without_a_leading_slash_and_server_time(payloads):
    django = [p for p in payloads if p["sdk"] == "django"]
    routes = [p["data"]["request"]["route_path"] for p in django]
    assert all(not route.startswith("/") for route in routes)
    assert "api/orders/{order_id}" in routes
    assert {p["data"]["server"]["timezone"] for p in django} == {"America/New_York"}
    # like the real SDK: the query as a dict beside a URL without one, and version 20
    assert all("?" not in p["data"]["request"]["url"] and isinstance(p["data"]["request"]["query"], dict) for p in django)
    assert any(p["data"]["request"]["query"] for p in django)
    assert {p["version"] for p in django} == {20}


def test_express_times_are_utc_and_load_times_microseconds(payloads, records):
    by_sdk = defaultdict(list)
    for p, r in zip(payloads, records):
        by_sdk[p["sdk"]].append((p, r))
    express = by_sdk["express"]
    # reported zone is not UTC, yet the wall clock is UTC (the SDK uses toISOString)
    assert all(p["data"]["server"]["timezone"] != "UTC" for p, _ in express)
    for p, r in express[:200]:
        assert datetime.fromtimestamp(r.ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S") == p["data"]["request"]["timestamp"]
    # after unit conversion every SDK's typical call takes tens of milliseconds, not seconds
    for sdk, pairs in by_sdk.items():
        assert 5 < statistics.median(r.load_time_ms for _, r in pairs) < 500, sdk
    assert statistics.median(p["data"]["response"]["load_time"] for p, _ in express) > 5000  # µs on the wire


def test_format_b_carries_metadata_and_some_sizes_are_strings(payloads):
    format_b = [p for p in payloads if "sdk_token" in p]
    assert all(isinstance(p["data"]["metadata"], dict) for p in format_b)
    assert share(format_b, lambda p: "user-id" in p["data"]["metadata"]) > 0.4
    sizes = [p["data"]["response"]["size"] for p in payloads]
    assert any(isinstance(s, str) for s in sizes) and any(isinstance(s, int) for s in sizes)


# --- customers ---------------------------------------------------------------------------------------


def test_customer_sizes_are_zipf_like(records):
    per_customer = Counter(r.customer_id for r in records if r.customer_id)
    counts = sorted(per_customer.values(), reverse=True)
    assert 150 <= len(counts) <= 400  # ~300 customers per 10k requests
    assert counts[0] >= 20 * statistics.median(counts)
    assert sum(counts[:10]) > 0.3 * sum(counts)  # a few big ones ...
    assert sum(1 for c in counts if c <= 5) > 0.2 * len(counts)  # ... and a long tail


def test_customer_count_grows_slower_than_traffic():
    assert customer_count(10_000) == 300
    assert customer_count(1_000_000) < 100 * customer_count(10_000)
    assert customer_count(10**9) == 50_000
    assert customer_count(1) >= 1


def test_about_a_tenth_of_calls_are_unidentified(records):
    assert 0.06 <= share(records, lambda r: r.customer_id is None) <= 0.14


def test_most_customers_have_a_display_name(records):
    customers = {r.customer_id for r in records if r.customer_id}
    named = {r.customer_id for r in records if r.customer_id and r.customer_name}
    assert len(named) >= 0.6 * len(customers)
    names = {r.customer_name for r in records if r.customer_name}
    assert len(names) > 100
    assert any(name in names for name in ("Acme Corp", "Globex", "Initech", "Hooli", "Umbrella Corp"))


def test_customer_ids_look_like_ids_or_emails(records):
    ids = {r.customer_id for r in records if r.customer_id}
    assert share(list(ids), lambda i: i.startswith("cus_")) > 0.4
    assert any("@" in i for i in ids)


def test_the_customer_id_travels_every_way_the_design_lists(payloads):
    ways = Counter()
    for p in payloads:
        data = p["data"]
        req, resp = data["request"]["headers"], data["response"]["headers"]
        if data.get("metadata", {}).get("user-id"):
            ways["metadata"] += 1
        for where, headers in (("request", req), ("response", resp)):
            if "treblle-metadata" in headers:
                ways[f"treblle-metadata {where}"] += 1
            if "treblle-user-id" in headers:
                ways[f"treblle-user-id {where}"] += 1
    assert set(ways) == {"metadata", "treblle-metadata request", "treblle-metadata response",
                         "treblle-user-id request", "treblle-user-id response"}
    assert min(ways.values()) > COUNT * 0.02


def test_the_same_customer_always_has_the_same_id_source_name(payloads):
    """The name from metadata belongs to the id it travels with, whatever the way."""
    names = defaultdict(set)
    for p in payloads:
        data = p["data"]
        found = identify_customer(data.get("metadata", {}), data["request"]["headers"], data["response"]["headers"])
        if found and found.name:
            names[found.customer_id].add(found.name)
    assert names and all(len(n) == 1 for n in names.values())


def test_customers_are_partly_shared_across_apis(records):
    apis = defaultdict(set)
    for r in records:
        if r.customer_id:
            apis[r.customer_id].add(r.api_key)
    shared = [c for c, a in apis.items() if len(a) > 1]
    assert 0.1 * len(apis) < len(shared) < len(apis)


def test_some_customers_join_during_the_window(records):
    first_seen = {}
    for r in records:
        if r.customer_id:
            first_seen[r.customer_id] = min(first_seen.get(r.customer_id, r.ts), r.ts)
    late = [c for c, ts in first_seen.items() if ts > NOW - 15 * 86400]
    assert len(late) > 0.1 * len(first_seen)


# --- rhythm, errors, latency ------------------------------------------------------------------------


def test_weekdays_are_busier_than_weekends(records):
    per_day = Counter(datetime.fromtimestamp(r.ts, timezone.utc).date() for r in records)
    full_days = [d for d in per_day if NOW - 29 * 86400 < datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp() < NOW - 86400]
    weekday = statistics.mean(per_day[d] for d in full_days if d.weekday() < 5)
    weekend = statistics.mean(per_day[d] for d in full_days if d.weekday() >= 5)
    assert weekday > 1.4 * weekend


def test_the_day_has_a_rhythm(records):
    """Customers are busy in their working hours; summed over their timezones the busiest UTC
    hour still has far more traffic than the quietest."""
    hours = Counter(datetime.fromtimestamp(r.ts, timezone.utc).hour for r in records)
    assert max(hours.values()) > 2 * min(hours.values())


def test_error_rates_are_realistic_and_5xx_carry_errors(payloads, records):
    client = share(records, lambda r: 400 <= r.status < 500)
    server = share(records, lambda r: r.status >= 500)
    assert 0.04 <= client <= 0.10
    assert 0.005 <= server <= 0.03
    for p in payloads:
        if p["data"]["response"]["code"] >= 500:
            errors = p["data"]["errors"]
            assert errors and {"message", "file", "line", "source", "type"} <= errors[0].keys()


def test_load_times_are_skewed_with_slow_outliers(records):
    times = sorted(r.load_time_ms for r in records)
    p50, p95, worst = times[len(times) // 2], times[int(len(times) * 0.95)], times[-1]
    assert 20 < p50 < 200
    assert p95 > 3 * p50
    assert worst > 20 * p50
    assert min(times) > 0


# --- clients, places, threats -----------------------------------------------------------------------


def test_devices_of_every_kind(records):
    devices = Counter(r.device for r in records)
    for kind in ("desktop", "mobile", "tablet", "api client", "bot"):
        assert devices[kind] > COUNT * 0.01, kind
    assert devices["desktop"] > COUNT * 0.1 and devices["mobile"] > COUNT * 0.1
    browsers = {r.browser for r in records if r.browser}
    assert {"curl", "python-requests", "Postman", "okhttp", "Go-http-client"} <= browsers


def test_a_few_percent_are_ai_agents(records):
    agents = Counter(r.ai_agent for r in records if r.ai_agent)
    assert 0.02 <= sum(agents.values()) / COUNT <= 0.06
    assert len(agents) >= 6
    assert {"GPTBot", "ChatGPT-User", "ClaudeBot", "PerplexityBot"} <= agents.keys()


def test_calls_come_from_many_countries(records):
    countries = Counter(r.country for r in records)
    assert len([c for c in countries if c]) >= 20
    assert "US" in [c for c, _ in countries.most_common(3)]


def test_every_country_table_prefix_geolocates_to_its_country():
    geoip = GeoIP2Fast(verbose=False)
    for country, (_, _, prefixes) in COUNTRIES.items():
        assert len(prefixes) >= 3
        for prefix in prefixes:
            for last in (1, 63, 128, 200, 254):
                ip = f"{prefix}.{last}"
                assert geoip.lookup(ip).country_code == country, ip
                assert location_of(ip).country == country, ip


def test_client_addresses_come_through_a_proxy_sometimes(payloads, records):
    forwarded = share(payloads, lambda p: "x-forwarded-for" in p["data"]["request"]["headers"])
    assert 0.3 < forwarded < 0.95
    proxied = [(p, r) for p, r in zip(payloads, records) if "x-forwarded-for" in p["data"]["request"]["headers"]]
    # Laravel and Node apps report the load balancer as request.ip; the record still finds the client
    private = [(p, r) for p, r in proxied if p["data"]["request"]["ip"].startswith(("10.", "172."))]
    assert {p["sdk"] for p, _ in private} == {"laravel", "node"}
    assert share(proxied, lambda pr: pr[1].country is not None) > 0.99


def test_threat_levels_all_occur(records):
    levels = Counter(r.threat_level for r in records)
    assert 0.01 <= levels["high"] / COUNT <= 0.06
    assert 0.02 <= levels["medium"] / COUNT <= 0.2
    assert levels["low"] > COUNT * 0.7
    reasons = " ".join(r.threat_reasons for r in records if r.threat_level == "high")
    for kind in ("SQL injection", "XSS", "Path traversal", "Plain HTTP"):
        assert kind in reasons


def test_most_calls_are_https_with_a_bearer_token(payloads):
    assert share(payloads, lambda p: p["data"]["request"]["url"].startswith("https://")) > 0.95
    bearer = share(payloads, lambda p: str(p["data"]["request"]["headers"].get("authorization", "")).startswith("Bearer "))
    assert 0.6 < bearer < 0.95


def test_secret_fields_arrive_masked_by_the_sdk_and_others_do_not(payloads, records):
    """The SDKs replace password, card_number, ... by asterisks; a client_secret or refresh_token
    arrives as it was sent, and Footfall's own masking hides it before storage."""
    bodies = [p["data"]["request"]["body"] for p in payloads if isinstance(p["data"]["request"]["body"], dict)]
    passwords = [b["password"] for b in bodies if "password" in b]
    assert passwords and all(set(pw) == {"*"} for pw in passwords)
    assert any(set(b.get("card_number", "")) == {"*"} for b in bodies)
    assert any(b.get("client_secret", "").startswith("cs_live_") for b in bodies)
    stored = " ".join(r.request_body for r in records)
    assert "cs_live_" not in stored and "def50200" not in stored


def test_endpoints_group_into_a_few_dozen_names(records):
    per_api = defaultdict(set)
    for r in records:
        per_api[r.api_key].add(r.endpoint)
    for key, endpoints in per_api.items():
        assert 5 <= len(endpoints) <= 15, (key, sorted(endpoints))


# --- speed --------------------------------------------------------------------------------------------


def test_generation_is_fast():
    """The target is 50,000 payloads/s on the development machine; this floor only catches a
    regression to per-payload heavy work, with room for a loaded CI box."""
    started = time.perf_counter()
    for _ in demo_payloads(KEYS, 50_000, now=NOW):
        pass
    assert 50_000 / (time.perf_counter() - started) > 20_000


def test_payloads_parse_without_the_enrichment_too(payloads):
    """The plain parser agrees on the API and the time window for every payload."""
    for p in payloads[:2000]:
        call = parse_payload(p, received_at=NOW)
        assert call.api_key in KEYS and NOW - 30 * 86400 <= call.timestamp <= NOW

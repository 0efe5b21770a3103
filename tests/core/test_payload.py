"""Parsing Treblle payloads, formats A and B, into a Call."""

from datetime import datetime, timezone

import pytest

from core.payload import PayloadError, parse_payload, payload_api_key
from factories import format_b, payload

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc).timestamp()


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


def test_format_a_names_the_api_by_project_id():
    assert parse_payload(payload(api_key="proj-1"), received_at=NOW).api_key == "proj-1"


def test_format_b_names_the_api_by_api_key_when_sdk_token_is_present():
    call = parse_payload(format_b(api_key="proj-2"), received_at=NOW)
    assert call.api_key == "proj-2"


def test_django_wall_clock_time_in_new_york_is_stored_as_utc():
    call = parse_payload(payload(timestamp="2026-11-20 07:00:00", timezone="America/New_York"), received_at=NOW)
    assert call.timestamp == utc("2026-11-20 12:00:00")


def test_summer_time_is_applied_for_the_servers_zone():
    call = parse_payload(payload(timestamp="2026-07-01 08:00:00", timezone="America/New_York"), received_at=NOW)
    assert call.timestamp == utc("2026-07-01 12:00:00")


def test_javascript_sdks_send_utc_whatever_timezone_they_report():
    p = payload(sdk="express", timestamp="2026-11-20 12:00:00", timezone="America/New_York")
    assert parse_payload(p, received_at=NOW).timestamp == utc("2026-11-20 12:00:00")


def test_unknown_timezone_falls_back_to_utc():
    p = payload(timestamp="2026-11-20 12:00:00", timezone="Mars/Olympus")
    assert parse_payload(p, received_at=NOW).timestamp == utc("2026-11-20 12:00:00")


def test_missing_timestamp_uses_the_time_it_arrived():
    p = payload()
    del p["data"]["request"]["timestamp"]
    assert parse_payload(p, received_at=NOW).timestamp == int(NOW)


@pytest.mark.parametrize(("sdk", "load_time", "expected_ms"), [
    ("django", 12.5, 12.5),
    ("express", 200000.0, 200.0),  # @treblle/express 1.x: microseconds, float
    ("node", 1500, 1.5),  # treblle npm 1.x: microseconds, integer
])
def test_load_time_is_milliseconds_whatever_unit_the_sdk_sends(sdk, load_time, expected_ms):
    assert parse_payload(payload(sdk=sdk, load_time=load_time), received_at=NOW).load_time_ms == expected_ms


def test_format_b_load_time_is_already_milliseconds():
    p = format_b(load_time=250)
    p["sdk"] = "node"
    assert parse_payload(p, received_at=NOW).load_time_ms == 250


def test_size_sent_as_a_string_is_a_number():
    p = payload()
    p["data"]["response"]["size"] = "2048"
    assert parse_payload(p, received_at=NOW).size == 2048


def test_url_splits_into_scheme_host_path_and_query():
    call = parse_payload(payload(url="http://shop.example.com:8080/api/items/7?sort=asc"), received_at=NOW)
    assert (call.scheme, call.host, call.path, call.query) == ("http", "shop.example.com:8080", "/api/items/7", "sort=asc")


def test_query_sent_as_an_object_is_kept_when_the_url_has_none():
    p = payload(url="https://api.example.com/search")
    p["data"]["request"]["query"] = {"q": "shoes"}
    assert parse_payload(p, received_at=NOW).query == "q=shoes"


def test_header_names_are_lower_cased():
    p = payload(request_headers={"Treblle-User-Id": "cus_9"})
    assert parse_payload(p, received_at=NOW).request_headers["treblle-user-id"] == "cus_9"


@pytest.mark.parametrize(("broken", "message"), [
    ([1, 2], "must be a JSON object"),
    ({"project_id": "k"}, "data is missing"),
    ({"data": {}}, "no project_id"),
    ({"project_id": "k", "data": {"request": {}, "response": {"code": "abc"}}}, "HTTP status"),
    ({"project_id": "k", "data": {"request": {}, "response": {"code": 999}}}, "not an HTTP status"),
    ({"project_id": "k", "data": {"request": "x", "response": {}}}, "data.request must be an object"),
])
def test_a_payload_of_the_wrong_shape_is_refused_with_a_reason(broken, message):
    with pytest.raises(PayloadError, match=message):
        parse_payload(broken, received_at=NOW)


def test_the_api_key_is_read_without_reading_anything_else():
    assert payload_api_key({"project_id": "proj-1", "data": "not even an object"}) == "proj-1"
    assert payload_api_key({"sdk_token": "t", "api_key": "proj-2", "project_id": "ignored", "data": 1}) == "proj-2"
    with pytest.raises(PayloadError, match="must be a JSON object, got an array"):
        payload_api_key([{"project_id": "proj-1"}])
    with pytest.raises(PayloadError, match="no api_key"):
        payload_api_key({"sdk_token": "t", "project_id": "proj-1"})


@pytest.mark.parametrize("zone", ["America", "Etc", "Mars/" + "x" * 300, "../../etc/passwd", "a\x00b"])
def test_a_timezone_that_is_no_zone_file_is_utc(zone):
    p = payload(timestamp="2026-11-20 12:00:00", timezone=zone)
    assert parse_payload(p, received_at=NOW).timestamp == utc("2026-11-20 12:00:00")


def test_a_timestamp_after_the_latest_accepted_is_the_arrival_time():
    p = payload(timestamp="2026-11-22 12:00:00")
    assert parse_payload(p, received_at=NOW, latest_timestamp=NOW + 86_400).timestamp == int(NOW)
    assert parse_payload(p, received_at=NOW).timestamp == utc("2026-11-22 12:00:00")


def test_a_query_object_with_nested_values_keeps_them_as_compact_json():
    p = payload(url="https://api.example.com/search")
    p["data"]["request"]["query"] = {"ids": ["1", "2"], "page": 2}
    assert parse_payload(p, received_at=NOW).query == 'ids=["1","2"]&page=2'


def test_a_repeated_user_agent_header_counts_by_its_first_value():
    p = payload(request_headers={"user-agent": ["curl/8.5", "other"]})
    del p["data"]["request"]["user_agent"]
    assert parse_payload(p, received_at=NOW).user_agent == "curl/8.5"

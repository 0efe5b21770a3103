"""The signals on the dashboard's pages, through AppTest on a real database: gone quiet on home,
customers and the profile; the profile's endpoints and peer standing; the endpoints page."""

from __future__ import annotations

import math

import pytest
from dashboard.dashboard_support import HOUR, Call, dash, metric, select_row, table  # noqa: F401 (dash: a fixture)

from core.latency import bucket_ms, latency_bucket

DAY = 86400
HOME, CUSTOMERS, PROFILE, ENDPOINTS = "pages/home.py", "pages/customers.py", "pages/customer.py", "pages/endpoints.py"


def days_of(board, user: str, per_day: int, first_days_ago: int, last_days_ago: int, **fields) -> list[Call]:
    """per_day calls a day on the complete days from first_days_ago to last_days_ago (1: yesterday)."""
    today = int(board.now) // DAY * DAY
    return [Call(user, (board.now - (today - d * DAY + i * DAY // per_day + 60)) / HOUR, **fields)
            for d in range(first_days_ago, last_days_ago - 1, -1) for i in range(per_day)]


def earlier_today(board, user: str, **fields) -> Call:
    """A call halfway through today's elapsed part: not in any complete day, and so recent that the
    customer is never silent, whatever the hour the test runs at."""
    return Call(user, (board.now - int(board.now) // DAY * DAY) / 2 / HOUR, **fields)


@pytest.fixture
def quiet_traffic(dash):
    dash.ingest(*days_of(dash, "steady", 12, 35, 1), *days_of(dash, "fading", 12, 35, 8),
                *days_of(dash, "fading", 2, 7, 1, name="Fading Corp"),
                earlier_today(dash, "steady"), earlier_today(dash, "fading", name="Fading Corp"))
    return dash


def test_home_shows_the_customers_gone_quiet_with_their_drop(quiet_traffic):
    at = quiet_traffic.app(HOME)
    rows = table(at, "home_quiet")
    assert list(rows["display_name"]) == ["Fading Corp"]
    # 14 in the last 7 days against a usual week of 84: -83%.
    assert rows["change_percent"][0] == pytest.approx(100 * (14 / 84 - 1))
    assert rows["recent_requests"][0] == 14


def test_the_customers_page_filters_to_the_customers_gone_quiet_and_a_row_opens_the_profile(quiet_traffic):
    at = quiet_traffic.app(CUSTOMERS)
    at.toggle(key="customers_quiet").set_value(True).run()
    assert list(table(at, "customers_quiet_table")["customer_id"]) == ["fading"]
    select_row(at, "customers_quiet_table", 0)
    assert at.query_params["id"] == ["fading"] or at.query_params.get("id") == "fading"


def test_the_profile_says_when_the_customer_has_gone_quiet_and_not_otherwise(quiet_traffic):
    fading = quiet_traffic.app(PROFILE, id="fading")
    [warning] = fading.warning
    assert "Gone quiet · Dropped" in warning.value and "14 requests" in warning.value and "−83%" in warning.value
    assert not quiet_traffic.app(PROFILE, id="steady").warning


def test_the_profile_ranks_p95_and_error_rate_among_the_api_s_customers(dash):
    # Ten peers with 20+ requests each, p95s 10..100 ms and error rates 0..9 in 20; one too small to count.
    for n in range(10):
        dash.ingest(*[Call(f"peer{n}", 1 + i / 10, load_ms=10.0 * (n + 1), status=500 if i < n else 200) for i in range(20)])
    dash.ingest(*[Call("tiny", 2, load_ms=5000.0, status=500) for _ in range(3)])
    at = dash.app(PROFILE, id="peer7")
    p95s = sorted(bucket_ms(latency_bucket(10.0 * (n + 1))) for n in range(10))
    slower = sum(p < bucket_ms(latency_bucket(80.0)) for p in p95s) / 10
    more_errors = sum(n < 7 for n in range(10)) / 10
    assert metric(at, "p95 load time").proto.delta == f"slower than {slower:.0%} of customers" == "slower than 70% of customers"
    assert metric(at, "Error rate").proto.delta == f"more errors than {more_errors:.0%} of customers"
    assert any("Among 10 customers" in c.value for c in at.caption)


def test_the_profile_lists_the_customer_s_endpoints_with_their_requests_and_errors(dash):
    dash.ingest(*[Call("acme", 2, url="https://api.example.com/api/items/7", status=404 if i % 4 == 0 else 200)
                  for i in range(12)],
                *[Call("acme", 3, method="POST", url="https://api.example.com/api/orders") for _ in range(5)],
                Call("acme", 5000, url="https://api.example.com/api/legacy"))  # before the period: none in it
    rows = table(dash.app(PROFILE, id="acme"), "profile_endpoints")
    assert list(zip(rows["endpoint"], rows["requests"], rows["errors"])) == [
        ("GET /api/items/{id}", 12, 3), ("POST /api/orders", 5, 0), ("GET /api/legacy", 0, 0)]


def test_the_endpoints_page_shows_an_endpoint_s_customers_new_ones_and_who_moved_off(dash):
    items, legacy = "https://api.example.com/api/items/7", "https://api.example.com/api/v0/items/7"
    dash.ingest(*[Call("acme", 2 + i, url=items) for i in range(6)],
                *[Call("globex", 1000 + i, url=legacy) for i in range(3)],  # 41+ days ago: before the period
                *[Call("initech", 3, url=legacy, status=500) for _ in range(2)],
                Call("initech", 900, url=items))  # ~37 days ago: moved off items
    at = dash.app(ENDPOINTS)
    listed = table(at, "endpoints_table")
    assert dict(zip(listed["endpoint"], listed["customers"])) == {"GET /api/items/{id}": 1, "GET /api/v0/items/{id}": 1}
    ids = dict(zip(listed["endpoint"], listed["endpoint_id"]))
    at.selectbox(key="endpoint_choice").set_value(ids["GET /api/v0/items/{id}"]).run()
    assert (metric(at, "Customers").value, metric(at, "New customers").value, metric(at, "Moved off").value) == ("1", "1", "1")
    assert metric(at, "Requests").value == "2"
    assert list(table(at, "endpoint_customers")["customer_id"]) == ["initech"]
    at.button_group(key="endpoint_list_shown").set_value("moved_off").run()
    assert list(table(at, "endpoint_moved_off")["customer_id"]) == ["globex"]
    select_row(at, "endpoints_table", list(listed["endpoint"]).index("GET /api/items/{id}"))
    assert list(table(at, "endpoint_moved_off")["customer_id"]) == ["initech"]
    assert math.isclose(float(metric(at, "Requests").value), 6)

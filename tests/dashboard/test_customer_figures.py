"""The fast customer figures (who was active, the busiest first, pages in any order) agree with a
plain count of the inserted calls, for every API and for periods that cut through customers'
lifetimes, also periods in the past where customers span the whole period."""

import random
from collections import Counter

import pytest
from dashboard_support import API_IDS, BILLING_KEY, SHOP_KEY, Call, dash  # noqa: F401, F811 (dash: a fixture)

from core.periods import HOUR, Period, custom_period, floor_hour
from core.scope import Scope
from db.queries import figures
from db.reads import customers, home


@pytest.fixture
def traffic(dash):
    g = random.Random(11)
    calls = []
    for n in range(60):
        user = f"cus_{n:02d}"
        first, last = sorted(g.uniform(1, 1400) for _ in range(2))
        for _ in range(1 + int(40 / (n + 1))):  # a few busy customers, a long tail
            calls.append(Call(user, round(g.uniform(first, last), 2), api=g.choice([SHOP_KEY, SHOP_KEY, BILLING_KEY])))
    # Giants of the past: more requests in all than anyone, one of them in the last 30 days.
    calls += [Call(f"old_{n:02d}", g.uniform(1000, 1400)) for n in range(40) for _ in range(50)]
    calls += [Call(f"old_{n:02d}", g.uniform(2, 20)) for n in range(40)]
    calls += [Call(None, g.uniform(1, 1400)) for _ in range(30)]
    dash.ingest(*calls)
    return dash


def expected(dash, scope: Scope) -> Counter:
    """Requests per customer ID in the scope, straight from the calls."""
    since, until = scope.period.since, scope.period.until
    return Counter(
        c.user for c in dash.calls
        if c.user is not None
        and (scope.api_id is None or API_IDS[c.api] == scope.api_id)
        and (since is None or c.ts(dash.now) >= since)
        and (until is None or c.ts(dash.now) < until)
    )


def scopes(now: float) -> list[Scope]:
    end = floor_hour(now) + HOUR
    periods = [
        Period(end - 30 * 86400, end),  # the last 30 days
        Period(end - 60 * 86400, end - 30 * 86400),  # the 30 days before: many customers span it
        Period(end - 7 * 86400 - 5 * HOUR, end - 2 * 86400 - 3 * HOUR),  # hours at both edges
        Period(end - 20 * 86400, end - 19 * 86400),  # one day in the middle
        Period(None, None),
    ]
    return [Scope(api, p) for api in (None, 1, 2) for p in periods]


def test_active_customers_are_exactly_those_with_a_request_in_the_period(traffic):
    for scope in scopes(traffic.now):
        assert figures.active_count(traffic.conn, scope) == len(expected(traffic, scope)), scope


def test_pages_by_requests_rank_the_busiest_first_with_ties_by_customer_id(traffic):
    for scope in scopes(traffic.now):
        counts = expected(traffic, scope)
        ranking = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        for page, size in ((1, 5), (2, 5), (3, 7), (1, 100)):
            rows, total = customers.customer_page(traffic.conn, scope, "", "requests", True, page, size)
            want = ranking[(page - 1) * size : page * size]
            assert list(zip(rows["customer_id"], rows["requests"])) == want, (scope, page)
            assert total == len(counts)
        rows, _ = customers.customer_page(traffic.conn, scope, "", "requests", False, 1, 10)
        assert list(zip(rows["customer_id"], rows["requests"])) == sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))[:10]


@pytest.mark.parametrize("sort", ["customer_id", "last_active", "first_seen", "display_name"])
def test_pages_in_other_orders_hold_the_active_customers_with_their_period_requests(traffic, sort):
    for scope in scopes(traffic.now):
        counts = expected(traffic, scope)
        rows, total = customers.customer_page(traffic.conn, scope, "", sort, False, 1, 1000)
        assert dict(zip(rows["customer_id"], rows["requests"])) == dict(counts), scope
        assert total == len(counts)
        column = rows["display_name"].str.to_lowercase() if sort == "display_name" else rows[sort]
        assert column.to_list() == sorted(column.to_list())


def test_search_narrows_the_count_and_the_pages(traffic):
    for scope in [Scope(None, custom_period("2000-01-01", "2100-01-01")), *scopes(traffic.now)]:
        counts = {user: n for user, n in expected(traffic, scope).items() if "3" in user}
        rows, total = customers.customer_page(traffic.conn, scope, "3", "requests", True, 1, 100)
        assert total == len(counts), scope
        assert dict(zip(rows["customer_id"], rows["requests"])) == counts, scope


@pytest.mark.parametrize("api_id", [None, 1])
def test_requests_on_the_first_day_but_before_the_period_never_count_towards_the_busiest(dash, api_id):
    since = (floor_hour(dash.now) // 86400 - 20) * 86400 + 12 * HOUR  # noon 20 days ago: its day is cut in two
    before = [Call("edge", (dash.now - since) / HOUR + 2) for _ in range(50)]  # that day, before noon
    dash.ingest(*before, Call("edge", 1), *[Call("steady", 24 * 10) for _ in range(3)],
                *[Call("early", (dash.now - since) / HOUR - 1) for _ in range(2)])  # that day, after noon
    scope = Scope(api_id, Period(since, floor_hour(dash.now) + HOUR))
    top = home.top_customers(dash.conn, scope, 1)
    assert list(zip(top["customer_id"], top["requests"])) == [("steady", 3)]
    top = home.top_customers(dash.conn, scope, 3)
    assert list(zip(top["customer_id"], top["requests"])) == [("steady", 3), ("early", 2), ("edge", 1)]

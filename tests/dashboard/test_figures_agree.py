"""One figure, one answer: the customers page, the profile, the home page, the CLI's JSON and a naive
count of the calls sent (and a GROUP BY over the raw rows) agree on requests and share, for every
API and several periods of the same database."""

import json
import random
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from dashboard_support import API_IDS, BILLING_KEY, SHOP_KEY, Call, dash, metric, table  # noqa: F401, F811

from conftest import footfall
from core.periods import floor_hour


@pytest.fixture
def traffic(dash):
    g = random.Random(5)
    calls = [Call(f"cus_{g.randrange(30):02d}" if g.random() > 0.15 else None, round(g.uniform(0.2, 24 * 50), 2),
                  api=g.choice([SHOP_KEY, SHOP_KEY, BILLING_KEY])) for _ in range(600)]
    dash.ingest(*calls)
    return dash


def utc_day(dash, days_ago: int) -> str:
    return (datetime.fromtimestamp(dash.now, tz=timezone.utc).date() - timedelta(days=days_ago)).isoformat()


def naive(dash, api: str | None, since: float | None, until: float | None) -> tuple[Counter, int]:
    """Requests per customer and every request (unidentified included), from the calls sent."""
    chosen = [c for c in dash.calls if (api is None or c.api == api)
              and (since is None or c.ts(dash.now) >= since) and (until is None or c.ts(dash.now) < until)]
    return Counter(c.user for c in chosen if c.user is not None), len(chosen)


def grouped_rows(dash, api: str | None, since: float | None, until: float | None) -> Counter:
    """Requests per customer by GROUP BY over the stored raw requests."""
    rows = dash.conn.execute(
        "SELECT c.external_id, COUNT(*) FROM requests r JOIN customers c ON c.id = r.customer_id"
        " WHERE (CAST(? AS BIGINT) IS NULL OR r.api_id = ?) AND (CAST(? AS BIGINT) IS NULL OR r.ts >= ?)"
        " AND (CAST(? AS BIGINT) IS NULL OR r.ts < ?)"
        " GROUP BY c.external_id", [API_IDS.get(api)] * 2 + [_whole(since)] * 2 + [_whole(until)] * 2).fetchall()
    return Counter(dict(rows))


def _whole(ts: float | None) -> int | None:
    """A period's end as the whole second it is (a BIGINT parameter)."""
    assert ts is None or ts == int(ts)
    return None if ts is None else int(ts)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def day_start(day: str) -> float:
    return datetime.fromisoformat(day).replace(tzinfo=timezone.utc).timestamp()


SCOPES = {  # name: (API key or None, "7d", days ago of the first and last whole UTC day, or None: all time)
    "all APIs, all time": (None, None),
    "one API, all time": (SHOP_KEY, None),
    "all APIs, the last 7 days (edge hours)": (None, "7d"),
    "all APIs, 10 whole days": (None, (14, 5)),
    "one API, 3 whole days": (BILLING_KEY, (40, 38)),
}


@pytest.mark.parametrize("scope_name", SCOPES)
def test_the_customers_page_the_cli_and_a_naive_count_agree(traffic, scope_name):
    api, days = SCOPES[scope_name]
    url, cli = {}, []
    since = until = None
    if days == "7d":
        until = floor_hour(traffic.now) + 3600
        since = until - 7 * 86400
        url = {"period": "7d"}
        cli = ["--since", iso(since), "--until", iso(until)]
    elif days is not None:
        first, last = utc_day(traffic, days[0]), utc_day(traffic, days[1])
        since, until = day_start(first), day_start(last) + 86400
        url = {"period": "custom", "from": first, "to": last}
        cli = ["--since", first, "--until", iso(until)]
    else:
        url = {"period": "all"}
    api_name = {SHOP_KEY: "Shop API", BILLING_KEY: "Billing API"}.get(api)
    if api_name:
        url["api"] = api_name
        cli += ["--api", api_name]
    expected, every_request = naive(traffic, api, since, until)
    assert expected and expected == grouped_rows(traffic, api, since, until)

    page = table(traffic.app("pages/customers.py", **url), "customers_table")
    on_page = dict(zip(page["customer_id"], page["requests"]))
    shares = dict(zip(page["customer_id"], page["share"]))
    from_cli = json.loads(footfall("customers", "--format", "json", *cli, db=traffic.path).stdout)

    assert on_page == dict(expected)
    assert {row["customer_id"]: row["requests"] for row in from_cli} == dict(expected)
    for row in from_cli:
        assert row["share"] == pytest.approx(100 * expected[row["customer_id"]] / every_request, abs=1e-4)
        assert shares[row["customer_id"]] == pytest.approx(100 * expected[row["customer_id"]] / every_request)
    busiest = min(expected.items(), key=lambda kv: (-kv[1], kv[0]))[0]  # ties go by customer ID
    profile = traffic.app("pages/customer.py", id=busiest, **url)
    assert metric(profile, "Total Requests").value == f"{expected[busiest]:,}"
    home = traffic.app(**url)
    assert metric(home, "Active Customers").value == str(len(expected))
    assert table(home, "home_top")["requests"].iloc[0] == expected[busiest]

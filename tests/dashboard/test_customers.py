"""Customers: every customer of the period with requests, share and last active; search, sort,
paging; a selected row opens the profile."""

from datetime import datetime, timedelta, timezone

import pytest
from dashboard_support import BILLING_KEY, Call, dash, select_row, table  # noqa: F401, F811 (dash: a fixture)

PAGE = "pages/customers.py"


def test_the_table_shows_every_active_customer_with_requests_share_last_active_and_favorite(dash):
    calls = [Call("acme", 2, name="Acme Corp"), Call("acme", 5), Call("acme", 9), Call("zed", 3), Call("zed", 40),
             Call(None, 1), Call(None, 6), Call("old", 2000)]
    dash.ingest(*calls)
    dash.star("zed")
    in_period = [c for c in calls if c.hours_ago < 700]
    at = dash.app(PAGE)
    shown = table(at, "customers_table")
    assert list(shown["customer_id"]) == ["acme", "zed"]  # busiest first; "old" made no request in the period
    assert list(shown["display_name"]) == ["Acme Corp", "zed"]  # a display name, else the ID
    assert list(shown["requests"]) == [3, 2]
    assert list(shown["share"]) == pytest.approx([100 * 3 / len(in_period), 100 * 2 / len(in_period)])  # of ALL requests
    latest = {u: max(c.ts(dash.now) for c in calls if c.user == u) for u in ("acme", "zed")}
    assert [t.to_pydatetime() for t in shown["last_active"]] == [
        datetime.fromtimestamp(latest[u], tz=timezone.utc) for u in ("acme", "zed")
    ]
    assert list(shown["star"]) == ["", "★"]
    assert any("1–2 of 2 customers" in c.value for c in at.caption)


def test_search_finds_customers_by_id_or_name_ignoring_case(dash):
    dash.ingest(Call("cus_001", 1, name="Globex"), Call("cus_002", 1, name="Initech"), Call("acme-7", 1))
    at = dash.app(PAGE)
    at.text_input(key="customers_search").input("GLOB").run()
    assert list(table(at, "customers_table")["customer_id"]) == ["cus_001"]
    at.text_input(key="customers_search").input("cus_").run()
    assert sorted(table(at, "customers_table")["customer_id"]) == ["cus_001", "cus_002"]
    at.text_input(key="customers_search").input("%").run()  # a literal percent sign, not a wildcard
    assert not at.dataframe and any("No customer matches" in i.value for i in at.info)


def test_the_table_sorts_by_any_column_both_ways(dash):
    dash.ingest(Call("b", 1, name="Beta"), Call("b", 2), Call("a", 30, name="alpha"), Call("c", 10, name="Gamma"),
                Call("c", 11), Call("c", 12))
    at = dash.app(PAGE)
    assert list(table(at, "customers_table")["customer_id"]) == ["c", "b", "a"]
    at.selectbox(key="customers_sort").select("display_name").run()
    assert list(table(at, "customers_table")["display_name"]) == ["Gamma", "Beta", "alpha"]
    at.segmented_control(key="customers_order").set_value("Ascending").run()
    assert list(table(at, "customers_table")["display_name"]) == ["alpha", "Beta", "Gamma"]
    at.selectbox(key="customers_sort").select("last_active").run()
    assert list(table(at, "customers_table")["customer_id"]) == ["a", "c", "b"]
    at.selectbox(key="customers_sort").select("requests").run()
    assert list(table(at, "customers_table")["requests"]) == [1, 2, 3]


def test_many_customers_are_paged_fifty_at_a_time(dash):
    dash.ingest(*[Call(f"cus_{i:03d}", 1) for i in range(120) for _ in range(1 + i % 3)])
    expected = sorted({f"cus_{i:03d}": 1 + i % 3 for i in range(120)}.items(), key=lambda kv: (-kv[1], kv[0]))
    at = dash.app(PAGE)
    assert list(table(at, "customers_table")["customer_id"]) == [c for c, _ in expected[:50]]
    at.pagination(key="customers_page").set_value(3).run()
    assert list(table(at, "customers_table")["customer_id"]) == [c for c, _ in expected[100:]]
    assert any("101–120 of 120 customers" in c.value for c in at.caption)
    at.text_input(key="customers_search").input("cus_11").run()  # a new search starts at page 1
    assert list(table(at, "customers_table")["customer_id"]) == sorted(
        [c for c, _ in expected if c.startswith("cus_11")], key=lambda c: (-dict(expected)[c], c)
    )


def test_the_api_and_period_in_the_url_decide_who_is_listed(dash):
    dash.ingest(Call("shopper", 2), Call("payer", 2, api=BILLING_KEY), Call("recent", 10), Call("older", 100))
    assert list(table(dash.app(PAGE, api="Billing API"), "customers_table")["customer_id"]) == ["payer"]
    assert sorted(table(dash.app(PAGE, period="24h"), "customers_table")["customer_id"]) == ["payer", "recent", "shopper"]
    at = dash.app(PAGE, period="7d")
    assert sorted(table(at, "customers_table")["customer_id"]) == ["older", "payer", "recent", "shopper"]
    assert at.query_params["period"] == "7d"


def test_a_custom_period_in_the_url_covers_whole_utc_days(dash):
    dash.ingest(*[Call(f"cus_{h}", h) for h in range(1, 24 * 6, 5)])
    today = datetime.fromtimestamp(dash.now, tz=timezone.utc).date()
    first, last = today - timedelta(days=4), today - timedelta(days=2)
    start = datetime.combine(first, datetime.min.time(), tzinfo=timezone.utc).timestamp()
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc).timestamp()
    inside = sorted(c.user for c in dash.calls if start <= c.ts(dash.now) < end)
    at = dash.app(PAGE, period="custom", **{"from": first.isoformat(), "to": last.isoformat()})
    assert sorted(table(at, "customers_table")["customer_id"]) == inside
    assert at.date_input(key="from").value == first and at.date_input(key="to").value == last
    assert (at.query_params["from"], at.query_params["to"]) == (first.isoformat(), last.isoformat())


def test_selecting_a_row_opens_that_customers_profile(dash):
    dash.ingest(Call("cus_42", 1, name="Hooli"), Call("cus_42", 2), Call("cus_7", 3, name="Pied Piper"))
    at = dash.app(PAGE, period="7d")
    assert list(table(at, "customers_table")["customer_id"]) == ["cus_42", "cus_7"]
    select_row(at, "customers_table", 1)
    assert not at.exception
    assert at.query_params["id"] == "cus_7"
    assert at.query_params["period"] == "7d"  # the view travels with the link
    assert [t.value for t in at.title] == ["Pied Piper"]

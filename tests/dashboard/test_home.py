"""Home: the widget figures for the chosen API and period, their change, and the widget choice."""

from collections import Counter

import pytest
from dashboard_support import APP, BILLING_KEY, SHOP_KEY, Call, dash, metric, select_row, table  # noqa: F401, F811 (dash: a fixture)
from streamlit.testing.v1 import AppTest

# The default period is the last 30 days (720 hours, ending with the current hour); the previous
# period is the 30 days before. Calls sit well inside one or the other.
NOW_30D = range(0, 700)
PREVIOUS_30D = range(740, 1420)


def in_current(call: Call) -> bool:
    return call.hours_ago in NOW_30D


def in_previous(call: Call) -> bool:
    return call.hours_ago in PREVIOUS_30D


def figures(calls: list[Call], window) -> dict:
    """The home figures computed straight from the calls a test inserted."""
    inside = [c for c in calls if window(c)]
    first_seen: dict[str, float] = {}
    for c in calls:
        if c.user is not None:
            first_seen[c.user] = max(first_seen.get(c.user, -1), c.hours_ago)  # oldest call = largest hours_ago
    identified = [c for c in inside if c.user is not None]
    active = {c.user for c in identified}
    new = {user for user, hours in first_seen.items() if window(Call(user, hours))}
    return {
        "requests": len(inside),
        "active": len(active),
        "new": len(new),
        "average": len(identified) / len(active) if active else None,
        "unattributed": 100 * (len(inside) - len(identified)) / len(inside) if inside else None,
        "by_customer": Counter(c.user for c in identified),
    }


def change(now: float, before: float, unit: str = "") -> str:
    """A delta as the metric shows it: signed, one decimal unless whole, plain "0" for none."""
    delta = round(float(now - before), 1)
    if delta == 0:
        return "0"
    return (f"{delta:+.0f}" if delta.is_integer() and not unit else f"{delta:+.1f}") + unit


TRAFFIC = [
    # the previous 30 days: a and d arrive
    Call("a", 800), Call("d", 900), Call("d", 1000),
    # the last 30 days: a returns, b and c arrive (c on the Billing API), unidentified calls
    Call("a", 2), Call("a", 30), Call("a", 300), Call("b", 5), Call("c", 10, api=BILLING_KEY),
    Call("c", 11, api=BILLING_KEY), Call(None, 3), Call(None, 4, api=BILLING_KEY),
]


def test_counts_match_the_inserted_calls_and_show_the_change_against_the_previous_30_days(dash):
    dash.ingest(*TRAFFIC)
    now, before = figures(dash.calls, in_current), figures(dash.calls, in_previous)
    at = dash.app()

    assert metric(at, "New Customers").value == str(now["new"]) == "2"
    assert metric(at, "New Customers").delta == change(now["new"], before["new"]) == "0"
    assert metric(at, "Active Customers").value == str(now["active"]) == "3"
    assert metric(at, "Active Customers").delta == change(now["active"], before["active"]) == "+1"
    assert metric(at, "Average Requests per Customer").value == f"{now['average']:,.1f}" == "2.0"
    assert metric(at, "Average Requests per Customer").delta == change(now["average"], before["average"]) == "+0.5"
    assert metric(at, "Unattributed traffic").value == f"{now['unattributed']:.1f}%" == "25.0%"
    assert metric(at, "Unattributed traffic").delta == change(now["unattributed"], before["unattributed"], " pp")
    assert metric(at, "Unattributed traffic").delta == "+25.0 pp"


def test_the_top_customer_is_the_busiest_with_its_share_of_all_traffic(dash):
    dash.ingest(*TRAFFIC)
    now = figures(dash.calls, in_current)
    top, count = now["by_customer"].most_common(1)[0]
    at = dash.app()
    assert metric(at, "Top Customer").value == top == "a"
    assert metric(at, "Top Customer").delta == f"{count} requests · {100 * count / now['requests']:.1f}%"


def test_an_api_selected_in_the_url_narrows_every_figure_to_that_api(dash):
    dash.ingest(*TRAFFIC)
    shop = [c for c in dash.calls if c.api == SHOP_KEY]
    now = figures(shop, in_current)
    at = dash.app(api="Shop API")
    assert at.selectbox(key="api").value == "Shop API"
    assert metric(at, "Active Customers").value == str(now["active"]) == "2"
    assert metric(at, "Unattributed traffic").value == f"{now['unattributed']:.1f}%"
    top = table(at, "home_top")
    assert list(top["customer_id"]) == [user for user, _ in now["by_customer"].most_common()]
    assert list(top["share"]) == pytest.approx([100 * n / now["requests"] for _, n in now["by_customer"].most_common()])


def test_with_all_apis_top_customers_add_up_requests_across_every_api(dash):
    dash.ingest(*[Call("x", h, api=SHOP_KEY) for h in (1, 2, 3)], *[Call("x", h, api=BILLING_KEY) for h in (4, 5, 6)],
                *[Call("y", h, api=SHOP_KEY) for h in (1, 2, 3, 4, 5)])
    everywhere = dash.app()
    assert list(table(everywhere, "home_top")["customer_id"]) == ["x", "y"]
    assert list(table(everywhere, "home_top")["requests"]) == [6, 5]
    shop = dash.app(api="Shop API")
    assert list(table(shop, "home_top")["customer_id"]) == ["y", "x"]
    assert list(table(shop, "home_top")["requests"]) == [5, 3]


def test_the_customers_list_shows_the_ten_newest_customers(dash):
    dash.ingest(*[Call(f"cus_{i:02d}", hours_ago=10 + i) for i in range(12)])
    newest = sorted({c.user: c.hours_ago for c in dash.calls}.items(), key=lambda item: item[1])[:10]
    at = dash.app()
    assert list(table(at, "home_newest")["customer_id"]) == [user for user, _ in newest]


def test_a_shorter_period_compares_with_the_same_length_just_before(dash):
    dash.ingest(Call("a", 2), Call("b", 5), Call("c", 30), Call("c", 40), Call(None, 6))
    at = dash.app(period="24h")
    # last 24 hours: a and b are active and new; the day before: c (new then)
    assert metric(at, "Active Customers").value == "2"
    assert metric(at, "Active Customers").delta == "+1"
    assert metric(at, "New Customers").value == "2"
    assert metric(at, "Unattributed traffic").value == f"{100 / 3:.1f}%"


def test_all_time_counts_everything_and_has_no_previous_period(dash):
    dash.ingest(*TRAFFIC)
    at = dash.app(period="all")
    assert metric(at, "Active Customers").value == "4"
    assert metric(at, "New Customers").value == "4"
    assert not metric(at, "Active Customers").delta


def test_favorite_customers_lists_the_starred_customers_with_their_requests(dash):
    dash.ingest(Call("a", 2), Call("a", 3), Call("b", 4), Call(None, 5))
    dash.star("b")
    at = dash.app()
    favorites = table(at, "home_favorites")
    assert list(favorites["customer_id"]) == ["b"]
    assert list(favorites["requests"]) == [1] and list(favorites["share"]) == [25.0]


def test_widgets_switched_off_in_customize_dashboard_stay_off_after_a_restart(dash):
    dash.ingest(*TRAFFIC)
    at = dash.app()
    assert at.toggle(key="widget_top_customer").value is True
    at.toggle(key="widget_top_customer").set_value(False).run()
    at.toggle(key="widget_customers_list").set_value(False).run()
    assert "Top Customer" not in [m.label for m in at.metric]
    assert [s.value for s in at.subheader if s.value == "Customers List"] == []

    again = AppTest.from_file(APP, default_timeout=60).run()  # a new session: only the database remembers
    assert again.toggle(key="widget_top_customer").value is False
    assert "Top Customer" not in [m.label for m in again.metric]
    assert "Active Customers" in [m.label for m in again.metric]
    assert "Customers List" not in [s.value for s in again.subheader]
    assert "Top Customers List" in [s.value for s in again.subheader]

    again.toggle(key="widget_top_customer").set_value(True).run()
    assert "Top Customer" in [m.label for m in AppTest.from_file(APP, default_timeout=60).run().metric]


def test_every_widget_off_leaves_a_hint_to_switch_them_on(dash):
    at = dash.app()
    for toggle in list(at.toggle):
        if toggle.key and toggle.key.startswith("widget_"):
            toggle.set_value(False).run()
    assert not at.metric and not at.dataframe
    assert any("Customize dashboard" in i.value for i in at.info)


def test_an_empty_database_shows_a_hint_and_no_error(dash):
    at = dash.app()
    assert not at.exception and not at.error
    assert any("demo" in i.value for i in at.info)
    assert metric(at, "Active Customers").value == "0"


def test_new_requests_show_on_the_next_rerun_without_a_restart(dash):
    dash.ingest(Call("a", 2))
    at = dash.app()
    assert metric(at, "Active Customers").value == "1"
    dash.ingest(Call("b", 1), Call("c", 1))  # as the collector would, while the dashboard runs
    at.run()
    assert metric(at, "Active Customers").value == "3"


def test_a_late_request_for_the_previous_period_updates_the_change(dash):
    dash.ingest(Call("a", 2), Call("b", 3), Call("c", 800))
    at = dash.app()
    assert metric(at, "Active Customers").delta == "+1"
    dash.ingest(Call("d", 900))  # sent late, timestamped in the previous 30 days
    at.run()
    assert metric(at, "Active Customers").delta == "0"


def test_selecting_a_customer_in_a_home_list_opens_its_profile(dash):
    dash.ingest(Call("big", 1, name="Big Co"), Call("big", 2), Call("small", 3))
    at = dash.app()
    assert list(table(at, "home_top")["customer_id"]) == ["big", "small"]
    select_row(at, "home_top", 1)
    assert at.query_params["id"] == "small" and [t.value for t in at.title] == ["small"]

"""Usage: this month's customers by default with requests, billable requests, errors, quota and a bar
against it; another month from the picker, each request in its own month across the edge; the
sidebar's API; search and sort as on Customers."""

import io

import polars as pl

from core.usage import month_start, month_text
from dashboard_support import BILLING_KEY, Call, dash, table  # noqa: F401, F811 (dash: a fixture)
from db.operations.quota_checks import check_quotas
from db.reads.usage import monthly_usage
from db.writes.quotas import set_quota
from ui.usage import usage_csv, usage_parquet

PAGE = "pages/usage.py"


def hours_ago(dash, seconds_from_month_start: int) -> float:
    """hours_ago of a moment this many seconds after (or, negative, before) this month began (half a
    second later: Call.ts truncates, and float rounding must not move it across the edge)."""
    return (dash.now - (month_start(dash.now) + seconds_from_month_start + 0.5)) / 3600


def test_this_months_customers_with_billable_requests_errors_and_their_quota(dash):
    first_hour = hours_ago(dash, 0)  # this month's first second: never in the future
    dash.ingest(Call("acme", first_hour, name="Acme Corp"), Call("acme", first_hour, status=500),
                Call("acme", first_hour, status=404), Call("zed", first_hour), Call("zed", hours_ago(dash, -600)))
    set_quota(dash.conn, 1, "acme", 4)
    shown = table(dash.app(PAGE), "usage_table")
    assert list(shown["customer_id"]) == ["acme", "zed"]
    assert list(shown["display_name"]) == ["Acme Corp", "zed"]
    assert list(shown["requests"]) == [3, 1]  # zed's other request was last month's
    assert list(shown["billable_requests"]) == [2, 1]  # not the 500
    assert list(shown["errors"]) == [2, 0]
    assert list(shown["quota"])[0] == 4 and list(shown["quota_used"])[0] == 0.5


def test_the_month_picker_shows_the_month_before_with_its_own_requests(dash):
    dash.ingest(Call("acme", hours_ago(dash, 0)), Call("zed", hours_ago(dash, -1)), Call("zed", hours_ago(dash, -3599)))
    at = dash.app(PAGE)
    before = month_start(month_start(dash.now) - 1)
    at.selectbox(key="usage_month").select(before).run()
    shown = table(at, "usage_table")
    assert list(shown["customer_id"]) == ["zed"] and list(shown["requests"]) == [2]
    assert at.selectbox(key="usage_month").format_func(before) == month_text(before)


def test_every_api_gives_a_row_per_customer_and_api(dash):
    this_month = hours_ago(dash, 0)
    dash.ingest(Call("acme", this_month), Call("acme", this_month, api=BILLING_KEY),
                Call("acme", this_month, api=BILLING_KEY))
    shown = table(dash.app(PAGE), "usage_table")
    assert list(shown["api"]) == ["Billing API", "Shop API"] and list(shown["requests"]) == [2, 1]


def test_search_and_sort_as_on_customers(dash):
    now = hours_ago(dash, 0)
    dash.ingest(Call("cus_001", now, name="Globex"), Call("cus_002", now, name="Initech"), Call("cus_002", now),
                Call("acme-7", now))
    at = dash.app(PAGE)
    at.text_input(key="usage_search").input("GLOB").run()
    assert list(table(at, "usage_table")["customer_id"]) == ["cus_001"]
    at.text_input(key="usage_search").input("").run()
    at.selectbox(key="usage_sort").select("customer_id").run()
    at.segmented_control(key="usage_order").set_value("Ascending").run()
    assert list(table(at, "usage_table")["customer_id"]) == ["acme-7", "cus_001", "cus_002"]
    at.text_input(key="usage_search").input("%").run()
    assert any("No customer matches" in i.value for i in at.info)


def test_the_profile_shows_and_edits_the_customers_quota(dash):
    dash.ingest(*[Call("acme", hours_ago(dash, 0)) for _ in range(3)])
    set_quota(dash.conn, 1, None, 10)
    at = dash.app("pages/customer.py", id="acme")
    at.selectbox(key="quota_api_acme").select("Shop API").run()
    shown = month_table(at)
    assert list(shown["api"]) == ["Shop API"] and list(shown["quota"]) == [10]  # the API's default
    at.number_input(key="quota_acme_1").set_value(4).run()
    assert list(month_table(at)["quota_used"]) == [0.75]
    assert list(table(dash.app(PAGE), "usage_table")["quota"]) == [4]  # the Usage page too
    at.number_input(key="quota_acme_1").set_value(0).run()  # back to the default
    assert list(month_table(at)["quota"]) == [10]


def month_table(at):
    """The profile's table of this month's usage per API."""
    return frame_with(at, "quota_used")


def frame_with(at, column: str):
    """The one table shown with this column (AppTest keys only the tables rows are selected in)."""
    [found] = [frame.value for frame in at.dataframe if column in frame.value.columns]
    return found


def test_the_alerts_page_lists_quota_firings_with_what_was_reached(dash):
    dash.ingest(*[Call("acme", hours_ago(dash, 0), name="Acme Corp") for _ in range(9)])
    set_quota(dash.conn, 1, None, 10)
    check_quotas(dash.conn, dash.now)
    [firing] = frame_with(dash.app("pages/alerts.py"), "reached").to_dict("records")
    assert (firing["display_name"], firing["reached"], firing["used"], firing["quota"]) == ("Acme Corp", "80%", 9, 10)
    assert firing["delivery"] == "not sent: no webhook is set"


def test_the_downloads_are_the_months_rows_the_csv_formula_safe(dash):
    dash.ingest(Call("acme", hours_ago(dash, 0), name="=cmd|' /C calc'!A0"))
    month_rows = monthly_usage(dash.conn, 1, month_start(dash.now))
    csv_rows = pl.read_csv(io.StringIO(usage_csv(month_rows)))
    assert csv_rows["display_name"].to_list() == ["'=cmd|' /C calc'!A0"]
    assert pl.read_parquet(io.BytesIO(usage_parquet(month_rows))).equals(month_rows)

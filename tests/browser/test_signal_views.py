"""The signals in headless Chromium, against `python -m footfall up` on a demo database (six weeks,
two customers drifting away, one gone silent): gone quiet on home and the profile, the profile's
endpoints and peer standing, and the endpoints page. Expected values come from the database."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest
from browser_support import (  # noqa: F401 (browser, page: fixtures)
    RunningFootfall,
    browser,
    column,
    keyed,
    on_db,
    open_page,
    page,
    screenshot,
    select_row,
    run_footfall_up,
    settled,
)
from playwright.sync_api import Page, expect

from core.periods import preset_period
from core.quiet import QuietRule
from core.scope import Scope
from db.reads.endpoints import endpoint_list, endpoint_summary
from db.reads.quiet import quiet_customers

pytestmark = pytest.mark.browser

ALL_TIME = "period=all"
# The default demo's size: its bigger customers call often enough (50 a week and more) to be judged.
DEMO_REQUESTS = 20_000


@pytest.fixture(scope="module")
def footfall_up(tmp_path_factory) -> RunningFootfall:
    yield from run_footfall_up(tmp_path_factory.mktemp("footfall"), DEMO_REQUESTS)


def metric(page: Page, label: str):
    return page.get_by_test_id("stMetric").filter(has=page.get_by_text(label, exact=True))


def test_home_lists_the_demo_customers_gone_quiet_and_one_opens_its_profile_with_the_line(footfall_up, page):
    flagged = on_db(footfall_up, quiet_customers, None, int(time.time()), QuietRule())
    assert flagged.height >= 2  # the demo's drifting customers
    open_page(page, f"{footfall_up.url}/?{ALL_TIME}")
    widget = keyed(page, "home_quiet")
    expect(widget).to_be_visible()
    expect(column(page, "home_quiet", "Customer")).to_have_text(flagged["display_name"].head(10).to_list())
    screenshot(page, "home-gone-quiet")

    select_row(page, "home_quiet", 0)
    expect(page).to_have_url(re.compile(r"/customer\?id=" + re.escape(quote(flagged["customer_id"][0]))))
    settled(page)
    expect(page.get_by_text("Gone quiet ·")).to_be_visible()
    expect(metric(page, "p95 load time").get_by_text("of customers")).to_be_visible()
    expect(keyed(page, "profile_endpoints")).to_be_visible()
    screenshot(page, "profile-signals")


def test_the_endpoints_page_shows_an_endpoint_s_customers_and_who_moved_off(footfall_up, page):
    scope = Scope(None, preset_period("30d", time.time()))
    listed = on_db(footfall_up, endpoint_list, scope)
    busiest = listed.row(0, named=True)
    summary = on_db(footfall_up, endpoint_summary, busiest["endpoint_id"], scope)
    open_page(page, f"{footfall_up.url}/endpoints?period=30d")
    expect(column(page, "endpoints_table", "Endpoint").first).to_have_text(busiest["endpoint"])
    expect(metric(page, "Customers").get_by_test_id("stMetricValue")).to_have_text(f"{summary.customers:,}")
    expect(metric(page, "Moved off").get_by_test_id("stMetricValue")).to_have_text(f"{summary.moved_off:,}")
    expect(keyed(page, "endpoint_customers")).to_be_visible()
    screenshot(page, "endpoints-page")

    keyed(page, "endpoint_list_shown").get_by_text(re.compile("^Moved off")).click()
    settled(page)
    expect(keyed(page, "endpoint_moved_off")).to_be_visible()
    screenshot(page, "endpoints-moved-off")

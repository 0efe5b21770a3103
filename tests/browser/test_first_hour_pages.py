"""What a new user meets in the first hour, in headless Chromium against `footfall up` on a demo
database: an API just added shows in the sidebar at once and waits for its first request with the
collector's address and its key's start; an unknown API in a link is said to be unknown; and at
820 px wide the Customers list and the request history show every row they count, with their
controls on screen."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import httpx
import pytest
from browser_support import browser, footfall_up, keyed, on_db, open_page, page, settled  # noqa: F401 (fixtures)
from playwright.sync_api import Page, expect

from conftest import footfall
from factories import payload

pytestmark = pytest.mark.browser
NARROW = {"width": 820, "height": 1000}
ROWS = re.compile(r"^1–(\d+) of [\d,]+ (customers|requests)")


def busiest_customer(conn) -> str:
    return conn.execute("SELECT external_id FROM customers ORDER BY requests DESC, external_id LIMIT 1").fetchone()[0]


def sidebar_apis(page: Page) -> list[str]:
    """The names the sidebar's API box offers."""
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.click()
    names = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return names


def test_an_api_added_while_footfall_runs_waits_for_its_first_request_then_shows_it(footfall_up, page):
    open_page(page, footfall_up.url)
    assert "Fresh API" not in sidebar_apis(page)

    key = footfall("apis", "add", "Fresh API", db=footfall_up.db).stdout.split()[0]  # as an operator would
    page.reload()
    settled(page)
    assert "Fresh API" in sidebar_apis(page)

    open_page(page, f"{footfall_up.url}/customers?api=Fresh+API")
    waiting = page.get_by_test_id("stAlertContentInfo").filter(has_text="waiting for the first request")
    expect(waiting).to_contain_text(f"the one that starts with {key[:6]}")
    collector = re.search(r"http://127\.0\.0\.1:\d+/", waiting.inner_text())[0]
    assert httpx.get(collector + "healthz").status_code == 200  # the address shown is the collector's

    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    reply = httpx.post(collector, json=payload(user_id="first-customer", api_key=key, timestamp=now))
    assert reply.status_code == 200
    page.reload()
    settled(page)
    expect(page.get_by_text("waiting for the first request")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"^1–1 of 1 customer$"))).to_be_visible()


def test_an_api_name_no_api_has_is_said_to_be_unknown_with_the_apis_to_choose_from(footfall_up, page):
    open_page(page, f"{footfall_up.url}/customers?api=Unknown+Name")

    warning = page.get_by_test_id("stAlertContentWarning")
    expect(warning).to_contain_text("No API is named “Unknown Name”. Showing every API; choose one in the sidebar:")
    expect(warning).to_contain_text("Payments API")


@pytest.mark.parametrize("where", ["customers", "profile"])
def test_at_820_px_a_table_shows_every_row_it_counts_and_its_controls_are_on_screen(footfall_up, page, where):
    page.set_viewport_size(NARROW)
    if where == "customers":
        table, order = "customers_table", "customers_order"
        open_page(page, f"{footfall_up.url}/customers?period=all")
    else:
        table, order = "history_table", "history_order"
        open_page(page, f"{footfall_up.url}/customer?id={quote(on_db(footfall_up, busiest_customer))}&period=all")

    counted = int(ROWS.match(page.get_by_text(ROWS).first.inner_text())[1])
    grid = keyed(page, table)
    expect(grid.locator(".dvn-scroller")).to_be_visible()
    scroller = grid.locator(".dvn-scroller").evaluate(
        "s => ({scrollHeight: s.scrollHeight, clientHeight: s.clientHeight})")
    buttons = keyed(page, order).get_by_role("radio")  # the two order buttons

    assert scroller["scrollHeight"] <= scroller["clientHeight"], scroller  # no scrollbar inside the page's own
    assert scroller["clientHeight"] >= 35 * (counted + 1)  # the header and every row counted
    assert counted > 20  # more rows than a screen holds: the table is as tall as they are
    for box in [grid.bounding_box(), *(button.bounding_box() for button in buttons.all())]:
        assert 0 <= box["x"] and box["x"] + box["width"] <= NARROW["width"], box
    assert buttons.count() == 2

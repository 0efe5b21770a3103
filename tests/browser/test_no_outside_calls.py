"""A self-hosted dashboard makes no outside calls: every page, and a customer's own page, loads
with nothing from a host other than the dashboard's (no favicon, font or script from a CDN, which
fails offline and tells a third party who uses the dashboard). The sign-in page has the same test
in test_sign_in.py."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from browser_support import (  # noqa: F401 (browser: a fixture)
    VIEWPORT,
    RunningFootfall,
    browser,
    on_db,
    open_page,
    record_outside_requests,
    run_footfall_up,
)
from playwright.sync_api import Browser, expect

from conftest import footfall

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def running(tmp_path_factory) -> RunningFootfall:
    yield from run_footfall_up(tmp_path_factory.mktemp("offline"), 600)


def busiest_customer(running: RunningFootfall) -> str:
    return on_db(running, lambda conn: conn.execute(
        "SELECT external_id FROM customers ORDER BY requests DESC, external_id LIMIT 1").fetchone()[0])


def test_no_page_asks_another_host_for_anything(running: RunningFootfall, browser: Browser):
    customer = busiest_customer(running)
    link = footfall("links", "create", "--customer", customer, db=running.db).stdout.strip()
    own_page = running.url + link[link.index("/?link="):]
    context = browser.new_context(viewport=VIEWPORT)
    outside = record_outside_requests(context, running.url)
    page = context.new_page()
    for path in ["/", "/customers", f"/customer?id={quote(customer)}&period=all", "/endpoints", "/alerts"]:
        open_page(page, running.url + path)
        expect(page.get_by_test_id("stSidebar")).to_be_visible()  # the page itself, not a sign-in or error page
    open_page(page, own_page)
    expect(page.get_by_test_id("stMetric").first).to_be_visible()
    assert outside == []
    # Footfall's own icon, inlined: not merely none at all.
    expect(page.locator("link[rel~='icon']").first).to_have_attribute("href", re.compile(r"^data:image/svg\+xml"))
    context.close()

"""Sign-in, end to end: `footfall dashboard` with sign-in configured, a real OpenID Connect provider
(oidc-provider-mock, started here), and Chromium. Someone not signed in, or not on the allow-list,
sees a sign-in page and no data, on every page and deep link."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from browser_support import browser, keyed, oidc_provider, open_page, page, screenshot, settled  # noqa: F401 (fixtures)
from playwright.sync_api import Page, expect

from conftest import ROOT, footfall, free_port, stop, wait_for_http
from db.connection import connect

pytestmark = pytest.mark.browser

ANA = {"sub": "ana", "email": "ana@corp.example", "email_verified": True, "name": "Ana Analyst"}
BEN = {"sub": "ben", "email": "ben@corp.example", "email_verified": True, "name": "Ben Colleague"}
EVE = {"sub": "eve", "email": "eve@evil.example", "email_verified": True, "name": "Eve Outsider"}


@dataclass(frozen=True)
class SignedDashboard:
    url: str
    db: Path
    customer_id: str
    customer_name: str


@pytest.fixture(scope="module")
def provider() -> str:
    """oidc-provider-mock on a free port, with Ana, Ben and Eve to pick on its authorization form."""
    yield from oidc_provider(ANA, BEN, EVE)


@pytest.fixture(scope="module")
def dashboard(provider, tmp_path_factory) -> SignedDashboard:
    """`footfall dashboard` on demo data, signing analysts in with the provider; @corp.example only."""
    db = tmp_path_factory.mktemp("signed") / "footfall.db"
    footfall("demo", "--requests", "600", "--seed", "5", db=db)
    conn = connect(db)
    customer_id, name = conn.execute(
        "SELECT external_id, COALESCE(display_name, name_from_traffic, external_id) FROM customers"
        " WHERE name_from_traffic IS NOT NULL ORDER BY requests DESC, external_id LIMIT 1").fetchone()
    conn.close()
    port = free_port()
    env = {**os.environ, "FOOTFALL_DB": str(db), "FOOTFALL_DASHBOARD_PORT": str(port),
           "FOOTFALL_OIDC_METADATA_URL": provider + "/.well-known/openid-configuration",
           "FOOTFALL_OIDC_CLIENT_ID": "footfall-dashboard", "FOOTFALL_OIDC_CLIENT_SECRET": "test-client-secret",
           "FOOTFALL_ALLOWED_USERS": "@corp.example"}
    process = subprocess.Popen([sys.executable, "-m", "footfall", "dashboard"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/_stcore/health", process, timeout=60)
        yield SignedDashboard(url, db, customer_id, name)
    finally:
        stop(process)


def sign_in_as(page: Page, dashboard: SignedDashboard, who: dict) -> None:
    """From the sign-in page, through the provider's form, back to the dashboard."""
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=who["sub"], exact=True).click()  # a predefined user on the provider's form
    page.wait_for_url(lambda url: url.startswith(dashboard.url) and "oauth2callback" not in url)
    settled(page)


def shows_no_data(page: Page, dashboard: SignedDashboard) -> None:
    expect(page.get_by_test_id("stSidebar")).to_have_count(0)  # no menu, no API names, no favorites
    expect(page.get_by_test_id("stMetric")).to_have_count(0)
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    assert dashboard.customer_name not in page.inner_text("body")
    assert dashboard.customer_id not in page.inner_text("body")


@pytest.mark.parametrize("path", ["/", "/customers", "/customer?id={id}&period=all"])
def test_someone_not_signed_in_sees_a_sign_in_page_and_no_data_on_any_page(dashboard, page, path):
    open_page(page, dashboard.url + path.format(id=quote(dashboard.customer_id)))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    shows_no_data(page, dashboard)
    if path == "/":
        screenshot(page, "sign-in")


def test_an_allowed_analyst_signs_in_sees_the_data_and_signs_out(dashboard, page):
    open_page(page, f"{dashboard.url}/customers?period=all")
    sign_in_as(page, dashboard, ANA)
    expect(page.get_by_text("Signed in as Ana Analyst")).to_be_visible()
    expect(page.get_by_role("heading", name="Home", exact=True)).to_be_visible()
    screenshot(page, "signed-in-home")
    open_page(page, f"{dashboard.url}/customer?id={quote(dashboard.customer_id)}&period=all")
    expect(page.get_by_role("heading", name=dashboard.customer_name, exact=True)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click()  # the provider's end-session form
    page.wait_for_url(lambda url: url.startswith(dashboard.url))
    open_page(page, f"{dashboard.url}/customers?period=all")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    shows_no_data(page, dashboard)


def test_an_address_off_the_allow_list_is_refused_and_sees_no_data(dashboard, page):
    open_page(page, dashboard.url)
    sign_in_as(page, dashboard, EVE)
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_text("eve@evil.example")).to_be_visible()
    shows_no_data(page, dashboard)
    screenshot(page, "sign-in-refused")
    open_page(page, f"{dashboard.url}/customer?id={quote(dashboard.customer_id)}&period=all")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    shows_no_data(page, dashboard)


def test_favorites_and_the_widget_choice_are_each_analyst_s_own_and_descriptions_say_who_wrote_them(
        dashboard, browser):
    profile = f"{dashboard.url}/customer?id={quote(dashboard.customer_id)}&period=all"
    ana = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    open_page(ana, profile)
    sign_in_as(ana, dashboard, ANA)
    open_page(ana, profile)
    keyed(ana, f"favorite_{dashboard.customer_id}").locator("label").click()
    sidebar_link = ana.get_by_test_id("stSidebar").get_by_role("link", name=dashboard.customer_name, exact=True)
    expect(sidebar_link).to_be_visible()
    notes = keyed(ana, f"description_{dashboard.customer_id}").get_by_role("textbox")
    notes.fill("Renewal in March; ask Ana")
    notes.press("Tab")
    expect(ana.get_by_text("Last edited by ana@corp.example")).to_be_visible()
    open_page(ana, dashboard.url + "/")
    ana.get_by_role("button", name="Customize dashboard").click()
    keyed(ana, "widget_average_requests").locator("label").click()
    expect(ana.get_by_test_id("stMetric").filter(has=ana.get_by_text("Average Requests per Customer"))).to_have_count(0)
    ana.context.close()

    ben = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    open_page(ben, profile)
    sign_in_as(ben, dashboard, BEN)
    open_page(ben, profile)
    expect(ben.get_by_text("Signed in as Ben Colleague")).to_be_visible()
    expect(keyed(ben, f"favorite_{dashboard.customer_id}").get_by_role("switch")).not_to_be_checked()
    expect(ben.get_by_test_id("stSidebar").get_by_role("link", name=dashboard.customer_name, exact=True)).to_have_count(0)
    expect(keyed(ben, f"description_{dashboard.customer_id}").get_by_role("textbox")).to_have_value(
        "Renewal in March; ask Ana")
    expect(ben.get_by_text("Last edited by ana@corp.example")).to_be_visible()
    open_page(ben, dashboard.url + "/")
    expect(ben.get_by_test_id("stMetric").filter(has=ben.get_by_text("Average Requests per Customer"))).to_be_visible()
    ben.context.close()

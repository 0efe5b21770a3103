"""Customer links in Chromium: `footfall dashboard` with sign-in configured (a real OpenID Connect
provider, oidc-provider-mock), traffic brought in with `footfall import`. A valid link opens the
customer's page with no sign-in and no sidebar; a revoked one shows only the neutral message; the
rest of the app still asks to sign in; an analyst makes a link from the profile."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from browser.browser_support import browser, oidc_provider, open_page, page, screenshot, settled  # noqa: F401 (fixtures)
from links_support import Call, link_id, make_link
from playwright.sync_api import Page, expect

from conftest import ROOT, footfall, free_port, stop, wait_for_http
from core.links import INVALID_LINK, link_url
from db.connection import connect
from db.writes.apis import add_api
from db.writes.links import revoke_link
from factories import API_KEY, jsonl

pytestmark = pytest.mark.browser

ANA = {"sub": "ana", "email": "ana@corp.example", "email_verified": True, "name": "Ana Analyst"}
ACME, ACME_NAME, GLOBEX_NAME = "acme", "Acme Corp", "Globex Hidden Inc"
SCREENS = Path("/tmp/screens")


@dataclass(frozen=True)
class LinkedDashboard:
    url: str
    db: Path
    valid: str  # a link's URL
    revoked: str
    acme_requests: int


def keep(shot: Path, tmp_path: Path) -> None:
    """The screenshot beside the test's files, and in /tmp/screens to look at."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, tmp_path / shot.name)
    shutil.copy(shot, SCREENS / shot.name)


@pytest.fixture(scope="module")
def provider() -> str:
    yield from oidc_provider(ANA)


@pytest.fixture(scope="module")
def dashboard(provider, tmp_path_factory) -> LinkedDashboard:
    home = tmp_path_factory.mktemp("links")
    db = home / "footfall.db"
    conn = connect(db)
    add_api(conn, "Shop API", API_KEY)
    now = time.time()
    acme = [Call(ACME, ACME_NAME, hours_ago=1 + 7 * i, status=500 if i % 5 == 0 else 200, load_ms=20 + 3 * i,
                 path=("/api/orders", "/api/items/7", "/api/invoices/3")[i % 3], body={"sku": f"A-{i}"})
            for i in range(40)]
    globex = [Call("globex", GLOBEX_NAME, hours_ago=2 + 5 * i, path="/api/globex-only/1") for i in range(25)]
    (home / "traffic.jsonl").write_bytes(jsonl([c.payload(now) for c in acme + globex]))
    assert "imported 65 payloads" in footfall("import", str(home / "traffic.jsonl"), db=db).stdout
    port = free_port()
    dashboard_url = f"http://127.0.0.1:{port}"
    valid = make_link(conn, db, ACME, "Shop API", days=7, bodies=True)
    revoked = make_link(conn, db, ACME, "Shop API", days=7)
    assert revoke_link(conn, link_id(revoked, db))
    conn.close()
    env = {**os.environ, "FOOTFALL_DB": str(db), "FOOTFALL_DASHBOARD_PORT": str(port),
           "FOOTFALL_OIDC_METADATA_URL": provider + "/.well-known/openid-configuration",
           "FOOTFALL_OIDC_CLIENT_ID": "footfall-dashboard", "FOOTFALL_OIDC_CLIENT_SECRET": "test-client-secret",
           "FOOTFALL_ALLOWED_USERS": "@corp.example"}
    env.pop("FOOTFALL_LINK_SECRET", None)
    process = subprocess.Popen([sys.executable, "-m", "footfall", "dashboard"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_http(dashboard_url + "/_stcore/health", process, timeout=60)
        yield LinkedDashboard(dashboard_url, db, link_url(dashboard_url, valid), link_url(dashboard_url, revoked),
                              len(acme))
    finally:
        stop(process)


def no_other_customer_and_no_app(page: Page) -> None:
    expect(page.get_by_test_id("stSidebar")).to_have_count(0)  # no API selector, no favorites, no menu
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
    body = page.inner_text("body")
    assert GLOBEX_NAME not in body and "globex" not in body


def test_a_valid_link_opens_the_customer_s_own_page_without_sign_in(dashboard, page, tmp_path):
    open_page(page, dashboard.valid)
    expect(page.get_by_role("heading", name=ACME_NAME, exact=True)).to_be_visible()
    requests = page.get_by_test_id("stMetric").filter(has_text="Total Requests")
    expect(requests).to_contain_text(str(dashboard.acme_requests))
    expect(page.get_by_text("Endpoints", exact=True)).to_be_visible()
    expect(page.get_by_text("Latest requests", exact=True)).to_be_visible()
    no_other_customer_and_no_app(page)
    keep(screenshot(page, "customer-link-page"), tmp_path)


def test_a_revoked_link_shows_only_the_neutral_message(dashboard, page, tmp_path):
    open_page(page, dashboard.revoked)
    expect(page.get_by_text(INVALID_LINK)).to_be_visible()
    expect(page.get_by_test_id("stMetric")).to_have_count(0)
    expect(page.get_by_role("heading", name=ACME_NAME)).to_have_count(0)
    no_other_customer_and_no_app(page)
    assert ACME_NAME not in page.inner_text("body")
    keep(screenshot(page, "customer-link-revoked"), tmp_path)


def test_the_rest_of_the_app_still_asks_to_sign_in(dashboard, page):
    for path in ("/", f"/customer?id={ACME}&period=all", "/usage"):
        open_page(page, dashboard.url + path)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        expect(page.get_by_test_id("stMetric")).to_have_count(0)
        assert ACME_NAME not in page.inner_text("body")


def test_an_analyst_makes_a_link_on_the_profile_and_it_opens_for_the_customer(dashboard, browser, tmp_path):
    analyst = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    profile = f"{dashboard.url}/customer?id={quote(ACME)}&period=30d&api=Shop+API"
    open_page(analyst, profile)
    analyst.get_by_role("button", name="Sign in").click()
    analyst.get_by_role("button", name=ANA["sub"], exact=True).click()
    analyst.wait_for_url(lambda url: url.startswith(dashboard.url) and "oauth2callback" not in url)
    settled(analyst)
    open_page(analyst, profile)
    analyst.get_by_text("Share with this customer").click()
    analyst.get_by_role("button", name="Create link").click()
    settled(analyst)
    code = analyst.get_by_test_id("stCode").filter(has_text="?link=")
    expect(code).to_be_visible()
    made = code.inner_text().strip()
    assert made.startswith(dashboard.url + "/?link=")
    expect(analyst.get_by_text("created by ana@corp.example").first).to_be_visible()
    analyst.get_by_text("Share with this customer").scroll_into_view_if_needed()
    keep(screenshot(analyst, "customer-link-share-expander"), tmp_path)
    analyst.context.close()

    customer = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    open_page(customer, made)
    expect(customer.get_by_role("heading", name=ACME_NAME, exact=True)).to_be_visible()
    no_other_customer_and_no_app(customer)
    customer.context.close()

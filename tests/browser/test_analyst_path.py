"""The analyst's path through the dashboard in headless Chromium, against `python -m footfall up` on
a demo database: customize the home page, find a customer, open the profile, keep notes, star the
customer, filter the history and export it. Expected values come from the database itself."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import pytest
from browser_support import (  # noqa: F401 (browser, footfall_up, page: fixtures)
    RunningFootfall,
    browser,
    column,
    footfall_up,
    keyed,
    on_db,
    open_page,
    page,
    screenshot,
    select_row,
    settled,
)
from playwright.sync_api import Page, expect

from core.access import SHARED_ANALYST
from core.home_widgets import WIDGETS
from db.queries.details import unpacked
from db.reads.home import widget_choices_saved
from db.writes.edits import save_widget_choices

pytestmark = pytest.mark.browser

ALL_TIME = "period=all"  # the demo spans the last 30 days; all time holds every request, whatever the hour


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str

    @property
    def search_term(self) -> str:
        return self.name.split()[0].lower()

    def profile_url(self, footfall: RunningFootfall) -> str:
        return f"{footfall.url}/customer?id={quote(self.customer_id)}&{ALL_TIME}"


def query(footfall: RunningFootfall, sql: str, *params) -> list[tuple]:
    return on_db(footfall, lambda conn: conn.execute(sql, params).fetchall())


@pytest.fixture(scope="module")
def customer(footfall_up: RunningFootfall) -> Customer:
    """A demo customer with a display name and high-threat requests among others: the one with the most."""
    [(customer_id, name)] = query(footfall_up, """
        SELECT c.external_id, c.name_from_traffic FROM customers c JOIN requests r ON r.customer_id = c.id
        WHERE c.name_from_traffic IS NOT NULL
        GROUP BY c.id HAVING SUM(r.threat_level != 'high') > 0
        ORDER BY SUM(r.threat_level = 'high') DESC, c.external_id LIMIT 1""")
    return Customer(customer_id, name)


@pytest.fixture
def every_widget_on(footfall_up: RunningFootfall):
    """The widget choice is saved for everyone: switch every widget back on afterwards."""
    yield
    on_db(footfall_up, save_widget_choices, SHARED_ANALYST, dict.fromkeys(WIDGETS, True))


def metric(page: Page, label: str):
    return page.get_by_test_id("stMetric").filter(has=page.get_by_text(label, exact=True))


def customers_matching(footfall: RunningFootfall, text: str) -> list[str]:
    """IDs of the customers whose ID or shown name contains the text, ignoring case, busiest first."""
    like = f"%{text}%"
    return [row[0] for row in query(footfall, """
        SELECT external_id FROM customers
        WHERE external_id LIKE ? OR COALESCE(display_name, name_from_traffic, external_id) LIKE ?
        ORDER BY requests DESC, external_id""", like, like)]


def search_customers(page: Page, footfall: RunningFootfall, text: str) -> list[str]:
    """Search on the Customers page (all time); returns the IDs the table should then hold."""
    expected = customers_matching(footfall, text)
    open_page(page, f"{footfall.url}/customers?{ALL_TIME}")
    box = keyed(page, "customers_search").get_by_role("textbox")
    box.fill(text)
    box.press("Enter")
    customers = "customer" if len(expected) == 1 else "customers"
    expect(page.get_by_text(f"1–{len(expected)} of {len(expected)} {customers}", exact=True)).to_be_visible()
    return expected


def flip(page: Page, key: str) -> None:
    """Click a keyed toggle, where a user clicks: its label (the switch input lies under it)."""
    keyed(page, key).locator("label").click()


def history_filter(page: Page, label: str, option: str) -> None:
    page.get_by_test_id("stExpander").get_by_text("Filters").click()
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


# --- Home ------------------------------------------------------------------------------------------


def test_a_widget_switched_off_in_customize_dashboard_stays_off_after_a_reload(footfall_up, page, every_widget_on):
    open_page(page, f"{footfall_up.url}/?{ALL_TIME}")
    average = metric(page, "Average Requests per Customer")
    expect(average).to_be_visible()

    page.get_by_role("button", name="Customize dashboard").click()
    switch = page.get_by_role("switch", name="Average Requests per Customer")
    expect(switch).to_be_checked()
    flip(page, "widget_average_requests")
    expect(average).to_have_count(0)

    page.reload()
    settled(page)
    expect(metric(page, "Active Customers")).to_be_visible()
    expect(average).to_have_count(0)
    page.get_by_role("button", name="Customize dashboard").click()
    expect(switch).not_to_be_checked()
    assert on_db(footfall_up, widget_choices_saved) == {**dict.fromkeys(WIDGETS, True), "average_requests": False}


# --- Customers -------------------------------------------------------------------------------------


def test_search_narrows_the_customers_to_those_whose_name_or_id_contains_the_text(footfall_up, page, customer):
    expected = search_customers(page, footfall_up, customer.search_term)

    assert 0 < len(expected) < query(footfall_up, "SELECT COUNT(*) FROM customers")[0][0]
    expect(column(page, "customers_table", "Customer ID")).to_have_text(expected)


def test_selecting_a_customer_row_opens_that_customers_profile(footfall_up, page, customer):
    found = search_customers(page, footfall_up, customer.search_term)
    expect(column(page, "customers_table", "Customer ID")).to_have_text(found)

    select_row(page, "customers_table", found.index(customer.customer_id))

    expect(page.get_by_role("heading", name=customer.name, exact=True)).to_be_visible()
    url = urlsplit(page.evaluate("location.href"))
    assert url.path == "/customer" and parse_qs(url.query)["id"] == [customer.customer_id]


# --- Profile ---------------------------------------------------------------------------------------


def test_the_description_is_saved_on_edit_and_kept_after_a_reload(footfall_up, page, customer):
    notes = "Enterprise plan; renews in March. Contact: ops@example.com"
    open_page(page, customer.profile_url(footfall_up))
    description = keyed(page, f"description_{customer.customer_id}").get_by_role("textbox")
    expect(description).to_have_value("")

    description.fill(notes)
    description.press("Tab")  # leaving the field saves it
    expect(page.get_by_text("Description saved")).to_be_visible()

    page.reload()
    settled(page)
    expect(description).to_have_value(notes)
    assert query(footfall_up, "SELECT description FROM customers WHERE external_id = ?", customer.customer_id) == [(notes,)]


def test_a_customer_switched_to_favorite_appears_in_the_sidebar(footfall_up, page, customer):
    open_page(page, customer.profile_url(footfall_up))
    sidebar_link = page.get_by_test_id("stSidebar").get_by_role("link", name=customer.name, exact=True)
    expect(sidebar_link).to_have_count(0)

    flip(page, f"favorite_{customer.customer_id}")

    expect(sidebar_link).to_be_visible()
    href = urlsplit(urljoin(page.url, sidebar_link.get_attribute("href")))
    assert href.path == "/customer" and parse_qs(href.query)["id"] == [customer.customer_id]
    expect(keyed(page, f"sidebar_favorite_{customer.customer_id}").get_by_role("switch")).to_be_checked()
    assert query(footfall_up, "SELECT f.analyst FROM favorites f JOIN customers c ON c.id = f.customer_id"
                              " WHERE c.external_id = ?", customer.customer_id) == [("",)]


def test_the_history_filtered_by_threat_level_exports_exactly_those_requests_as_csv(footfall_up, page, customer):
    expected = query(footfall_up, """
        SELECT r.id, r.method, r.status, r.path, r.threat_level FROM requests r JOIN customers c ON c.id = r.customer_id
        WHERE c.external_id = ? AND r.threat_level = 'high' ORDER BY r.ts DESC, r.id DESC""", customer.customer_id)
    open_page(page, customer.profile_url(footfall_up))

    history_filter(page, "Threat Level", "high")  # spelled as in the CSV

    expect(page.get_by_text(re.compile(rf"^1–{len(expected)} of {len(expected)} requests? matching the filters\."))).to_be_visible()
    threats = column(page, "history_table", "Threat Level")
    expect(threats.first).to_have_text("high")
    expect(threats.filter(has_not_text="high")).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    with open(download.value.path(), newline="") as exported:
        rows = list(csv.DictReader(exported))
    assert {row["Threat Level"] for row in rows} == {"high"}
    assert [(int(r["Request ID"]), r["Method"], int(r["Response"]), r["Path"], r["Threat Level"]) for r in rows] == expected


def test_selecting_a_request_shows_its_details_and_its_headers_as_stored_masked(footfall_up, page, customer):
    [(request_id, method, path, dictionary_id, details)] = query(footfall_up, """
        SELECT r.id, r.method, r.path, d.dictionary_id, d.details
        FROM requests r JOIN customers c ON c.id = r.customer_id JOIN request_details d ON d.request_id = r.id
        WHERE c.external_id = ? ORDER BY r.ts DESC, r.id DESC LIMIT 1""", customer.customer_id)
    stored_headers = on_db(footfall_up, lambda conn: unpacked(conn, [(dictionary_id, details)]))[0]["request_headers"]
    open_page(page, customer.profile_url(footfall_up))

    select_row(page, "history_table", 0)  # newest first

    expect(page.get_by_role("heading", name=f"{method} {path}", exact=True)).to_be_visible()
    expect(page.get_by_text(f"Request {request_id} · ")).to_be_visible()
    headers = page.get_by_role("tabpanel", name="Request headers").get_by_test_id("stCode")
    shown = json.loads(headers.inner_text())
    assert shown == json.loads(stored_headers)
    assert shown.get("authorization", "*****") == "*****"


# --- How the pages look ----------------------------------------------------------------------------


def test_every_page_renders_without_an_error_and_is_saved_as_a_screenshot(footfall_up, page, customer):
    """tests/artifacts/*.png: look at them after a change to the pages."""
    shots = [
        ("home", footfall_up.url, "Home"),
        ("customers", f"{footfall_up.url}/customers", "Customers"),
        ("profile", f"{footfall_up.url}/customer?id={quote(customer.customer_id)}", customer.name),
    ]
    for name, url, heading in shots:
        open_page(page, url)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        screenshot(page, name)

    select_row(page, "history_table", 0)
    expect(page.get_by_role("tab", name="Request headers")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "profile-request")

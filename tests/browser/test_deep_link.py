"""A deep link as the first visit after the dashboard starts: Streamlit then runs the page script
alone (a pages/ folder starts it in its old multipage mode); the page hands over to st.navigation
and the analyst sees the same page as through the menu, sidebar and all, and so does every
session after."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from browser_support import browser, footfall_up, open_page, page  # noqa: F401 (fixtures)
from playwright.sync_api import expect

from db.connection import connect

pytestmark = pytest.mark.browser
MENU = [re.compile(r"Home$"), re.compile(r"Customers$"), re.compile(r"Endpoints$"), re.compile(r"Usage$"),
        re.compile(r"Alerts$"), re.compile(r"Identity rules$")]  # each link: its icon's name, then its title


def busiest_customer(db) -> tuple[str, str]:
    conn = connect(db)
    try:
        return conn.execute("SELECT external_id, COALESCE(display_name, name_from_traffic, external_id) FROM customers"
                            " ORDER BY requests DESC, external_id LIMIT 1").fetchone()
    finally:
        conn.close()


def test_a_profile_opened_first_after_a_start_has_the_sidebar_and_the_menu(footfall_up, page, browser):
    customer_id, name = busiest_customer(footfall_up.db)
    open_page(page, f"{footfall_up.url}/customer?id={quote(customer_id)}&period=all")  # this module's first visit

    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("API", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav").get_by_role("link")).to_have_text(MENU)
    assert "id=" in page.url and "period=all" in page.url

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers", exact=True)).to_be_visible()

    later = browser.new_context().new_page()  # another session, started after the first
    open_page(later, f"{footfall_up.url}/customer?id={quote(customer_id)}")
    expect(later.get_by_role("heading", name=name, exact=True)).to_be_visible()
    expect(later.get_by_test_id("stSidebarNav").get_by_role("link")).to_have_text(MENU)
    later.context.close()

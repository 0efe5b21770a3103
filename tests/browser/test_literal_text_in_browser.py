"""In Chromium, what Streamlit draws of a name from traffic and of an ID from the URL: the text as it
came, with no icon, emoji, colour, emphasis or link made of it (what AppTest cannot see:
Streamlit's frontend rewrites some of it past markdown's escapes)."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import quote

import pytest
from browser_support import browser, open_page, page  # noqa: F401 (fixtures)
from playwright.sync_api import Locator, expect

from conftest import ROOT, free_port, stop, wait_for_http
from dashboard.dashboard_support import Call, Dashboard
from ui.format import JOINER

pytestmark = pytest.mark.browser
NAME = ":material/home: **x** :red[y] :streamlit: :smile: a -> b https://evil.example"
DRAWN_AS_MARKUP = "[role=img], img, a, strong, em, .stMarkdownColoredText, .stMarkdownColoredBackground"


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory) -> str:
    """`footfall dashboard` on a database whose one customer has NAME for a name, and for an ID."""
    db = tmp_path_factory.mktemp("literal") / "footfall.db"
    data = Dashboard(db)
    data.ingest(Call(NAME, 1, name=NAME))
    data.conn.close()
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "footfall", "--db", str(db), "dashboard", "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/_stcore/health", process, timeout=60)
        yield url
    finally:
        stop(process)


def shown_as_text(element: Locator) -> str:
    """The element's text, after checking that Streamlit drew nothing in it but text."""
    expect(element.locator(DRAWN_AS_MARKUP)).to_have_count(0)
    return element.inner_text().replace(JOINER, "")


def test_a_name_and_an_id_in_streamlit_markup_are_drawn_as_text(dashboard, page):
    open_page(page, f"{dashboard}/customer?id={quote(NAME)}")
    assert shown_as_text(page.locator("h1 [data-heading-text]")) == NAME
    caption = page.get_by_test_id("stCaptionContainer").filter(has_text="Customer ID")
    expect(caption.locator("strong")).to_have_count(1)  # the page's own bold, around the ID
    assert shown_as_text(caption.locator("strong")) == NAME


def test_an_unknown_id_in_the_link_is_drawn_as_text(dashboard, page):
    open_page(page, f"{dashboard}/customer?id={quote(NAME + ' nobody')}")
    error = page.get_by_test_id("stAlertContentError")
    assert f"“{NAME} nobody”" in shown_as_text(error)

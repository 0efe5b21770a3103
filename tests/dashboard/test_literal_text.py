"""Text from traffic, from analysts and from the URL is drawn by Streamlit exactly as it came: no
icon, emoji, colour, arrow, emphasis or link made of it (ui.format.plain, on every page)."""

import re

from dashboard_support import Call, dash, live_markup, markdown_sources  # noqa: F401 (dash: a fixture)

from ui.format import JOINER

PROFILE = "pages/customer.py"
NAME = ":material/home: **x** :red[y]"
CUSTOMER_ID = ":streamlit: :smile: -> www.evil.example"


def as_drawn(source: str) -> str:
    """The text a markdown source shows once its escapes are undone (the joiner shows as nothing)."""
    return re.sub(r"\\(.)", r"\1", source).replace(JOINER, "")


def test_a_customer_named_in_streamlit_markup_is_shown_literally_on_every_page(dash):
    dash.ingest(Call(CUSTOMER_ID, 1, name=NAME), Call(CUSTOMER_ID, 2))
    dash.star(CUSTOMER_ID)  # so the sidebar lists it as well
    for page in ("pages/home.py", "pages/customers.py", PROFILE):
        at = dash.app(page, id=CUSTOMER_ID) if page == PROFILE else dash.app(page)
        for source in markdown_sources(at):
            assert not live_markup(source) and not re.search(r"(?<!\\)\*\*x", source), (page, source)
    assert [as_drawn(t.value) for t in at.title] == [NAME]
    assert any(f"Customer ID **{CUSTOMER_ID}**" in as_drawn(c.value) for c in at.caption)


def test_an_unknown_id_in_the_link_is_shown_literally(dash):
    dash.ingest(Call("acme"))
    at = dash.app(PROFILE, id=NAME)
    [error] = at.error
    assert not live_markup(error.value) and f"“{NAME}”" in as_drawn(error.value)

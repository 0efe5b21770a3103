"""Making and revoking a customer's link from their profile ("Share with this customer"), and the
link's page opening without sign-in while the rest of the app still asks for it."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from links_support import (  # noqa: F401 (fixtures)
    APP, BILLING_KEY, SHOP_API, Call, app_env, billing, make_link, metric, open_link, rendered_text, table_with,
    traffic,
)
from streamlit.testing.v1 import AppTest

from core.links import INVALID_LINK
from core.periods import DAY
from db.writes.links import customer_db_id
from factories import API_KEY

ACME, ACME_NAME = "acme", "Acme Corp"
PROFILE = "pages/customer.py"


@pytest.fixture
def sent(traffic, app_env):
    traffic.send(*[Call(ACME, ACME_NAME, hours_ago=1 + 9 * i, status=500 if i % 4 == 0 else 200,
                        body={"note": "acme-body"}) for i in range(12)],
                 *[Call(ACME, ACME_NAME, hours_ago=3 + i, api_key=BILLING_KEY) for i in range(5)],
                 *[Call("other", "Other Ltd", hours_ago=2 + i) for i in range(6)])
    return traffic


def profile(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    at.run()
    at.switch_page(PROFILE)
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def create(at: AppTest, cid: int, days: int, bodies: bool) -> str:
    """Choose the expiry and bodies, press Create link; returns the link shown."""
    at.selectbox(key=f"link_days_{cid}").set_value(days)
    at.checkbox(key=f"link_bodies_{cid}").set_value(bodies)
    at.button(key=f"create_link_{cid}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [c.value for c in at.code if "?link=" in c.value]
    assert len(shown) == 1
    return shown[0]


def stored_links(conn) -> list[dict]:
    cursor = conn.execute("SELECT id, customer_id, api_id, show_bodies, created_at, expires_at, revoked_at, token_hash"
                          " FROM customer_links ORDER BY id")
    return [dict(zip([c[0] for c in cursor.description], row)) for row in cursor]


def test_the_profile_creates_a_link_shown_once_that_opens_the_customer_s_own_page(sent, conn):
    cid = customer_db_id(conn, ACME)
    at = profile(id=ACME, api=SHOP_API)
    assert [e.label for e in at.expander if e.label == "Share with this customer"]
    before = time.time()
    url = create(at, cid, 7, bodies=True)
    assert url.startswith("http://127.0.0.1:8501/?link=")
    token = parse_qs(urlsplit(url).query)["link"][0]

    [link] = stored_links(conn)
    assert link["customer_id"] == cid and link["show_bodies"] == 1 and link["revoked_at"] is None
    assert link["api_id"] == conn.execute("SELECT id FROM apis WHERE name = ?", (SHOP_API,)).fetchone()[0]
    assert before + 7 * DAY - 5 <= link["expires_at"] <= time.time() + 7 * DAY
    assert token not in str(stored_links(conn))  # only its hash is kept

    page = open_link(token)
    assert [t.value for t in page.title] == [ACME_NAME]
    assert metric(page, "Total Requests") == str(len(sent.of(ACME, API_KEY, days=30))) == "12"
    assert len(table_with(page, "Path")) == 12  # made with bodies: the latest requests are listed

    at.run()  # any rerun: the link is not shown again
    assert not [c for c in at.code if "?link=" in c.value]
    assert any("Link 1" in m.value and "expires" in m.value for m in at.markdown)


def test_a_link_made_under_all_apis_covers_every_api_and_leaves_bodies_out_by_default(sent, conn):
    cid = customer_db_id(conn, ACME)
    at = profile(id=ACME)
    assert at.checkbox(key=f"link_bodies_{cid}").value is False
    at.button(key=f"create_link_{cid}").click().run()
    token = parse_qs(urlsplit(next(c.value for c in at.code if "?link=" in c.value)).query)["link"][0]
    [link] = stored_links(conn)
    assert link["api_id"] is None and link["show_bodies"] == 0
    assert link["expires_at"] - link["created_at"] == 30 * DAY  # the default expiry
    page = open_link(token)
    assert metric(page, "Total Requests") == str(len(sent.of(ACME, None, days=30))) == "17"
    assert "acme-body" not in rendered_text(page)


def test_revoke_on_the_profile_stops_the_link_at_once(sent, conn):
    cid = customer_db_id(conn, ACME)
    at = profile(id=ACME, api=SHOP_API)
    token = parse_qs(urlsplit(create(at, cid, 1, bodies=False)).query)["link"][0]
    page = open_link(token)
    assert [t.value for t in page.title] == [ACME_NAME]

    at.button(key="revoke_link_1").click().run()
    [link] = stored_links(conn)
    assert link["revoked_at"] is not None
    assert any("Link 1" in m.value and "revoked" in m.value for m in at.markdown)
    assert not [b for b in at.button if b.key == "revoke_link_1"]  # nothing left to revoke

    page.run()  # the page the customer has open
    assert [w.value for w in page.warning] == [INVALID_LINK] and not page.metric
    assert [w.value for w in open_link(token).warning] == [INVALID_LINK]


def test_the_profile_lists_links_made_elsewhere_with_who_made_them_and_their_state(sent, conn, db_path):
    make_link(conn, db_path, ACME, SHOP_API, days=1, now=time.time() - 2 * DAY)  # expired
    make_link(conn, db_path, ACME, None, days=90)
    at = profile(id=ACME)
    lines = [m.value for m in at.markdown if m.value.startswith("Link ")]
    assert len(lines) == 2
    assert "every API" in lines[0] and "expires" in lines[0]
    assert "Test API" in lines[1] and "expired" in lines[1]
    assert [b.key for b in at.button if (b.key or "").startswith("revoke_link_")] == ["revoke_link_2"]


SIGN_IN = {
    "FOOTFALL_OIDC_METADATA_URL": "http://127.0.0.1:9/.well-known/openid-configuration",
    "FOOTFALL_OIDC_CLIENT_ID": "footfall-dashboard",
    "FOOTFALL_OIDC_CLIENT_SECRET": "test-client-secret",
    "FOOTFALL_ALLOWED_USERS": "@corp.example",
}  # sign-in configured (services.settings); the provider is never reached: nobody signs in here


def test_with_sign_in_configured_a_link_opens_without_it_and_every_other_page_still_asks(sent, conn, db_path,
                                                                                         monkeypatch):
    for name, value in SIGN_IN.items():
        monkeypatch.setenv(name, value)
    token = make_link(conn, db_path, ACME, SHOP_API)

    page = AppTest.from_file(APP, default_timeout=60)
    page.query_params["link"] = token
    page.run()
    assert [t.value for t in page.title] == [ACME_NAME]
    assert metric(page, "Total Requests") == "12"
    assert not [b for b in page.button if b.label == "Sign in"]

    for query in ({}, {"id": ACME}):
        app = AppTest.from_file(APP, default_timeout=60)
        app.secrets["unrelated"] = "a secrets file without the provider's settings"
        app.query_params.update(query)
        app.run()
        if query:
            app.switch_page(PROFILE)
            app.query_params.update(query)
            app.run()
        # AppTest runs without the provider settings `footfall dashboard` hands Streamlit: the gate
        # closes (tests/links/test_link_browser.py signs in for real, in Chromium).
        assert [t.value for t in app.title] == ["Sign-in is not set up"]
        assert not app.metric and ACME_NAME not in rendered_text(app)

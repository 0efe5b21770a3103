"""The pages' words: the favorites' empty state names the toggle as it is labelled, home's gone-quiet
widget gives the change with its reason, peer standing says whose customers it ranks among, the
signed-in analyst's address shows once, and one of anything is singular."""

from __future__ import annotations

import json

from dashboard_support import HOUR, Call, dash  # noqa: F401, F811 (dash: a fixture)
from streamlit.testing.v1 import AppTest

from ui.format import plural

HOME, CUSTOMERS, PROFILE = "pages/home.py", "pages/customers.py", "pages/customer.py"
DAY = 86400


def shown_columns(at: AppTest, key: str) -> list[str]:
    """The labels of the columns a keyed table shows, in order."""
    [frame] = [f for f in at.dataframe if f.key == key]
    config = json.loads(frame.proto.columns)
    return [config.get(name, {}).get("label", name) for name in frame.proto.column_order]


def gone_quiet(dash) -> None:
    """fading: twelve calls a day for four weeks, then two a day for the last week (dropped)."""
    today = int(dash.now) // DAY * DAY
    dash.ingest(*[Call("fading", (dash.now - (today - d * DAY + i * 7200 + 60)) / HOUR, name="Fading Corp")
                  for d in range(35, 0, -1) for i in range(12 if d > 7 else 2)],
                Call("fading", (dash.now - today) / 2 / HOUR))


def test_the_favorites_empty_state_names_the_toggle_as_the_profile_labels_it(dash):
    dash.ingest(Call("acme"))
    home, profile = dash.app(HOME), dash.app(PROFILE, id="acme")

    toggle = profile.toggle(key="favorite_acme").label
    hints = [c.value for c in home.caption if c.value.startswith("No favorites yet")]  # the sidebar's and the widget's
    assert toggle == "Favorite"
    assert hints == [f"No favorites yet: switch on **{toggle}** on a customer's profile."] * 2


def test_home_s_gone_quiet_widget_shows_the_change_with_its_reason_as_the_customers_list_does(dash):
    gone_quiet(dash)
    home = dash.app(HOME)
    listed = dash.app(CUSTOMERS)
    listed.toggle(key="customers_quiet").set_value(True).run()

    assert shown_columns(home, "home_quiet")[1:3] == ["Change", "Why"]
    assert {"Change", "Why"} <= set(shown_columns(listed, "customers_quiet_table"))
    assert list(home.dataframe(key="home_quiet").value["reason"]) == ["Dropped"]


def test_peer_standing_ranks_among_the_customers_of_all_apis_or_of_the_api_chosen(dash):
    dash.ingest(*[Call(f"peer{n}", 1 + i / 10) for n in range(3) for i in range(20)])

    every_api = dash.app(PROFILE, id="peer1")
    one_api = dash.app(PROFILE, id="peer1", api="Shop API")

    captions = [c.value for c in every_api.caption], [c.value for c in one_api.caption]
    assert any(c.startswith("Peer standing: Among 3 customers of all APIs with at least") for c in captions[0])
    assert any(c.startswith("Peer standing: Among 3 customers of Shop API with at least") for c in captions[1])
    assert not any("of the API" in c.value for c in [*every_api.caption, *one_api.caption])


def signed_in(name: str, email: str) -> AppTest:
    """The sidebar's line for an analyst signed in with this name and address (ui.auth.signed_in_as)."""

    def sidebar(name: str, email: str) -> None:
        from core.access import Session
        from ui.auth import Analyst, signed_in_as

        signed_in_as(Analyst("issuer|subject", email, name, Session("issuer", "subject", 0, "nonce")))

    at = AppTest.from_function(sidebar, args=(name, email))
    at.run()
    return at


def test_the_signed_in_analyst_s_address_shows_once_when_it_is_also_their_name():
    assert [c.value for c in signed_in("alice@example.com", "alice@example.com").caption] == [
        "Signed in as **alice@example\\.com**"]
    assert [c.value for c in signed_in("Alice Liddell", "alice@example.com").caption] == [
        "Signed in as **Alice Liddell** (alice@example\\.com)"]


def test_one_of_anything_is_singular():
    assert [plural(1, "request"), plural(2, "request"), plural(0, "customer"), plural(1_250, "API", "APIs")] == [
        "1 request", "2 requests", "0 customers", "1,250 APIs"]


def test_the_pages_say_one_request_and_one_customer(dash):
    dash.ingest(Call("solo", 2))
    listed, profile = dash.app(CUSTOMERS), dash.app(PROFILE, id="solo", period="7d")

    assert "1–1 of 1 customer" in [c.value for c in listed.caption]
    assert any(c.value.startswith("Busiest hour: 1 request from") for c in profile.caption)
    assert any(c.value.startswith("1–1 of 1 request.") for c in profile.caption)

"""An API just registered: in the sidebar at once, and its pages waiting for its first request with
where to send it; an API name in the URL that no API has is said to be unknown, with the choice."""

from __future__ import annotations

import pytest
from dashboard_support import Call, dash  # noqa: F401, F811 (dash: a fixture)

from core.keys import key_prefix
from db.writes.apis import add_api

FRESH_KEY = "fresh-key-4711"
PAGES = ("pages/home.py", "pages/customers.py", "pages/endpoints.py")


@pytest.fixture
def collector_port(monkeypatch) -> int:
    """The collector's port in the settings the dashboard reads (FOOTFALL_COLLECTOR_PORT)."""
    monkeypatch.setenv("FOOTFALL_COLLECTOR_PORT", "9471")
    return 9471


def test_an_api_added_while_the_dashboard_runs_is_in_the_sidebar_on_the_next_run(dash):
    dash.ingest(Call("acme"))
    at = dash.app()
    assert "Fresh API" not in at.sidebar.selectbox(key="api").options

    add_api(dash.conn, "Fresh API", FRESH_KEY)  # `footfall apis add`, from another process
    at.run()

    assert "Fresh API" in at.sidebar.selectbox(key="api").options


@pytest.mark.parametrize("page", PAGES)
def test_an_api_without_traffic_waits_for_its_first_request_with_the_collector_and_key_prefix(dash, collector_port,
                                                                                               page):
    dash.ingest(Call("acme"))
    add_api(dash.conn, "Fresh API", FRESH_KEY)

    at = dash.app(page, api="Fresh API")

    [waiting] = [i.value for i in at.info if "waiting for the first request" in i.value]
    assert f"http://127.0.0.1:{collector_port}/" in waiting.replace("\\", "")
    assert f"`{key_prefix(FRESH_KEY)}`" in waiting
    assert not at.dataframe  # no empty tables under it


def test_an_api_with_traffic_is_not_waiting(dash, collector_port):
    dash.ingest(Call("acme"))
    at = dash.app("pages/home.py", api="Shop API")
    assert not [i for i in at.info if "waiting for the first request" in i.value]


def test_an_unknown_api_in_the_url_is_named_and_the_apis_to_choose_from_shown(dash):
    dash.ingest(Call("acme"))

    at = dash.app("pages/customers.py", api="Unknown Name")

    [warning] = at.warning
    assert "No API is named “Unknown Name”" in warning.value
    assert "Billing API" in warning.value and "Shop API" in warning.value
    assert at.sidebar.selectbox(key="api").value == "All APIs"
    at.sidebar.selectbox(key="api").select("Shop API").run()
    assert not at.warning  # once an API is chosen, the link's name is no longer the question

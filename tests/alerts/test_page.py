"""The alerts page, run by Streamlit's AppTest on a real database: create a rule, see it, see its
firing with a link to the customer's profile, remove it."""

from __future__ import annotations

import re

from dashboard.dashboard_support import API_IDS, SHOP_KEY, Call, dash, live_markup  # noqa: F401 (dash: a fixture)
from db.operations.alert_checks import check_alerts
from db.writes.edits import add_alert_rule

PAGE = "pages/alerts.py"
HOUR = 3600


def rule_texts(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**")]


def test_an_analyst_creates_a_rule_sees_its_firing_and_removes_it(dash):
    hour_judged = int(dash.now) // HOUR * HOUR - HOUR
    failing = [Call("acme", hours_ago=(dash.now - hour_judged - 60 * i - 30) / HOUR, status=500 if i < 9 else 200,
                    name="Acme Corp") for i in range(30)]
    dash.ingest(*failing, Call("calm", hours_ago=2))
    at = dash.app(PAGE)
    assert [i.value for i in at.info][1:] == ["No alert rules yet.", "Nothing has fired yet."]

    at.selectbox(key="alert_api").select("Shop API")
    at.selectbox(key="alert_kind").select("error_rate").run()
    assert at.number_input(key="alert_threshold_error_rate").value == 0.2  # the kind's default
    at.number_input(key="alert_threshold_error_rate").set_value(0.25)
    at.button(key="alert_create").click().run()

    assert [s.value for s in at.success] == ["Rule 1 created."]
    assert rule_texts(at)[0].startswith("**Error rate ≥ 25% errors · every customer on Shop API**")

    check_alerts(dash.conn, dash.now)  # what the collector does every minute
    at.run()

    [table] = at.dataframe
    firings = table.value
    assert list(firings["profile"]) == ["customer?id=acme"] and list(firings["display_name"]) == ["Acme Corp"]
    assert list(firings["value_text"]) == ["30% errors in the hour"]  # 9 of 30, worked out above
    assert list(firings["state"]) == ["open"] and list(firings["delivery"]) == ["not sent: no webhook is set"]
    assert "1 open firing" in [m.value for m in at.markdown]

    at.button(key="alert_remove_1").click().run()

    assert rule_texts(at) == [] and [i.value for i in at.info][1:] == ["No alert rules yet.", "Nothing has fired yet."]


def firing_acme(dash) -> None:
    """A rule on Shop API and a firing of it for acme, as the collector's check writes it."""
    hour_judged = int(dash.now) // HOUR * HOUR - HOUR
    dash.ingest(*[Call("acme", hours_ago=(dash.now - hour_judged - 60 * i - 30) / HOUR, status=500) for i in range(30)])
    add_alert_rule(dash.conn, API_IDS[SHOP_KEY], None, "error_rate", 0.2)
    check_alerts(dash.conn, dash.now)


def test_without_a_webhook_the_page_says_firings_are_only_recorded_here(dash, monkeypatch):
    monkeypatch.delenv("FOOTFALL_ALERT_WEBHOOK", raising=False)
    firing_acme(dash)

    at = dash.app(PAGE)

    assert any("No webhook is set (FOOTFALL_ALERT_WEBHOOK), so firings are only recorded here: none is sent" in i.value
               for i in at.info)
    assert list(at.dataframe[0].value["delivery"]) == ["not sent: no webhook is set"]
    assert not any("not sent yet" in text for text in [*[c.value for c in at.caption], *[i.value for i in at.info]])


def test_with_a_webhook_the_page_names_its_host_alone_and_a_firing_waits_to_be_sent(dash, monkeypatch):
    monkeypatch.setenv("FOOTFALL_ALERT_WEBHOOK", "https://hooks.example.com/services/T000/B000/SECRETPATH")
    firing_acme(dash)

    at = dash.app(PAGE)

    assert any("each firing is sent to `hooks.example.com`" in c.value for c in at.caption)
    assert not any("No webhook" in i.value for i in at.info)
    assert list(at.dataframe[0].value["delivery"]) == ["not sent yet"]  # the collector's next round sends it
    assert all("SECRETPATH" not in element.value for element in [*at.caption, *at.info, *at.markdown])


def test_a_rule_for_an_unknown_customer_is_refused_on_the_page(dash):
    dash.ingest(Call("acme"))
    at = dash.app(PAGE)
    at.selectbox(key="alert_api").select("Shop API")
    at.text_input(key="alert_customer").input("nobody")
    at.button(key="alert_create").click().run()

    assert [e.value for e in at.error] == ["no customer with the ID 'nobody'"]
    assert rule_texts(at) == []


def test_a_refused_customer_id_is_shown_as_typed_never_as_markup(dash):
    dash.ingest(Call("acme"))
    at = dash.app(PAGE)
    at.selectbox(key="alert_api").select("Shop API")
    at.text_input(key="alert_customer").input(":material/home: **Boss** :red[x]")
    at.button(key="alert_create").click().run()

    [error] = at.error
    assert not live_markup(error.value) and not re.search(r"(?<!\\)\*\*Boss", error.value)
    assert re.sub(r"\\(.)", r"\1", error.value) == "no customer with the ID ':material/home: **Boss** :red[x]'"


def test_with_an_api_chosen_in_the_sidebar_the_rule_is_for_that_api(dash):
    dash.ingest(Call("acme", api="billing-key"))
    at = dash.app(PAGE, api="Billing API")
    at.text_input(key="alert_customer").input("acme")
    at.button(key="alert_create").click().run()

    assert rule_texts(at)[0].startswith("**Traffic spike ≥ 3× hourly baseline · acme on Billing API**")

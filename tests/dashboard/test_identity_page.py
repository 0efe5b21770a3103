"""The identity rules page, run by Streamlit's AppTest on a real database: each API's rules shown
with who set them, edited by the analyst (sign-in off: the dashboard's one analyst), a rule
Footfall does not read refused with nothing changed, and the calls that come after counted by the
rules saved."""

from __future__ import annotations

import re

from conftest import footfall
from dashboard.dashboard_support import Call, dash, live_markup, markdown_sources  # noqa: F401 (dash: a fixture)
from db.reads.identity import identity_rules
from db.writes.analysts import record_sign_in
from db.writes.edits import save_identity_rules

PAGE = "pages/identity.py"


def rules_of(dash) -> dict[str, list[str]]:
    return {row["api"]: row["rules"] for row in identity_rules(dash.conn).iter_rows(named=True)}


def test_an_analyst_sees_each_api_s_rules_and_edits_them_and_the_next_calls_follow_them(dash):
    footfall("apis", "identify", "Billing API", "--by", "jwt:sub", db=dash.path)
    at = dash.app(PAGE)
    assert [s.value for s in at.main.subheader] == ["Billing API", "Shop API"]
    assert at.text_area(key="identity_rules_2").value == "jwt:sub"
    assert at.main.caption[1].value.startswith("Set from the command line, ")
    assert at.main.caption[2].value == "No rules: calls that name no customer are unattributed."
    assert [source for source in markdown_sources(at) if live_markup(source)] == []  # the syntax shows as written

    at.text_area(key="identity_rules_1").input("Header:X-Customer-Id\n\nquery:tenant\n")
    at.button(key="identity_save_1").click().run()

    assert [s.value for s in at.success] == ["Saved: the running collector follows within seconds."]
    assert rules_of(dash) == {"Billing API": ["jwt:sub"], "Shop API": ["header:x-customer-id", "query:tenant"]}
    assert at.main.caption[2].value.startswith("Set on the dashboard, ")
    dash.ingest(Call(None, extra_headers={"x-customer-id": "acme"}),
                Call(None, url="https://api.example.com/api/items?tenant=t-1"), Call(None))
    assert dict(dash.conn.execute("SELECT c.external_id, COUNT(*) FROM requests r LEFT JOIN customers c"
                                  " ON c.id = r.customer_id GROUP BY c.external_id").fetchall()) == \
        {"acme": 1, "t-1": 1, None: 1}


def test_a_rule_footfall_does_not_read_is_refused_on_the_page_and_nothing_changes(dash):
    footfall("apis", "identify", "Shop API", "--by", "header:x-team", db=dash.path)
    at = dash.app(PAGE)
    at.text_area(key="identity_rules_1").input("header:x-customer-id\ncookie:session")
    at.button(key="identity_save_1").click().run()

    [error] = at.error
    assert not live_markup(error.value)
    assert re.sub(r"\\(.)", r"\1", error.value).replace("\u2060", "") == (
        "'cookie:session' is not a rule: write header:NAME, jwt:CLAIM, key:NAME (a key in a header), key:query:NAME"
        " (a key in the query) or query:NAME")
    assert rules_of(dash)["Shop API"] == ["header:x-team"]


def test_with_an_api_chosen_in_the_sidebar_only_its_rules_are_shown(dash):
    at = dash.app(PAGE, api="Billing API")
    assert [s.value for s in at.main.subheader] == ["Billing API"]


def test_rules_an_analyst_set_name_them_by_their_address(dash):
    record_sign_in(dash.conn, "issuer|ana", "https://issuer.example", "ana", "ana@example.com", "Ana")
    save_identity_rules(dash.conn, 1, "jwt:org_id", "issuer|ana")
    assert identity_rules(dash.conn).filter(api="Shop API")["set_by"].to_list() == ["ana@example.com"]


def test_keys_mapped_to_customers_are_counted(dash, tmp_path):
    (tmp_path / "keys.csv").write_text("ck-1,acme,\nck-2,beta,\n")
    footfall("customers", "map", "Shop API", str(tmp_path / "keys.csv"), db=dash.path)
    at = dash.app(PAGE)
    assert "2 API keys mapped to customers." in [c.value for c in at.main.caption]


def test_one_mapped_key_is_counted_in_the_singular(dash, tmp_path):
    (tmp_path / "keys.csv").write_text("ck-1,acme,\n")
    footfall("customers", "map", "Shop API", str(tmp_path / "keys.csv"), db=dash.path)
    at = dash.app(PAGE)
    assert "1 API key mapped to customers." in [c.value for c in at.main.caption]

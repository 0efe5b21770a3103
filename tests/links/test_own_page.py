"""A customer's own page (/?link=<token>): what a valid link shows, checked against counts worked
out from the traffic sent through the real collector; that a changed, expired, revoked or
foreign-signed link shows nothing; and that nothing of another customer is reachable from it."""

from __future__ import annotations

import json
import math
import string
import time

import pytest
from links_support import (  # noqa: F401 (fixtures)
    BILLING_API, BILLING_KEY, SHOP_API, Call, app_env, billing, link_id, make_link, metric, open_link,
    rendered_text, table_with, traffic,
)
from streamlit import dataframe_util

from conftest import footfall
from core.links import INVALID_LINK, new_token
from core.periods import DAY
from db.writes.links import revoke_link
from factories import API_KEY

ACME, GLOBEX = "acme", "globex-7731"
ACME_NAME, GLOBEX_NAME = "Acme Corp", "Globex Hidden Inc"
ACME_BODY, GLOBEX_BODY = "acme-body-marker", "globex-body-marker"
LOADS = [12.0, 15.0, 18.0, 22.0, 30.0, 45.0, 60.0, 80.0, 150.0, 900.0]


def acme_calls() -> list[Call]:
    """Acme on both APIs: ten calls of the last 30 days to the shop (two of them today), three
    older ones (in 90 days, not 30), four to billing."""
    shop = [Call(ACME, ACME_NAME, hours_ago=2 + 37 * i, load_ms=ms, status=status, path=path)
            for i, (ms, status, path) in enumerate(zip(
                LOADS, [200, 200, 201, 200, 404, 200, 500, 200, 200, 200],
                ["/api/items/1", "/api/items/2", "/api/orders", "/api/items/3", "/api/items/4", "/api/orders",
                 "/api/items/5", "/api/orders", "/api/items/6", "/api/items/7"]))]
    shop[0] = Call(ACME, ACME_NAME, hours_ago=2, load_ms=LOADS[0], method="POST", path="/api/orders",
                   body={"note": ACME_BODY, "password": "hunter2-acme"})
    older = [Call(ACME, ACME_NAME, hours_ago=24 * 40 + i, path="/api/legacy/1") for i in range(3)]
    bills = [Call(ACME, ACME_NAME, hours_ago=5 + 50 * i, api_key=BILLING_KEY, path="/billing/invoices/9", status=402)
             for i in range(4)]
    return [*shop, *older, *bills]


def globex_calls() -> list[Call]:
    """Another customer on the same API, with an endpoint of its own and bodies of its own."""
    return [Call(GLOBEX, GLOBEX_NAME, hours_ago=3 + 11 * i, path="/api/globex-only/5", status=503, load_ms=7000.0,
                 method="PUT", body={"note": GLOBEX_BODY}) for i in range(23)]


@pytest.fixture
def sent(traffic, app_env):
    traffic.send(*acme_calls(), *globex_calls(), *[Call(None, hours_ago=4 + i) for i in range(9)])
    return traffic


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * q / 100)) - 1]


def chart_rows(at) -> list[dict]:
    [chart] = at.get("vega_lite_chart")
    datasets = [dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data).to_dict("records") for d in chart.proto.datasets]
    datasets += list(json.loads(chart.proto.spec).get("datasets", {}).values())
    return next(rows for rows in datasets if rows and "status" in rows[0])


def shows_nothing(at, *names: str) -> None:
    """The neutral message, and no figure, table, chart or name of any customer."""
    assert [w.value for w in at.warning] == [INVALID_LINK]
    assert not at.metric and not at.dataframe and not at.get("vega_lite_chart")
    text = rendered_text(at)
    for name in (ACME, ACME_NAME, GLOBEX, GLOBEX_NAME, SHOP_API, BILLING_API, *names):
        assert name not in text


# --- A valid link ----------------------------------------------------------------------------------


def test_a_valid_link_shows_the_customer_s_requests_error_rate_and_latency_of_the_link_s_api(sent, conn, db_path):
    at = open_link(make_link(conn, db_path, ACME, SHOP_API))
    mine = sent.of(ACME, API_KEY, days=30)
    assert len(mine) == 10
    assert [t.value for t in at.title] == [ACME_NAME]
    assert metric(at, "Total Requests") == str(len(mine))
    assert metric(at, "Error rate") == f"{100 * sum(c.status >= 400 for c in mine) / len(mine):.1f}%"
    for q in (50, 95):
        shown = float(metric(at, f"p{q} load time").removesuffix(" ms"))
        expected = nearest_rank([c.load_ms for c in mine], q)
        assert abs(shown - expected) <= 0.06 * expected  # from histogram buckets: within about 5%
    assert any(SHOP_API in c.value for c in at.caption)


def test_the_request_graph_counts_every_request_of_the_period_by_status_class(sent, conn, db_path):
    at = open_link(make_link(conn, db_path, ACME, SHOP_API))
    rows = chart_rows(at)
    mine = sent.of(ACME, API_KEY, days=30)
    assert sum(r["requests"] for r in rows) == len(mine)
    by_class: dict[str, int] = {}
    for r in rows:
        by_class[r["status"]] = by_class.get(r["status"], 0) + r["requests"]
    expected: dict[str, int] = {}
    for c in mine:
        expected[f"{c.status // 100}xx"] = expected.get(f"{c.status // 100}xx", 0) + 1
    assert by_class == expected


def test_the_endpoints_table_lists_each_endpoint_with_its_requests_and_errors_in_the_period(sent, conn, db_path):
    at = open_link(make_link(conn, db_path, ACME, SHOP_API))
    table = table_with(at, "Endpoint")
    shown = {row["Endpoint"]: (row["Requests"], row["Errors"]) for row in table.to_dict("records")}
    mine = sent.of(ACME, API_KEY, days=30)
    expected = {}
    for c in sent.of(ACME, API_KEY, days=90):  # every endpoint ever called; counts of the period
        expected.setdefault(c.endpoint(), (0, 0))
    for c in mine:
        requests, errors = expected[c.endpoint()]
        expected[c.endpoint()] = (requests + 1, errors + (c.status >= 400))
    assert shown == expected
    assert "API" not in table.columns  # one API: no API column


def test_the_period_picker_offers_presets_and_changes_every_figure(sent, conn, db_path):
    at = open_link(make_link(conn, db_path, ACME, SHOP_API))
    picker = at.get("button_group")[0]
    assert [o for o in picker.options] and len(picker.options) == 4
    for days, key in ((1, "24h"), (7, "7d"), (90, "90d")):
        at.get("button_group")[0].set_value(key).run()
        mine = sent.of(ACME, API_KEY, days=days)
        assert metric(at, "Total Requests") == str(len(mine)), key
        assert sum(r["requests"] for r in chart_rows(at)) == len(mine)
    assert metric(at, "Total Requests") == "13"  # 90 days: the three older calls too


def test_a_link_made_under_all_apis_counts_every_api_and_names_the_api_of_each_endpoint(sent, conn, db_path):
    at = open_link(make_link(conn, db_path, ACME, None))
    mine = sent.of(ACME, None, days=30)
    assert metric(at, "Total Requests") == str(len(mine)) == "14"
    table = table_with(at, "Endpoint")
    assert set(table["API"]) == {SHOP_API, BILLING_API}
    assert any("every API" in c.value for c in at.caption)


def test_a_link_never_shows_the_sidebar_the_api_selector_favorites_or_a_menu(sent, conn, db_path):
    at = open_link(make_link(conn, db_path, ACME, SHOP_API))
    assert len(at.sidebar.children) == 0
    assert not [s for s in at.selectbox if s.label in ("API", "Period")]
    text = rendered_text(at)
    assert "Favorite" not in text and "Customers" not in text and "Description" not in text


# --- Nothing of another customer -------------------------------------------------------------------


def test_a_link_for_one_customer_never_shows_another_s_name_id_endpoints_bodies_or_counts(sent, conn, db_path):
    everyone = [c for c in sent.calls if c.api_key == API_KEY and c.ts(sent.now) >= sent.since(30)]
    theirs = sent.of(GLOBEX, API_KEY, days=30)
    for period in ("24h", "7d", "30d", "90d"):
        at = open_link(make_link(conn, db_path, ACME, SHOP_API, bodies=True))
        at.get("button_group")[0].set_value(period).run()
        text = rendered_text(at)
        assert ACME_NAME in text and "/api/orders" in text and ACME_BODY in text  # the text holds tables and code
        for secret in (GLOBEX, GLOBEX_NAME, "globex-only", GLOBEX_BODY, "7,000.0 ms"):
            assert secret not in text, (period, secret)
        figures = {m.value for m in at.metric}
        assert str(len(theirs)) not in figures and str(len(everyone)) not in figures  # not theirs, not the API's
        assert "Share" not in {m.label for m in at.metric}


@pytest.mark.parametrize("query", [{"id": GLOBEX}, {"customer": GLOBEX}, {"api": BILLING_API, "period": "all"}])
def test_other_query_parameters_beside_the_link_change_nothing_it_shows(sent, conn, db_path, query):
    token = make_link(conn, db_path, ACME, SHOP_API)
    plain, tampered = open_link(token), open_link(token, **query)
    assert [t.value for t in tampered.title] == [ACME_NAME]
    assert [m.value for m in tampered.metric] == [m.value for m in plain.metric]
    assert GLOBEX_NAME not in rendered_text(tampered)


def test_request_bodies_show_only_when_the_link_was_made_with_them_and_are_masked(sent, conn, db_path):
    without = open_link(make_link(conn, db_path, ACME, SHOP_API))
    assert ACME_BODY not in rendered_text(without) and not [s for s in without.subheader if s.value == "Latest requests"]

    with_bodies = open_link(make_link(conn, db_path, ACME, SHOP_API, bodies=True))
    latest = table_with(with_bodies, "Path")
    assert len(latest) == len(sent.of(ACME, API_KEY, days=30))
    assert latest["Path"][0] == "/api/orders" and latest["Method"][0] == "POST"  # the newest first
    bodies = "\n".join(c.value for c in with_bodies.code)
    assert ACME_BODY in bodies
    assert "hunter2-acme" not in rendered_text(with_bodies)  # the password was masked before storage


# --- Links that open nothing ----------------------------------------------------------------------


def changed(token: str, position: int) -> str:
    """The token with one character replaced by another URL-safe one."""
    alphabet = string.ascii_letters + string.digits + "-_"
    old = token[position]
    new = alphabet[(alphabet.index(old) + 1) % len(alphabet)] if old in alphabet else "A"
    return token[:position] + new + token[position + 1:]


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_link_changed_by_one_character_shows_nothing(sent, conn, db_path, where):
    token = make_link(conn, db_path, ACME, SHOP_API, bodies=True)
    assert [t.value for t in open_link(token).title] == [ACME_NAME]  # the link itself works
    position = {"first": 0, "middle": len(token) // 2, "last": len(token) - 1}[where]
    shows_nothing(open_link(changed(token, position)))


def test_every_one_character_change_of_a_token_is_refused(sent, conn, db_path):
    """The last character of the signature carries padding bits that base64 ignores: the stored
    hash of the whole token refuses those changes too."""
    from core.keys import key_hash
    from core.links import link_state, token_link_id
    from db.writes.links import link_by_token_hash, signing_key

    token = make_link(conn, db_path, ACME, SHOP_API)
    key = signing_key(db_path)
    assert link_state(link_by_token_hash(conn, key_hash(token)), token_link_id(token, key), time.time())
    for position in range(len(token)):
        other = changed(token, position)
        assert link_state(link_by_token_hash(conn, key_hash(other)), token_link_id(other, key), time.time()) is None


def test_an_expired_link_shows_nothing(sent, conn, db_path):
    shows_nothing(open_link(make_link(conn, db_path, ACME, SHOP_API, days=1, now=time.time() - 2 * DAY)))


def test_a_link_revoked_while_open_shows_nothing_on_the_next_run(sent, conn, db_path):
    token = make_link(conn, db_path, ACME, SHOP_API)
    at = open_link(token)
    assert [t.value for t in at.title] == [ACME_NAME]
    footfall("links", "revoke", str(link_id(token, db_path)), db=db_path)
    at.run()
    shows_nothing(at)
    shows_nothing(open_link(token))


def test_a_token_signed_with_another_key_shows_nothing_even_with_its_hash_stored(sent, conn, db_path):
    shows_nothing(open_link(make_link(conn, db_path, ACME, SHOP_API, key=b"another key altogether")))


def test_a_token_signed_with_the_key_but_never_issued_shows_nothing(sent, conn, db_path):
    """The signature alone opens nothing: only a token whose hash was stored when it was made."""
    from db.writes.links import signing_key

    issued = make_link(conn, db_path, ACME, SHOP_API)
    minted = new_token(link_id(issued, db_path), signing_key(db_path))  # same link id, another nonce
    shows_nothing(open_link(minted))
    assert [t.value for t in open_link(issued).title] == [ACME_NAME]


def test_the_link_of_an_erased_customer_shows_nothing(sent, conn, db_path):
    token = make_link(conn, db_path, ACME, SHOP_API)
    footfall("erase", "--customer", ACME, db=db_path)
    shows_nothing(open_link(token))


@pytest.mark.parametrize("token", ["", "nonsense", "x" * 5000, "eyJsIjoxfQ.abc"])
def test_an_empty_or_made_up_token_shows_nothing(sent, token):
    shows_nothing(open_link(token))


def test_revoking_through_db_links_twice_reports_the_second_time(sent, conn, db_path):
    token = make_link(conn, db_path, ACME, SHOP_API)
    assert revoke_link(conn, link_id(token, db_path)) is True
    assert revoke_link(conn, link_id(token, db_path)) is False

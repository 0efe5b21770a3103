"""Endpoint adoption: who calls which endpoint, who started and who moved off, on traffic stored
through the collector's ingest path, checked against counts taken from the calls stored."""

from __future__ import annotations

import json
import random
import time

import pytest

from conftest import footfall
from core.periods import Period
from core.scope import Scope
from db.operations.erase import erase_customer
from db.reads.endpoints import (
    customer_endpoints,
    endpoint_by_name,
    endpoint_customers,
    endpoint_list,
    endpoint_moved_off,
    endpoint_summary,
)
from signals_support import DAY, HOUR, Sent, store

NOW = int(time.time()) // HOUR * HOUR
# A period that starts and ends mid-day, so whole days and edge hours both count.
PERIOD = Period(NOW - 3 * DAY - 5 * HOUR, NOW - 7 * HOUR)
SCOPE = Scope(1, PERIOD)
ITEMS, ORDERS, LEGACY = "/api/items/7", "/api/orders", "/api/v0/items/7"


def traffic() -> list[Sent]:
    rng = random.Random(11)
    calls = []
    for hours_ago in range(0, 6 * 24):  # six days, every hour: the period's edges and both sides of it
        ts = NOW - hours_ago * HOUR + 120
        calls.append(Sent("acme", ts, path=ITEMS, status=rng.choice([200, 200, 200, 404, 500])))
        if hours_ago % 5 == 0:
            calls.append(Sent("acme", ts + 60, method="POST", path=ORDERS, status=rng.choice([201, 422])))
        if hours_ago > 4 * 24:  # before the period only: it moved off the legacy endpoint
            calls.append(Sent("globex", ts, path=LEGACY))
        elif hours_ago % 3 == 0:
            calls.append(Sent("globex", ts + 30, path=ITEMS))
        if hours_ago % 7 == 0 and hours_ago < 2 * 24:  # new in the period
            calls.append(Sent("initech", ts + 90, path=LEGACY, status=500))
        if hours_ago % 11 == 0:
            calls.append(Sent(None, ts + 10, path=ITEMS))  # unidentified: in no customer's figures
    return calls


def in_period(c: Sent) -> bool:
    return PERIOD.since <= c.ts < PERIOD.until


@pytest.fixture
def sent(conn, db_path):
    calls = traffic()
    store(db_path, calls)
    return calls


def cid(conn, external_id: str) -> int:
    return conn.execute("SELECT id FROM customers WHERE external_id = ?", (external_id,)).fetchone()[0]


def test_a_customer_s_endpoints_have_their_period_requests_errors_and_first_and_last_call(sent, conn):
    rows = {r["endpoint"]: r for r in customer_endpoints(conn, cid(conn, "acme"), SCOPE).to_dicts()}
    assert set(rows) == {"GET /api/items/{id}", "POST /api/orders"}
    for method, path in (("GET", ITEMS), ("POST", ORDERS)):
        mine = [c for c in sent if c.user == "acme" and c.path == path]
        row = rows[mine[0].endpoint()]
        assert row["requests"] == sum(map(in_period, mine))
        assert row["errors"] == sum(in_period(c) and c.status >= 400 for c in mine)
        assert (row["first_call"], row["last_call"]) == (min(c.ts for c in mine), max(c.ts for c in mine))


def test_an_endpoint_lists_the_customers_who_called_it_in_the_period_busiest_first(sent, conn):
    [(_, items)] = endpoint_by_name(conn, "get /api/items/{id}")
    rows = endpoint_customers(conn, items, SCOPE).to_dicts()
    expected = {user: sum(1 for c in sent if c.user == user and c.path == ITEMS and in_period(c)) for user in ("acme", "globex")}
    assert [(r["customer_id"], r["requests"]) for r in rows] == sorted(expected.items(), key=lambda kv: -kv[1])
    assert endpoint_customers(conn, items, SCOPE, limit=1)["customer_id"].to_list() == ["acme"]


def test_the_endpoint_list_counts_customers_requests_and_errors_in_the_period(sent, conn):
    listed = {r["endpoint"]: r for r in endpoint_list(conn, SCOPE).to_dicts()}
    for endpoint in {c.endpoint() for c in sent}:
        mine = [c for c in sent if c.user and c.endpoint() == endpoint and in_period(c)]
        assert listed[endpoint]["customers"] == len({c.user for c in mine}), endpoint
        assert listed[endpoint]["requests"] == len(mine), endpoint
        assert listed[endpoint]["errors"] == sum(c.status >= 400 for c in mine), endpoint


def test_who_moved_off_called_it_before_the_period_and_not_in_it_and_who_is_new_started_in_it(sent, conn):
    [(_, legacy)] = endpoint_by_name(conn, "GET /api/v0/items/{id}")
    summary = endpoint_summary(conn, legacy, SCOPE)
    callers = {c.user for c in sent if c.path == LEGACY and c.user and in_period(c)}
    before = {c.user for c in sent if c.path == LEGACY and c.user and c.ts < PERIOD.since}
    assert (callers, before) == ({"initech"}, {"globex"})
    assert (summary.customers, summary.new_customers, summary.moved_off) == (1, 1, 1)
    moved = endpoint_moved_off(conn, legacy, SCOPE).to_dicts()
    assert [r["customer_id"] for r in moved] == ["globex"]
    assert moved[0]["last_call"] == max(c.ts for c in sent if c.user == "globex" and c.path == LEGACY)


def test_the_cli_lists_endpoints_and_one_endpoint_s_customers(sent, db_path):
    listed = json.loads(footfall("endpoints", "--format", "json", db=db_path).stdout)
    all_time = {r["endpoint"]: r["customers"] for r in listed}
    assert all_time == {"GET /api/items/{id}": 2, "POST /api/orders": 1, "GET /api/v0/items/{id}": 2}
    rows = json.loads(footfall("endpoints", "--api", "Test API", "--endpoint", "GET /api/v0/items/{id}",
                               "--format", "json", db=db_path).stdout)
    assert {r["customer_id"]: r["requests"] for r in rows} == {
        user: sum(1 for c in sent if c.user == user and c.path == LEGACY) for user in ("globex", "initech")}
    assert set(rows[0]) == {"customer_id", "display_name", "requests", "errors", "first_call", "last_call"}
    missing = footfall("endpoints", "--endpoint", "GET /nope", db=db_path, check=False)
    assert missing.returncode == 1 and "no endpoint 'GET /nope'" in missing.stderr


@pytest.mark.both_backends  # what an erase removes
def test_an_erased_customer_leaves_no_trace_in_any_endpoint_figure(sent, conn):
    erase_customer(conn, "globex")
    listed = {r["endpoint"]: r for r in endpoint_list(conn, Scope(1, Period(None, None))).to_dicts()}
    acme_items = [c for c in sent if c.user in ("acme", "initech") and c.path == ITEMS]
    assert listed["GET /api/items/{id}"]["customers"] == 1
    assert listed["GET /api/items/{id}"]["requests"] == len(acme_items)
    [(_, legacy)] = endpoint_by_name(conn, "GET /api/v0/items/{id}")
    assert endpoint_summary(conn, legacy, SCOPE).moved_off == 0
    assert endpoint_moved_off(conn, legacy, SCOPE).is_empty()


def test_of_a_past_period_who_called_before_and_after_but_not_in_it_moved_off_in_it(sent, conn):
    gap = Scope(1, Period(NOW - 5 * HOUR, NOW - 3 * HOUR))  # globex calls every third hour: none in these two
    [(_, items)] = endpoint_by_name(conn, "GET /api/items/{id}")
    globex = [c.ts for c in sent if c.user == "globex" and c.path == ITEMS]
    assert min(globex) < gap.period.since and max(globex) >= gap.period.until
    assert not any(gap.period.since <= ts < gap.period.until for ts in globex)
    assert endpoint_moved_off(conn, items, gap)["customer_id"].to_list() == ["globex"]
    assert endpoint_summary(conn, items, gap).moved_off == 1

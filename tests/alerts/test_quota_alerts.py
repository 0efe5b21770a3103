"""Quota alerts ride on the alert rounds: a real local webhook receives one firing per customer,
threshold and month, in words that name the customer, say "quota", the threshold, used and quota;
delivery retries as the rules' firings do; the `alerts check` command says what fired."""

from __future__ import annotations

import time

import pytest
from alerts_support import webhook  # noqa: F401 (a fixture)

from conftest import footfall
from core.usage import month_start
from db.writes.quotas import set_quota
from factories import payload
from loading import load
from services.alert_rounds import run_alert_check

pytestmark = pytest.mark.both_backends  # the check's reads and its unique firings are SQL of their own
NOW = int(time.time())
QUICK = (0.05, 0.1)  # the backoff, shortened


def calls(customer: str, count: int, status: int = 200) -> list[dict]:
    """`count` requests of the customer, this month, a minute ago."""
    at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(max(NOW - 60, month_start(NOW))))
    return [payload(user_id=customer, timestamp=at, status=status) for _ in range(count)]


def test_the_webhook_gets_each_threshold_once_in_words_that_say_quota(conn, webhook):
    set_quota(conn, 1, None, 100)
    load(conn, calls("acme", 80) + calls("acme", 30, status=503))  # 5xx are not billable: 80 used

    run_alert_check(conn, NOW, webhook.url, backoff=QUICK)
    run_alert_check(conn, NOW + 60, webhook.url, backoff=QUICK)
    [eighty] = webhook.bodies
    assert eighty["text"].startswith("Footfall alert: acme reached 80% of their monthly quota on Test API: "
                                     "80 of 100 billable requests in ")
    assert {k: eighty["footfall"][k] for k in ("kind", "threshold", "customer_id", "used", "quota")} == {
        "kind": "quota", "threshold": "80%", "customer_id": "acme", "used": 80, "quota": 100}

    load(conn, calls("acme", 20))
    run_alert_check(conn, NOW + 120, webhook.url, backoff=QUICK)
    run_alert_check(conn, NOW + 180, webhook.url, backoff=QUICK)
    assert [body["footfall"]["threshold"] for body in webhook.bodies] == ["80%", "100%"]
    assert "100 of 100 billable requests" in webhook.bodies[1]["text"]


def test_a_customer_past_both_thresholds_between_checks_gets_the_100_percent_one(conn, webhook):
    load(conn, calls("globex", 12))
    set_quota(conn, 1, "globex", 10)
    run_alert_check(conn, NOW, webhook.url, backoff=QUICK)
    assert [(b["footfall"]["customer_id"], b["footfall"]["threshold"]) for b in webhook.bodies] == [("globex", "100%")]


def test_a_quota_firing_waits_while_the_webhook_is_down_and_goes_at_the_next_check(conn, webhook):
    set_quota(conn, 1, None, 10)
    load(conn, calls("acme", 10))
    webhook.down = True
    run_alert_check(conn, NOW, webhook.url, backoff=QUICK)
    assert webhook.attempts == 3 and webhook.bodies == []
    assert conn.execute("SELECT attempts, delivered_at FROM quota_firings").fetchall() == [(3, None)]
    webhook.down = False
    run_alert_check(conn, NOW + 60, webhook.url, backoff=QUICK)
    assert [body["footfall"]["threshold"] for body in webhook.bodies] == ["100%"]
    assert conn.execute("SELECT delivered_at FROM quota_firings").fetchall() == [(NOW + 60,)]


def test_alerts_check_says_what_fired(db_path):
    footfall("apis", "add", "Shop", "--api-key", "shop-key", db=db_path)
    load(db_path, [dict(p, project_id="shop-key") for p in calls("acme", 9)])
    footfall("quotas", "set", "--api", "Shop", "--monthly", "10", db=db_path)
    lines = footfall("alerts", "check", db=db_path, env={"PATH": "/usr/bin"}).stdout
    assert "acme reached 80% of their monthly quota on Shop: 9 of 10 billable requests" in lines

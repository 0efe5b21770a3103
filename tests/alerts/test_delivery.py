"""Delivery to a real local webhook: a Slack-compatible body, retries with backoff, firings kept
while the webhook is down and delivered at the next check, none sent without a webhook, and the
webhook's secret address never stored."""

from __future__ import annotations

import re
import time

import pytest
from alerts_support import (  # noqa: F401 (webhook: a fixture)
    HOUR, SECRET_PATH, database_text, firing_rows, in_hour, store, webhook,
)
from db.writes.edits import add_alert_rule
from services.alert_rounds import run_alert_check

HOUR_JUDGED = int(time.time()) // HOUR * HOUR - HOUR
NOW = HOUR_JUDGED + HOUR + 120
QUICK = (0.05, 0.1)  # the backoff, shortened
FAILING = in_hour("acme", HOUR_JUDGED, 40, errors=10, name="Acme <!channel> & Co")  # 25% errors


def test_the_webhook_gets_one_readable_slack_line_and_the_fields_for_machines(conn, db_path, webhook):
    store(db_path, FAILING)
    rule = add_alert_rule(conn, 1, None, "error_rate", 0.2)

    run_alert_check(conn, NOW, webhook.url, backoff=QUICK)

    [body] = webhook.bodies
    assert body["footfall"] == {"firing_id": 1, "rule_id": rule, "kind": "error_rate", "threshold": 0.2,
                                "api": "Test API", "customer_id": "acme", "display_name": "Acme <!channel> & Co",
                                "value": 10 / 40, "fired_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW))}
    # Slack's control characters escaped: the customer's name cannot mention a channel.
    assert body["text"] == (f"Footfall alert: Error rate for Acme &lt;!channel&gt; &amp; Co (acme) on Test API: "
                            f"25% errors in the hour (rule {rule}: ≥ 20% errors), "
                            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(NOW))}")
    assert body["blocks"] == [{"type": "section", "text": {"type": "plain_text", "text": body["text"], "emoji": False}}]
    [(_, _, _, fired, _, delivered, attempts, error)] = firing_rows(conn)
    assert (delivered, attempts, error) == (NOW, 1, None)


def shown_by_slack(text_object: dict) -> str:
    """What Slack shows of a Block Kit text object, by its documented rules (docs.slack.dev: the text
    object, "Formatting message text"), asserting it is shown as text and nothing else: plain_text is
    never formatted nor auto-linked (mrkdwn would make *x* bold and URLs links), and &, <, > are
    Slack's control characters, which must arrive escaped (else <url|label> is a link)."""
    assert text_object["type"] == "plain_text" and text_object["emoji"] is False
    text = text_object["text"]
    assert not re.search(r"[<>]|&(?!amp;|lt;|gt;)", text), text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_a_customer_name_reaches_slack_as_literal_text(conn, db_path, webhook):
    name = "*Boss* <https://evil.example|click> https://evil.example"
    store(db_path, in_hour("boss", HOUR_JUDGED, 40, errors=10, name=name))
    add_alert_rule(conn, 1, None, "error_rate", 0.2)

    run_alert_check(conn, NOW, webhook.url, backoff=QUICK)

    [body] = webhook.bodies
    [block] = body["blocks"]
    assert f"Error rate for {name} (boss) on Test API" in shown_by_slack(block["text"])
    assert body["mrkdwn"] is False and body["text"] == block["text"]["text"]  # the same line for other receivers
    assert body["footfall"]["display_name"] == name


@pytest.mark.both_backends  # what is stored of each attempt
def test_a_failing_webhook_is_retried_until_it_takes_the_firing(conn, db_path, webhook):
    store(db_path, FAILING)
    add_alert_rule(conn, 1, None, "error_rate", 0.2)
    webhook.fail_first = 2

    outcome = run_alert_check(conn, NOW, webhook.url, backoff=QUICK)

    assert webhook.attempts == 3 and len(webhook.bodies) == 1 and len(outcome.delivered) == 1
    [(_, _, _, _, _, delivered, attempts, error)] = firing_rows(conn)
    assert (delivered, attempts, error) == (NOW, 3, None)


def test_retries_wait_longer_each_time(conn, db_path, webhook):
    store(db_path, FAILING)
    add_alert_rule(conn, 1, None, "error_rate", 0.2)
    webhook.fail_first = 2

    started = time.monotonic()
    run_alert_check(conn, NOW, webhook.url)  # the real backoff: 0.5 s, then 1 s

    assert time.monotonic() - started >= 1.5 and webhook.attempts == 3


@pytest.mark.both_backends  # what is stored of each attempt
def test_while_the_webhook_is_down_firings_are_kept_and_the_next_check_delivers_them(conn, db_path, webhook):
    calls = [*FAILING, *in_hour("globex", HOUR_JUDGED, 20, errors=20)]
    store(db_path, calls)
    add_alert_rule(conn, 1, None, "error_rate", 0.2)
    webhook.down = True

    down = run_alert_check(conn, NOW, webhook.url, backoff=QUICK)

    # The first firing failed three times; the second waits for the next check, untried.
    assert webhook.bodies == [] and webhook.attempts == 3
    assert len(down.failed) == 1 and down.waiting == 1
    assert sorted((attempts, error) for *_, attempts, error in firing_rows(conn)) == [(0, None), (3, "HTTP 500")]
    assert all(delivered is None for *_, delivered, _, _ in firing_rows(conn))

    webhook.down = False
    up = run_alert_check(conn, NOW + 60, webhook.url, backoff=QUICK)

    assert up.report.opened == [] and len(up.delivered) == 2
    assert sorted(b["footfall"]["customer_id"] for b in webhook.bodies) == ["acme", "globex"]
    assert sorted((delivered, attempts, error) for *_, delivered, attempts, error in firing_rows(conn)) == [
        (NOW + 60, 1, None), (NOW + 60, 4, None)]


@pytest.mark.both_backends  # what is stored of each attempt, and nowhere the webhook's address
def test_an_unreachable_webhook_is_recorded_without_its_secret_address(conn, db_path, webhook):
    store(db_path, FAILING)
    add_alert_rule(conn, 1, None, "error_rate", 0.2)
    unreachable = webhook.url
    webhook.close()  # nothing listens there any more

    run_alert_check(conn, NOW, unreachable, backoff=QUICK)

    [(*_, delivered, attempts, error)] = firing_rows(conn)
    assert delivered is None and attempts == 3 and error.startswith("ConnectError")
    dump = database_text(conn, db_path)
    assert "alert_firings" in dump and "acme" in dump  # a dump of this database, with its rows
    assert SECRET_PATH not in dump and "not-a-real-secret" not in dump


def test_without_a_webhook_firings_are_kept_and_not_sent(conn, db_path, webhook):
    store(db_path, FAILING)
    add_alert_rule(conn, 1, None, "error_rate", 0.2)

    outcome = run_alert_check(conn, NOW, None)

    assert [m.customer_id for m in outcome.report.opened] == ["acme"] and outcome.delivered == []
    assert [(customer, delivered, attempts) for _, customer, _, _, _, delivered, attempts, _ in firing_rows(conn)] == [
        ("acme", None, 0)]
    assert webhook.attempts == 0


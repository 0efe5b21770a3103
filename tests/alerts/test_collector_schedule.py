"""The running collector checks the rules on its own schedule and sends each new firing to the
webhook once: traffic of every kind, some that should fire and some that should not."""

from __future__ import annotations

from alerts_support import (  # noqa: F401 (webhook: a fixture)
    DAY, HOUR, Sent, clear_of_the_hour, daily, firing_rows, in_hour, spread, store, webhook,
)
from conftest import start_collector, stop
from db.writes.edits import add_alert_rule


def test_the_collector_fires_each_rule_once_for_the_customers_it_holds_for(conn, db_path, webhook):
    now = clear_of_the_hour(margin=20)  # the collector judges by the real clock: the test must not straddle an hour
    hour_judged = int(now) // HOUR * HOUR - HOUR
    today = int(now) // DAY * DAY
    calls = [
        *in_hour("newcomer", hour_judged, 60),  # spike: 60 calls and no baseline
        *in_hour("failing", hour_judged, 30, errors=12), *in_hour("healthy", hour_judged, 30, errors=3),
        *spread("slow", 40, hour_judged - 22 * HOUR, hour_judged, load_ms=900.0),
        *spread("fast", 40, hour_judged - 22 * HOUR, hour_judged, load_ms=40.0),
        *daily("dropping", 20, today - 35 * DAY, today - 7 * DAY), *daily("dropping", 5, today - 7 * DAY, today),
        *daily("steady", 20, today - 35 * DAY, today),
        Sent("steady", (today + int(now)) // 2),  # today too: never silent, whatever the hour
    ]
    store(db_path, calls)  # every call before the first check: one that saw half a history could judge it a drop
    rules = {kind: add_alert_rule(conn, 1, None, kind, threshold) for kind, threshold in
             [("spike", 50.0), ("drop", 0.5), ("error_rate", 0.2), ("p95", 500.0)]}
    process, _ = start_collector(db_path, FOOTFALL_ALERT_WEBHOOK=webhook.url, FOOTFALL_ALERT_INTERVAL="0.5")
    try:
        bodies = webhook.wait_for(4)
        # A rule added now fires at a later check, which judged the four again while they kept holding.
        later = add_alert_rule(conn, 1, "healthy", "error_rate", 0.05)
        webhook.wait_for(5)
    finally:
        stop(process)

    assert sorted((b["footfall"]["kind"], b["footfall"]["customer_id"]) for b in webhook.bodies) == [
        ("drop", "dropping"), ("error_rate", "failing"), ("error_rate", "healthy"), ("p95", "slow"),
        ("spike", "newcomer")]
    assert len(bodies) == 4 and webhook.attempts == 5
    firings = firing_rows(conn)
    assert sorted((rule, customer) for rule, customer, *_ in firings) == sorted(
        [(rules["spike"], "newcomer"), (rules["drop"], "dropping"), (rules["error_rate"], "failing"),
         (rules["p95"], "slow"), (later, "healthy")])
    assert all(resolved is None and delivered is not None for *_, resolved, delivered, _, _ in firings)

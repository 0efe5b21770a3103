"""Each kind of alert rule, on traffic stored through the collector's ingest path: the customers it
should fire for, and only those, with the value worked out in the test from the calls it stored."""

from __future__ import annotations

import time

import pytest

from alerts_support import DAY, HOUR, count, daily, errors, firing_rows, hourly, in_hour, p95, spread, store
from db.operations.alert_checks import check_alerts
from db.writes.edits import add_alert_rule

pytestmark = pytest.mark.both_backends  # the checks' readings and episodes are SQL of their own

NOW = int(time.time()) // HOUR * HOUR  # the checks' clock: the last complete hour ends here
HOUR_JUDGED = NOW - HOUR


def fired(conn) -> dict[str, float]:
    return {customer: value for _, customer, value, *_ in firing_rows(conn)}


def test_a_spike_fires_for_a_customer_at_k_times_their_hourly_baseline_and_not_for_steady_ones(conn, db_path):
    week = HOUR_JUDGED - 7 * DAY
    calls = [
        *hourly("steady", 5, week, NOW),  # 5 an hour, and 5 in the hour judged: 1x
        *hourly("bursting", 2, week, HOUR_JUDGED), *in_hour("bursting", HOUR_JUDGED, 30),  # 15x
        *in_hour("newcomer", HOUR_JUDGED, 10),  # no baseline: counted as 1 an hour, so 10x
        *in_hour("trickle", HOUR_JUDGED, 2),  # no baseline, 2 calls: 2x
    ]
    store(db_path, calls)
    add_alert_rule(conn, 1, None, "spike", 3.0)

    check_alerts(conn, NOW + 60)

    def by_hand(user: str) -> float:
        return count(calls, user, HOUR_JUDGED, NOW) / max(count(calls, user, week, HOUR_JUDGED) / 168, 1)
    assert {user: by_hand(user) for user in ("steady", "bursting", "newcomer", "trickle")} == {
        "steady": 1.0, "bursting": 15.0, "newcomer": 10.0, "trickle": 2.0}
    assert fired(conn) == pytest.approx({"bursting": by_hand("bursting"), "newcomer": by_hand("newcomer")})


def test_an_error_rate_rule_fires_over_its_threshold_with_enough_requests_in_the_last_complete_hour(conn, db_path):
    calls = [
        *in_hour("failing", HOUR_JUDGED, 30, errors=12),  # 40%
        *in_hour("healthy", HOUR_JUDGED, 30, errors=3),  # 10%
        *in_hour("sparse", HOUR_JUDGED, 10, errors=8),  # 80%, but 10 requests: not judged
        *in_hour("earlier", HOUR_JUDGED - HOUR, 30, errors=20),  # failed the hour before
    ]
    store(db_path, calls)
    add_alert_rule(conn, 1, None, "error_rate", 0.2)

    check_alerts(conn, NOW + 60)

    rate = errors(calls, "failing", HOUR_JUDGED, NOW) / count(calls, "failing", HOUR_JUDGED, NOW)
    assert rate == 0.4 and count(calls, "sparse", HOUR_JUDGED, NOW) < 20
    assert fired(conn) == pytest.approx({"failing": rate})


def test_a_p95_rule_fires_for_a_customer_slow_over_the_last_24_hours_with_enough_requests(conn, db_path):
    calls = [
        *spread("slow", 40, NOW - 23 * HOUR, NOW - HOUR, loads=[800 + 10 * i for i in range(40)]),  # 800 .. 1190 ms
        *spread("fast", 40, NOW - 23 * HOUR, NOW - HOUR, load_ms=50.0),
        *spread("few_slow", 10, NOW - 23 * HOUR, NOW - HOUR, load_ms=3000.0),  # 10 requests: not judged
        *spread("slow_long_ago", 40, NOW - 4 * DAY, NOW - 3 * DAY, load_ms=3000.0),
    ]
    store(db_path, calls)
    add_alert_rule(conn, 1, None, "p95", 500.0)

    check_alerts(conn, NOW + 60)

    by_hand = p95(calls, "slow", NOW - 24 * HOUR, NOW)
    assert by_hand == 1170  # the 38th of 40
    assert fired(conn) == pytest.approx({"slow": by_hand}, rel=0.06)  # the histogram's buckets are 10% wide


def test_a_drop_rule_fires_for_a_customer_gone_quiet_and_not_for_a_steady_one(conn, db_path):
    today = NOW // DAY * DAY
    recent, baseline = today - 7 * DAY, today - 35 * DAY
    calls = [*daily("steady", 20, baseline, today),
             *daily("dropping", 20, baseline, recent), *daily("dropping", 5, recent, today),
             *daily("dipping", 20, baseline, recent), *daily("dipping", 14, recent, today)]  # down 30%
    store(db_path, calls)
    add_alert_rule(conn, 1, None, "drop", 0.5)

    check_alerts(conn, today + 12 * HOUR)  # at noon: "steady", last seen late yesterday, is not silent

    usual_week = count(calls, "dropping", baseline, baseline + 7 * DAY)
    lost = 1 - count(calls, "dropping", recent, today) / usual_week
    assert (usual_week, lost) == (140, 0.75)
    assert fired(conn) == pytest.approx({"dropping": lost})


def test_a_rule_on_one_customer_watches_that_customer_alone(conn, db_path):
    calls = [*in_hour("failing", HOUR_JUDGED, 30, errors=12), *in_hour("also_failing", HOUR_JUDGED, 30, errors=15),
             *in_hour("healthy", HOUR_JUDGED, 30)]
    store(db_path, calls)
    add_alert_rule(conn, 1, "failing", "error_rate", 0.2)
    add_alert_rule(conn, 1, "healthy", "error_rate", 0.2)

    check_alerts(conn, NOW + 60)

    assert [(rule, customer) for rule, customer, *_ in firing_rows(conn)] == [(1, "failing")]


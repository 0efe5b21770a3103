"""One firing per rule and customer per episode: checks while a rule keeps holding add nothing,
the firing is resolved when it stops, and a new episode fires again."""

from __future__ import annotations

import threading
import time

import pytest
from alerts_support import HOUR, firing_rows, in_hour, store, webhook  # noqa: F401 (webhook: a fixture)
from db.connection import connect
from db.operations import alert_checks
from db.operations.alert_checks import check_alerts
from db.writes.edits import add_alert_rule, remove_alert_rule
from services.alert_rounds import run_alert_check

pytestmark = pytest.mark.both_backends  # episodes are kept apart by SQLite's write lock, PostgreSQL's row locks

FIRST = int(time.time()) // HOUR * HOUR - 6 * HOUR  # three hours judged in turn: failing, fine, failing again
CALLS = [*in_hour("acme", FIRST, 30, errors=12), *in_hour("acme", FIRST + HOUR, 30, errors=0),
         *in_hour("acme", FIRST + 2 * HOUR, 30, errors=15), *in_hour("calm", FIRST, 30, errors=1)]


def test_checks_while_a_rule_keeps_holding_keep_one_firing(conn, db_path):
    store(db_path, CALLS)
    add_alert_rule(conn, 1, None, "error_rate", 0.2)

    first = check_alerts(conn, FIRST + HOUR + 60)
    second = check_alerts(conn, FIRST + HOUR + 1800)  # the same hour is judged: still failing

    assert [m.customer_id for m in first.opened] == ["acme"] and second.opened == second.resolved == []
    assert [(customer, fired, resolved) for _, customer, _, fired, resolved, *_ in firing_rows(conn)] == [
        ("acme", FIRST + HOUR + 60, None)]


def test_the_firing_is_resolved_when_the_rule_stops_holding_and_a_new_episode_fires_again(conn, db_path):
    store(db_path, CALLS)
    add_alert_rule(conn, 1, None, "error_rate", 0.2)

    check_alerts(conn, FIRST + HOUR + 60)
    resolved = check_alerts(conn, FIRST + 2 * HOUR + 60)  # the hour with no errors
    again = check_alerts(conn, FIRST + 3 * HOUR + 60)  # failing again

    assert [m.customer_id for m in resolved.resolved] == ["acme"] and resolved.opened == []
    assert [m.customer_id for m in again.opened] == ["acme"]
    assert [(customer, value, fired, ended) for _, customer, value, fired, ended, *_ in firing_rows(conn)] == [
        ("acme", 12 / 30, FIRST + HOUR + 60, FIRST + 2 * HOUR + 60),
        ("acme", 15 / 30, FIRST + 3 * HOUR + 60, None),
    ]


def test_each_episode_reaches_the_webhook_once(conn, db_path, webhook):
    store(db_path, CALLS)
    add_alert_rule(conn, 1, None, "error_rate", 0.2)

    for now in (FIRST + HOUR + 60, FIRST + HOUR + 600, FIRST + 2 * HOUR + 60, FIRST + 3 * HOUR + 60,
                FIRST + 3 * HOUR + 600):
        run_alert_check(conn, now, webhook.url)

    assert [(b["footfall"]["customer_id"], b["footfall"]["value"]) for b in webhook.bodies] == [
        ("acme", 12 / 30), ("acme", 15 / 30)]
    assert webhook.attempts == 2


def test_removing_a_rule_removes_its_firings(conn, db_path):
    store(db_path, CALLS)
    rule = add_alert_rule(conn, 1, None, "error_rate", 0.2)
    check_alerts(conn, FIRST + HOUR + 60)

    assert remove_alert_rule(conn, rule) and firing_rows(conn) == []
    assert not remove_alert_rule(conn, rule)


def test_two_checks_at_once_on_two_connections_open_one_firing(conn, db_path, monkeypatch):
    """Two collectors check the same rules at the same moment: the second waits for the first's
    episodes (SQLite's write lock; PostgreSQL's lock on the rule's row), sees its firing, opens none."""
    store(db_path, CALLS)
    add_alert_rule(conn, 1, None, "error_rate", 0.2)
    inside, release = threading.Event(), threading.Event()
    real = alert_checks.episode_changes

    def pausing(holding, open_firings):  # the first check stops between reading and writing its episodes
        if threading.current_thread().name == "first":
            inside.set()
            release.wait(60)
        return real(holding, open_firings)

    monkeypatch.setattr(alert_checks, "episode_changes", pausing)
    other = connect(db_path)
    outcomes: dict[str, object] = {}

    def check(name: str, connection) -> None:
        try:
            outcomes[name] = check_alerts(connection, FIRST + HOUR + 60)
        except Exception as error:  # noqa: BLE001 - reported by the assertions below
            outcomes[name] = error

    first = threading.Thread(target=check, args=("first", conn), name="first")
    second = threading.Thread(target=check, args=("second", other), name="second")
    try:
        first.start()
        assert inside.wait(60)
        second.start()
        second.join(1.5)
        assert second.is_alive()  # waiting for the first check's episodes
        release.set()
        first.join(60)
        second.join(60)
    finally:
        release.set()
        other.close()

    assert [m.customer_id for m in outcomes["first"].opened] == ["acme"]
    assert outcomes["second"].opened == [] and outcomes["second"].resolved == []
    assert [customer for _, customer, *_ in firing_rows(conn)] == ["acme"]

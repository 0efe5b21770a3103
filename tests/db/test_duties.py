"""Duties done for all collectors (db/duties.py): on PostgreSQL one holder at a time, handed on when
it lets go or loses its connection; on SQLite always the one collector's own."""

from __future__ import annotations

import pytest

from conftest import until
from db.duties import ALERTS_DUTY, SIGNALS_DUTY, Duty


def test_one_process_at_a_time_holds_a_duty_on_the_server_and_hands_it_on_when_it_lets_go(db_path, backend):
    first, second = Duty(db_path, SIGNALS_DUTY), Duty(db_path, SIGNALS_DUTY)
    try:
        assert first.held() and first.held()  # asked every round: still held
        assert second.held() is (backend == "sqlite")  # one machine, one collector: its own
        first.close()
        assert second.held()
    finally:
        first.close()
        second.close()


@pytest.mark.postgres_only
def test_each_duty_has_its_own_holder(db_path):
    signals, alerts = Duty(db_path, SIGNALS_DUTY), Duty(db_path, ALERTS_DUTY)
    try:
        assert signals.held() and alerts.held()
    finally:
        signals.close()
        alerts.close()


@pytest.mark.postgres_only
def test_a_holder_whose_server_connection_ends_loses_the_duty_and_another_takes_it(db_path):
    holder, other = Duty(db_path, SIGNALS_DUTY), Duty(db_path, SIGNALS_DUTY)
    try:
        assert holder.held() and not other.held()
        holder_pid = holder.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        other.conn.execute("SELECT pg_terminate_backend(?)", (holder_pid,))
        assert until(other.held)  # once the ended session's locks are gone, at a later round
        assert not holder.held()  # its next round finds the session gone, and the duty taken
    finally:
        holder.close()
        other.close()

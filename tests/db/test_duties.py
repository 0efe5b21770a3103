"""Duties done for all collectors (db/duties.py): on PostgreSQL one holder at a time, handed on when
it lets go or loses its connection; on SQLite always the one collector's own."""

from __future__ import annotations

import pytest

from conftest import until
from db.connection import DatabaseError
from db.duties import ALERTS_DUTY, SIGNALS_DUTY, Duty


@pytest.fixture
def duty(db_path):
    """Makes a process's Duty on the test database; every one is closed at the end."""
    made: list[Duty] = []

    def make(key: int = SIGNALS_DUTY) -> Duty:
        made.append(Duty(db_path, key))
        return made[-1]

    yield make
    for one in made:
        one.close()


def test_one_process_at_a_time_holds_a_duty_on_the_server_and_hands_it_on_when_it_lets_go(duty, backend):
    first, second = duty(), duty()
    assert first.held() and first.held()  # asked every round: still held
    assert second.held() is (backend == "sqlite")  # one machine, one collector: its own
    first.close()
    assert second.held()


@pytest.mark.postgres_only
def test_each_duty_has_its_own_holder(duty):
    assert duty(SIGNALS_DUTY).held() and duty(ALERTS_DUTY).held()


@pytest.mark.postgres_only
def test_a_holder_whose_server_connection_ends_loses_the_duty_and_another_takes_it(duty):
    holder, other = duty(), duty()
    assert holder.held() and not other.held()
    holder_pid = holder.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    other.conn.execute("SELECT pg_terminate_backend(?)", (holder_pid,))
    assert until(other.held)  # once the ended session's locks are gone, at a later round
    with pytest.raises(DatabaseError):
        holder.held()  # its next round finds its session gone (the collector reports it)...
    assert not holder.held()  # ...and the round after, connected again, the duty taken

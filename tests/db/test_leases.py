"""Leases on work done for all collectors (db/operations/leases.py): on PostgreSQL one holder at a
time, handed on when it lets go or loses its connection; on SQLite always the one collector's own."""

from __future__ import annotations

import pytest

from conftest import until
from db.backends.base import Lease
from db.errors import DatabaseError
from db.operations.leases import ALERTS_LEASE, SIGNALS_LEASE, lease as new_lease


@pytest.fixture
def lease(db_path):
    """Makes a process's Lease on the test database; every one is closed at the end."""
    made: list[Lease] = []

    def make(key: int = SIGNALS_LEASE) -> Lease:
        made.append(new_lease(db_path, key))
        return made[-1]

    yield make
    for one in made:
        one.close()


def test_one_process_at_a_time_holds_a_lease_on_the_server_and_hands_it_on_when_it_lets_go(lease, backend):
    first, second = lease(), lease()
    assert first.held() and first.held()  # asked every round: still held
    assert second.held() is (backend == "sqlite")  # one machine, one collector: its own
    first.close()
    assert second.held()


@pytest.mark.postgres_only
def test_each_lease_has_its_own_holder(lease):
    assert lease(SIGNALS_LEASE).held() and lease(ALERTS_LEASE).held()


@pytest.mark.postgres_only
def test_a_holder_whose_server_connection_ends_loses_the_lease_and_another_takes_it(lease):
    holder, other = lease(), lease()
    assert holder.held() and not other.held()
    holder_pid = holder.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    other.conn.execute("SELECT pg_terminate_backend(?)", (holder_pid,))
    assert until(other.held)  # once the ended session's locks are gone, at a later round
    with pytest.raises(DatabaseError):
        holder.held()  # its next round finds its session gone (the collector reports it)...
    assert not holder.held()  # ...and the round after, connected again, the lease taken

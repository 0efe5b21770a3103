"""Leases on work one collector does for all. On a team server several collectors write into one
database, and the passes over every customer (the signals, the alert checks) need doing once, not
once per collector: the collector that holds a lease does the work, the others stand by and try
again each round, and when the holder dies another takes the lease over within a round (on
PostgreSQL a session advisory lock: db/backends/postgres.py's AdvisoryLease).

On SQLite one machine runs one collector: the lease is always its own.
"""

from __future__ import annotations

from pathlib import Path

from db.backends.base import Lease
from db.connection import backend_for

# Advisory lock keys, beside db/schema/postgres.py's, db/backends/partitions.py's and db/backends/postgres.py's.
SIGNALS_LEASE = 7_346_004
ALERTS_LEASE = 7_346_005


def lease(db_path: str | Path, key: int) -> Lease:
    """This process's lease on the work `key` names: `held()` is asked at the start of every round
    (raising db.errors.DatabaseError when the server cannot be reached: the lease is then let go,
    and the next round connects again), `close()` hands it on."""
    return backend_for(db_path).lease(db_path, key)

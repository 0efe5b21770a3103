"""Leases on work one collector does for all. On a team server several collectors write into one
database, and the passes over every customer (the signals, the alert checks) need doing once, not
once per collector. A lease is a PostgreSQL session advisory lock on a connection of its own: the
collector that holds it does the work, the others stand by and try again each round, and when the
holder dies its connection closes, the lock with it, so another takes the lease over within a round.

On SQLite one machine runs one collector: the lease is always its own.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from db.connection import DatabaseError, connect, is_postgres

# Advisory lock keys, beside db/schema/postgres.py's, db/backends/partitions.py's and db/operations/erase.py's.
SIGNALS_LEASE = 7_346_004
ALERTS_LEASE = 7_346_005


class Lease:
    """Whether this process holds one lease; `held()` is asked at the start of every round."""

    def __init__(self, db_path: str | Path, key: int):
        self.db_path, self.key = db_path, key
        self.contended = is_postgres(db_path)  # several collectors may want it: a team server's
        self.conn = None
        self.holding = False

    def held(self) -> bool:
        """True while this process holds the lease: taken now if it is free, kept until close().
        Raises DatabaseError when the server cannot be reached; the lease is then let go, and the
        next round connects again and takes it if it is free."""
        if not self.contended:
            return True
        try:
            if self.conn is None:
                self.conn = connect(self.db_path)
            if self.holding:
                self.conn.execute("SELECT 1").fetchone()  # still connected: the lock is still ours
            else:
                self.holding = bool(self.conn.execute("SELECT pg_try_advisory_lock(?)", (self.key,)).fetchone()[0])
        except DatabaseError:  # the server went away, and the lock with the session
            self.close()
            raise
        return self.holding

    def close(self) -> None:
        """Hand the lease on: unlocked at once (a closed session's locks go only once its server
        process has ended)."""
        if self.conn is not None:
            with contextlib.suppress(DatabaseError):  # a lost session has let go already
                if self.holding:
                    self.conn.execute("SELECT pg_advisory_unlock(?)", (self.key,))
            with contextlib.suppress(DatabaseError):
                self.conn.close()
        self.conn, self.holding = None, False

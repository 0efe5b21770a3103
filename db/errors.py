"""Footfall's database errors, one family whatever the engine: each backend raises these in place of
its driver's (sqlite3's, psycopg's), the driver's error kept as the cause. Callers outside db/ catch
these and never name a driver. The names and the split follow PEP 249.
"""

from __future__ import annotations


class DatabaseError(Exception):
    """Any error the database raised."""


class OperationalError(DatabaseError):
    """The database could not do it now, through no fault of the statement: a lock held too long,
    a full disk, a read-only connection or file, a server gone away."""


class IntegrityError(DatabaseError):
    """A constraint refused the change: a unique key taken, a NOT NULL left empty."""


class ProgrammingError(DatabaseError):
    """The statement is wrong: bad SQL, the wrong parameters, a closed connection."""


class DataError(DatabaseError):
    """A value the database cannot hold or read: out of range, badly encoded."""


class CannotConnect(OperationalError):
    """The PostgreSQL server did not answer or refused the connection; the message is one line
    and never holds the password."""


class UntranslatableSql(ProgrammingError):
    """A statement db/backends/postgres.py cannot translate for PostgreSQL (its docstring lists
    what it can): refused before it reaches the server rather than sent half translated."""


class BadDatabaseUrl(ValueError):
    """A PostgreSQL URL libpq cannot read, or would read otherwise than it looks; the message is
    one line and never holds the password."""


class BackupFailed(RuntimeError):
    """A backup tool (pg_dump) is missing or failed; the message says why (never a password)."""

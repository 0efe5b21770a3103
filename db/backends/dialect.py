"""Which database a connection talks to: the one test for the few places where SQLite and
PostgreSQL need different SQL or handling (most of the dialect lives in db/backends/postgres.py)."""


def on_postgres(conn) -> bool:
    """Whether a connection is db.backends.postgres's (a sqlite3 connection has no dialect)."""
    return getattr(conn, "dialect", "sqlite") == "postgresql"

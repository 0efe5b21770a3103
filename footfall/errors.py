"""The errors the command line prints as one line of their own, without a traceback: its own
(UserError) and the database's and the system's, each with what fixes it where that is known."""

from __future__ import annotations

from pathlib import Path

from db.backends.postgres_url import without_password
from db.errors import CannotConnect, DatabaseError


class UserError(Exception):
    """A mistake of the caller's: an unknown name, a bad date, a refused setting."""


# What a server's refusal to connect means, from libpq's words (no SQLSTATE comes with them), and its fix.
CONNECTION_FIXES = (
    (("password authentication failed", "no password supplied", "role \"", "no pg_hba.conf entry"),
     "check the user name and password in the URL (special characters percent-encoded) and the server's pg_hba.conf"),
    (("database \"",), "create the database first (createdb, or CREATE DATABASE): Footfall makes its tables, "
                       "not the database"),
    (("connection refused", "timeout expired", "resolve host", "translate host name", "name or service not known",
      "no route to host", "network is unreachable"),
     "check the host and port in the URL, and that the server is running and reachable from here"),
)
# SQLite's errors on a file (its messages are never translated), and their fixes.
FILE_FIXES = (
    ("file is not a database", "{db} is not a SQLite database: check --db (or FOOTFALL_DB)"),
    ("unable to open database file", "check that --db (or FOOTFALL_DB) names a file in a folder you can write: {db}"),
    ("readonly database", "the file or its folder is read-only: check their permissions ({db})"),
    ("database is locked", "another process held the write lock too long; run it again"),
    ("disk is full", "free some disk space and run it again"),
)


def error_line(error: Exception, db: str | Path | None) -> str:
    """The line that says what went wrong and, where it is known, what fixes it; never a
    password (CannotConnect and BadDatabaseUrl leave it out, and `db` is shown without it)."""
    if isinstance(error, UserError):  # Footfall's own words: a list of bad rows may take a line each
        return str(error)
    message = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, CannotConnect):
        lowered = message.lower()
        fix = next((fix for needles, fix in CONNECTION_FIXES if any(n in lowered for n in needles)),
                   "check the URL (--db, --to or FOOTFALL_DB)")
        return f"{message}; {fix}"
    if isinstance(error, DatabaseError):
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        fix = next((fix for needle, fix in FILE_FIXES if needle in first_line), None)
        shown = without_password(db) if db is not None else "the database"
        return f"database error: {first_line}" + (f"; {fix.format(db=shown)}" if fix else "")
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        fix = "; check --db (or FOOTFALL_DB)" if error.filename and db is not None and \
            str(db).startswith(str(error.filename)) else ""
        return f"{where}{error.strerror or message}{fix}"
    return message

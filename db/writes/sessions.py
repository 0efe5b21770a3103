"""The dashboard's sign-in sessions, stored: the key their cookies are signed with, the sessions
ended before their lifetime, and the moment before which every session is ended.

A session is one sign-in (core.access.Session). Its cookie is signed with the cookie key:
FOOTFALL_COOKIE_SECRET when set, else a random key made once and kept with the database
(db/writes/kept_keys.py: `<db file>.cookie-key`, 0600, beside a SQLite file; on PostgreSQL the settings
row COOKIE_KEY_SETTING). Signing out records the session's key in ended_sessions; `footfall
sessions rotate-key` makes a new cookie key and ends every session issued until then (the settings
row VALID_FROM_SETTING). Only hashes of sign-ins are stored, never a cookie or a token.
"""

from __future__ import annotations

import time
from pathlib import Path

from core.access import MAX_SESSION_HOURS
from db.backends.base import Connection
from db.writes.kept_keys import kept_key, replace_kept_key

COOKIE_KEY_SUFFIX = ".cookie-key"
COOKIE_KEY_SETTING = "sessions.cookie_key"
VALID_FROM_SETTING = "sessions.valid_from"  # epoch seconds: a session issued earlier is ended
# An ended session's record is kept while the session could still be current: the longest
# lifetime there is, and a day for the clocks.
ENDED_KEPT_SECONDS = int(MAX_SESSION_HOURS * 3600) + 86400


def cookie_key(db_path: str | Path, configured: str | None = None) -> str:
    """The key session cookies are signed with: `configured` (FOOTFALL_COOKIE_SECRET) when set,
    else the database's own (made the first time it is asked for)."""
    if configured:
        return configured
    return kept_key(db_path, COOKIE_KEY_SUFFIX, COOKIE_KEY_SETTING).decode("ascii")


def rotate_cookie_key(db_path: str | Path, conn: Connection, now: float | None = None) -> None:
    """A new cookie key in place of the database's (a dashboard signs with it from its next
    start), and every session issued until now ended at once, on every running dashboard."""
    replace_kept_key(db_path, COOKIE_KEY_SUFFIX, COOKIE_KEY_SETTING)
    end_every_session(conn, now)


def end_session(conn: Connection, session_key: str, now: float | None = None) -> None:
    """Record the session (core.access.Session.key) as ended: every copy of its cookie is refused
    from now on. Records too old to matter any more go at the same time."""
    now = int(time.time() if now is None else now)
    conn.execute("INSERT OR IGNORE INTO ended_sessions (session_key, ended_at) VALUES (?, ?)", (session_key, now))
    conn.execute("DELETE FROM ended_sessions WHERE ended_at < ?", (now - ENDED_KEPT_SECONDS,))


def end_every_session(conn: Connection, now: float | None = None) -> None:
    """End every session issued until now (a session issued in this very second too)."""
    valid_from = int(time.time() if now is None else now) + 1
    conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                 " SET value = excluded.value", (VALID_FROM_SETTING, str(valid_from)))


def is_ended(conn: Connection, session_key: str, issued_at: int) -> bool:
    """Whether the session was ended: signed out, or issued before every session was ended."""
    ended, valid_from = conn.execute(
        "SELECT (SELECT COUNT(*) FROM ended_sessions WHERE session_key = ?),"
        " (SELECT value FROM settings WHERE key = ?)", (session_key, VALID_FROM_SETTING)).fetchone()
    return bool(ended) or (valid_from is not None and issued_at < int(valid_from))

"""The analysts who signed in to the dashboard, by who their provider says they are: the issuer and
its subject (core.access.analyst_key), never the address they typed. Their favorites and home
widget choice are kept under that key; the address and name they last signed in with show who
edited a description.

Before, analysts were kept under their e-mail address. At an analyst's first sign-in, what was kept
under their (verified) address becomes theirs: favorites and widget choice move to their key, once,
so that another subject signing in later with the same address finds nothing kept for it.
Writes analysts, favorites and settings.
"""

from __future__ import annotations

import time

from core.access import is_address
from core.home_widgets import widgets_key
from db.backends.base import Connection
from db.connection import transaction
from db.writes.counters import EDITS_KEY, bump_counter


def record_sign_in(conn: Connection, key: str, issuer: str, subject: str, email: str, name: str,
                   now: float | None = None) -> bool:
    """The analyst (key: core.access.analyst_key) signed in with this verified address and name;
    on their first sign-in what was kept under the address becomes theirs. Returns whether
    anything did (the dashboard's edit counter is bumped then)."""
    now = int(time.time() if now is None else now)
    email = email.strip().lower()
    with transaction(conn):
        first = conn.execute(
            "INSERT INTO analysts (key, issuer, subject, email, name, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (key) DO NOTHING RETURNING key", (key, issuer, subject, email, name or None, now, now),
        ).fetchone() is not None
        if not first:
            conn.execute("UPDATE analysts SET email = ?, name = ?, last_seen = ? WHERE key = ?",
                         (email, name or None, now, key))
            return False
        claimed = _claim_address(conn, key, email) if is_address(email) else False
        if claimed:
            bump_counter(conn, EDITS_KEY)
    return claimed


def _claim_address(conn: Connection, key: str, email: str) -> bool:
    """Move the favorites and widget choice kept under the address to the analyst's key."""
    moved = conn.execute("INSERT OR IGNORE INTO favorites (analyst, customer_id)"
                         " SELECT ?, customer_id FROM favorites WHERE analyst = ?", (key, email)).rowcount
    conn.execute("DELETE FROM favorites WHERE analyst = ?", (email,))
    moved += conn.execute("INSERT INTO settings (key, value) SELECT ?, value FROM settings WHERE key = ?"
                          " ON CONFLICT (key) DO NOTHING", (widgets_key(key), widgets_key(email))).rowcount
    conn.execute("DELETE FROM settings WHERE key = ?", (widgets_key(email),))
    return moved > 0

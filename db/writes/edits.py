"""The dashboard's edits: favorites and the home widget choice (each analyst's own when sign-in
is on), descriptions and display names (shared, with who last edited the description and when), the
analysts signing in and out (db/writes/analysts.py, db/writes/sessions.py), and
customer links (made and revoked through db/writes/links.py, which bumps the counter itself), alert
rules (added and removed with their firings), identity rules (set through db/writes/identity.py,
which bumps it too), and a customer's monthly quota (db/writes/quotas.py).

Each edit and a bump of the edit counter (db/writes/counters.py) commit together, so that every cached
read sees the edit on the next run. Writes customers, favorites, settings, alert_rules, alert_firings
and identity_rules.
"""

from __future__ import annotations

import time

from core.alerts import check_rule
from core.home_widgets import dump_widget_choices, widgets_key
from core.identity import parse_rules
from core.links import expires_at
from db.backends.base import Connection
from db.connection import transaction
from db.writes import analysts, identity, links, quotas, sessions
from db.writes.counters import EDITS_KEY, bump_counter


def save_description(conn: Connection, customer_id: str, description: str, editor: str = "") -> None:
    """The customer's (by the ID shown) notes, shared by every analyst; editor: who wrote them
    (the signed-in analyst's key, core.access.analyst_key; "" without sign-in)."""
    _edit(conn, "UPDATE customers SET description = ?, description_by = ?, description_at = ? WHERE external_id = ?",
          (description, editor or None, int(time.time()), customer_id))


def save_favorite(conn: Connection, analyst: str, customer_id: str, favorite: bool) -> None:
    """Star the customer (by the ID shown) for this analyst, or not."""
    if favorite:
        _edit(conn, "INSERT OR IGNORE INTO favorites (analyst, customer_id)"
                    " SELECT ?, id FROM customers WHERE external_id = ?", (analyst, customer_id))
    else:
        _edit(conn, "DELETE FROM favorites WHERE analyst = ?"
                    " AND customer_id = (SELECT id FROM customers WHERE external_id = ?)", (analyst, customer_id))


def save_display_name(conn: Connection, customer_id: str, name: str | None) -> None:
    """The name an analyst gives the customer; empty: back to the name from traffic, else the ID."""
    _edit(conn, "UPDATE customers SET display_name = ? WHERE external_id = ?",
          ((name or "").strip() or None, customer_id))


def save_widget_choices(conn: Connection, analyst: str, choices: dict[str, bool]) -> None:
    """Which home widgets this analyst switched on ("": everyone, without sign-in)."""
    _edit(conn, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
          (widgets_key(analyst), dump_widget_choices(choices)))


def record_analyst(conn: Connection, key: str, issuer: str, subject: str, email: str, name: str) -> None:
    """The analyst signing in (db/writes/analysts.py): their address and name kept current; at their first
    sign-in, what was kept under their address before becomes theirs."""
    analysts.record_sign_in(conn, key, issuer, subject, email, name)


def end_session(conn: Connection, session_key: str) -> None:
    """The analyst signed out: their session (core.access.Session.key) is ended for good."""
    sessions.end_session(conn, session_key)


def create_customer_link(conn: Connection, cid: int, api_id: int | None, days: int, show_bodies: bool,
                         created_by: str, key: bytes) -> str:
    """A new link to the customer's (database id) own page, for one API (None: every API), lasting
    `days` days, with or without request bodies; returns its token, this once."""
    return links.create_link(conn, cid, key, api_id=api_id, expires_at=expires_at(days, time.time()),
                             show_bodies=show_bodies, created_by=created_by)


def revoke_customer_link(conn: Connection, link_id: int) -> bool:
    """Revoke one customer link for good (False: no such link, or revoked already)."""
    return links.revoke_link(conn, link_id)


def add_alert_rule(conn: Connection, api_id: int, customer_id: str | None, kind: str, threshold: float,
                   created_by: str = "") -> int:
    """A new alert rule (core/alerts.py) on the API, for one customer (by the ID shown) or, with
    None, for every customer of it; returns its id. ValueError for an unknown API or customer, an
    unknown kind or a threshold out of its range."""
    threshold = check_rule(kind, threshold)
    with transaction(conn):
        if conn.execute("SELECT 1 FROM apis WHERE id = ?", (api_id,)).fetchone() is None:
            raise ValueError(f"no API with id {api_id}")
        cid = None
        if customer_id is not None and customer_id.strip():
            row = conn.execute("SELECT id FROM customers WHERE external_id = ?", (customer_id.strip(),)).fetchone()
            if row is None:
                raise ValueError(f"no customer with the ID {customer_id.strip()!r}")
            cid = row[0]
        rule_id = conn.execute(
            "INSERT INTO alert_rules (api_id, customer_id, kind, threshold, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (api_id, cid, kind, threshold, created_by or None, int(time.time()))).fetchone()[0]
        bump_counter(conn, EDITS_KEY)
    return rule_id


def remove_alert_rule(conn: Connection, rule_id: int) -> bool:
    """Remove an alert rule and its firings (False: no such rule). The rule's row is locked first
    (on PostgreSQL; SQLite's write lock holds every row), as a check writing its firings locks it
    (db/operations/alert_checks.py): no firing of a check under way is left pointing at a removed rule."""
    with transaction(conn):
        conn.execute(conn.backend.for_update("SELECT id FROM alert_rules WHERE id = ?"), (rule_id,))
        conn.execute("DELETE FROM alert_firings WHERE rule_id = ?", (rule_id,))
        removed = conn.execute("DELETE FROM alert_rules WHERE id = ?", (rule_id,)).rowcount == 1
        bump_counter(conn, EDITS_KEY)
    return removed


def save_identity_rules(conn: Connection, api_id: int, text: str, editor: str = "") -> None:
    """The API's identity rules (core/identity.py), one a line, in order, replacing its rules (no
    line: none); editor: who set them (the signed-in analyst's key; "" without sign-in).
    core.identity.RuleError (a ValueError) for a line Footfall does not read: nothing changes."""
    rules = parse_rules(line for line in text.splitlines() if line.strip())
    identity.set_identity_rules(conn, api_id, rules, set_by=editor)


def save_quota(conn: Connection, api_id: int, customer_id: str, monthly: int | None, set_by: str = "") -> None:
    """The customer's own monthly quota on the API (by the ID shown); None or 0 removes it, so the
    API's default applies. ValueError for an unknown customer or a quota that is none."""
    if monthly:
        quotas.set_quota(conn, api_id, customer_id, monthly, set_by)
    else:
        quotas.remove_quota(conn, api_id, customer_id)


def _edit(conn: Connection, sql: str, params: tuple) -> None:
    """One edit and the edit counter's bump, in one transaction."""
    with transaction(conn):
        conn.execute(sql, params)
        bump_counter(conn, EDITS_KEY)

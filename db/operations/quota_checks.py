"""Checking the monthly quotas (core/usage.py) and their firings, in the alert rounds
(services/alert_rounds.py) beside the alert rules; delivery is db/operations/alert_checks.py's
(claim_attempt, mark_delivered, mark_failed on quota_firings).

check_quotas judges, as of `now`, every customer of an API still taking traffic with a quota on it
(their own or the API's default) from this month's customer_monthly rows: the highest threshold
their billable requests reach is fired unless that threshold or a higher one fired already this
month. quota_firings' unique (api, customer, month, threshold) makes two checks at once (two
collectors, a cron) write one firing, not two.

Reads customer_monthly, quotas, apis, customers; writes quota_firings and settings (the counter).
"""

from __future__ import annotations

import json

from core.periods import DAY
from core.usage import QuotaFiringMessage, crossed_threshold, month_start
from db.backends.base import Connection
from db.connection import transaction
from db.operations.alert_checks import DELIVERY_DAYS
from db.queries.figures import DISPLAY_NAME
from db.reads.usage import BILLABLE
from db.writes.counters import EDITS_KEY, bump_counter


def check_quotas(conn: Connection, now: float) -> list[QuotaFiringMessage]:
    """Fire what this month's billable requests reached as of `now`; returns the new firings."""
    month = month_start(now)
    quota = "COALESCE(q.monthly, d.monthly)"
    candidates = conn.execute(
        f"SELECT m.api_id, m.customer_id, {BILLABLE}, {quota} FROM customer_monthly m JOIN apis a ON a.id = m.api_id"
        " LEFT JOIN quotas q ON q.api_id = m.api_id AND q.customer_id = m.customer_id"
        " LEFT JOIN quotas d ON d.api_id = m.api_id AND d.customer_id IS NULL"
        " WHERE m.api_id IN (SELECT api_id FROM quotas) AND m.month = ? AND a.removed_at IS NULL"
        f" AND {quota} IS NOT NULL AND {BILLABLE} >= 0.8 * {quota}", (month,)).fetchall()
    if not candidates:
        return []
    opened: list[int] = []
    with transaction(conn):
        fired = {(api_id, cid): threshold for api_id, cid, threshold in conn.execute(
            "SELECT api_id, customer_id, MAX(threshold) FROM quota_firings WHERE month = ? GROUP BY api_id, customer_id",
            (month,))}
        for api_id, cid, used, monthly in candidates:
            threshold = crossed_threshold(used, monthly)
            if threshold is None or threshold <= fired.get((api_id, cid), 0.0):
                continue
            row = conn.execute(
                "INSERT INTO quota_firings (api_id, customer_id, month, threshold, used, quota, fired_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (api_id, customer_id, month, threshold) DO NOTHING"
                " RETURNING id", (api_id, cid, month, threshold, used, monthly, int(now))).fetchone()
            if row is not None:
                opened.append(row[0])
        if opened:
            bump_counter(conn, EDITS_KEY)
    return quota_firing_messages(conn, opened)


def quota_firing_messages(conn: Connection, firing_ids: list[int]) -> list[QuotaFiringMessage]:
    """The quota firings' messages (what the webhook is sent), in the order of the ids."""
    if not firing_ids:
        return []
    rows = conn.execute(
        f"SELECT f.id, a.name, c.external_id, {DISPLAY_NAME}, f.month, f.threshold, f.used, f.quota, f.fired_at"
        " FROM quota_firings f JOIN apis a ON a.id = f.api_id JOIN customers c ON c.id = f.customer_id"
        " WHERE f.id IN (SELECT value FROM json_each(?))", (json.dumps(firing_ids),))
    found = {row[0]: QuotaFiringMessage(*row) for row in rows}
    return [found[i] for i in firing_ids if i in found]


def pending_quota_firings(conn: Connection, now: float) -> list[tuple[QuotaFiringMessage, int]]:
    """The quota firings of the last DELIVERY_DAYS not delivered yet, oldest first, each with its
    attempts so far."""
    rows = conn.execute("SELECT id, attempts FROM quota_firings WHERE fired_at >= ? AND delivered_at IS NULL"
                        " ORDER BY fired_at, id", (int(now) - DELIVERY_DAYS * DAY,)).fetchall()
    attempts = dict(rows)
    return [(message, attempts[message.firing_id]) for message in quota_firing_messages(conn, [i for i, _ in rows])]

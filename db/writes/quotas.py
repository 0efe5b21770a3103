"""Monthly quotas (core/usage.py) and what each API leaves out of billing: set, list, remove.

A quota row holds a customer's own monthly quota, or with customer_id NULL the API's default for
every customer without one of their own. Each change commits with a bump of the dashboard's edit
counter (db/writes/counters.py). Writes quotas and apis (exclude_5xx, exclude_429)."""

from __future__ import annotations

import time

from core.usage import EXCLUDABLE, check_quota
from db.backends.base import Connection
from db.connection import transaction
from db.writes.counters import EDITS_KEY, bump_counter


def _customer(conn: Connection, customer_id: str | None) -> int | None:
    """The database id of the customer with this ID; None for none given; ValueError for an unknown one."""
    if customer_id is None or not customer_id.strip():
        return None
    row = conn.execute("SELECT id FROM customers WHERE external_id = ?", (customer_id.strip(),)).fetchone()
    if row is None:
        raise ValueError(f"no customer with the ID {customer_id.strip()!r}")
    return row[0]


def _same_quota(cid: int | None) -> tuple[str, list]:
    return ("customer_id IS NULL", []) if cid is None else ("customer_id = ?", [cid])


def set_quota(conn: Connection, api_id: int, customer_id: str | None, monthly: int, set_by: str = "") -> None:
    """The customer's monthly quota on the API (by the ID shown), or with None the API's default;
    replaces one set before. ValueError for an unknown customer or a quota that is none."""
    monthly = check_quota(monthly)
    with transaction(conn):
        cid = _customer(conn, customer_id)
        where, params = _same_quota(cid)
        conn.execute(f"DELETE FROM quotas WHERE api_id = ? AND {where}", [api_id, *params])
        conn.execute("INSERT INTO quotas (api_id, customer_id, monthly, set_by, set_at) VALUES (?, ?, ?, ?, ?)",
                     (api_id, cid, monthly, set_by or None, int(time.time())))
        bump_counter(conn, EDITS_KEY)


def remove_quota(conn: Connection, api_id: int, customer_id: str | None) -> bool:
    """Remove the customer's own quota on the API (they fall back to the API's default), or with
    None the API's default. False when there was none; ValueError for an unknown customer."""
    with transaction(conn):
        cid = _customer(conn, customer_id)
        where, params = _same_quota(cid)
        removed = conn.execute(f"DELETE FROM quotas WHERE api_id = ? AND {where}", [api_id, *params]).rowcount > 0
        bump_counter(conn, EDITS_KEY)
    return removed


def quota_list(conn: Connection, api_id: int) -> list[dict]:
    """The API's quotas, its default first, then by customer ID: customer_id (None: the default),
    display_name, monthly, set_by, set_at."""
    cursor = conn.execute(
        "SELECT c.external_id AS customer_id, COALESCE(c.display_name, c.name_from_traffic, c.external_id)"
        " AS display_name, q.monthly, q.set_by, q.set_at FROM quotas q LEFT JOIN customers c ON c.id = q.customer_id"
        " WHERE q.api_id = ? ORDER BY q.customer_id IS NOT NULL, c.external_id", (api_id,))
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row)) for row in cursor]


def set_billing_excludes(conn: Connection, api_id: int, excluded: tuple[str, ...]) -> None:
    """What the API leaves out of its billable requests (core.usage.EXCLUDABLE: "5xx", "429")."""
    with transaction(conn):
        conn.execute("UPDATE apis SET exclude_5xx = ?, exclude_429 = ? WHERE id = ?",
                     (int("5xx" in excluded), int("429" in excluded), api_id))
        bump_counter(conn, EDITS_KEY)


def billing_excludes(conn: Connection, api_id: int) -> tuple[str, ...]:
    """What the API leaves out of its billable requests."""
    row = conn.execute("SELECT exclude_5xx, exclude_429 FROM apis WHERE id = ?", (api_id,)).fetchone()
    return tuple(status for status, excluded in zip(EXCLUDABLE, row or (0, 0)) if excluded)

"""Merging: the calls one API counted under an API key's fingerprint (`key_...`, core/identity.py)
moved to the customer the key has since been mapped to (`footfall customers map --merge`), so that
every figure reads as if the key had been mapped before its first call.

For the API, the fingerprint's raw requests, every per-customer rollup row (hourly, daily, latency,
the API's customer row), its place in the active-customer sets and every endpoint rollup row and
caller set become the mapped customer's, added to what that customer has already; the API's totals
do not change (both are identified). A fingerprint left with no call of any API goes, as an erased
customer does (its stars go to the mapped customer). Writes requests, the customer rollups,
api_customers, customers, favorites, the activity and endpoint tables, signal_snapshots and settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from pyroaring import BitMap

from db.backends.base import Connection
from db.operations.erase import ERASURES_KEY, remove_from_activity
from db.writes.activity import add_activity
from db.writes.counters import EDITS_KEY, bump_counter
from db.writes.endpoints import CALLERS
from db.writes.upserts import add_to_sets, upsert, upsert_sums

# Each per-customer rollup of an API: its key (customer_id in it), and the columns added together.
CUSTOMER_ROLLUPS = (
    ("customer_hourly", ("api_id", "customer_id", "hour"), ("requests", "s2xx", "s3xx", "s4xx", "s5xx", "load_ms_sum")),
    ("customer_daily", ("api_id", "day", "customer_id"), ("requests", "errors", "load_ms_sum")),
    ("customer_latency_daily", ("api_id", "customer_id", "day", "bucket"), ("requests",)),
)
ENDPOINT_ROLLUPS = (
    ("endpoint_daily", ("endpoint_id", "day", "customer_id"), ("requests", "errors")),
    ("endpoint_hourly", ("endpoint_id", "hour", "customer_id"), ("requests", "errors")),
)
_OF_API = "endpoint_id IN (SELECT id FROM endpoints WHERE api_id = ?)"


class MergeReport(NamedTuple):
    """What a merge moved: customers (fingerprints) merged, their calls, and the fingerprints gone."""

    customers: int
    requests: int
    removed: int


def merge_customers(conn: Connection, api_id: int, moves: Iterable[tuple[str, str, str | None]]) -> MergeReport:
    """For each (from ID, to ID, name): move the API's calls of the customer `from` to `to` (made
    when there is none, named `name` when given), inside the caller's transaction (writers wait).
    A `from` that has no call of the API is passed over."""
    conn.backend.hold_off_writers(conn)
    merged = moved = removed = 0
    for source, target, name in moves:
        row = conn.execute("SELECT c.id, a.requests FROM customers c JOIN api_customers a ON a.customer_id = c.id"
                           " WHERE c.external_id = ? AND a.api_id = ?", (source, api_id)).fetchone()
        if row is None or source == target:
            continue
        old, requests = row
        new = _customer(conn, target, name)
        _move(conn, api_id, old, new)
        merged, moved = merged + 1, moved + requests
        removed += _drop_if_gone(conn, old, new)
    if merged:
        conn.execute("DELETE FROM signal_snapshots")  # they name customers; the next refresh makes them anew
        bump_counter(conn, EDITS_KEY)
        if removed:
            bump_counter(conn, ERASURES_KEY)  # customer ids went: writers must forget the ones they remember
    return MergeReport(merged, moved, removed)


def _customer(conn: Connection, external_id: str, name: str | None) -> int:
    """The database id of the customer, made (with no calls yet) when there is none; `name` is
    theirs from the server's word, as a mapped key's calls give it."""
    conn.execute("INSERT INTO customers (external_id, first_seen, last_seen, requests) VALUES (?, 0, 0, 0)"
                 " ON CONFLICT (external_id) DO NOTHING", (external_id,))
    if name is not None:
        conn.execute("UPDATE customers SET name_from_traffic = ?, name_by_caller = 0 WHERE external_id = ?",
                     (name, external_id))
    return conn.execute("SELECT id FROM customers WHERE external_id = ?", (external_id,)).fetchone()[0]


def _move(conn: Connection, api_id: int, old: int, new: int) -> None:
    """The API's calls of customer `old` (database id) become `new`'s, every rollup with them."""
    days = conn.execute("SELECT api_id, day FROM customer_daily WHERE api_id = ? AND customer_id = ?",
                        (api_id, old)).fetchall()
    hours = conn.execute("SELECT api_id, hour FROM customer_hourly WHERE api_id = ? AND customer_id = ?",
                         (api_id, old)).fetchall()
    remove_from_activity(conn, old, days, hours)
    add_activity(conn, {tuple(k): (new,) for k in days}, {tuple(k): (new,) for k in hours})
    for table, key, sums in CUSTOMER_ROLLUPS:
        _add_rows_to(conn, table, key, sums, "api_id = ? AND customer_id = ?", (api_id, old), new)
    first, last, requests = conn.execute("SELECT first_seen, last_seen, requests FROM api_customers"
                                         " WHERE api_id = ? AND customer_id = ?", (api_id, old)).fetchone()
    upsert(conn, "api_customers", ("api_id", "customer_id"), ("first_seen", "last_seen", "requests"),
           {(api_id, new): (first, last, requests)},
           "first_seen = MIN(api_customers.first_seen, excluded.first_seen),"
           " last_seen = MAX(api_customers.last_seen, excluded.last_seen),"
           " requests = api_customers.requests + excluded.requests")
    conn.execute("DELETE FROM api_customers WHERE api_id = ? AND customer_id = ?", (api_id, old))
    _move_endpoints(conn, api_id, old, new)
    conn.execute("UPDATE request_log SET customer_id = ? WHERE api_id = ? AND customer_id = ?", (new, api_id, old))
    for cid in (old, new):  # all time, over every API: recomputed from what each has now
        conn.execute("UPDATE customers SET (first_seen, last_seen, requests) = (SELECT MIN(a.first_seen),"
                     " MAX(a.last_seen), SUM(a.requests) FROM api_customers a WHERE a.customer_id = customers.id)"
                     " WHERE id = ? AND EXISTS (SELECT 1 FROM api_customers a WHERE a.customer_id = customers.id)",
                     (cid,))


def _move_endpoints(conn: Connection, api_id: int, old: int, new: int) -> None:
    """The endpoint rollups of the API's endpoints: `old`'s rows added to `new`'s, and `new` in
    place of `old` in who called each endpoint each day and hour."""
    for (table, column, rollup) in CALLERS:
        keys = conn.execute(f"SELECT endpoint_id, {column} FROM {rollup} WHERE customer_id = ? AND {_OF_API}",
                            (old, api_id)).fetchall()
        _remove_caller(conn, table, column, old, keys)
        add_to_sets(conn, table, ("endpoint_id", column), {tuple(k): (new,) for k in keys})
    for table, key, sums in ENDPOINT_ROLLUPS:
        _add_rows_to(conn, table, key, sums, f"customer_id = ? AND {_OF_API}", (old, api_id), new)
    overall = {(new, eid): (first, last, requests, errors) for eid, first, last, requests, errors in conn.execute(
        f"SELECT endpoint_id, first_call, last_call, requests, errors FROM customer_endpoints WHERE customer_id = ?"
        f" AND {_OF_API}", (old, api_id))}
    upsert(conn, "customer_endpoints", ("customer_id", "endpoint_id"), ("first_call", "last_call", "requests", "errors"),
           overall, "first_call = MIN(customer_endpoints.first_call, excluded.first_call),"
                    " last_call = MAX(customer_endpoints.last_call, excluded.last_call),"
                    " requests = customer_endpoints.requests + excluded.requests,"
                    " errors = customer_endpoints.errors + excluded.errors")
    conn.execute(f"DELETE FROM customer_endpoints WHERE customer_id = ? AND {_OF_API}", (old, api_id))


def _add_rows_to(conn: Connection, table: str, key: tuple[str, ...], sums: tuple[str, ...], where: str,
                 params: tuple, new: int) -> None:
    """The rows of `table` matching `where`, added to the rows of customer `new` with their key
    otherwise the same, then deleted."""
    columns = ", ".join((*key, *sums))
    rows = conn.execute(f"SELECT {columns} FROM {table} WHERE {where}", params).fetchall()
    at = key.index("customer_id")
    upsert_sums(conn, table, key, sums, {(*row[:at], new, *row[at + 1:len(key)]): tuple(row[len(key):]) for row in rows})
    conn.execute(f"DELETE FROM {table} WHERE {where}", params)


def _remove_caller(conn: Connection, table: str, column: str, cid: int, keys: list) -> None:
    """Take customer `cid` out of these (endpoint_id, start) caller sets; the caller adds another."""
    for eid, start in sorted(keys):
        row = conn.execute(conn.backend.for_update(f"SELECT customers FROM {table} WHERE endpoint_id = ? AND {column} = ?"),
                           (eid, start)).fetchone()
        if row is None:
            continue
        customers = BitMap.deserialize(row[0])
        customers.discard(cid)
        customers.run_optimize()
        conn.execute(f"UPDATE {table} SET customers = ? WHERE endpoint_id = ? AND {column} = ?",
                     (customers.serialize(), eid, start))


def _drop_if_gone(conn: Connection, old: int, new: int) -> int:
    """Remove customer `old` when no API counts a call of theirs any more, their stars given to
    `new` and every other row naming them deleted (as erasing does); 1 when removed."""
    if conn.execute("SELECT 1 FROM api_customers WHERE customer_id = ?", (old,)).fetchone():
        return 0
    conn.execute("INSERT OR IGNORE INTO favorites (analyst, customer_id) SELECT analyst, ? FROM favorites"
                 " WHERE customer_id = ?", (new, old))
    for table, column in conn.backend.customer_references(conn):
        conn.execute(f'DELETE FROM "{table}" WHERE "{column}" = ?', (old,))
    conn.execute("DELETE FROM customers WHERE id = ?", (old,))
    return 1

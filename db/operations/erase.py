"""Erasing: one customer removed everywhere, or one API with everything of it, as if they had never
called.

- erase_customer: the customer's raw requests, every rollup row of theirs, their customers row
  (description, display name), the analysts' stars on them (favorites), their id in the
  active-customer sets, the endpoints no other customer called (their names come from the
  customer's paths) and the raw requests' lookup rows (IP, user agent, endpoint name) no request
  left uses go, and their requests are taken out of api_hourly, in one transaction;
  afterwards every figure is what a database that never saw the customer would show.
- delete_api: an API and everything of it (apis remove --delete-data), its identity rules and
  mapped keys too.

Deleted content is overwritten with zeros (PRAGMA secure_delete) and an erasure truncates the WAL,
so that the bytes are gone from the files, not only unlinked. Writes requests, request_details (on
PostgreSQL in the request rows), every rollup, customers, favorites and settings (the edit counter
of db/writes/counters.py, so that cached figures are read afresh).

On PostgreSQL erase_customer and delete_api delete the same rows (the tables naming a customer
found in the catalog), hold writers off meanwhile, and vacuum the tables touched (VACUUM FULL
with vacuum=True: then no file of those tables keeps a byte of the customer; the server's
write-ahead log, archive, replicas and earlier backups are not Footfall's to purge), analyze them
and vacuum the planner's statistics, which sampled their values: each backend cleans up after an
erasure its own way (Backend.clean_after_erase).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass

from pyroaring import BitMap

from core.periods import DAY
from db.backends.base import Connection
from db.connection import transaction
from db.operations.raw_requests import LOOKUP_COLUMNS, delete_requests, delete_unused_lookups
from db.writes.counters import EDITS_KEY, bump_counter
from db.writes.endpoints import delete_endpoints_of, erase_from_endpoints
from db.writes.identity import IDENTITY_KEY

# The settings row counting erasures: a writer that remembers customer ids (db/writes/records.RecordWriter)
# must forget them when it changes, or an erased customer's next call would go to its old id.
ERASURES_KEY = "customers.erasures"


class UnknownCustomer(LookupError):
    """No customer has this ID."""


@dataclass(frozen=True)
class EraseReport:
    """What erasing a customer removed."""

    customer_id: str  # the external ID
    requests: int  # raw requests removed (older ones may have been pruned already)
    all_time_requests: int  # the customer's requests in the rollups, taken out of api_hourly
    apis: int  # APIs the customer had called
    rollup_rows: int  # rows removed from the per-customer rollups
    wal_truncated: bool  # False: a reader kept the WAL from being emptied (always False on PostgreSQL)
    vacuumed: bool  # the whole file (on PostgreSQL: every table touched) was rewritten afterwards
    freed_space_zeroed: bool  # SQLite zeroes freed space by default, so earlier writes left no copies
    seconds: float
    caveats: tuple[str, ...] = ()  # where the customer's bytes may remain, and what removes them


def erase_customer(conn: Connection, external_id: str, vacuum: bool = False) -> EraseReport:
    """Remove the customer (by the ID shown) everywhere, in one transaction: raw requests and
    their details; customer_hourly, customer_daily, customer_latency_daily, api_customers; the
    customers row with its description and display name; its rows in every table that declares a
    reference to customers (its favorite stars, endpoint rows, alert rules and firings, links,
    quotas and quota firings); the API keys mapped to it (customer_keys: such a key calling again
    counts under its fingerprint); its id in every active_daily, active_hourly and endpoint caller
    set, its requests taken out of endpoint_totals; the endpoints no other customer called, with every rollup row of them (an
    endpoint's name comes from its callers' paths). Raises UnknownCustomer when no customer has
    this ID.

    api_hourly counts every request, so the customer's requests, errors and load time are
    subtracted from it hour by hour, taken from customer_hourly (raw requests may be pruned
    already; the rollups hold every request). So every other customer's share, and every total
    of the home page, equals that of a database that never received this customer's requests;
    an hour or a set left empty is removed, as it would never have been written.

    Deleted content is overwritten with zeros (secure_delete) and the WAL is checkpointed and
    truncated afterwards, so neither file keeps the customer's bytes. That covers copies that
    earlier writes moved or updated (page splits, a row rewritten longer) only where SQLite zeroes
    freed space by default (built with SQLITE_SECURE_DELETE, as Debian's is:
    freed_space_zeroed). Otherwise, or to be sure, `vacuum` rewrites the whole file afterwards
    (VACUUM: it holds the write lock for as long as that takes, seconds per GB).

    On PostgreSQL the rows go the same way, in one transaction that writers wait for (an advisory
    lock: a writer holding customer ids it remembers never writes one erased meanwhile); afterwards
    VACUUM (plain, with ANALYZE) runs on every table touched (of the raw requests, the day
    partitions that held the customer's), so that no query, backup or replica finds a row of the
    customer and the dead rows leave the tables and their indexes; PostgreSQL does not zero the
    space they leave, so the bytes stay in the files until it is reused. `vacuum` makes it VACUUM
    FULL, which rewrites those tables and indexes into new files: then no file of the database's
    tables holds a byte of the customer (writes to those tables wait meanwhile). The planner's
    statistics, which autovacuum samples from the tables (paths, names), are made anew and
    pg_statistic is vacuumed the same way (a table left empty keeps its statistics). What the server
    keeps beside the tables, its write-ahead log, an archive of it, replicas, earlier backups,
    holds the customer's bytes until they age out: wal_truncated and freed_space_zeroed are False
    there. The report's caveats say, for the operator, what may remain (Backend.clean_after_erase)."""
    started = time.perf_counter()
    with transaction(conn):  # connect() zeroes what a connection deletes (secure_delete)
        conn.backend.hold_off_writers(conn)
        row = conn.execute("SELECT id, requests FROM customers WHERE external_id = ?", (external_id,)).fetchone()
        if row is None:
            raise UnknownCustomer(external_id)
        cid, all_time = row
        apis = [api_id for (api_id,) in conn.execute(
            "SELECT id FROM apis WHERE EXISTS (SELECT 1 FROM api_customers WHERE api_id = apis.id AND customer_id = ?)",
            (cid,))]
        hours: list[tuple[int, int]] = []
        for api_id in apis:
            hours += _subtract_from_api_hourly(conn, api_id, cid)
        days = conn.execute("SELECT api_id, day FROM customer_daily WHERE customer_id = ?", (cid,)).fetchall()
        remove_from_activity(conn, cid, days, hours)
        erase_from_endpoints(conn, cid)
        request_tables = conn.backend.request_tables(conn, "customer_id = ?", cid)  # to clean afterwards
        requests = delete_requests(conn, "customer_id = ?", cid)
        delete_unused_lookups(conn)
        rollup_rows = _delete_customer_rollups(conn, cid, apis)
        conn.execute("DELETE FROM signal_snapshots")  # they name customers; the next refresh makes them anew
        if conn.execute("DELETE FROM customer_keys WHERE external_id = ?", (external_id,)).rowcount:
            bump_counter(conn, IDENTITY_KEY)  # the keys mapped to them: the collectors forget them too
        bump_counter(conn, EDITS_KEY)  # cached dashboard reads are keyed by it
        bump_counter(conn, ERASURES_KEY)
    touched = [t for t in _touched_tables(conn) if t not in raw_request_tables(conn)] + request_tables
    after = conn.backend.clean_after_erase(conn, touched, full=vacuum)
    return EraseReport(external_id, requests, all_time, len(apis), rollup_rows, after.wal_truncated, after.vacuumed,
                       after.freed_space_zeroed, time.perf_counter() - started, after.caveats)


@dataclass(frozen=True)
class ErasePreview:
    """What erasing a customer, or deleting an API, would remove, said before it does."""

    requests: int  # raw requests stored
    all_time_requests: int  # requests counted in the figures (the rollups), pruned ones included
    days: int  # UTC days with requests in the figures
    apis: int  # APIs the customer called (deleting an API: 1)
    customers: int  # customers who called it (erasing a customer: 1)
    customers_removed: int  # customers who go with it, having called nothing else


def erase_preview(conn: Connection, external_id: str) -> ErasePreview:
    """What erase_customer(conn, external_id) would remove now; UnknownCustomer when no customer
    has this ID."""
    row = conn.execute("SELECT id, requests FROM customers WHERE external_id = ?", (external_id,)).fetchone()
    if row is None:
        raise UnknownCustomer(external_id)
    cid, all_time = row
    requests = conn.execute("SELECT COUNT(*) FROM requests WHERE customer_id = ?", (cid,)).fetchone()[0]
    days, apis = conn.execute("SELECT COUNT(DISTINCT day), COUNT(DISTINCT api_id) FROM customer_daily"
                              " WHERE customer_id = ?", (cid,)).fetchone()
    return ErasePreview(requests, all_time, days, apis, 1, 1)


def delete_api_preview(conn: Connection, api_id: int) -> ErasePreview:
    """What delete_api(conn, api_id) would remove now. A customer goes with the API when all their
    requests are its (their all-time count is the API's count of them). On PostgreSQL the count
    reads every partition of the raw requests: no index leads by API there (a rare admin action)."""
    requests = conn.execute("SELECT COUNT(*) FROM requests WHERE api_id = ?", (api_id,)).fetchone()[0]
    all_time, days = conn.execute(
        f"SELECT COALESCE(SUM(requests), 0), COUNT(DISTINCT hour - hour % {DAY:d}) FROM api_hourly WHERE api_id = ?",
        (api_id,)).fetchone()
    customers, removed = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN c.requests <= a.requests THEN 1 ELSE 0 END), 0)"
        " FROM api_customers a JOIN customers c ON c.id = a.customer_id WHERE a.api_id = ?", (api_id,)).fetchone()
    return ErasePreview(requests, all_time, days, 1, customers, removed)


def raw_request_tables(conn: Connection) -> tuple[str, ...]:
    """The raw requests' tables: request_log, and where their details have a table, that."""
    return ("request_log", *conn.backend.detail_tables)


CUSTOMER_ROLLUPS = ("customer_hourly", "customer_daily", "customer_latency_daily", "api_customers",
                    "customer_monthly")
# Tables an erasure changes besides the raw requests, the rollups and the tables referring to customers.
ERASE_ALSO_TOUCHES = ["customers", "api_hourly", "active_daily", "active_hourly",
                      "endpoints", "endpoint_totals", "endpoint_callers_daily", "endpoint_callers_hourly",
                      "signal_snapshots", "settings", "customer_keys", *LOOKUP_COLUMNS.values()]


def _touched_tables(conn: Connection) -> list[str]:
    """Every table an erasure may change."""
    return [*raw_request_tables(conn), *CUSTOMER_ROLLUPS, *(table for table, _ in conn.backend.customer_references(conn)),
            *ERASE_ALSO_TOUCHES]


def _subtract_from_api_hourly(conn: Connection, api_id: int, cid: int) -> list[tuple[int, int]]:
    """Take one customer's hourly requests, errors and load time out of the API's hourly totals;
    returns the (api_id, hour) keys touched."""
    rows = conn.execute(
        "SELECT requests, requests, s4xx + s5xx, load_ms_sum, api_id, hour FROM customer_hourly"
        " WHERE api_id = ? AND customer_id = ?", (api_id, cid)).fetchall()
    conn.executemany(
        "UPDATE api_hourly SET requests = requests - ?, identified = identified - ?, errors = errors - ?,"
        " load_ms_sum = load_ms_sum - ? WHERE api_id = ? AND hour = ?", rows)
    keys = [(row[4], row[5]) for row in rows]
    conn.executemany("DELETE FROM api_hourly WHERE api_id = ? AND hour = ? AND requests <= 0", keys)
    return keys


def _delete_customer_rollups(conn: Connection, cid: int, apis: list[int]) -> int:
    """Delete the customer's rows of every per-customer rollup, of every table that declares a
    reference to customers (favorites, and whatever comes to name a customer that way), and the
    customers row; returns how many rows went."""
    removed = conn.execute("DELETE FROM customer_daily WHERE customer_id = ?", (cid,)).rowcount
    for api_id in apis:  # keyed by api_id first
        for sql in ("DELETE FROM customer_hourly WHERE api_id = ? AND customer_id = ?",
                    "DELETE FROM customer_monthly WHERE api_id = ? AND customer_id = ?",
                    "DELETE FROM customer_latency_daily WHERE api_id = ? AND customer_id = ?",
                    "DELETE FROM api_customers WHERE api_id = ? AND customer_id = ?"):
            removed += conn.execute(sql, (api_id, cid)).rowcount
    for table, column in conn.backend.customer_references(conn):
        removed += conn.execute(f'DELETE FROM "{table}" WHERE "{column}" = ?', (cid,)).rowcount
    return removed + conn.execute("DELETE FROM customers WHERE id = ?", (cid,)).rowcount


@dataclass(frozen=True)
class ApiDeleteReport:
    """What deleting an API removed."""

    requests: int  # raw requests removed (older ones may have been pruned already)
    customers: int  # customers left without traffic, removed with it


def delete_api(conn: Connection, api_id: int) -> ApiDeleteReport:
    """Remove an API and everything of it, in one transaction: its raw requests and details,
    every rollup row and active-customer set of the API, its endpoints with their rollups, its
    alert rules with their firings, its quotas and quota firings, the dictionaries its details were
    packed with, its customer links, the apis
    row. Customers who called other APIs too keep those, with their all-time totals (customers'
    first seen, last seen, requests) recomputed from what is left; customers who called only this
    API go, as erase_customer removes one. Every other API's figures stay exactly as they were.
    Writers wait for it, and it is cleaned up after as erase_customer is (without rewriting the
    files). On PostgreSQL its raw requests are found by reading every partition: no index leads by
    API there (db/schema/postgres.py's migration 12), and an API is rarely deleted."""
    with transaction(conn):
        conn.backend.hold_off_writers(conn)
        cids = [cid for (cid,) in conn.execute("SELECT customer_id FROM api_customers WHERE api_id = ?", (api_id,))]
        requests = delete_requests(conn, "api_id = ?", api_id)
        delete_unused_lookups(conn)
        for table in ("api_hourly", "customer_hourly", "customer_daily", "customer_latency_daily", "api_customers",
                      "customer_monthly", "quotas", "quota_firings", "detail_dictionaries", *ACTIVITY_TABLES):
            conn.execute(f"DELETE FROM {table} WHERE api_id = ?", (api_id,))
        delete_endpoints_of(conn, api_id)
        conn.execute("DELETE FROM alert_firings WHERE rule_id IN (SELECT id FROM alert_rules WHERE api_id = ?)",
                     (api_id,))
        for table in ("alert_rules", "customer_links", "identity_rules", "customer_keys"):
            conn.execute(f"DELETE FROM {table} WHERE api_id = ?", (api_id,))
        ids = json.dumps(cids)
        conn.execute(
            "UPDATE customers SET (first_seen, last_seen, requests) = (SELECT MIN(a.first_seen), MAX(a.last_seen),"
            " SUM(a.requests) FROM api_customers a WHERE a.customer_id = customers.id)"
            " WHERE id IN (SELECT value FROM json_each(?))"
            " AND EXISTS (SELECT 1 FROM api_customers a WHERE a.customer_id = customers.id)", (ids,))
        orphans = [cid for (cid,) in conn.execute(
            "SELECT value FROM json_each(?) WHERE NOT EXISTS (SELECT 1 FROM api_customers WHERE customer_id = value)",
            (ids,))]
        for cid in orphans:
            _delete_customer_rollups(conn, cid, [])
        conn.execute("DELETE FROM apis WHERE id = ?", (api_id,))
        conn.execute("DELETE FROM signal_snapshots")  # the next refresh makes them anew, without the API
        bump_counter(conn, EDITS_KEY)  # cached dashboard reads are keyed by it
        bump_counter(conn, ERASURES_KEY)  # customer ids went: writers must forget the ones they remember
        bump_counter(conn, IDENTITY_KEY)
    conn.backend.clean_after_erase(conn, [*_touched_tables(conn), "apis", "identity_rules"], full=False)
    return ApiDeleteReport(requests, len(orphans))


# The active-customer tables of db/writes/activity.py and their time column.
ACTIVITY_TABLES = {"active_daily": "day", "active_hourly": "hour"}


def remove_from_activity(conn: Connection, cid: int, days: Iterable[tuple[int, int]],
                         hours: Iterable[tuple[int, int]]) -> None:
    """Take a customer (database id) out of the active-customer sets of these (api_id, day) and
    (api_id, hour) keys (db/writes/activity.py), inside the caller's transaction; a set left empty goes."""
    for (table, column), keys in zip(ACTIVITY_TABLES.items(), (days, hours)):
        # Locked, in key order, as writers lock the sets they add to (db/writes/upserts.py).
        select = conn.backend.for_update(f"SELECT customers FROM {table} WHERE api_id = ? AND {column} = ?")
        for api_id, start in sorted(set(keys)):
            row = conn.execute(select, (api_id, start)).fetchone()
            if row is None:
                continue
            customers = BitMap.deserialize(row[0])
            customers.discard(cid)
            if not customers:
                conn.execute(f"DELETE FROM {table} WHERE api_id = ? AND {column} = ?", (api_id, start))
                continue
            customers.run_optimize()  # as db/writes/activity.py stores them
            conn.execute(f"UPDATE {table} SET customers = ? WHERE api_id = ? AND {column} = ?",
                         (customers.serialize(), api_id, start))


def erasures(conn: Connection) -> int:
    """How many customers were ever erased from this database. A writer that remembers customer
    ids reads it in each write transaction and forgets them when it has changed: an erased
    customer's id is gone, and may even be handed to a new customer. The writer holds erasures off
    until it commits (Backend.hold_off_erasures): an erasure waits for the writes under way, and the
    writes that come after it see its count."""
    conn.backend.hold_off_erasures(conn)
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (ERASURES_KEY,)).fetchone()
    return int(row[0]) if row else 0

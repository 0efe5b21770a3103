"""The writer's upserts of a batch's aggregates into the rollups, each table's rows in key order:
writers on one PostgreSQL server lock rows in the same order and so never deadlock
(db/writes/records.py keeps the tables in one order too). How each engine runs them is its
backend's (Backend.upsert, Backend.sets_for_update)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pyroaring import BitMap

from db.backends.base import Connection


def upsert(conn: Connection, table: str, key: tuple[str, ...], values: tuple[str, ...],
           rows: Mapping[tuple, Sequence], updates: str, *, arrival_order: bool = False) -> None:
    """Insert a batch's rows (key -> values) into a rollup, or on a key already there apply
    `updates` (an ON CONFLICT ... DO UPDATE SET clause). Rows go in key order (with arrival_order,
    where the engine has a single writer, in the mapping's own)."""
    if rows:
        conn.backend.upsert(conn, table, key, values, rows, updates, arrival_order)


def upsert_sums(conn: Connection, table: str, key: tuple[str, ...], sums: tuple[str, ...],
                rows: Mapping[tuple, Sequence]) -> None:
    """Add a batch's aggregates to a rollup: one row per key, inserted or added to."""
    upsert(conn, table, key, sums, rows, ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums))


def add_to_sets(conn: Connection, table: str, key: tuple[str, str], members: Mapping[tuple[int, int], Iterable[int]]
                ) -> None:
    """Add customer ids to roaring-bitmap sets (a `customers` column keyed by two integer columns):
    the sets read in one query, locked against other writers' additions (Backend.sets_for_update),
    and only those that grew written back."""
    if not members:
        return
    keys = sorted(members)
    stored = {(a, b): blob for a, b, blob in conn.backend.sets_for_update(conn, table, key, keys)}
    grown = []
    for k in keys:
        blob = stored.get(k)
        customers = BitMap.deserialize(blob) if blob else BitMap()
        before = len(customers)
        customers.update(members[k])
        if len(customers) != before or blob == b"":  # every member already in the set: nothing to write
            customers.run_optimize()
            grown.append((*k, customers.serialize()))
    upsert(conn, table, key, ("customers",), {(a, b): (blob,) for a, b, blob in grown},
           "customers = excluded.customers")

"""The writer's upserts of a batch's aggregates into the rollups, in one form for SQLite and
PostgreSQL, each table's rows in key order: writers on one PostgreSQL server lock rows in the same
order and so never deadlock (db/writes/records.py keeps the tables in one order too)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from pyroaring import BitMap

from db.backends.dialect import on_postgres


def upsert(conn, table: str, key: tuple[str, ...], values: tuple[str, ...], rows: Mapping[tuple, Sequence],
           updates: str, *, sqlite_order: bool = False) -> None:
    """Insert a batch's rows (key -> values) into a rollup, or on a key already there apply
    `updates` (an ON CONFLICT ... DO UPDATE SET clause). Rows go in key order (on SQLite, with
    sqlite_order, in the mapping's own). On PostgreSQL in one statement over arrays (unnest), so the
    batch costs one round trip per table, not one per row."""
    if not rows:
        return
    columns = key + values
    postgres = on_postgres(conn)
    ordered = [(*k, *rows[k]) for k in (rows if sqlite_order and not postgres else sorted(rows))]
    conflict = f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    if postgres:
        arrays = [list(column) for column in zip(*ordered)]
        unnest = ", ".join(f"?::{_array_type(column)}[]" for column in arrays)
        conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({unnest})"
                     f" AS batch({', '.join(columns)}) ORDER BY {', '.join(key)} {conflict}", arrays)
    else:
        conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                         f" {conflict}", ordered)


def _array_type(column: list) -> str:
    """The PostgreSQL array type of a column of values (a batch's columns hold one Python type,
    with None where a value is missing)."""
    value = next((v for v in column if v is not None), 0)
    return {str: "text", bytes: "bytea", float: "float8"}.get(type(value), "bigint")


def upsert_sums(conn, table: str, key: tuple[str, ...], sums: tuple[str, ...],
                rows: Mapping[tuple, Sequence]) -> None:
    """Add a batch's aggregates to a rollup: one row per key, inserted or added to."""
    upsert(conn, table, key, sums, rows, ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums))


def add_to_sets(conn, table: str, key: tuple[str, str], members: Mapping[tuple[int, int], Iterable[int]]) -> None:
    """Add customer ids to roaring-bitmap sets (a `customers` column keyed by two integer columns):
    the sets read in one query, and only those that grew written back. On PostgreSQL the sets are
    read locked (made empty first when missing), so that no other writer's additions are lost."""
    if not members:
        return
    keys = sorted(members)
    first, second = key
    if on_postgres(conn):
        # One pass in key order: a missing set is made (empty), an existing one is locked (the
        # no-op update) and read. A second pass to lock would let two writers deadlock.
        rows = conn.execute(
            f"INSERT INTO {table} AS s ({first}, {second}, customers)"
            f" SELECT k.a, k.b, ''::bytea FROM unnest(?::bigint[], ?::bigint[]) AS k(a, b) ORDER BY k.a, k.b"
            f" ON CONFLICT ({first}, {second}) DO UPDATE SET customers = s.customers"
            f" RETURNING {first}, {second}, customers",
            ([k[0] for k in keys], [k[1] for k in keys]))
    else:
        rows = conn.execute(
            f"SELECT {first}, {second}, customers FROM {table} WHERE ({first}, {second}) IN"
            " (SELECT value ->> 0, value ->> 1 FROM json_each(?))", (json.dumps(keys),))
    stored = {(a, b): blob for a, b, blob in rows}
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

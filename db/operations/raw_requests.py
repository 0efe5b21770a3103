"""Deleting raw requests with their details: what pruning and erasing share."""

from __future__ import annotations

import json
from collections.abc import Sequence

from db.backends.base import Connection

# request_log's lookup columns and the tables they point into (db/schema/request_log.py).
LOOKUP_COLUMNS = {"route_id": "routes", "agent_id": "agents", "place_id": "places"}


def delete_requests(conn: Connection, where: str, param: object, times: Sequence[int] = ()) -> int:
    """Delete the raw requests matching `where` (one bound parameter) and their details; returns
    how many requests went. `times`, the requests' own when known, bound the search to the days
    they lie in (PostgreSQL's partitions)."""
    within, bounds = conn.backend.within_times(times)
    for table in conn.backend.detail_tables:  # none where the details are in the request rows
        conn.execute(f"DELETE FROM {table} WHERE request_id IN (SELECT id FROM request_log WHERE {where}{within})",
                     (param, *bounds))
    return conn.execute(f"DELETE FROM request_log WHERE {where}{within}", (param, *bounds)).rowcount


def delete_unused_lookups(conn: Connection) -> None:
    """Delete the lookup rows (routes, agents, places) no raw request uses any more, inside the
    caller's transaction (an erasure: an IP, a user agent or an endpoint name may be the erased
    customer's own, also where a prune took their requests before). It takes one pass over the
    raw requests: no index leads from a lookup row to its requests (it would cost more than the
    lookups save)."""
    used: dict[str, set[int]] = {column: set() for column in LOOKUP_COLUMNS}
    for row in conn.execute(f"SELECT DISTINCT {', '.join(LOOKUP_COLUMNS)} FROM request_log"):
        for column, value in zip(LOOKUP_COLUMNS, row):
            used[column].add(value)
    for column, table in LOOKUP_COLUMNS.items():
        unused = [i for (i,) in conn.execute(f"SELECT id FROM {table}") if i not in used[column]]
        conn.execute(f"DELETE FROM {table} WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(unused),))

"""The raw requests' lookup ids (routes, agents, places: db/schema/request_log.py), made on first
sight inside the writer's transaction and remembered between batches."""

from __future__ import annotations

from collections.abc import Iterable

from db.backends.base import Connection
from db.schema.request_log import LOOKUPS, add_lookups

MAX_REMEMBERED = 200_000  # ids kept per lookup table between batches (a public API's many IPs)


class LookupIds:
    """Lookup ids by their values, per lookup table."""

    def __init__(self) -> None:
        self._ids: dict[str, dict[tuple, int]] = {table: {} for table in LOOKUPS}

    def forget(self) -> None:
        """Drop what is remembered (a transaction rolled back, an erasure took rows away)."""
        for ids in self._ids.values():
            ids.clear()

    def ids(self, conn: Connection, table: str, values: Iterable[tuple]) -> dict[tuple, int]:
        """The id of each of these values in the lookup table, inside the caller's transaction."""
        known = self._ids[table]
        values = set(values)
        missing = values - known.keys()
        if missing:
            if len(known) + len(missing) > MAX_REMEMBERED:
                known.clear()
                missing = values
            known.update(add_lookups(conn, table, missing))
        return known

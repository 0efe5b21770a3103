"""Named writes. Records go in batches: raw rows, details and every rollup in one transaction."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from core.keys import key_hash, key_prefix
from core.latency import latency_bucket
from core.periods import DAY, HOUR
from core.record import Record
from db.backends.base import Connection
from db.connection import transaction
from db.errors import DatabaseError
from db.operations.erase import erasures
from db.writes.activity import add_activity
from db.writes.apis import api_ids_by_hash
from db.schema.request_log import NO_THREAT_REASONS, load_us, threat_code
from db.writes.details import DetailPackers
from db.writes.endpoints import EndpointIds, add_endpoint_rollups
from db.writes.lookups import LookupIds
from db.writes.upserts import upsert, upsert_sums
from db.writes.usage import add_usage_rollups


MAX_REMEMBERED_CUSTOMERS = 200_000  # customer ids kept between batches (about 20 MB at most)
# A batch's name for a customer is stored when it comes from the server, or names one nothing named.
_NAME_TAKEN = ("excluded.name_from_traffic IS NOT NULL AND (excluded.name_by_caller = 0"
               " OR customers.name_from_traffic IS NULL)")


class UnknownApiKey(LookupError):
    """A record for an API key no API is registered with."""


class RecordWriter:
    """Writes batches of records through one connection, remembering API and customer ids.

    On PostgreSQL, partition_days_behind is how many days before today still get a partition of
    their own (the collector's live traffic: db/backends/partitions.DAYS_BEHIND; older days share one, so a
    sender cannot make a partition per day of the past); None, every day gets its own (import,
    copy: the operator's own data). SQLite has no partitions to make."""

    def __init__(self, conn: Connection, partition_days_behind: int | None = None):
        self.conn = conn
        self._api_ids: dict[str, int] = {}
        self._customer_ids: dict[str, int] = {}
        self._endpoint_ids = EndpointIds()
        self._lookup_ids = LookupIds()
        self._packers = DetailPackers()
        self._erasures = -1  # db.operations.erase.erasures when the ids were last checked
        self._partitions = conn.backend.partitions(partition_days_behind)

    def api_id(self, api_key: str) -> int | None:
        """The id of the API this key belongs to, or None when no API has it (looked up again on a
        miss: an API registered meanwhile)."""
        hashed = key_hash(api_key)
        if hashed not in self._api_ids:
            self.known_key_hashes()
        return self._api_ids.get(hashed)

    def known_key_hashes(self) -> frozenset[str]:
        """The hash of every key that works now, read afresh."""
        self._api_ids = api_ids_by_hash(self.conn)
        return frozenset(self._api_ids)

    def write(self, records: Sequence[Record]) -> int:
        """Store the records in one transaction; all or nothing. Raises UnknownApiKey first."""
        api_ids = [self.api_id(r.api_key) for r in records]
        if None in api_ids:
            raise UnknownApiKey(f"no API has the key starting {key_prefix(records[api_ids.index(None)].api_key)!r}")
        if not records:
            return 0
        conn = self.conn
        backend = conn.backend
        self._partitions.ensure(conn, (r.ts for r in records))  # before the transaction: making one locks the table
        try:
            with transaction(conn):
                self._forget_stale_customer_ids()
                customer_ids = self._upsert_customers(records)
                ids = backend.new_request_ids(conn, len(records))
                self._packers.prepare(conn, api_ids)
                backend.insert_requests(conn, request_rows(ids, api_ids, records, customer_ids,
                                                           self._lookups(records)),
                                        self._packers.rows(ids, api_ids, records, customer_ids))
                self._update_rollups(api_ids, records, customer_ids)
                add_endpoint_rollups(conn, self._endpoint_ids, api_ids, records, customer_ids)
                add_usage_rollups(conn, self._endpoint_ids, api_ids, records, customer_ids)
                backend.batch_written(conn)
        except BaseException:
            self._customer_ids.clear()  # ids handed out inside the rolled-back transaction are gone
            self._endpoint_ids.forget()
            self._lookup_ids.forget()
            self._packers.forget()
            self._partitions.forget()  # a partition may have been dropped meanwhile (retention)
            raise
        try:
            self._packers.train_due(conn)
        except DatabaseError:
            pass  # the batch is in; training is tried again after more requests
        return len(records)

    def _forget_stale_customer_ids(self) -> None:
        """Inside the write transaction: forget the remembered customer ids when a customer or an
        API was erased meanwhile (its ids are gone, and SQLite may hand them to new customers), and
        when there are too many to keep."""
        erased = erasures(self.conn)
        if erased != self._erasures or len(self._customer_ids) > MAX_REMEMBERED_CUSTOMERS:
            self._customer_ids.clear()
            self._endpoint_ids.forget()
            self._lookup_ids.forget()  # an erasure deletes the lookup rows only its requests used
            self._packers.forget()  # an API erased with its dictionaries
            self._erasures = erased

    def _lookups(self, records: Sequence[Record]) -> tuple[dict, dict, dict]:
        """The batch's route, agent and place ids, by their values (in the lookup tables' order)."""
        conn, lookups = self.conn, self._lookup_ids
        return (lookups.ids(conn, "routes", ((r.method, r.endpoint) for r in records)),
                lookups.ids(conn, "agents", (agent(r) for r in records)),
                lookups.ids(conn, "places", ((r.ip, r.country, r.city) for r in records)))

    def _upsert_customers(self, records: Sequence[Record]) -> dict[str, int]:
        seen: dict[str, list] = {}  # external id -> [name, name_by_caller, first, last, requests]
        for r in records:
            if r.customer_id is None:
                continue
            entry = seen.get(r.customer_id)
            if entry is None:
                seen[r.customer_id] = [r.customer_name, int(r.customer_name_by_caller and r.customer_name is not None),
                                       r.ts, r.ts, 1]
            else:
                if r.customer_name is not None and (entry[0] is None or not r.customer_name_by_caller):
                    entry[0], entry[1] = r.customer_name, int(r.customer_name_by_caller)
                entry[2] = min(entry[2], r.ts)
                entry[3] = max(entry[3], r.ts)
                entry[4] += 1
        # On SQLite (one writer) in the order they came, so that ids follow first arrival. A name
        # from the server replaces the one stored; a name from the caller (core/customer.py) only
        # names a customer nothing named yet, so that no caller renames one.
        upsert(self.conn, "customers", ("external_id",),
               ("name_from_traffic", "name_by_caller", "first_seen", "last_seen", "requests"),
               {(key,): values for key, values in seen.items()},
               f"name_from_traffic = CASE WHEN {_NAME_TAKEN} THEN excluded.name_from_traffic"
               " ELSE customers.name_from_traffic END,"
               f" name_by_caller = CASE WHEN {_NAME_TAKEN} THEN excluded.name_by_caller"
               " ELSE customers.name_by_caller END,"
               " first_seen = MIN(customers.first_seen, excluded.first_seen),"
               " last_seen = MAX(customers.last_seen, excluded.last_seen),"
               " requests = customers.requests + excluded.requests", arrival_order=True)
        missing = [key for key in seen if key not in self._customer_ids]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            marks = ",".join("?" * len(chunk))
            self._customer_ids.update(
                self.conn.execute(f"SELECT external_id, id FROM customers WHERE external_id IN ({marks})", chunk)
            )
        return self._customer_ids

    def _update_rollups(self, api_ids: list[int], records: Sequence[Record], customer_ids: dict[str, int]) -> None:
        api_hourly: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0.0])
        hourly: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0, 0, 0.0])
        daily: dict[tuple, list] = defaultdict(lambda: [0, 0, 0.0])
        latency: dict[tuple, int] = defaultdict(int)
        per_api: dict[tuple, list] = {}
        active_days: dict[tuple, set] = defaultdict(set)
        active_hours: dict[tuple, set] = defaultdict(set)
        for api_id, r in zip(api_ids, records):
            hour = r.ts - r.ts % HOUR
            is_error = r.status >= 400
            a = api_hourly[(api_id, hour)]
            a[0] += 1
            a[2] += is_error
            a[3] += r.load_time_ms
            if r.customer_id is None:
                continue
            a[1] += 1
            cid = customer_ids[r.customer_id]
            h = hourly[(api_id, cid, hour)]
            h[0] += 1
            h[min(max(r.status // 100, 2), 5) - 1] += 1  # 1xx counts with 2xx
            h[5] += r.load_time_ms
            day = r.ts - r.ts % DAY
            d = daily[(api_id, day, cid)]
            d[0] += 1
            d[1] += is_error
            d[2] += r.load_time_ms
            latency[(api_id, cid, day, latency_bucket(r.load_time_ms))] += 1
            active_days[(api_id, day)].add(cid)
            active_hours[(api_id, hour)].add(cid)
            p = per_api.get((api_id, cid))
            if p is None:
                per_api[(api_id, cid)] = [r.ts, r.ts, 1]
            else:
                p[0] = min(p[0], r.ts)
                p[1] = max(p[1], r.ts)
                p[2] += 1
        conn = self.conn
        # Each rollup's rows in key order, the tables always in this order: concurrent writers (on
        # PostgreSQL) lock rows in one order and never deadlock. The busiest rows (an API's hour)
        # come last, so they are held for the shortest time.
        upsert_sums(conn, "customer_hourly", ("api_id", "customer_id", "hour"),
                    ("requests", "s2xx", "s3xx", "s4xx", "s5xx", "load_ms_sum"), hourly)
        upsert_sums(conn, "customer_daily", ("api_id", "day", "customer_id"), ("requests", "errors", "load_ms_sum"),
                    daily)
        upsert_sums(conn, "customer_latency_daily", ("api_id", "customer_id", "day", "bucket"), ("requests",),
                    {key: (n,) for key, n in latency.items()})
        upsert(conn, "api_customers", ("api_id", "customer_id"), ("first_seen", "last_seen", "requests"), per_api,
               "first_seen = MIN(api_customers.first_seen, excluded.first_seen),"
               " last_seen = MAX(api_customers.last_seen, excluded.last_seen),"
               " requests = api_customers.requests + excluded.requests")
        add_activity(conn, active_days, active_hours)
        upsert_sums(conn, "api_hourly", ("api_id", "hour"), ("requests", "identified", "errors", "load_ms_sum"),
                    api_hourly)


def agent(r: Record) -> tuple:
    """A record's values in the agents lookup (db.schema.request_log.LOOKUPS' order)."""
    return r.user_agent, r.device, r.os, r.browser, r.ai_agent, r.sdk


def request_rows(ids: Iterable[int], api_ids: list[int], records: Sequence[Record], customer_ids: dict[str, int],
                 lookups: tuple[dict, dict, dict]) -> Iterator[tuple]:
    """The rows of `request_log`, in db.schema.REQUEST_COLUMNS' order: the strings by their lookup
    ids, the path only where it differs from the endpoint's name, the threat level as its index."""
    routes, agents, places = lookups
    for request_id, api_id, r in zip(ids, api_ids, records):
        yield (request_id, r.ts, r.size, api_id, customer_ids.get(r.customer_id), routes[(r.method, r.endpoint)],
               agents[agent(r)], places[(r.ip, r.country, r.city)], load_us(r.load_time_ms), r.status,
               threat_code(r.threat_level), None if r.path == r.endpoint else r.path, r.query,
               None if r.threat_reasons == NO_THREAT_REASONS else r.threat_reasons)


def probe_commit(conn: Connection) -> None:
    """A tiny transaction (the settings row collector.heartbeat): whether commits go through again
    after one failed (a full disk with space back, a lock released). Raises when they do not."""
    with transaction(conn):
        conn.execute("INSERT INTO settings (key, value) VALUES ('collector.heartbeat', ?)"
                     " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(int(time.time())),))

"""Usage for billing, the write side (db/schema/sqlite.py, migration 10; db/reads/usage.py reads it),
kept in the same transaction as the raw rows (db/writes/records.py): per API, UTC calendar month and
customer (customer_monthly), and per endpoint, month and customer (endpoint_monthly): requests,
errors (4xx and 5xx), and the 5xx and 429 answers an API may leave out of billing. Identified
requests only: usage is a customer's."""

from __future__ import annotations

from collections.abc import Sequence

from core.periods import DAY
from core.record import Record
from core.usage import month_start
from db.backends.base import Connection
from db.writes.endpoints import EndpointIds
from db.writes.upserts import upsert_sums

COUNTS = ("requests", "errors", "s5xx", "s429")


def add_usage_rollups(conn: Connection, endpoint_ids: EndpointIds, api_ids: Sequence[int],
                      records: Sequence[Record], customer_ids: dict[str, int]) -> None:
    """Add the identified records to customer_monthly and endpoint_monthly (after
    add_endpoint_rollups, which made the endpoints' ids)."""
    rows = [(api_id, r, customer_ids[r.customer_id]) for api_id, r in zip(api_ids, records)
            if r.customer_id is not None]
    if not rows:
        return
    ids = endpoint_ids.ids(conn, ((api_id, r.method, r.endpoint) for api_id, r, _ in rows))
    months: dict[int, int] = {}  # day -> its month's first midnight
    customers: dict[tuple, list] = {}
    endpoints: dict[tuple, list] = {}
    for api_id, r, cid in rows:
        day = r.ts - r.ts % DAY
        month = months.get(day)
        if month is None:
            month = months[day] = month_start(day)
        status = r.status
        counts = (1, status >= 400, status >= 500, status == 429)
        for bucket, key in ((customers, (api_id, month, cid)), (endpoints, (ids[(api_id, r.method, r.endpoint)],
                                                                            month, cid))):
            sums = bucket.get(key)
            if sums is None:
                bucket[key] = [int(c) for c in counts]
            else:
                for index, count in enumerate(counts):
                    sums[index] += count
    upsert_sums(conn, "customer_monthly", ("api_id", "month", "customer_id"), COUNTS, customers)
    upsert_sums(conn, "endpoint_monthly", ("endpoint_id", "month", "customer_id"), COUNTS, endpoints)

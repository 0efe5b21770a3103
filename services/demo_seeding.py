"""Demo data: the demo APIs registered and realistic demo traffic fed through the ingest path
(`footfall demo`, and `footfall up` on an empty database)."""

from __future__ import annotations

import time
from pathlib import Path

from core.demo import DEMO_APIS, demo_payloads
from db.backends.postgres_url import without_password
from db.connection import connect
from db.writes.apis import add_api, api_count
from db.writes.records import RecordWriter
from services.ingest import IMPORT_BATCH, enrichment_pool, in_batches, ingest_batches

DEMO_DAYS = 42  # six weeks: enough history for gone quiet's baseline (core/quiet.py)


class DatabaseHasApis(ValueError):
    """Demo data was asked for in a database with APIs; the message says which (without a password)."""


def seed_demo(db_path: str | Path, requests: int, seed: int) -> int:
    """Register the demo APIs, with random keys, and feed demo payloads through the ingest path.
    Only into a database without APIs: demo traffic must never mix with an API's real traffic
    (DatabaseHasApis)."""
    with enrichment_pool(None if requests > 5 * IMPORT_BATCH else 1) as pool:
        conn = connect(db_path)
        try:
            if api_count(conn):
                raise DatabaseHasApis(f"{without_password(db_path)} has APIs already: demo data goes only into a"
                                      " database without any")
            keys = [add_api(conn, name) for name, _ in DEMO_APIS]
            now = time.time()
            payloads = demo_payloads(keys, requests, seed=seed, now=now, days=DEMO_DAYS)
            report = ingest_batches(RecordWriter(conn), in_batches((("demo", p) for p in payloads), IMPORT_BATCH),
                                    received_at=now, pool=pool)
        finally:
            conn.close()
    if report.rejected:
        raise RuntimeError(f"demo generated a payload Footfall refuses: {report.rejected[0]}")
    return report.accepted

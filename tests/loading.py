"""Traffic into a test's database in this process, through the code the collector runs on it: each
body's payloads through services.ingest.records_or_reasons (the API key checked first, then parsed,
masked with the FOOTFALL_MASKED_NAMES setting and enriched, as an HTTP worker does), then written by
db's RecordWriter, one transaction per body, as the collector's writer does. For tests that need
data, not the HTTP path: the HTTP contract is tests/collector's, against the real collector."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from core.keys import key_hash
from core.masking import Masking
from db.backends.partitions import DAYS_BEHIND
from db.connection import connect
from db.writes.identity import identities
from db.writes.records import RecordWriter
from services.ingest import in_batches, records_or_reasons
from services.settings import settings

BODY = 200  # payloads per body, as tests/conftest.py's send_calls posts them


def load(db: Path | str | Any, payloads: Iterable[dict], *, received_at: float | None = None,
         db_path: Path | str | None = None) -> int:
    """Store the payloads in the database (a SQLite file, a PostgreSQL URL, or an open connection,
    with `db_path` its setting when an API has key rules: where the identity key is kept); every one
    must be accepted, as the collector would answer 200 to each body. The APIs' identity rules
    apply. Returns how many."""
    conn = connect(db) if isinstance(db, (str, Path)) else db
    try:
        writer = RecordWriter(conn, partition_days_behind=DAYS_BEHIND)  # as collector/writer.py: live traffic
        known = writer.known_key_hashes()
        masking = Masking(settings().masked_names)
        rules = identities(conn, db if isinstance(db, (str, Path)) else db_path or _no_setting(db))
        stored = 0
        for body in in_batches(enumerate(payloads), BODY):
            records, rejected = records_or_reasons(
                ((f"payload {i}", p) for i, p in body), lambda key: key_hash(key) in known,
                time.time() if received_at is None else received_at, masking=masking, identity_of=rules.of)
            assert not rejected, f"the collector would refuse this body: {rejected[:3]}"
            stored += writer.write(records)
        return stored
    finally:
        if conn is not db:
            conn.close()


def _no_setting(conn: Any) -> str:
    """The setting of a connection's database, when load() was given no db_path: where its identity
    key is kept (a PostgreSQL connection's URL, a SQLite connection's file)."""
    return getattr(conn, "url", None) or conn.execute("PRAGMA database_list").fetchone()[2]

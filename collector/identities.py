"""What an HTTP worker knows of the APIs' identity rules (core/identity.py), kept fresh as the keys
are (collector/app.py's ApiKeys): read through a read-only connection, the rules' version checked
every few seconds and everything read again when it moved (`footfall apis identify`, `customers
map`, the dashboard), so a change takes effect within FRESH_SECONDS without a restart. While the
database cannot be read, the rules read last still count."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from core.identity import NO_IDENTITIES, ApiIdentity, Identities
from core.keys import key_hash
from db.backends.base import Connection
from db.connection import live_readonly
from db.errors import DatabaseError
from db.writes.apis import api_ids_by_hash
from db.writes.identity import identities_by_api, identity_secret, identity_version

FRESH_SECONDS = 2.0


class ApiIdentities:
    """Every API's identity rules by its key; `of(api_key)` is what ingest asks."""

    def __init__(self, db_path: str | Path, fresh_seconds: float = FRESH_SECONDS):
        self._db_path = db_path
        self._fresh = fresh_seconds
        self._conn: Connection | None = None
        self._version: int | None = None
        self._by_api: dict[int, ApiIdentity] = {}
        self._ids: dict[str, int] = {}
        self._identities: Identities = NO_IDENTITIES
        self._read_at = -fresh_seconds
        self._secret: bytes | None = None
        self._failed = False

    def of(self, api_key: str) -> ApiIdentity | None:
        """The rules of the API with this key (None: it has none). Read afresh every few seconds,
        and at once for a key not seen yet (an API just added, a key just rotated: ingest asks only
        for registered keys), unless the last read failed within the second."""
        age = time.monotonic() - self._read_at
        if age > self._fresh or (key_hash(api_key) not in self._ids and not (self._failed and age < 1.0)):
            self._read_at = time.monotonic()
            problem = self._read()
            if problem and not self._failed:  # once, not every second while the database is away
                print(f"footfall collector: reading the identity rules failed, will retry: {problem}",
                      file=sys.stderr, flush=True)
            self._failed = problem is not None
        return self._identities.of(api_key)

    def _read(self) -> str | None:
        """Read what changed; None, or what went wrong (the rules read last still count)."""
        try:
            self._conn = live_readonly(self._conn, self._db_path)
            version = identity_version(self._conn)
            ids = api_ids_by_hash(self._conn)
            if version != self._version:
                self._by_api = identities_by_api(self._conn, self._identity_secret)
                self._version = version
        except (DatabaseError, OSError) as error:
            return type(error).__name__
        self._ids = ids
        self._identities = Identities({hashed: self._by_api[api_id] for hashed, api_id in ids.items()
                                       if api_id in self._by_api})
        return None

    def _identity_secret(self) -> bytes:
        if self._secret is None:
            self._secret = identity_secret(self._db_path)
        return self._secret

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

"""Identity rules and API keys mapped to customers, stored (core/identity.py says what they mean): an
API's rules set or cleared, keys mapped, and what ingest needs of them all, read in one go.

Reads and writes identity_rules, customer_keys and settings. Every change bumps IDENTITY_KEY, which
the collector's HTTP workers watch (collector/identities.py) to re-read the rules within seconds,
and the dashboard's edit counter. Keys are kept only as core.identity.key_digest, an HMAC under
the database's identity key: a random key made once and kept with the database as the link key is
(db/writes/kept_keys.py): `<db file>.identity-key` beside a SQLite file, a settings row on
PostgreSQL. Without it the digests and fingerprints kept so far match no key again: backup and copy
carry it along. No polars here: the collector's HTTP workers read through this module.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from core.identity import ApiIdentity, Identities, MappedCustomer, Rule, parse_rule
from db.backends.base import Connection
from db.connection import transaction
from db.writes.apis import api_ids_by_hash
from db.writes.counters import EDITS_KEY, bump_counter
from db.writes.kept_keys import copy_kept_key, kept_key, stored_key

IDENTITY_KEY = "identity.version"  # settings: bumped by every change of rules or mapped keys
KEY_FILE_SUFFIX = ".identity-key"
KEY_SETTING = "identity.fingerprint_key"  # PostgreSQL: the settings row the identity key is kept in


def identity_secret(db_path: str | Path) -> bytes:
    """The key API keys are hashed with (core.identity.key_digest), made now, once, if there is none."""
    return kept_key(db_path, KEY_FILE_SUFFIX, KEY_SETTING)


def identity_key_file(db_path: str | Path) -> bytes | None:
    """The identity key kept with the database, None when there is none (nothing is made): what
    moving the database to PostgreSQL carries along (carry_identity_key)."""
    return stored_key(db_path, KEY_FILE_SUFFIX, KEY_SETTING)


def carry_identity_key(key: bytes, target: Connection) -> None:
    """Keep a SQLite database's identity key as the PostgreSQL target's, in the caller's transaction:
    the keys mapped and the fingerprints counted there keep matching."""
    target.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                   " SET value = excluded.value", (KEY_SETTING, key.decode("ascii")))


def copy_identity_key(db_path: str | Path, backup_path: str | Path) -> Path | None:
    """Copy the identity key file, when there is one, beside a backup (owner only); None on
    PostgreSQL, whose dump holds it."""
    return copy_kept_key(db_path, backup_path, KEY_FILE_SUFFIX)


def set_identity_rules(conn: Connection, api_id: int, rules: Sequence[Rule], set_by: str | None = None) -> None:
    """The API's rules, in order, replacing any (none: the API has no rules)."""
    now = int(time.time())
    with transaction(conn):
        conn.execute("DELETE FROM identity_rules WHERE api_id = ?", (api_id,))
        conn.executemany("INSERT INTO identity_rules (api_id, position, rule, set_by, set_at) VALUES (?, ?, ?, ?, ?)",
                         [(api_id, position, str(rule), set_by, now) for position, rule in enumerate(rules)])
        _changed(conn)


def rules_of(conn: Connection, api_id: int) -> tuple[Rule, ...]:
    """The API's rules, in order."""
    return tuple(parse_rule(text) for (text,) in conn.execute(
        "SELECT rule FROM identity_rules WHERE api_id = ? ORDER BY position", (api_id,)))


def rules_by_api(conn: Connection) -> dict[int, list[str]]:
    """Every API's rules as text, in order, by API id (APIs without rules are left out)."""
    found: dict[int, list[str]] = defaultdict(list)
    for api_id, text in conn.execute("SELECT api_id, rule FROM identity_rules ORDER BY api_id, position"):
        found[api_id].append(text)
    return dict(found)


class MapReport(NamedTuple):
    """What mapping keys did: keys mapped for the first time, and keys whose mapping changed."""

    added: int
    changed: int


def map_keys(conn: Connection, api_id: int, mappings: Iterable[tuple[str, str, str | None]],
             then: Callable[[Connection], object] | None = None) -> MapReport:
    """Map API keys, given by their digests (core.identity.key_digest), to customers: (digest,
    customer ID, name) each, a key mapped before taking its new customer; all in one transaction,
    with `then(conn)` inside it (merging what the keys' fingerprints counted) when given."""
    rows = list(mappings)
    now = int(time.time())
    added = changed = 0
    with transaction(conn):
        for digest, customer_id, name in rows:
            before = conn.execute("SELECT external_id, name FROM customer_keys WHERE api_id = ? AND key_digest = ?",
                                  (api_id, digest)).fetchone()
            if before is None:
                added += 1
            elif tuple(before) != (customer_id, name):
                changed += 1
        conn.executemany(
            "INSERT INTO customer_keys (api_id, key_digest, external_id, name, mapped_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (api_id, key_digest) DO UPDATE SET external_id = excluded.external_id,"
            " name = excluded.name, mapped_at = excluded.mapped_at",
            [(api_id, digest, customer_id, name, now) for digest, customer_id, name in rows])
        if then is not None:
            then(conn)
        _changed(conn)
    return MapReport(added, changed)


def mapped_keys(conn: Connection, api_id: int) -> list[tuple[str, str, str | None]]:
    """The API's mapped keys: (digest, customer ID, name) each."""
    return [tuple(row) for row in conn.execute(
        "SELECT key_digest, external_id, name FROM customer_keys WHERE api_id = ? ORDER BY key_digest", (api_id,))]


def customers_calls(conn: Connection, api_id: int, external_ids: Sequence[str]) -> tuple[int, int]:
    """How many of these customers (by ID) have calls of the API, and how many calls in all."""
    customers = calls = 0
    for start in range(0, len(external_ids), 500):
        chunk = list(external_ids[start:start + 500])
        found, requests = conn.execute(
            f"SELECT COUNT(*), COALESCE(SUM(a.requests), 0) FROM api_customers a JOIN customers c ON c.id = a.customer_id"
            f" WHERE a.api_id = ? AND c.external_id IN ({','.join('?' * len(chunk))})", (api_id, *chunk)).fetchone()
        customers, calls = customers + found, calls + requests
    return customers, calls


def identity_version(conn: Connection) -> int:
    """How many times rules or mapped keys changed: a worker re-reads them when this moves."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (IDENTITY_KEY,)).fetchone()
    return int(row[0]) if row else 0


def identities_by_api(conn: Connection, secret: Callable[[], bytes]) -> dict[int, ApiIdentity]:
    """Every API's rules, with the keys mapped for those with key rules, by API id. `secret` gives
    the identity key (identity_secret), asked only when some API has a key rule."""
    rules: dict[int, list[Rule]] = defaultdict(list)
    for api_id, text in conn.execute("SELECT api_id, rule FROM identity_rules ORDER BY api_id, position"):
        rules[api_id].append(parse_rule(text))
    keyed = [api_id for api_id, found in rules.items() if any(rule.kind == "key" for rule in found)]
    mapped: dict[int, dict[str, MappedCustomer]] = defaultdict(dict)
    for api_id in keyed:
        for digest, customer_id, name in conn.execute(
                "SELECT key_digest, external_id, name FROM customer_keys WHERE api_id = ?", (api_id,)):
            mapped[api_id][digest] = MappedCustomer(customer_id, name)
    key = secret() if keyed else None
    return {api_id: ApiIdentity(tuple(found), key if api_id in keyed else None, mapped.get(api_id, {}))
            for api_id, found in rules.items()}


def identities(conn: Connection, db_path: str | Path) -> Identities:
    """Every API's identity rules by the hash of its key (what ingest looks them up by), for the
    keys that work now; `db_path`: the database's setting (where its identity key is kept)."""
    by_api = identities_by_api(conn, lambda: identity_secret(db_path))
    return Identities({hashed: by_api[api_id] for hashed, api_id in api_ids_by_hash(conn).items() if api_id in by_api})


def _changed(conn: Connection) -> None:
    bump_counter(conn, IDENTITY_KEY)
    bump_counter(conn, EDITS_KEY)  # the dashboard's cached reads

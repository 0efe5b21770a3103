"""Customer links, stored: make one (its token returned once), revoke one, list a customer's, find
one by its token's hash; and the signing key: beside a SQLite file, inside a PostgreSQL database.

Reads and writes customer_links (only each token's SHA-256 is stored, never the token), customers
(the link's customer must still exist) and apis (names). Creating and revoking bump the
dashboard's edit counter, so that a cached check of a link on a running dashboard sees it at once.
The token, its signature and what makes a link valid are core/links.py's.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import polars as pl

from core.keys import key_hash
from core.links import StoredLink, new_token
from db.backends.base import Connection
from db.connection import transaction
from db.queries.frames import frame
from db.writes.counters import EDITS_KEY, bump_counter
from db.writes.kept_keys import copy_kept_key, kept_key, stored_key

KEY_FILE_SUFFIX = ".link-key"
KEY_SETTING = "links.signing_key"  # PostgreSQL: the settings row the key is kept in


class UnknownLinkTarget(ValueError):
    """The customer (or API) a link was asked for does not exist."""


def signing_key(db_path: str | Path, configured: str | None = None) -> bytes:
    """The key links are signed with: `configured` (FOOTFALL_LINK_SECRET) when set; else a random
    key made once and kept with the database (db/writes/kept_keys.py): `<db file>.link-key` (0600) beside
    a SQLite file; on PostgreSQL the settings row KEY_SETTING, so that every process on every
    machine signs with the same key, and a backup (pg_dump) or a restore carries it along with the
    links it signs."""
    if configured:
        return configured.encode("utf-8")
    return kept_key(db_path, KEY_FILE_SUFFIX, KEY_SETTING)


def key_file(db_path: str | Path) -> bytes | None:
    """The key kept with the database (beside a SQLite file), None when there is none (nothing is
    created): what moving the database to PostgreSQL carries into it (carry_signing_key)."""
    return stored_key(db_path, KEY_FILE_SUFFIX, KEY_SETTING)


def carry_signing_key(key: bytes, target: Connection) -> None:
    """Keep a SQLite database's key (key_file) as the PostgreSQL target's, replacing any, in the
    caller's transaction: the links copied with the database keep opening there."""
    target.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                   " SET value = excluded.value", (KEY_SETTING, key.decode("ascii")))


def copy_signing_key(db_path: str | Path, backup_path: str | Path) -> Path | None:
    """Copy the database's link key file, when there is one, beside a backup of it (readable by its
    owner only), so that links keep opening on a restored database; returns the copy's path. On
    PostgreSQL the key is in the database, and so in its dump: None."""
    return copy_kept_key(db_path, backup_path, KEY_FILE_SUFFIX)


def create_link(conn: Connection, cid: int, key: bytes | str, *, api_id: int | None, expires_at: int,
                show_bodies: bool = False, created_by: str = "", now: float | None = None) -> str:
    """Store a link to the customer's (database id) own page, for one API (None: every API),
    until expires_at; returns its token, this once (only the token's hash is kept)."""
    created_at = int(time.time() if now is None else now)
    with transaction(conn):
        if conn.execute("SELECT 1 FROM customers WHERE id = ?", (cid,)).fetchone() is None:
            raise UnknownLinkTarget(f"no customer with id {cid}")
        if api_id is not None and conn.execute("SELECT 1 FROM apis WHERE id = ?", (api_id,)).fetchone() is None:
            raise UnknownLinkTarget(f"no API with id {api_id}")
        # The token names the link's id, known only once the row is in: a random placeholder first.
        link_id = conn.execute(
            "INSERT INTO customer_links (customer_id, api_id, token_hash, show_bodies, created_by, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (cid, api_id, "pending:" + secrets.token_hex(16), int(bool(show_bodies)), created_by or None, created_at,
             int(expires_at)),
        ).fetchone()[0]
        token = new_token(link_id, key)
        conn.execute("UPDATE customer_links SET token_hash = ? WHERE id = ?", (key_hash(token), link_id))
        bump_counter(conn, EDITS_KEY)
    return token


def revoke_link(conn: Connection, link_id: int, now: float | None = None) -> bool:
    """Revoke the link for good; False when there is no such link or it was revoked already."""
    with transaction(conn):
        revoked = conn.execute("UPDATE customer_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                               (int(time.time() if now is None else now), link_id)).rowcount
        if revoked:
            bump_counter(conn, EDITS_KEY)
    return bool(revoked)


def links_of(conn: Connection, cid: int) -> pl.DataFrame:
    """The customer's links, newest first: id, api (None: every API), show_bodies, created_by,
    created_at, expires_at, revoked_at."""
    return frame(
        conn,
        """SELECT l.id, a.name AS api, l.show_bodies, l.created_by, l.created_at, l.expires_at, l.revoked_at
           FROM customer_links l LEFT JOIN apis a ON a.id = l.api_id
           WHERE l.customer_id = ? ORDER BY l.created_at DESC, l.id DESC""",
        [cid],
        {"id": pl.Int64, "show_bodies": pl.Boolean, "created_at": pl.Int64, "expires_at": pl.Int64,
         "revoked_at": pl.Int64},
    )


def link_by_token_hash(conn: Connection, token_hash: str) -> StoredLink | None:
    """The link stored under this token hash, with whether its customer still exists; None when
    no link has it."""
    row = conn.execute(
        "SELECT l.id, l.customer_id, l.api_id, l.show_bodies, l.expires_at, l.revoked_at, c.id IS NOT NULL"
        " FROM customer_links l LEFT JOIN customers c ON c.id = l.customer_id WHERE l.token_hash = ?",
        (token_hash,),
    ).fetchone()
    if row is None:
        return None
    link_id, cid, api_id, show_bodies, expires, revoked, exists = row
    return StoredLink(link_id, cid, api_id, bool(show_bodies), expires, revoked, bool(exists))


def customer_db_id(conn: Connection, external_id: str) -> int | None:
    """The database id of the customer with this ID (as shown), None when there is none."""
    row = conn.execute("SELECT id FROM customers WHERE external_id = ?", (external_id,)).fetchone()
    return row[0] if row else None

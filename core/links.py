"""Customer links, the pure part: the signed token, the expiry choice, and whether a stored link
still opens its page.

A customer link is `<dashboard url>/?link=<token>`. The token is signed with itsdangerous
(URLSafeSerializer, salt SALT) over {"l": the link's id, "n": a random nonce}; the database keeps
only the SHA-256 of the whole token (core.keys.key_hash, as for API keys), so a stolen database
gives no working link and a token cannot be made from an id. A link opens its page only when the
signature holds, the token's hash is stored for the very link the token names, the link is not
revoked, it expires later than now, and its customer still exists (link_state). Anything else
shows one neutral message, INVALID_LINK, and nothing of any customer.

The signing key is FOOTFALL_LINK_SECRET, else a random key kept beside the database
(db.writes.links.signing_key).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeSerializer

from core.periods import DAY, PRESETS

SALT = "footfall.customer-link"
EXPIRY_DAYS = (1, 7, 30, 90)  # what an analyst may choose
DEFAULT_EXPIRY_DAYS = 30
SHARED_PERIODS = ("24h", "7d", "30d", "90d")  # the periods the customer's page offers
DEFAULT_SHARED_PERIOD = "30d"
INVALID_LINK = "This link is not valid. Ask for a new one."
NONCE_BYTES = 16
MAX_TOKEN_LENGTH = 512  # real tokens are about 100 characters; longer ones are not even checked
assert set(SHARED_PERIODS) <= set(PRESETS)


@dataclass(frozen=True)
class SharedLink:
    """A link that passed every check: what its page may show, and nothing else."""

    link_id: int
    cid: int  # the customer's database id
    api_id: int | None  # None: every API
    show_bodies: bool
    expires_at: int


@dataclass(frozen=True)
class StoredLink:
    """A link as stored (db.writes.links.link_by_token_hash), before it is judged."""

    link_id: int
    cid: int
    api_id: int | None
    show_bodies: bool
    expires_at: int
    revoked_at: int | None
    customer_exists: bool


def _serializer(key: bytes | str) -> URLSafeSerializer:
    return URLSafeSerializer(key, salt=SALT)


def new_token(link_id: int, key: bytes | str) -> str:
    """A fresh signed token for the link: the same id never gives the same token twice."""
    return _serializer(key).dumps({"l": link_id, "n": secrets.token_urlsafe(NONCE_BYTES)})


def token_link_id(token: str, key: bytes | str) -> int | None:
    """The link id a token names, when its signature holds under `key`; None for anything else
    (changed, cut short, signed with another key, not a token at all)."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        claims = _serializer(key).loads(token)
    except (BadData, ValueError, TypeError, UnicodeError):
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("n"), str):
        return None
    link_id = claims.get("l")
    return link_id if isinstance(link_id, int) and not isinstance(link_id, bool) else None


def expires_at(days: int, now: float) -> int:
    """When a link made now for `days` days stops opening (epoch seconds)."""
    if days not in EXPIRY_DAYS:
        raise ValueError(f"a link lasts {', '.join(map(str, EXPIRY_DAYS))} days, not {days}")
    return int(now) + days * DAY


def link_state(stored: StoredLink | None, claimed_id: int | None, now: float) -> SharedLink | None:
    """The link a token opens, or None: unsigned or changed (no claimed id), unknown hash, a hash
    stored for another link than the token names, revoked, expired, or its customer erased."""
    if stored is None or claimed_id is None or stored.link_id != claimed_id:
        return None
    if stored.revoked_at is not None or stored.expires_at <= now or not stored.customer_exists:
        return None
    return SharedLink(stored.link_id, stored.cid, stored.api_id, stored.show_bodies, stored.expires_at)


def link_url(dashboard_url: str, token: str) -> str:
    """The address a customer opens: the dashboard's root with the token (URL-safe already)."""
    return f"{dashboard_url.rstrip('/')}/?link={token}"

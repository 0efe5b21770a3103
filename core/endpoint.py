"""Endpoint names: the route template a call hit, so `/api/items/1` and `/api/items/2` group together.

The SDK's `route_path` wins when sent (Django: `api/users/{user_id}/orders`). Otherwise the template
is inferred from the path: every segment that looks like an identifier becomes `{id}`:
numbers, UUIDs, hex ids (8+ hex characters with a digit), long opaque tokens (16+ characters mixing
letters and digits: base64, ULIDs, ...), prefixed ids (`cus_9s8d7f6g`) and e-mail addresses.
Ordinary words (`orders`, `v1`, `users`, `getting-started-2024`) are kept.

A segment that is a secret (a JWT, a long random token, a card number, a token after a word like
reset, verify or key: core.masking.mask_path) becomes `{token}`, in the path and in a route_path
alike, so that every reset link gives the one endpoint `/v1/password/reset/{token}` and no token
is kept in an endpoint's name. The record stores the path with those segments as `*****`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from core.masking import MASK, mask_path
from core.payload import MAX_ENDPOINT, MAX_PATH

PLACEHOLDER = "{id}"
TOKEN_PLACEHOLDER = "{token}"

_NUMBER = re.compile(r"-?\d+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
_HEX = re.compile(r"(?=[a-fA-F]*\d)[0-9a-fA-F]{8,}")
# Opaque tokens: base64/base64url (optionally padded), ULIDs, nanoids; letters and digits mixed.
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{16,}={0,2}")
# Stripe-style prefixed ids: cus_NffrFeUfNV2Hib, usr_8f7a6s5d
_PREFIXED = re.compile(r"[A-Za-z]{2,12}_([A-Za-z0-9]{8,})")
_EMAIL = re.compile(r"[^@\s/]+(?:@|%40)[^@\s/]+\.[A-Za-z]{2,}", re.IGNORECASE)
# An identifier with a format suffix: /items/42.json
_WITH_EXTENSION = re.compile(r"(.+)\.([A-Za-z][A-Za-z0-9]{0,5})")
# A slug part: a word, a number, or a short mixed part like `v2`.
_SLUG_PART = re.compile(r"[A-Za-z]+|\d+|[A-Za-z0-9]{1,3}")
# Framework route syntax in route_path: Django `<int:pk>`, `<pk>`; Express `:id`.
_DJANGO_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_URL_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/]*")


# Names of short paths and routes are cached, so the cache holds at most 65,536 x 256 characters.
_CACHED_LENGTH = 256


def endpoint_name(path: str, route_path: str | None = None) -> str:
    """The endpoint's name: the route the SDK sent, else a template inferred from the path
    (ids become placeholders: /api/items/1 -> /api/items/{id}). Reads the first MAX_PATH
    characters of each; the name has at most MAX_ENDPOINT."""
    path = path or ""
    if len(path) + (len(route_path) if route_path else 0) <= _CACHED_LENGTH:
        return _endpoint_name(path, route_path)
    if len(path) > MAX_PATH:
        path = path[:MAX_PATH]
    if route_path is not None and len(route_path) > MAX_PATH:
        route_path = route_path[:MAX_PATH]
    name = _endpoint_name.__wrapped__(path, route_path)
    return name if len(name) <= MAX_ENDPOINT else name[:MAX_ENDPOINT]


@lru_cache(maxsize=65536)
def _endpoint_name(path: str, route_path: str | None) -> str:
    if route_path and route_path.strip():
        return _route_template(route_path.strip())
    return _inferred_template(path or "")


endpoint_name.cache_info = _endpoint_name.cache_info  # the cache behind it
endpoint_name.cache_clear = _endpoint_name.cache_clear


def _route_template(route_path: str) -> str:
    route = _DJANGO_PARAM.sub(r"{\1}", mask_path(route_path.split("?", 1)[0]))
    segments = [f"{{{s[1:]}}}" if s.startswith(":") and len(s) > 1 else _token_segment(s)
                for s in route.split("/") if s]
    return "/" + "/".join(segments)


def _inferred_template(path: str) -> str:
    path = _URL_PREFIX.sub("", path.strip())
    path = mask_path(path.split("?", 1)[0].split("#", 1)[0])
    segments = [_segment(s) for s in path.split("/") if s]
    return "/" + "/".join(segments)


def _segment(segment: str) -> str:
    if MASK in segment:
        return _token_segment(segment)
    if _is_identifier(segment):
        return PLACEHOLDER
    if "." in segment:
        m = _WITH_EXTENSION.fullmatch(segment)
        if m and _is_identifier(m.group(1)):
            return f"{PLACEHOLDER}.{m.group(2)}"
    return segment


def _token_segment(segment: str) -> str:
    """A segment masked whole, or masked with a format suffix kept (`*****.pdf`), as {token}."""
    if MASK not in segment:
        return segment
    if segment.startswith(MASK) and (m := _WITH_EXTENSION.fullmatch(segment)) and m.group(1) == MASK:
        return f"{TOKEN_PLACEHOLDER}.{m.group(2)}"
    return TOKEN_PLACEHOLDER


def _is_identifier(segment: str) -> bool:
    if segment[0].isdigit() or segment[0] == "-":
        if _NUMBER.fullmatch(segment):
            return True
    if _UUID.fullmatch(segment) or _HEX.fullmatch(segment):
        return True
    if len(segment) >= 16 and _TOKEN.fullmatch(segment) and _looks_random(segment) and not _is_slug(segment):
        return True
    if "_" in segment and (m := _PREFIXED.fullmatch(segment)) and _looks_random(m.group(1)):
        return True
    return ("@" in segment or "%40" in segment) and _EMAIL.fullmatch(segment) is not None


def _looks_random(text: str) -> bool:
    """Letters and digits mixed the way generated ids are: a digit, and mixed case or 2+ digits.
    Keeps words like `authenticationv2` or `user_profile2`."""
    digits = sum(c.isdigit() for c in text)
    if digits == 0 or digits == len(text) or not any(c.isalpha() for c in text):
        return False
    return digits >= 2 or (any(c.isupper() for c in text) and any(c.islower() for c in text))


def _is_slug(segment: str) -> bool:
    """`getting-started-2024`, `auth-service-v2`: words joined by dashes or underscores, not a token."""
    parts = re.split(r"[-_]", segment)
    return len(parts) > 1 and all(_SLUG_PART.fullmatch(p) for p in parts if p)

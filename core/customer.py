"""Who made a call: the design's order of precedence, first found wins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Customer:
    """Who made a call: the customer ID, and a display name when the call carried one."""

    customer_id: str
    name: str | None = None


def identify_customer(
    metadata: dict[str, Any], request_headers: dict[str, Any], response_headers: dict[str, Any]
) -> Customer | None:
    """metadata user-id; treblle-metadata header (request, then response); treblle-user-id
    request header; treblle-user-id response header. Header names are already lower-case."""
    request_meta = _header_metadata(request_headers)
    response_meta = _header_metadata(response_headers)
    sources = (
        metadata.get("user-id"),
        request_meta.get("user-id"),
        response_meta.get("user-id"),
        request_headers.get("treblle-user-id"),
        response_headers.get("treblle-user-id"),
    )
    customer_id = next((text for text in map(_clean, sources) if text), None)
    if customer_id is None:
        return None
    names = (metadata.get("user-name"), request_meta.get("user-name"), response_meta.get("user-name"))
    return Customer(customer_id, next((text for text in map(_clean, names) if text), None))


def _header_metadata(headers: dict[str, Any]) -> dict[str, Any]:
    raw = headers.get("treblle-metadata")
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _clean(value: Any) -> str | None:
    if isinstance(value, list):  # a repeated header arrives as a list; the first one counts
        value = value[0] if value else None
    if value is None or isinstance(value, (dict, bool)):
        return None
    text = str(value).strip()
    return text[:256] or None

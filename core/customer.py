"""Who made a call: the design's order of precedence, first found wins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from core.payload import MAX_CUSTOMER_ID, MAX_CUSTOMER_NAME, PayloadError

# Where a customer ID may come from, in order, as a refusal names it.
ID_SOURCES = (
    "data.metadata.user-id",
    "data.request.headers.treblle-metadata user-id",
    "data.response.headers.treblle-metadata user-id",
    "data.request.headers.treblle-user-id",
    "data.response.headers.treblle-user-id",
)


@dataclass(frozen=True, slots=True)
class Customer:
    """Who made a call: the customer ID, and a display name when the call carried one."""

    customer_id: str
    name: str | None = None


def identify_customer(
    metadata: dict[str, Any], request_headers: dict[str, Any], response_headers: dict[str, Any]
) -> Customer | None:
    """metadata user-id; treblle-metadata header (request, then response); treblle-user-id
    request header; treblle-user-id response header. Header names are already lower-case.
    An ID over MAX_CUSTOMER_ID characters is refused (PayloadError naming where it was): cut, it
    could merge two customers. A name is cut to MAX_CUSTOMER_NAME."""
    request_meta = _header_metadata(request_headers)
    response_meta = _header_metadata(response_headers)
    sources = (
        metadata.get("user-id"),
        request_meta.get("user-id"),
        response_meta.get("user-id"),
        request_headers.get("treblle-user-id"),
        response_headers.get("treblle-user-id"),
    )
    for source, value in zip(ID_SOURCES, sources):
        customer_id = _clean(value)
        if customer_id:
            break
    else:
        return None
    if len(customer_id) > MAX_CUSTOMER_ID:
        raise PayloadError(f"{source} is {len(customer_id)} characters; a customer ID may have at most {MAX_CUSTOMER_ID}")
    names = (metadata.get("user-name"), request_meta.get("user-name"), response_meta.get("user-name"))
    name = next((text for text in map(_clean, names) if text), None)
    return Customer(customer_id, name if name is None or len(name) <= MAX_CUSTOMER_NAME else name[:MAX_CUSTOMER_NAME])


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
    if type(value) is str:
        return value.strip() or None
    if isinstance(value, list):  # a repeated header arrives as a list; the first one counts
        value = value[0] if value else None
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    return str(value).strip() or None

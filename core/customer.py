"""Who made a call: the design's order of precedence, first found wins; and the name it carries.

What the caller controls: the request's headers (`treblle-user-id`, `treblle-metadata`) hold
whatever the client put there. What the server sets: `data.metadata` and the response's headers.
IDs keep the design's order, in which a request header comes before the response's
`treblle-user-id`. A name from the server comes before one from the request; a name counts only
for the user-id beside it (or with none beside it); and a server's name counts as the server's when
the ID came from the server too, or the server put that same ID beside it: otherwise the caller
chose whom it names.
db/writes/records.py stores a caller's name only for a customer nothing named yet: no caller renames a
customer.

IDs and names lose every Unicode control (Cc) and format (Cf) character before anything else:
NUL, tabs and line breaks, zero-width spaces and joiners, the byte order mark, bidi marks. So
`nul\\0id` is `nulid` and `cust\\u200bA` is `custA`, on SQLite as on PostgreSQL (whose text cannot
hold NUL): an invisible character can neither split one customer in two nor make a look-alike.
"""

from __future__ import annotations

import unicodedata
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
CALLER_ID_SOURCES = frozenset(source for source in ID_SOURCES if source.startswith("data.request."))
INVISIBLE = frozenset({"Cc", "Cf"})  # Unicode's control and format characters
# Longer text is not searched for invisible characters (the work stays bounded): an ID that long is
# refused anyway, and a name is cut to this first.
CLEANED_UP_TO = 4 * MAX_CUSTOMER_ID


@dataclass(frozen=True, slots=True)
class Customer:
    """Who made a call: the customer ID, and a display name when the call carried one."""

    customer_id: str
    name: str | None = None
    name_by_caller: bool = False  # the name is the caller's to choose (the module's docstring)


def identify_customer(
    metadata: dict[str, Any], request_headers: dict[str, Any], response_headers: dict[str, Any]
) -> Customer | None:
    """metadata user-id; treblle-metadata header (request, then response); treblle-user-id
    request header; treblle-user-id response header. Header names are already lower-case.
    An ID over MAX_CUSTOMER_ID characters is refused (PayloadError naming where it was): cut, it
    could merge two customers. A name (metadata, then the response's treblle-metadata, then the
    request's) is cut to MAX_CUSTOMER_NAME."""
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
        customer_id = clean(value)
        if customer_id:
            break
    else:
        return None
    if len(customer_id) > MAX_CUSTOMER_ID:
        raise PayloadError(f"{source} is {len(customer_id)} characters; a customer ID may have at most {MAX_CUSTOMER_ID}")
    names = ((metadata, False), (response_meta, False), (request_meta, True))  # (where, the caller's)
    for where, by_caller in names:
        their_id = clean(where.get("user-id"))
        if their_id is not None and their_id != customer_id:
            continue  # the name of another user
        name = clean(where.get("user-name"), cut=CLEANED_UP_TO)
        if name:
            chosen_by_caller = source in CALLER_ID_SOURCES and their_id is None
            return Customer(customer_id, name[:MAX_CUSTOMER_NAME], by_caller or chosen_by_caller)
    return Customer(customer_id)


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


def clean(value: Any, cut: int | None = None) -> str | None:
    """The value as text (a repeated header's first one), cut to `cut` characters, without
    invisible characters or white space around it; None when nothing is left."""
    if isinstance(value, list):  # a repeated header arrives as a list; the first one counts
        value = value[0] if value else None
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = (value if type(value) is str else str(value)).strip()[:cut]
    if len(text) <= CLEANED_UP_TO and not text.isprintable():
        text = "".join(c for c in text if unicodedata.category(c) not in INVISIBLE).strip()
    return text or None

"""One parsed call into the record Footfall stores: customer, enrichment, masked details.

What is kept of each field
--------------------------
Every string stored has a cap (characters; constants in core/payload.py). Past it the value is
cut to the cap, except the customer ID, which is refused: a cut ID could merge two customers.

| field                       | cap              | past the cap                                            |
|-----------------------------|------------------|---------------------------------------------------------|
| path                        | 2,048            | cut after masking its tokens (threats: the whole path as sent, 64 KiB) |
| query                       | 4,096            | cut after masking (threats: the whole query as sent, 64 KiB) |
| endpoint, route_path        | 2,048            | cut; the endpoint is named from the cut path            |
| user agent                  | 1,024            | cut; device and AI agent are read from the cut text     |
| IP (request.ip, client)     | 64               | cut; X-Forwarded-For is read up to 512                  |
| customer ID                 | 256              | the payload is refused (422), naming the field          |
| customer name               | 256              | cut                                                     |
| method                      | 16               | cut, upper-cased                                        |
| SDK name                    | 64               | cut                                                     |
| header name / text value    | 256 / 16,384     | cut when the headers are over 64 KiB as JSON, then as below |
| headers, bodies, errors     | 64 KiB each      | kept as {"truncated": true, "preview": first 64 KiB}    |
| timestamp                   | 2000-01-01 UTC to one day after arrival (collector, import) | taken as the arrival time, as a missing or unreadable one |
| status                      | 100-599          | refused                                                 |
| size                        | 0 to 2**63-1     | refused if past it or not finite; negative is 0; not a number is unknown |
| load time                   | finite, up to one day (86,400,000 ms) | refused; negative or not a number is 0 |

Customer IDs and names lose every Unicode control and format character first (core/customer.py);
a NUL left in any other text is stored as U+FFFD, on SQLite as on PostgreSQL (which cannot hold it).

Every enrichment cache is keyed by capped values and holds a fixed number of entries, so the
memory it can take is bounded by entries x cap: device (16,384 x 1,024), AI agent (16,384 x
1,024), client address (16,384 x (64 + 512)), location (65,536 x 64), endpoint (65,536 entries
of at most 256 characters of path and route; longer ones are not cached), threat verdicts
(65,536 x 256; longer paths and queries are scanned every time), public hosts (4,096 x 512),
timezones (512 x 64), masking decisions (8,192 x 200 per Masking), masked header values (8,192 x
256 per Masking), masked paths (65,536 x 256; longer ones are masked every time), identity rules'
JWT claims (4,096 tokens x 2,048) and API key digests (16,384 keys x 256; core/identity.py).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from core.ai_agent import ai_agent_of
from core.customer import identify_customer
from core.device import device_of
from core.endpoint import endpoint_name
from core.identity import ApiIdentity
from core.location import client_ip, location_of
from core.masking import NO_EXTRA_NAMES, Masking, mask_path
from core.payload import (
    MAX_HEADER_NAME, MAX_HEADER_VALUE, MAX_PATH, MAX_QUERY, MAX_SDK, MAX_USER_AGENT, Call, PayloadError, parse_payload,
)
from core.threat import assess_threat

# Bodies and headers are kept for the request detail view, up to this many bytes each.
MAX_STORED_BYTES = 64 * 1024

AUTH_HEADERS = ("authorization", "proxy-authorization", "x-api-key", "api-key", "x-auth-token", "x-access-token")


class Record(NamedTuple):
    """A tuple, so that batches cross process boundaries cheaply (import's worker pool)."""

    api_key: str
    customer_id: str | None
    customer_name: str | None
    ts: int
    method: str
    status: int
    path: str
    query: str
    endpoint: str
    load_time_ms: float
    size: int | None
    threat_level: str
    threat_reasons: str  # JSON array
    device: str
    os: str | None
    browser: str | None
    ai_agent: str | None
    country: str | None
    city: str | None
    ip: str | None
    user_agent: str | None
    sdk: str | None
    request_headers: str  # JSON, masked
    request_body: str
    response_headers: str
    response_body: str
    errors: str
    # Last, with a default, so that records built field by field (bench, tests) still line up.
    customer_name_by_caller: bool = False  # the name came from what the caller controls (core/customer.py)


def record_from_payload(payload: Any, *, received_at: float, masking: Masking = NO_EXTRA_NAMES,
                        latest_timestamp: float | None = None, identity: ApiIdentity | None = None) -> Record:
    """Raises core.payload.PayloadError for a payload of the wrong shape. `masking` says which
    names are secret besides the built-in ones (the operator's FOOTFALL_MASKED_NAMES); a timestamp
    after `latest_timestamp` is taken as `received_at` (see parse_payload); `identity`: the API's
    identity rules (core/identity.py), for a call that names no customer itself."""
    call = parse_payload(payload, received_at=received_at, latest_timestamp=latest_timestamp)
    return record_from_call(call, masking=masking, identity=identity)


def record_from_call(call: Call, *, masking: Masking = NO_EXTRA_NAMES, identity: ApiIdentity | None = None) -> Record:
    """The record to store for a parsed call: customer, enrichment, masked details, every string
    within its cap (the table above). The customer is the one the call names (core/customer.py),
    else the one the API's identity rules find, read before anything is masked; the headers and
    parameters its key rules read are masked too. Raises PayloadError for a customer ID over its
    cap, or a body, headers or errors that cannot be stored (nested deeper than JSON output allows)."""
    customer = identify_customer(call.metadata, call.request_headers, call.response_headers)
    if identity is not None:
        if customer is None:
            customer = identity.customer(call.request_headers, call.query)
        masking = identity.masking(masking)
    masked_body = masking.body(call.request_body)
    request_body = _dump(masked_body, "data.request.body")
    query = masking.query(call.query)
    text_masked = type(masked_body) is str and masked_body != call.request_body  # a form, XML, multipart, text body
    threat = assess_threat(  # the path, query and a text body as sent: a masked value may hold an injection
        scheme=call.scheme,
        host=call.host,
        path=call.path,
        query=call.query,
        body=_dump(call.request_body, "data.request.body") if text_masked else request_body,
        status=call.status,
        has_authorization=any(call.request_headers.get(h) for h in AUTH_HEADERS),
    )
    user_agent = call.user_agent
    if user_agent is not None and len(user_agent) > MAX_USER_AGENT:
        user_agent = user_agent[:MAX_USER_AGENT]
    device = device_of(user_agent)
    forwarded = call.request_headers.get("x-forwarded-for")
    ip = client_ip(call.ip, forwarded if type(forwarded) is str else None)  # within MAX_IP
    location = location_of(ip)
    path = mask_path(call.path)  # before the cut: a token cut short would no longer look like one
    path = path if len(path) <= MAX_PATH else path[:MAX_PATH]
    record = Record(
        api_key=call.api_key,
        customer_id=customer.customer_id if customer else None,
        customer_name=customer.name if customer else None,  # within MAX_CUSTOMER_NAME
        customer_name_by_caller=customer.name_by_caller if customer else False,
        ts=call.timestamp,
        method=call.method,
        status=call.status,
        path=path,
        query=query if len(query) <= MAX_QUERY else query[:MAX_QUERY],
        endpoint=endpoint_name(path, call.route_path),  # within MAX_ENDPOINT
        load_time_ms=round(call.load_time_ms, 3),
        size=call.size,
        threat_level=threat.level,
        threat_reasons=_dump(list(threat.reasons), "threat reasons"),
        device=device.kind,
        os=device.os,
        browser=device.browser,
        ai_agent=ai_agent_of(user_agent),
        country=location.country,
        city=location.city,
        ip=ip,
        user_agent=user_agent,
        sdk=_cap(call.sdk, MAX_SDK),
        request_headers=_dump_headers(masking.headers(call.request_headers), "data.request.headers"),
        request_body=request_body,
        response_headers=_dump_headers(masking.headers(call.response_headers), "data.response.headers"),
        response_body=_dump(masking.body(call.response_body), "data.response.body"),
        errors=_dump(masking.errors(call.errors), "data.errors"),
    )
    return without_nul(record)


def without_nul(record: Record) -> Record:
    """The record with every NUL character in its text replaced by U+FFFD, on both servers alike:
    PostgreSQL's text cannot hold NUL (SQLite's can), and a payload must not fail a batch for one.
    (JSON text has none: it escapes them. Customer IDs and names lose theirs: core/customer.py.)
    Only the text taken as sent is looked at, in one pass: the rest is JSON, or derived from it
    (device, OS, browser and AI agent from the user agent)."""
    sent = f"{record.method}{record.path}{record.query}{record.endpoint}{record.user_agent}{record.ip}{record.sdk}"
    if "\x00" not in sent:
        return record
    return Record(*(v.replace("\x00", "\ufffd") if type(v) is str else v for v in record))


def warm_up() -> None:
    """Load the lazily loaded data (user-agent rules, crawler lists, GeoIP) now, so forked
    workers share one copy instead of each loading its own."""
    device_of("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36")
    ai_agent_of("GPTBot/1.1")
    location_of("8.8.8.8")


def _cap(text: str | None, limit: int) -> str | None:
    return text if text is None or len(text) <= limit else text[:limit]


def _dump(value: Any, field: str) -> str:
    try:
        text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
    except orjson.JSONEncodeError as error:  # nested past 255 levels, an integer past 64 bits, ...
        raise PayloadError(f"{field} cannot be stored: {error}") from None
    if len(text) > MAX_STORED_BYTES:
        return orjson.dumps({"truncated": True, "preview": text[:MAX_STORED_BYTES]}).decode()
    return text


def _dump_headers(headers: dict[str, Any], field: str) -> str:
    """Headers as JSON; when they come to more than MAX_STORED_BYTES, every name is cut to
    MAX_HEADER_NAME characters and every text value to MAX_HEADER_VALUE first."""
    text = _dump(headers, field)
    if len(text) <= MAX_STORED_BYTES:  # else it is the truncated preview: cut long headers, try again
        return text
    return _dump({_cap(str(name), MAX_HEADER_NAME): _cap(value, MAX_HEADER_VALUE) if type(value) is str else value
                  for name, value in headers.items()}, field)

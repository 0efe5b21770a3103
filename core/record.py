"""One parsed call into the record Footfall stores: customer, enrichment, masked details."""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from core.ai_agent import ai_agent_of
from core.customer import identify_customer
from core.device import device_of
from core.endpoint import endpoint_name
from core.location import client_ip, location_of
from core.masking import NO_EXTRA_NAMES, Masking
from core.payload import Call, parse_payload
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


def record_from_payload(payload: Any, *, received_at: float, masking: Masking = NO_EXTRA_NAMES) -> Record:
    """Raises core.payload.PayloadError for a payload of the wrong shape. `masking` says which
    names are secret besides the built-in ones (the operator's FOOTFALL_MASKED_NAMES)."""
    return record_from_call(parse_payload(payload, received_at=received_at), masking=masking)


def record_from_call(call: Call, *, masking: Masking = NO_EXTRA_NAMES) -> Record:
    """The record to store for a parsed call: customer, enrichment, masked details."""
    customer = identify_customer(call.metadata, call.request_headers, call.response_headers)
    request_body = _dump(masking.body(call.request_body))
    query = masking.query(call.query)
    threat = assess_threat(
        scheme=call.scheme,
        host=call.host,
        path=call.path,
        query=query,
        body=request_body,
        status=call.status,
        has_authorization=any(call.request_headers.get(h) for h in AUTH_HEADERS),
    )
    device = device_of(call.user_agent)
    forwarded = call.request_headers.get("x-forwarded-for")
    ip = client_ip(call.ip, forwarded if isinstance(forwarded, str) else None)
    location = location_of(ip)
    return Record(
        api_key=call.api_key,
        customer_id=customer.customer_id if customer else None,
        customer_name=customer.name if customer else None,
        ts=call.timestamp,
        method=call.method,
        status=call.status,
        path=call.path,
        query=query,
        endpoint=endpoint_name(call.path, call.route_path),
        load_time_ms=round(call.load_time_ms, 3),
        size=call.size,
        threat_level=threat.level,
        threat_reasons=_dump(list(threat.reasons)),
        device=device.kind,
        os=device.os,
        browser=device.browser,
        ai_agent=ai_agent_of(call.user_agent),
        country=location.country,
        city=location.city,
        ip=ip,
        user_agent=call.user_agent,
        sdk=call.sdk,
        request_headers=_dump(masking.headers(call.request_headers)),
        request_body=request_body,
        response_headers=_dump(masking.headers(call.response_headers)),
        response_body=_dump(masking.body(call.response_body)),
        errors=_dump(call.errors),
    )


def warm_up() -> None:
    """Load the lazily loaded data (user-agent rules, crawler lists, GeoIP) now, so forked
    workers share one copy instead of each loading its own."""
    device_of("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36")
    ai_agent_of("GPTBot/1.1")
    location_of("8.8.8.8")


def _dump(value: Any) -> str:
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
    if len(text) > MAX_STORED_BYTES:
        return orjson.dumps({"truncated": True, "preview": text[:MAX_STORED_BYTES]}).decode()
    return text
